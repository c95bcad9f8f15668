//! Saves that never lie: only `finish()` saves, so a test that fails by panicking or by
//! returning `Err` never writes its cassette; two cassettes on one file (in one process
//! or several) both keep what they recorded.
#![cfg(feature = "record")]

mod support;

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use http_intercept::record::{Cassette, CassetteBuilder, Interaction, Mode, Recording};
use support::*;

fn temp_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "http-intercept-record-save-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A cassette that records from an in-process stub answering `live <path>`, and
/// ignores HTTP_INTERCEPT_RECORD_MODE.
fn builder(path: &Path, mode: Mode) -> CassetteBuilder {
    let stub = tower::service_fn(|req: Request<Full<Bytes>>| async move {
        let body = format!("live {}", req.uri().path());
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
    });
    Cassette::builder(path)
        .mode(mode)
        .mode_from_env(false)
        .upstream(stub)
}

fn write_cassette(path: &Path, uris: &[&str]) {
    let recording = Recording::new();
    for uri in uris {
        let req = Request::get(*uri).body(Bytes::new()).unwrap();
        recording.push(Interaction::new(req, Response::new(Bytes::from("old"))));
    }
    recording.save(path).unwrap();
}

fn uris_in(path: &Path) -> Vec<String> {
    Recording::load(path)
        .unwrap()
        .interactions()
        .iter()
        .map(|i| i.request().uri().to_string())
        .collect()
}

fn res_is_what_the_test_wanted() -> bool {
    false
}

fn ensure(ok: bool) -> Result<(), String> {
    match ok {
        true => Ok(()),
        false => Err("the assertion the test makes failed".to_owned()),
    }
}

/// What a test body that fails with `?` looks like: the cassette is dropped on the
/// early return, with no panic.
async fn failing_test(path: &Path, mode: Mode, host: &str) -> Result<(), String> {
    let cassette = builder(path, mode).open().map_err(|e| e.to_string())?;
    let _g = http_intercept::add(format!("http://{host}"), cassette.service())
        .map_err(|e| e.to_string())?;
    let res = client()
        .request(get(&format!("http://{host}/new")))
        .await
        .map_err(|e| e.to_string())?;
    assert_eq!(text(res).await, "live /new");
    assert!(cassette.is_dirty());
    ensure(res_is_what_the_test_wanted())?;
    cassette.finish().map_err(|e| e.to_string())
}

#[tokio::test]
async fn a_test_that_returns_err_saves_nothing() {
    let dir = temp_dir();

    // Mode::Once, no file: the first run records, fails, and leaves no file.
    let path = dir.join("once.json");
    let err = failing_test(&path, Mode::Once, "err-once.save.test")
        .await
        .unwrap_err();
    assert_eq!(err, "the assertion the test makes failed");
    assert!(!path.exists(), "a failed test must not write its cassette");

    // Mode::NewEpisodes and Mode::Record on a good file: it stays as it was.
    for (mode, host) in [
        (Mode::NewEpisodes, "err-new.save.test"),
        (Mode::Record, "err-record.save.test"),
    ] {
        let path = dir.join(format!("{}.json", mode.as_str()));
        write_cassette(&path, &[&format!("http://{host}/old")]);
        let before = std::fs::read(&path).unwrap();
        assert!(failing_test(&path, mode, host).await.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), before, "{mode:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_that_panics_saves_nothing_even_with_save_on_drop() {
    let path = temp_dir().join("panicked.json");
    let cassette = builder(&path, Mode::Once)
        .save_on_drop(true)
        .open()
        .unwrap();
    let g = http_intercept::add("http://panic.save.test", cassette.service()).unwrap();
    let res = h2_client()
        .request(get("http://panic.save.test/x"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "live /x");
    drop(g);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _cassette = cassette;
        panic!("the test failed");
    }));
    assert!(outcome.is_err());
    assert!(
        !path.exists(),
        "a panicking test must not write its cassette"
    );
}

#[tokio::test]
async fn finish_is_the_commit_and_save_on_drop_brings_back_the_drop() {
    let dir = temp_dir();
    let path = dir.join("committed.json");
    let cassette = builder(&path, Mode::Once).open().unwrap();
    let g = http_intercept::add("http://commit.save.test", cassette.service()).unwrap();
    let res = client()
        .request(get("http://commit.save.test/a"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "live /a");
    drop(g);
    cassette.finish().unwrap();
    assert_eq!(uris_in(&path), ["http://commit.save.test/a"]);

    let path = dir.join("dropped.json");
    let cassette = builder(&path, Mode::Once)
        .save_on_drop(true)
        .open()
        .unwrap();
    let g = http_intercept::add("http://drop.save.test", cassette.service()).unwrap();
    let res = client()
        .request(get("http://drop.save.test/b"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "live /b");
    drop(g);
    drop(cassette);
    assert_eq!(uris_in(&path), ["http://drop.save.test/b"]);
}

#[tokio::test]
async fn the_fixture_guard_finishes() {
    let path = temp_dir().join("guard.json");
    let cassette = builder(&path, Mode::Once).open().unwrap();
    let mut intercepts = http_intercept::Intercepts::new();
    intercepts.push(cassette.add("http://guard.save.test").unwrap());
    let guard = http_intercept::record::CassetteGuard::new(cassette, intercepts);
    let res = client()
        .request(get("http://guard.save.test/g"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "live /g");
    guard.finish().unwrap();
    assert_eq!(uris_in(&path), ["http://guard.save.test/g"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_cassettes_on_one_file_keep_both_recordings() {
    let dir = temp_dir();

    // Mode::Once, no file yet: each records one request; the second save merges.
    let path = dir.join("shared.json");
    let a = builder(&path, Mode::Once).open().unwrap();
    let b = builder(&path, Mode::Once).open().unwrap();
    let ga = http_intercept::add("http://a.shared.save.test", a.service()).unwrap();
    let gb = http_intercept::add("http://b.shared.save.test", b.service()).unwrap();
    let client = client();
    for url in [
        "http://a.shared.save.test/one",
        "http://b.shared.save.test/two",
    ] {
        assert!(client
            .request(get(url))
            .await
            .unwrap()
            .status()
            .is_success());
    }
    drop((ga, gb));
    a.finish().unwrap();
    b.finish().unwrap();
    assert_eq!(
        uris_in(&path),
        [
            "http://a.shared.save.test/one",
            "http://b.shared.save.test/two"
        ]
    );

    // Mode::NewEpisodes over a recorded file, saving twice: nothing is lost or doubled.
    let path = dir.join("episodes.json");
    write_cassette(&path, &["http://base.save.test/base"]);
    let a = builder(&path, Mode::NewEpisodes).open().unwrap();
    let b = builder(&path, Mode::NewEpisodes).open().unwrap();
    let ga = http_intercept::add("http://c.shared.save.test", a.service()).unwrap();
    let gb = http_intercept::add("http://d.shared.save.test", b.service()).unwrap();
    for url in ["http://c.shared.save.test/1", "http://d.shared.save.test/2"] {
        assert!(client
            .request(get(url))
            .await
            .unwrap()
            .status()
            .is_success());
    }
    assert!(b.save().unwrap());
    assert!(a.save().unwrap());
    for url in ["http://c.shared.save.test/3", "http://d.shared.save.test/4"] {
        assert!(client
            .request(get(url))
            .await
            .unwrap()
            .status()
            .is_success());
    }
    drop((ga, gb));
    a.finish().unwrap();
    b.finish().unwrap();
    assert_eq!(
        uris_in(&path),
        [
            "http://base.save.test/base",
            "http://d.shared.save.test/2",
            "http://c.shared.save.test/1",
            "http://c.shared.save.test/3",
            "http://d.shared.save.test/4",
        ]
    );
}

/// The child side of the cross-process test: does nothing unless the parent set
/// the variable.
#[tokio::test]
async fn child_process_records_into_the_shared_file() {
    let (Ok(path), Ok(n)) = (
        std::env::var("HTTP_INTERCEPT_TEST_SHARED_CASSETTE"),
        std::env::var("HTTP_INTERCEPT_TEST_CHILD"),
    ) else {
        return;
    };
    let cassette = builder(Path::new(&path), Mode::NewEpisodes).open().unwrap();
    let host = format!("child{n}.save.test");
    let _g = http_intercept::add(format!("http://{host}"), cassette.service()).unwrap();
    let res = client()
        .request(get(&format!("http://{host}/child")))
        .await
        .unwrap();
    assert_eq!(text(res).await, "live /child");
    drop(_g);
    cassette.finish().unwrap();
}

#[test]
fn cassettes_in_several_processes_on_one_file_keep_every_recording() {
    let path = temp_dir().join("processes.json");
    write_cassette(&path, &["http://base.save.test/base"]);
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..4)
        .map(|n| {
            std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "child_process_records_into_the_shared_file",
                    "--test-threads=1",
                ])
                .env("HTTP_INTERCEPT_TEST_SHARED_CASSETTE", &path)
                .env("HTTP_INTERCEPT_TEST_CHILD", n.to_string())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let mut uris = uris_in(&path);
    assert_eq!(uris.remove(0), "http://base.save.test/base");
    uris.sort();
    assert_eq!(
        uris,
        (0..4)
            .map(|n| format!("http://child{n}.save.test/child"))
            .collect::<Vec<_>>()
    );
}
