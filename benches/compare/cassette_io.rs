//! Cassette file rows: save and load throughput (MB/s), opening in replay mode and
//! importing the same interactions from a HAR file (ms), each beside a floor: for
//! reading, a `serde_json::Value` parse of the same bytes (what a JSON loader that
//! builds a tree pays); for saving, writing the same bytes to a file, flushed to disk
//! and renamed into place (what any save that survives a crash pays). Where the system
//! has `/dev/shm` (tmpfs, no disk), a save there shows the part that is not the disk.
//! Run alone with `cargo bench --features record --bench compare -- cassette-io`.
//!
//! The cassette is the replay rows' 100 000 interactions
//! (`GET https://replay.compare.test/item/{i}` → `200 text/plain "item {i}"`), 1 000 in
//! a smoke run. Each figure is the median of 9 runs.

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
    const RUNS: usize = 9;

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

    /// What a save costs without the serializing: the bytes written to a temporary
    /// file, flushed, renamed over `path`, the directory flushed.
    fn write_durably(path: &Path, bytes: &[u8]) {
        use std::io::Write as _;
        let tmp = path.with_extension("floor.tmp");
        let mut file = std::fs::File::create(&tmp).expect("a temporary file");
        file.write_all(bytes).expect("writing");
        file.sync_all().expect("flushing");
        drop(file);
        std::fs::rename(&tmp, path).expect("renaming");
        if let Some(dir) = path.parent() {
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
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
        let floor_file = dir.join("floor.json");
        let save_floor = median(|| timed(|| write_durably(&floor_file, &json_bytes)).0);
        let shm = Path::new("/dev/shm");
        let in_memory = shm.is_dir().then(|| {
            let json = shm.join(format!(
                "http-intercept-compare-io-{}.json",
                std::process::id()
            ));
            let save = median(|| timed(|| recording.save(&json).expect("saving")).0);
            let floor = median(|| timed(|| write_durably(&json, &json_bytes)).0);
            let _ = std::fs::remove_file(&json);
            (save, floor)
        });
        let load = median(|| {
            let (t, loaded) = timed(|| Recording::load(&json).expect("loading"));
            assert_eq!(loaded.len(), size);
            t
        });
        let floor = median(|| {
            timed(|| serde_json::from_slice::<serde_json::Value>(&json_bytes).expect("JSON")).0
        });
        let syntax = median(|| {
            timed(|| serde_json::from_slice::<serde::de::IgnoredAny>(&json_bytes).expect("JSON")).0
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
        let _ = writeln!(text, "| | http-intercept | floor | the floor is | goal |");
        let _ = writeln!(text, "|---|---:|---:|---|---:|");
        let _ = writeln!(
            text,
            "| save (`Recording::save`), MB/s | {:.0} | {:.0} | the same bytes written, \
             fsync'd, renamed | ≥ 300 |",
            rate(save),
            rate(save_floor)
        );
        if let Some((save, floor)) = in_memory {
            let _ = writeln!(
                text,
                "| save into `/dev/shm` (tmpfs: no disk), MB/s | {:.0} | {:.0} | the same \
                 bytes written there | |",
                rate(save),
                rate(floor)
            );
        }
        let _ = writeln!(
            text,
            "| load (`Recording::load`), MB/s | {:.0} | {:.0} | `serde_json::Value` parse of \
             the same bytes | ≥ 400 |",
            rate(load),
            rate(floor)
        );
        let _ = writeln!(
            text,
            "| open in replay mode, ms | {:.1} | {:.1} | `serde_json::Value` parse of the same \
             bytes | ≤ 100 |",
            ms(opened),
            ms(floor)
        );
        let _ = writeln!(
            text,
            "| open the same interactions as HAR, ms | {:.1} | {:.1} | `serde_json::Value` \
             parse of the HAR bytes | ≤ {:.0} (2× open) |",
            ms(har_open),
            ms(har_floor),
            2.0 * ms(opened)
        );
        let _ = writeln!(
            text,
            "| check the cassette's bytes are JSON (`serde::de::IgnoredAny`), ms | {:.1} | | \
             what parsing costs before anything is built | |",
            ms(syntax)
        );
        text
    }
}
