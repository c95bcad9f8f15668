//! HAR 1.2 files as cassettes: Chromium's and Firefox's exports replayed as they come
//! (one service for every host, or per host), Playwright's `notFound` choices, and
//! export then import, byte-exact.
#![cfg(all(feature = "record", feature = "reqwest", feature = "ureq", unix))]

mod support;

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use http_intercept::record::{
    Cassette, Failure, FailureKind, Interaction, Mode, NotFound, Recording,
};
use http_intercept::reqwest::ClientBuilderExt;
use support::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn temp_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "http-intercept-record-har-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chromium_page_load_replays_as_one_service_for_every_host() {
    let page = Cassette::open(fixture("chromium-shop.har")).unwrap();
    assert_eq!(page.mode(), Mode::Replay);
    assert_eq!(page.len(), 11);
    assert_eq!(
        page.origins(),
        [
            "https://www.shop.test",
            "https://cdn.shop.test",
            "https://api.shop.test",
            "https://ads.shop.test"
        ]
    );
    let hosts = page.add_all().unwrap();
    assert_eq!(hosts.len(), 4);
    let client = reqwest::Client::builder().intercept().build().unwrap();

    // The redirect is followed to the page: the 302, then the document.
    let res = client
        .get("https://www.shop.test/old-checkout")
        .send()
        .await
        .unwrap();
    assert_eq!(res.url().as_str(), "https://www.shop.test/checkout?step=2");
    assert_eq!(res.status(), 200);
    // Chromium stored the body decoded but kept `content-encoding: br`: dropped, and
    // the length is the body's.
    assert!(res.headers().get("content-encoding").is_none());
    let html = res.text().await.unwrap();
    assert!(html.contains("<h1>Checkout – step 2</h1>"), "{html}");

    let js = client
        .get("https://cdn.shop.test/app.js")
        .send()
        .await
        .unwrap();
    assert!(js.headers().get("content-encoding").is_none());
    assert_eq!(
        js.text().await.unwrap(),
        "fetch('https://api.shop.test/v1/cart');\n"
    );
    // The duplicate entry for the same URL comes next, in order: the 304.
    let again = client
        .get("https://cdn.shop.test/app.js")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    let png = client
        .get("https://cdn.shop.test/logo.png")
        .send()
        .await
        .unwrap();
    let png = png.bytes().await.unwrap();
    assert_eq!(png.len(), 68);
    assert_eq!(&png[1..4], b"PNG");

    // POST bodies match byte for byte, as Playwright's do.
    let created = client
        .post("https://api.shop.test/v1/cart")
        .header("content-type", "application/json")
        .body(r#"{"sku":"A1","qty":2}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(
        created.headers()["set-cookie"],
        "cart=c-77; Path=/; Secure; HttpOnly"
    );
    assert_eq!(
        created.text().await.unwrap(),
        r#"{"cart":"c-77","items":1}"#
    );
    let other = client
        .post("https://api.shop.test/v1/cart")
        .body(r#"{"sku":"B2","qty":1}"#)
        .send()
        .await;
    assert!(other.is_err(), "no entry has this body: aborted");

    // Duplicates in recorded order, then the last one again.
    for expected in [r#"{"items":1}"#, r#"{"items":2}"#, r#"{"items":2}"#] {
        let res = client.get("https://api.shop.test/v1/cart").send().await;
        assert_eq!(res.unwrap().text().await.unwrap(), expected);
    }
    let ping = client.get("https://api.shop.test/v1/ping").send().await;
    assert_eq!(ping.unwrap().status(), 204);

    // The entry with `status: 0` and `_error` fails as the browser saw it.
    let blocked = client
        .get("https://ads.shop.test/track.js?u=1")
        .send()
        .await;
    assert!(blocked.is_err());
    let failed = page.interactions()[8].failure().cloned().unwrap();
    assert_eq!(failed.kind(), FailureKind::Dns);
    assert_eq!(failed.message(), "net::ERR_NAME_NOT_RESOLVED");

    // The websocket upgrade entry is read (not served: there is no socket to replay).
    assert_eq!(page.interactions()[10].response().unwrap().status(), 101);
    drop(hosts);
    page.finish().unwrap();
}

#[tokio::test]
async fn a_firefox_export_replays_per_host_through_hyper_util() {
    let news = Cassette::open(fixture("firefox-news.har")).unwrap();
    let _site = news.add("http://news.test").unwrap();
    let _img = news.add("http://img.news.test").unwrap();
    let _down = news.add("http://down.news.test").unwrap();
    let client = client();

    // Firefox's gzip header over a decoded body.
    let res = client.request(get("http://news.test/")).await.unwrap();
    assert!(res.headers().get("content-encoding").is_none());
    assert_eq!(res.headers()["content-length"], "96");
    assert!(text(res).await.starts_with("<html><body><form"));

    // A form POST given as `params` only: rebuilt as the form body it was.
    let login = Request::post("http://news.test/login")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(full("user=ada&pass=hunter2"))
        .unwrap();
    let res = client.request(login).await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/home");
    let cookies: Vec<_> = res.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["session=s-1; HttpOnly", "theme=dark"]);

    let home = client.request(get("http://news.test/home")).await.unwrap();
    assert_eq!(text(home).await, "welcome, ada\n");
    let home = client.request(get("http://news.test/home")).await.unwrap();
    assert_eq!(home.status(), 304);

    // The query in another order matches.
    let poll = client
        .request(get("http://news.test/api/poll?lang=en&id=3"))
        .await
        .unwrap();
    assert_eq!(poll.status(), 204);

    let gif = client
        .request(get("http://img.news.test/a.gif"))
        .await
        .unwrap();
    let gif = gif.into_body().collect().await.unwrap().to_bytes();
    assert!(gif.starts_with(b"GIF89a"));

    // Firefox's `status: 0` without an error message.
    let down = client.request(get("http://down.news.test/status")).await;
    assert!(down.is_err());
    // Its offset time reads as UTC.
    let at = news.interactions()[0].recorded_at().unwrap();
    let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(secs, 1_795_971_731); // 2026-11-29T17:02:11Z
}

#[test]
fn a_firefox_form_post_replays_through_ureq() {
    // The Firefox export, under host names of this test's own.
    let dir = temp_dir();
    let path = dir.join("news-ureq.har");
    let har = std::fs::read_to_string(fixture("firefox-news.har")).unwrap();
    std::fs::write(&path, har.replace("news.test", "news-ureq.test")).unwrap();
    let news = Cassette::open(&path).unwrap();
    let _site = news.add("http://news-ureq.test").unwrap();
    let agent = http_intercept::ureq::agent();
    // The login form, as `params` in the HAR: ureq follows the 303 to /home.
    let mut res = agent
        .post("http://news-ureq.test/login")
        .send_form([("user", "ada"), ("pass", "hunter2")])
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.body_mut().read_to_string().unwrap(), "welcome, ada\n");
    // Another password matches no entry: a network error, as Playwright's abort.
    let wrong = agent
        .post("http://news-ureq.test/login")
        .send_form([("user", "ada"), ("pass", "wrong")]);
    assert!(wrong.is_err());
    drop(_site);
    news.finish().unwrap();

    // With NotFound::Report the miss is a 500 and the report names it.
    let news = Cassette::builder(&path)
        .not_found(NotFound::Report)
        .open()
        .unwrap();
    let _site = news.add("http://news-ureq.test").unwrap();
    let err = agent
        .get("http://news-ureq.test/missing")
        .call()
        .unwrap_err();
    assert!(err.to_string().contains("500"), "{err}");
    drop(_site);
    let report = news.finish().unwrap_err().to_string();
    assert!(
        report.contains("GET http://news-ureq.test/missing"),
        "{report}"
    );
}

/// A small HAR naming `host`, one entry for `GET /known`.
fn small_har(dir: &Path, host: &str) -> PathBuf {
    let path = dir.join("small.har");
    let har = format!(
        r#"{{"log": {{"version": "1.2", "creator": {{"name": "t", "version": "1"}}, "entries": [
        {{"request": {{"method": "GET", "url": "http://{host}/known", "headers": []}},
          "response": {{"status": 200, "headers": [], "content": {{"text": "known", "mimeType": "text/plain"}}}}}}]}}}}"#
    );
    std::fs::write(&path, har).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn not_found_aborts_by_default_falls_back_or_reports() {
    let dir = temp_dir();

    // Default for HAR: abort, and the cassette reports nothing.
    let path = small_har(&dir, "abort.har.test");
    let har = Cassette::open(&path).unwrap();
    let _g = har.add("http://abort.har.test").unwrap();
    let client = h2_client();
    let res = client.request(get("http://abort.har.test/known")).await;
    assert_eq!(text(res.unwrap()).await, "known");
    // A network error, not a response.
    let aborted = client.request(get("http://abort.har.test/unknown")).await;
    assert!(aborted.is_err(), "{aborted:?}");
    drop(_g);
    assert!(har.unmatched().is_empty());
    har.finish().unwrap();

    // Fallback: to the upstream, recorded nowhere.
    let path = small_har(&dir, "fallback.har.test");
    let upstream = tower::service_fn(|req: Request<Full<Bytes>>| async move {
        let body = format!("upstream {}", req.uri().path());
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
    });
    let har = Cassette::builder(&path)
        .not_found(NotFound::Fallback)
        .upstream(upstream)
        .open()
        .unwrap();
    let _g = har.add("http://fallback.har.test").unwrap();
    let res = client
        .request(get("http://fallback.har.test/unknown"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "upstream /unknown");
    drop(_g);
    assert!(!har.is_dirty());
    har.finish().unwrap();
    assert!(std::fs::read_to_string(&path).unwrap().contains("known"));

    // Report: a 500 naming the nearest entry, and finish() fails.
    let path = small_har(&dir, "report.har.test");
    let har = Cassette::builder(&path)
        .not_found(NotFound::Report)
        .open()
        .unwrap();
    let _g = har.add("http://report.har.test").unwrap();
    let res = client
        .request(get("http://report.har.test/unknown"))
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    drop(_g);
    let err = har.finish().unwrap_err();
    assert!(err.is_unmatched(), "{err}");
    assert!(err.to_string().contains("/known"), "{err}");
}

#[tokio::test]
async fn an_export_reads_back_byte_exact_and_replays() {
    let dir = temp_dir();
    let gzip = {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"compressed hello").unwrap();
        enc.finish().unwrap()
    };
    let binary: Vec<u8> = (0..=255u8).collect();
    let recording = Recording::new();
    let get_req = |uri: &str| Request::get(uri).body(Bytes::new()).unwrap();
    recording.push(Interaction::new(
        get_req("https://export.har.test/gz"),
        Response::builder()
            .header("content-encoding", "br")
            .header("content-type", "text/plain")
            .body(Bytes::from(gzip.clone()))
            .unwrap(),
    ));
    recording.push(Interaction::new(
        get_req("https://export.har.test/bin?x=1&y=2"),
        Response::builder()
            .header("content-type", "application/octet-stream")
            .body(Bytes::from(binary.clone()))
            .unwrap(),
    ));
    recording.push(Interaction::new(
        Request::post("https://export.har.test/json")
            .header("content-type", "application/json")
            .body(Bytes::from(r#"{"q":1}"#))
            .unwrap(),
        Response::builder()
            .status(201)
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .body(Bytes::from("made"))
            .unwrap(),
    ));
    recording.push(Interaction::failed(
        get_req("https://export.har.test/down"),
        Failure::new(FailureKind::Timeout, "deadline elapsed"),
    ));
    let json = dir.join("cassette.json");
    recording.save(&json).unwrap();

    // Export from a cassette, then read the HAR as another tool would.
    let cassette = Cassette::builder(&json)
        .mode(Mode::Replay)
        .mode_from_env(false)
        .open()
        .unwrap();
    let har_path = dir.join("export.har");
    cassette.export_har(&har_path).unwrap();
    cassette.finish().unwrap();
    let har: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&har_path).unwrap()).unwrap();
    let entries = har["log"]["entries"].as_array().unwrap();
    assert_eq!(har["log"]["version"], "1.2");
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[0]["response"]["content"]["encoding"], "base64");
    assert_eq!(entries[0]["response"]["content"]["_wire"], true);
    assert_eq!(entries[1]["request"]["queryString"][1]["name"], "y");
    assert_eq!(entries[2]["request"]["postData"]["text"], r#"{"q":1}"#);
    assert_eq!(entries[2]["response"]["statusText"], "Created");
    assert_eq!(entries[3]["response"]["status"], 0);
    assert_eq!(entries[3]["_error"], "deadline elapsed");

    // Read back: the same interactions, byte-exact.
    let back = Recording::load(&har_path).unwrap().interactions();
    let original = recording.interactions();
    for (a, b) in original.iter().zip(&back) {
        assert_eq!(a.request().uri(), b.request().uri());
        assert_eq!(a.request().body(), b.request().body());
        match (a.response(), b.response()) {
            (Some(x), Some(y)) => {
                assert_eq!(x.status(), y.status());
                assert_eq!(x.headers(), y.headers());
                assert_eq!(x.body(), y.body());
            }
            _ => assert_eq!(a.failure(), b.failure()),
        }
    }

    // And it replays as a cassette, over HTTP/2.
    let har = Cassette::open(&har_path).unwrap();
    let _g = har.add_all().unwrap();
    let res = h2_client()
        .request(get("https://export.har.test/gz"))
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "br");
    assert_eq!(res.into_body().collect().await.unwrap().to_bytes(), gzip);
    let res = h2_client()
        .request(get("https://export.har.test/bin?y=2&x=1"))
        .await
        .unwrap();
    assert_eq!(res.into_body().collect().await.unwrap().to_bytes(), binary);
}

#[test]
fn a_broken_har_names_the_entry_or_the_position() {
    let dir = temp_dir();
    let path = dir.join("broken.har");
    std::fs::write(
        &path,
        r#"{"log": {"entries": [{"request": {"method": "GET", "url": "/relative"}, "response": {"status": 200}}]}}"#,
    )
    .unwrap();
    let err = Cassette::open(&path).unwrap_err();
    assert!(err.is_malformed(), "{err}");
    assert!(
        err.to_string()
            .contains("entry 1 (log.entries[0]): relative url \"/relative\""),
        "{err}"
    );
    std::fs::write(&path, "{\"log\": {\"entries\": [}").unwrap();
    let err = Cassette::open(&path).unwrap_err().to_string();
    assert!(err.contains("line 1, column"), "{err}");
    assert!(err.contains("not a HAR file"), "{err}");
}
