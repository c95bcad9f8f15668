//! Record/replay rows: one replayed request through a cassette of 10, 1 000 and
//! 100 000 interactions (the lookup is a keyed index, so it must stay flat: target,
//! 100 000 within 1.5x of 10), and cassette save and load throughput in MB/s.
//!
//! Each cassette holds `GET https://replay.compare.test/item/{i}` → `200 "item {i}"`,
//! in a temporary directory removed afterwards. A replayed request is measured end to
//! end, as row 2 is: a hyper-util client through `Connector` to the cassette's service
//! registered in place of the host, on a `current_thread` runtime. The requests cycle
//! over up to 1 000 different recorded paths spread across the cassette; the cassette
//! allows playback repeats, so every request finds its interaction.

use crate::measure::Budget;
use crate::Filter;

/// The record/replay section of the report.
#[derive(Debug)]
pub(crate) struct Replay {
    /// Markdown.
    pub(crate) text: String,
    /// Median replay latency at the largest cassette over that at 10 interactions.
    pub(crate) ratio: Option<f64>,
}

/// Measures the record/replay rows, with the `record` feature.
#[cfg(feature = "record")]
pub(crate) fn report(budget: Budget, filter: &Filter, full: bool) -> Replay {
    measure::run(budget, filter, full)
}

/// Without the `record` feature there is nothing to measure.
#[cfg(not(feature = "record"))]
pub(crate) fn report(_budget: Budget, _filter: &Filter, _full: bool) -> Replay {
    Replay {
        text: String::from(
            "Record/replay: not measured, needs the `record` feature \
             (`cargo bench --features record --bench compare`).\n",
        ),
        ratio: None,
    }
}

#[cfg(feature = "record")]
mod measure {
    use std::fmt::Write as _;
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    use bytes::Bytes;
    use http::{Request, Response, StatusCode};
    use http_body_util::{BodyExt, Empty};
    use http_intercept::record::{Cassette, Interaction, Mode, Recording};
    use http_intercept::Connector;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    use super::Replay;
    use crate::measure::{samples, Budget, Stats};
    use crate::Filter;

    const ROW: &str = "replay";
    const HOST: &str = "https://replay.compare.test";

    struct Row {
        size: usize,
        file_mb: f64,
        save_mb_s: f64,
        load_mb_s: f64,
        open_ms: f64,
        replay: Stats,
    }

    pub(super) fn run(budget: Budget, filter: &Filter, full: bool) -> Replay {
        if !filter.wants(ROW) {
            return Replay {
                text: String::new(),
                ratio: None,
            };
        }
        let sizes: &[usize] = if full {
            &[10, 1_000, 100_000]
        } else {
            &[10, 100, 1_000]
        };
        let dir =
            std::env::temp_dir().join(format!("http-intercept-compare-{}", std::process::id()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("building a tokio runtime");
        let rows: Vec<Row> = sizes
            .iter()
            .map(|&size| {
                eprintln!("  replay, {size} interactions (current_thread)");
                row(&rt, &budget, &dir, size)
            })
            .collect();
        let _ = std::fs::remove_dir_all(&dir);

        let mut text = String::from(
            "Record/replay (`current_thread`): a replayed request end to end, hyper-util \
             client through `Connector` to a cassette (µs); cassette save and load.\n\n",
        );
        let _ = writeln!(
            text,
            "| interactions | file MB | save MB/s | load MB/s | open in replay mode (ms) | replay median | p99 | × 10 |"
        );
        let _ = writeln!(text, "|---:|---:|---:|---:|---:|---:|---:|---:|");
        let base = rows[0].replay.median.as_secs_f64();
        for r in &rows {
            let _ = writeln!(
                text,
                "| {} | {:.3} | {:.0} | {:.0} | {:.1} | {:.2} | {:.2} | {:.2} |",
                r.size,
                r.file_mb,
                r.save_mb_s,
                r.load_mb_s,
                r.open_ms,
                r.replay.median.as_secs_f64() * 1e6,
                r.replay.p99.as_secs_f64() * 1e6,
                r.replay.median.as_secs_f64() / base
            );
        }
        let last = rows.last().expect("at least one cassette size");
        Replay {
            text,
            ratio: Some(last.replay.median.as_secs_f64() / base),
        }
    }

    fn interaction(i: usize) -> Interaction {
        let req = Request::get(format!("{HOST}/item/{i}"))
            .body(Bytes::new())
            .expect("a valid request");
        let res = Response::builder()
            .header("content-type", "text/plain")
            .body(Bytes::from(format!("item {i}")))
            .expect("a valid response");
        Interaction::new(req, res)
    }

    fn row(rt: &tokio::runtime::Runtime, budget: &Budget, dir: &Path, size: usize) -> Row {
        let path: PathBuf = dir.join(format!("cassette-{size}.json"));
        let recording = Recording::new();
        for i in 0..size {
            recording.push(interaction(i));
        }

        let t = Instant::now();
        recording.save(&path).expect("saving the cassette");
        let save = t.elapsed().as_secs_f64();
        let bytes = std::fs::metadata(&path).expect("the saved cassette").len() as f64;

        let t = Instant::now();
        let loaded = Recording::load(&path).expect("loading the cassette");
        let load = t.elapsed().as_secs_f64();
        assert_eq!(loaded.len(), size, "the cassette loaded back whole");

        let t = Instant::now();
        let cassette = Cassette::builder(&path)
            .mode(Mode::Replay)
            .mode_from_env(false)
            .allow_playback_repeats(true)
            .open()
            .expect("opening the cassette");
        let open = t.elapsed().as_secs_f64();

        let replay = rt.block_on(replay(budget, &cassette, size));
        cassette.finish().expect("every request matched");
        Row {
            size,
            file_mb: bytes / 1e6,
            save_mb_s: bytes / 1e6 / save,
            load_mb_s: bytes / 1e6 / load,
            open_ms: open * 1e3,
            replay,
        }
    }

    async fn replay(budget: &Budget, cassette: &Cassette, size: usize) -> Stats {
        let _guard = cassette.add(HOST).expect("registering the cassette");
        let client =
            Client::builder(TokioExecutor::new()).build::<_, Empty<Bytes>>(Connector::new());
        // Up to 1 000 distinct paths, spread over the whole cassette.
        let distinct = size.min(1_000);
        let uris: Vec<http::Uri> = (0..distinct)
            .map(|k| {
                let i = k * size / distinct;
                format!("{HOST}/item/{i}").parse().expect("a valid URI")
            })
            .collect();
        let mut next = 0usize;
        samples(budget, || {
            let uri = uris[next % distinct].clone();
            next += 1;
            let client = &client;
            async move {
                let res = client
                    .get(uri.clone())
                    .await
                    .unwrap_or_else(|e| panic!("GET {uri} failed: {e:?}"));
                let status = res.status();
                let body = res
                    .into_body()
                    .collect()
                    .await
                    .expect("a replayed body")
                    .to_bytes();
                assert!(
                    status == StatusCode::OK && body.starts_with(b"item "),
                    "GET {uri} replayed {status} {body:?}"
                );
            }
        })
        .await
    }
}
