//! Expiry and leftovers: `re_record_after` re-records a cassette that is too old, and
//! `require_all_played` fails the test when recorded interactions were never played.
#![cfg(all(feature = "record", feature = "reqwest"))]

mod support;

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use http_intercept::record::{Cassette, CassetteBuilder, Interaction, Mode, Recording};
use http_intercept::reqwest::ClientBuilderExt;
use support::*;

const DAY: Duration = Duration::from_secs(24 * 3600);

fn temp_path(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "http-intercept-record-expiry-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join(name)
}

/// A cassette whose upstream answers `fresh <path>` and counts its calls.
fn builder(path: &Path, mode: Mode, calls: &Arc<AtomicUsize>) -> CassetteBuilder {
    let calls = calls.clone();
    let stub = tower::service_fn(move |req: Request<Full<Bytes>>| {
        calls.fetch_add(1, Ordering::SeqCst);
        async move {
            let body = format!("fresh {}", req.uri().path());
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
        }
    });
    Cassette::builder(path)
        .mode(mode)
        .mode_from_env(false)
        .upstream(stub)
}

/// A cassette file with one interaction for `uri`, answered `stale`, recorded `age`
/// ago.
fn write_old(path: &Path, uri: &str, age: Duration) {
    let req = Request::get(uri).body(Bytes::new()).unwrap();
    let recording = Recording::new();
    recording.push(
        Interaction::new(req, Response::new(Bytes::from("stale")))
            .with_recorded_at(SystemTime::now() - age),
    );
    recording.save(path).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_cassette_is_recorded_again() {
    let path = temp_path("old.json");
    write_old(&path, "https://old.expiry.test/a", 2 * DAY);
    let calls = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::builder().intercept().build().unwrap();

    // Younger than the limit: replays.
    let cassette = builder(&path, Mode::Once, &calls)
        .re_record_after(3 * DAY)
        .open()
        .unwrap();
    assert_eq!(cassette.mode(), Mode::Once);
    let g = cassette.add("https://old.expiry.test").unwrap();
    let got = client
        .get("https://old.expiry.test/a")
        .send()
        .await
        .unwrap();
    assert_eq!(got.text().await.unwrap(), "stale");
    drop(g);
    cassette.finish().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // Older than the limit: records again, and the save replaces the old interaction.
    let cassette = builder(&path, Mode::Once, &calls)
        .re_record_after(DAY)
        .open()
        .unwrap();
    assert_eq!(cassette.mode(), Mode::Record);
    assert!(cassette.is_recording() && !cassette.is_replaying());
    let g = cassette.add("https://old.expiry.test").unwrap();
    let got = client
        .get("https://old.expiry.test/a")
        .send()
        .await
        .unwrap();
    assert_eq!(got.text().await.unwrap(), "fresh /a");
    drop(g);
    cassette.finish().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let saved = Recording::load(&path).unwrap().interactions();
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].response().unwrap().body(), "fresh /a");
    let at = saved[0].recorded_at().unwrap();
    assert!(SystemTime::now().duration_since(at).unwrap() < DAY);

    // Now young again: replays the new recording.
    let cassette = builder(&path, Mode::NewEpisodes, &calls)
        .re_record_after(DAY)
        .open()
        .unwrap();
    assert_eq!(cassette.mode(), Mode::NewEpisodes);
    cassette.finish().unwrap();
}

#[tokio::test]
async fn replay_mode_never_re_records_and_the_oldest_interaction_counts() {
    let path = temp_path("replay.json");
    write_old(&path, "http://replay.expiry.test/a", 10 * DAY);
    let calls = Arc::new(AtomicUsize::new(0));
    let cassette = builder(&path, Mode::Replay, &calls)
        .re_record_after(DAY)
        .open()
        .unwrap();
    assert_eq!(cassette.mode(), Mode::Replay);
    let g = cassette.add("http://replay.expiry.test").unwrap();
    let res = client()
        .request(get("http://replay.expiry.test/a"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "stale");
    drop(g);
    cassette.finish().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // One old interaction among young ones expires the cassette.
    let old = Recording::load(&path).unwrap();
    old.push(
        Interaction::new(
            Request::get("http://replay.expiry.test/b")
                .body(Bytes::new())
                .unwrap(),
            Response::new(Bytes::from("young")),
        )
        .with_recorded_at(SystemTime::now()),
    );
    old.save(&path).unwrap();
    let cassette = builder(&path, Mode::NewEpisodes, &calls)
        .re_record_after(DAY)
        .open()
        .unwrap();
    assert_eq!(cassette.mode(), Mode::Record);
    drop(cassette);
}

#[tokio::test(flavor = "multi_thread")]
async fn require_all_played_fails_the_test_on_leftovers() {
    let path = temp_path("leftovers.json");
    let recording = Recording::new();
    for p in ["/used", "/unused"] {
        let req = Request::get(format!("https://left.expiry.test{p}"))
            .body(Bytes::new())
            .unwrap();
        recording.push(Interaction::new(req, Response::new(Bytes::from(p))));
    }
    recording.save(&path).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::builder().intercept().build().unwrap();

    // Off by default: leftovers are fine.
    let cassette = builder(&path, Mode::Replay, &calls).open().unwrap();
    let g = cassette.add("https://left.expiry.test").unwrap();
    let got = client.get("https://left.expiry.test/used").send().await;
    assert_eq!(got.unwrap().text().await.unwrap(), "/used");
    drop(g);
    cassette.finish().unwrap();

    // Opted in: finish() fails, naming what was never played.
    let cassette = builder(&path, Mode::Replay, &calls)
        .require_all_played(true)
        .open()
        .unwrap();
    let g = cassette.add("https://left.expiry.test").unwrap();
    let got = client.get("https://left.expiry.test/used").send().await;
    assert_eq!(got.unwrap().text().await.unwrap(), "/used");
    drop(g);
    let err = cassette.finish().unwrap_err();
    assert!(err.is_unmatched(), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("1 recorded interaction was never played"),
        "{msg}"
    );
    assert!(
        msg.contains("#2 GET https://left.expiry.test/unused"),
        "{msg}"
    );

    // Dropped without finish(), the check panics the test.
    let cassette = builder(&path, Mode::Replay, &calls)
        .require_all_played(true)
        .open()
        .unwrap();
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(cassette)));
    assert!(panic.is_err());
}
