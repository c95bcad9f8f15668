//! Cassette file rows: save and load throughput (MB/s), opening in replay mode and
//! importing the same interactions from a HAR file (ms), each beside the floor: a
//! `serde_json::Value` parse of the same bytes, which any JSON cassette loader pays
//! at least. Run alone with `cargo bench --features record --bench compare --
//! cassette-io`.
//!
//! The cassette is the replay rows' 100 000 interactions
//! (`GET https://replay.compare.test/item/{i}` → `200 text/plain "item {i}"`), 1 000 in
//! a smoke run. Each figure is the median of 5 runs.

use crate::measure::Budget;
use crate::Filter;

/// Measures the cassette file rows, with the `record` feature; Markdown.
#[cfg(feature = "record")]
pub(crate) fn report(_budget: Budget, filter: &Filter, full: bool) -> String {
    if !filter.wants("cassette-io") {
        return String::new();
    }
    measure::run(if full { 100_000 } else { 1_000 })
}

/// Without the `record` feature there is nothing to measure.
#[cfg(not(feature = "record"))]
pub(crate) fn report(_budget: Budget, _filter: &Filter, _full: bool) -> String {
    String::new()
}

#[cfg(feature = "record")]
mod measure {
    use std::fmt::Write as _;
    use std::path::Path;
    use std::time::{Duration, Instant};

    use bytes::Bytes;
    use http::{Request, Response};
    use http_intercept::record::{Cassette, Interaction, Mode, Recording};

    const HOST: &str = "https://replay.compare.test";
    const RUNS: usize = 5;

    fn median(mut f: impl FnMut() -> Duration) -> Duration {
        let mut times: Vec<Duration> = (0..RUNS).map(|_| f()).collect();
        times.sort();
        times[RUNS / 2]
    }

    fn timed<T>(f: impl FnOnce() -> T) -> (Duration, T) {
        let t = Instant::now();
        let out = f();
        (t.elapsed(), out)
    }

    fn open(path: &Path) -> Cassette {
        Cassette::builder(path)
            .mode(Mode::Replay)
            .mode_from_env(false)
            .open()
            .expect("opening the cassette")
    }

    pub(super) fn run(size: usize) -> String {
        eprintln!("  cassette-io, {size} interactions");
        let dir =
            std::env::temp_dir().join(format!("http-intercept-compare-io-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let json = dir.join("cassette.json");
        let har = dir.join("cassette.har");
        let recording = Recording::new();
        for i in 0..size {
            let req = Request::get(format!("{HOST}/item/{i}"))
                .body(Bytes::new())
                .expect("a valid request");
            let res = Response::builder()
                .header("content-type", "text/plain")
                .body(Bytes::from(format!("item {i}")))
                .expect("a valid response");
            recording.push(Interaction::new(req, res));
        }
        recording.save(&json).expect("saving the cassette");
        recording.save_har(&har).expect("saving the HAR file");
        let json_bytes = std::fs::read(&json).expect("the cassette");
        let har_bytes = std::fs::read(&har).expect("the HAR file");
        let mb = json_bytes.len() as f64 / 1e6;

        let save = median(|| timed(|| recording.save(&json).expect("saving")).0);
        let load = median(|| {
            let (t, loaded) = timed(|| Recording::load(&json).expect("loading"));
            assert_eq!(loaded.len(), size);
            t
        });
        let floor = median(|| {
            timed(|| serde_json::from_slice::<serde_json::Value>(&json_bytes).expect("JSON")).0
        });
        let opened = median(|| {
            let (t, cassette) = timed(|| open(&json));
            assert_eq!(cassette.len(), size);
            cassette.finish().expect("nothing to report");
            t
        });
        let har_open = median(|| {
            let (t, cassette) = timed(|| open(&har));
            assert_eq!(cassette.len(), size);
            cassette.finish().expect("nothing to report");
            t
        });
        let har_floor = median(|| {
            timed(|| serde_json::from_slice::<serde_json::Value>(&har_bytes).expect("JSON")).0
        });
        let _ = std::fs::remove_dir_all(&dir);

        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let rate = |d: Duration| mb / d.as_secs_f64();
        let mut text = format!(
            "Cassette files ({size} interactions, {mb:.1} MB as JSON, {:.1} MB as HAR; \
             median of {RUNS}):\n\n",
            har_bytes.len() as f64 / 1e6
        );
        let _ = writeln!(
            text,
            "| | http-intercept | `serde_json::Value` parse of the same bytes (floor) | goal |"
        );
        let _ = writeln!(text, "|---|---:|---:|---:|");
        let _ = writeln!(text, "| save, MB/s | {:.0} | | ≥ 300 |", rate(save));
        let _ = writeln!(
            text,
            "| load (`Recording::load`), MB/s | {:.0} | {:.0} | ≥ 400 |",
            rate(load),
            rate(floor)
        );
        let _ = writeln!(
            text,
            "| open in replay mode, ms | {:.1} | {:.1} | ≤ 100 |",
            ms(opened),
            ms(floor)
        );
        let _ = writeln!(
            text,
            "| open the same interactions as HAR, ms | {:.1} | {:.1} | ≤ {:.0} (2× open) |",
            ms(har_open),
            ms(har_floor),
            2.0 * ms(opened)
        );
        text
    }
}
