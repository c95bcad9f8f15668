//! HTTP_INTERCEPT_RECORD_MODE forces the mode of every cassette. Its own test binary,
//! with one test, so that setting the variable races with nothing.
#![cfg(feature = "record")]

use http_intercept::record::{Cassette, Mode, MODE_ENV};

#[test]
fn the_environment_variable_forces_the_mode() {
    let dir =
        std::env::temp_dir().join(format!("http-intercept-record-env-{}", std::process::id()));
    let path = dir.join("env.json");
    let _ = std::fs::remove_dir_all(&dir);

    std::env::set_var(MODE_ENV, "record");
    let cassette = Cassette::builder(&path).mode(Mode::Replay).open().unwrap();
    assert_eq!(cassette.mode(), Mode::Record);
    assert!(cassette.is_recording());
    cassette.finish().unwrap();

    // A cassette may opt out.
    let err = Cassette::builder(&path)
        .mode(Mode::Replay)
        .mode_from_env(false)
        .open()
        .unwrap_err();
    assert!(err.is_missing(), "{err}");

    std::env::set_var(MODE_ENV, "new_episodes");
    assert_eq!(Cassette::open(&path).unwrap().mode(), Mode::NewEpisodes);

    std::env::set_var(MODE_ENV, "sometimes");
    let err = Cassette::open(&path).unwrap_err();
    assert!(err.is_invalid_mode());
    assert_eq!(
        err.to_string(),
        "HTTP_INTERCEPT_RECORD_MODE=\"sometimes\" is not a record mode; \
         use once, replay, record or new_episodes"
    );

    std::env::remove_var(MODE_ENV);
    assert_eq!(Cassette::open(&path).unwrap().mode(), Mode::Once);
    let _ = std::fs::remove_dir_all(&dir);
}
