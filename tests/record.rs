//! Record and replay through a real hyper-util client: cassettes in every mode against
//! a real loopback server, matchers, failures, reports, saving, redaction, the recorder
//! layer, playback and the fixture macro.
#![cfg(feature = "record")]

mod support;

use std::convert::Infallible;
use std::io::Write as _;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use http_intercept::record::{
    Cassette, CassetteBuilder, FailureKind, Interaction, Match, Mode, Playback, Proxy, RecordLayer,
    Recording,
};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use support::*;
use tower::Layer;

// ---- helpers -------------------------------------------------------------------

/// A fresh directory under the system's temp dir.
fn temp_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "http-intercept-record-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A builder that ignores HTTP_INTERCEPT_RECORD_MODE, so that the tests mean the mode
/// they name.
fn builder(path: &Path, mode: Mode) -> CassetteBuilder {
    Cassette::builder(path).mode(mode).mode_from_env(false)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn binary() -> Vec<u8> {
    (0..=255u8).chain((0..=255u8).rev()).collect()
}

async fn bytes_of(res: Response<Incoming>) -> Bytes {
    res.into_body().collect().await.unwrap().to_bytes()
}

/// A real HTTP server on 127.0.0.1 with a few routes; counts the requests it served.
struct Server {
    addr: SocketAddr,
    hits: Arc<AtomicUsize>,
    tasks: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Server {
    async fn start(version: &'static str) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let tasks = Arc::new(Mutex::new(Vec::new()));
        let (h, t) = (hits.clone(), tasks.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let hits = h.clone();
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let n = hits.fetch_add(1, Ordering::SeqCst) + 1;
                    route(req, n, version)
                });
                let conn = tokio::spawn(async move {
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
                t.lock().unwrap().push(conn.abort_handle());
            }
        });
        tasks.lock().unwrap().push(accept.abort_handle());
        Server { addr, hits, tasks }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn target(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

type ServerBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

async fn route(
    req: Request<Incoming>,
    n: usize,
    version: &'static str,
) -> Result<Response<ServerBody>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let full = |b: Bytes| Full::new(b).boxed();
    let res = match parts.uri.path() {
        "/gzip" => Response::builder()
            .header("content-type", "text/plain")
            .header("content-encoding", "gzip")
            .body(full(gzip(b"compressed hello, compressed hello").into())),
        "/binary" => Response::builder()
            .header("content-type", "application/octet-stream")
            .body(full(binary().into())),
        "/chunks" => {
            let chunks = ["one ", "two ", "three"]
                .map(|c| Ok::<_, Infallible>(http_body::Frame::data(Bytes::from(c))));
            Response::builder()
                .header("content-type", "text/plain")
                .body(StreamBody::new(futures_util::stream::iter(chunks)).boxed())
        }
        "/cookie" => Response::builder()
            .header("set-cookie", "session=s3cr3t-session")
            .header("x-api-key-echo", "k-123")
            .body(full(Bytes::from("cookie set"))),
        "/echo" => {
            let auth = parts
                .headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            // Lengths only: the body must not echo secrets into the cassette.
            let query = parts.uri.query().map_or(0, |q| q.split('&').count());
            Response::builder().body(full(Bytes::from(format!(
                "{} {} auth={} query={query} body={}",
                parts.method,
                parts.uri.path(),
                auth.len(),
                String::from_utf8_lossy(&body)
            ))))
        }
        path => Response::builder()
            .header("content-type", "text/plain")
            .header("date", format!("day {n}"))
            .body(full(Bytes::from(format!("{version} {path} hit {n}")))),
    };
    Ok(res.unwrap())
}

/// A request with a body through the shared test client.
fn post(url: &str, body: &str) -> Request<support::Body> {
    Request::post(url).body(full(body.to_owned())).unwrap()
}

/// A cassette file with `interactions`, written through a Recording.
fn write_cassette(path: &Path, interactions: Vec<Interaction>) {
    let recording = Recording::new();
    for i in interactions {
        recording.push(i);
    }
    recording.save(path).unwrap();
}

fn interaction(method: &str, uri: &str, body: &str, answer: &str) -> Interaction {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(Bytes::from(body.to_owned()))
        .unwrap();
    Interaction::new(req, Response::new(Bytes::from(answer.to_owned())))
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

// ---- record, then replay -----------------------------------------------------------

#[tokio::test]
async fn records_against_a_real_server_then_replays_with_it_shut_down() {
    let dir = temp_dir();
    let path = dir.join("nested/dirs/api.json");
    let server = Server::start("v1").await;
    let (a, b) = (server.url("/users?page=2&sort=asc"), server.url("/other"));

    // First run: Mode::Once, no file: everything goes to the real server and is recorded.
    let cassette = builder(&path, Mode::Once).open().unwrap();
    assert!(cassette.is_recording() && !cassette.is_replaying());
    let guard = http_intercept::add(server.target(), cassette.service()).unwrap();
    let first = text(client().request(get(&a)).await.unwrap()).await;
    assert_eq!(first, "v1 /users hit 1");
    let second = text(client().request(post(&b, "payload")).await.unwrap()).await;
    assert_eq!(second, "v1 /other hit 2");
    assert_eq!(server.hits(), 2);
    drop(guard);
    assert!(cassette.is_dirty());
    cassette.finish().unwrap(); // the test passed: the commit saves
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(
        saved.starts_with("{\n  \"version\": 2,\n  \"interactions\": ["),
        "{saved}"
    );
    assert!(saved.contains("\"text\": \"v1 /users hit 1\""), "{saved}");
    assert!(saved.contains("\"text\": \"payload\""), "{saved}");

    // Second run: the server is gone; the cassette answers, over HTTP/1.1 and HTTP/2.
    let target = server.target();
    drop(server);
    let refused = client().request(get(&a)).await.unwrap_err();
    assert!(refused.is_connect(), "{refused:?}");
    let cassette = builder(&path, Mode::Once).open().unwrap();
    assert!(cassette.is_replaying() && !cassette.is_recording());
    let _g = http_intercept::add(target, cassette.service()).unwrap();
    // The query in another order still matches.
    let a_reordered = a.replace("page=2&sort=asc", "sort=asc&page=2");
    let res = h2_client().request(get(&a_reordered)).await.unwrap();
    assert_eq!(res.version(), http::Version::HTTP_2);
    assert_eq!(res.headers()["date"], "day 1");
    assert_eq!(text(res).await, "v1 /users hit 1");
    let res = client().request(post(&b, "payload")).await.unwrap();
    assert_eq!(text(res).await, "v1 /other hit 2");
    assert!(cassette.all_played());
    assert!(!cassette.is_dirty());
    drop(_g);
    cassette.finish().unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), saved);
}

#[tokio::test]
async fn mode_replay_needs_the_file_and_never_touches_the_network() {
    let dir = temp_dir();
    let path = dir.join("missing.json");
    let err = builder(&path, Mode::Replay).open().unwrap_err();
    assert!(err.is_missing(), "{err}");
    assert!(err.to_string().contains("missing.json"), "{err}");

    let server = Server::start("live").await;
    write_cassette(
        &path,
        vec![interaction("GET", &server.url("/known"), "", "recorded")],
    );
    let cassette = builder(&path, Mode::Replay).open().unwrap();
    let _g = http_intercept::add(server.target(), cassette.service()).unwrap();
    let res = client().request(get(&server.url("/known"))).await.unwrap();
    assert_eq!(text(res).await, "recorded");
    let res = client().request(get(&server.url("/new"))).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(res.headers()[http_intercept::ERROR_HEADER], "error");
    let body = text(res).await;
    assert!(
        body.contains("no recorded interaction matches GET"),
        "{body}"
    );
    assert_eq!(server.hits(), 0, "replay must not reach the server");
    let err = cassette.finish().unwrap_err();
    assert!(err.is_unmatched(), "{err}");
}

#[tokio::test]
async fn mode_record_records_everything_again() {
    let dir = temp_dir();
    let path = dir.join("api.json");
    let server = Server::start("new").await;
    write_cassette(
        &path,
        vec![interaction("GET", &server.url("/a"), "", "old answer")],
    );
    let cassette = builder(&path, Mode::Record).open().unwrap();
    assert_eq!(cassette.len(), 0, "Record ignores what the file holds");
    let _g = http_intercept::add(server.target(), cassette.service()).unwrap();
    let res = client().request(get(&server.url("/a"))).await.unwrap();
    assert_eq!(text(res).await, "new /a hit 1");
    drop(_g);
    cassette.finish().unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(
        saved.contains("new /a hit 1") && !saved.contains("old answer"),
        "{saved}"
    );
}

#[tokio::test]
async fn mode_new_episodes_replays_matches_and_records_the_rest() {
    let dir = temp_dir();
    let path = dir.join("api.json");
    let server = Server::start("live").await;
    write_cassette(
        &path,
        vec![interaction("GET", &server.url("/old"), "", "recorded old")],
    );
    let cassette = builder(&path, Mode::NewEpisodes).open().unwrap();
    let _g = http_intercept::add(server.target(), cassette.service()).unwrap();
    let res = client().request(get(&server.url("/old"))).await.unwrap();
    assert_eq!(text(res).await, "recorded old");
    let res = client().request(get(&server.url("/fresh"))).await.unwrap();
    assert_eq!(text(res).await, "live /fresh hit 1");
    // The old one was played: a second identical request is a new episode.
    let res = client().request(get(&server.url("/old"))).await.unwrap();
    assert_eq!(text(res).await, "live /old hit 2");
    assert_eq!(server.hits(), 2);
    drop(_g);
    cassette.finish().unwrap();
    let cassette = builder(&path, Mode::Replay).open().unwrap();
    let bodies: Vec<Bytes> = cassette
        .interactions()
        .iter()
        .map(|i| i.response().unwrap().body().clone())
        .collect();
    assert_eq!(
        bodies,
        ["recorded old", "live /fresh hit 1", "live /old hit 2"]
    );
    cassette.finish().unwrap();
}

#[tokio::test]
async fn mode_once_with_a_file_replays_and_does_not_record() {
    let dir = temp_dir();
    let path = dir.join("api.json");
    let server = Server::start("live").await;
    write_cassette(
        &path,
        vec![interaction("GET", &server.url("/a"), "", "recorded")],
    );
    let cassette = builder(&path, Mode::Once).open().unwrap();
    let _g = http_intercept::add(server.target(), cassette.service()).unwrap();
    let res = client().request(get(&server.url("/b"))).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(server.hits(), 0);
    assert_eq!(cassette.unmatched(), [format!("GET {}", server.url("/b"))]);
    assert!(cassette.finish().unwrap_err().is_unmatched());
}

#[test]
fn mode_names_parse() {
    assert_eq!("once".parse::<Mode>().unwrap(), Mode::Once);
    assert_eq!("none".parse::<Mode>().unwrap(), Mode::Replay);
    assert_eq!("ALL".parse::<Mode>().unwrap(), Mode::Record);
    assert_eq!("new_episodes".parse::<Mode>().unwrap(), Mode::NewEpisodes);
    let err = "sometimes".parse::<Mode>().unwrap_err();
    assert!(err.is_invalid_mode());
    assert!(err.to_string().contains("\"sometimes\""), "{err}");
}

// ---- matching ------------------------------------------------------------------

/// Opens a replay cassette of `interactions` with `configure`, registers it for
/// `host`, and returns the cassette and the guard.
fn replay_cassette(
    host: &str,
    interactions: Vec<Interaction>,
    configure: impl FnOnce(CassetteBuilder) -> CassetteBuilder,
) -> (Cassette, http_intercept::Intercept) {
    let path = temp_dir().join("c.json");
    write_cassette(&path, interactions);
    let cassette = configure(builder(&path, Mode::Replay)).open().unwrap();
    let guard = http_intercept::add(host, cassette.service()).unwrap();
    (cassette, guard)
}

async fn answer(req: Request<support::Body>) -> Result<String, StatusCode> {
    let res = client().request(req).await.unwrap();
    if res.status() == StatusCode::INTERNAL_SERVER_ERROR
        && res.headers().contains_key(http_intercept::ERROR_HEADER)
    {
        return Err(res.status());
    }
    Ok(text(res).await)
}

#[tokio::test]
async fn default_matchers_method_scheme_host_port_path_query() {
    let base = "http://m1.record.test";
    let (cassette, _g) = replay_cassette(
        "m1.record.test:80",
        vec![
            interaction("GET", &format!("{base}/p?a=1&b=2"), "", "get"),
            interaction("POST", &format!("{base}/p?a=1&b=2"), "", "post"),
            interaction("GET", &format!("{base}/q"), "", "q"),
        ],
        |b| b.allow_playback_repeats(true),
    );
    assert_eq!(
        answer(get(&format!("{base}/p?b=2&a=1"))).await.unwrap(),
        "get"
    );
    assert_eq!(
        answer(post(&format!("{base}/p?a=1&b=2"), ""))
            .await
            .unwrap(),
        "post"
    );
    assert_eq!(answer(get("http://M1.RECORD.test/q")).await.unwrap(), "q");
    assert!(
        answer(get(&format!("{base}/p?a=1"))).await.is_err(),
        "query"
    );
    assert!(
        answer(get(&format!("{base}/P?a=1&b=2"))).await.is_err(),
        "path"
    );
    assert!(
        answer(get("https://m1.record.test:80/q")).await.is_err(),
        "scheme"
    );
    drop(_g);
    let _g2 = http_intercept::add("m1.record.test:8080", cassette.service()).unwrap();
    assert!(
        answer(get("http://m1.record.test:8080/q")).await.is_err(),
        "port"
    );
    assert_eq!(cassette.unmatched().len(), 4);
    let report = cassette.finish().unwrap_err().to_string();
    assert!(
        report.contains("- query: requested \"a=1\", recorded \"a=1&b=2\""),
        "{report}"
    );
    assert!(
        report.contains("- path: requested \"/P\", recorded \"/p\""),
        "{report}"
    );
    assert!(
        report.contains("- scheme: requested \"https\", recorded \"http\""),
        "{report}"
    );
    assert!(
        report.contains("- port: requested 8080, recorded 80"),
        "{report}"
    );
}

#[tokio::test]
async fn match_on_a_subset_ignores_the_rest() {
    let (cassette, _g) = replay_cassette(
        "m2.record.test:80",
        vec![interaction(
            "GET",
            "http://m2.record.test/p?token=1",
            "",
            "any query",
        )],
        |b| b.match_on([Match::Method, Match::Path]),
    );
    let got = answer(get("http://m2.record.test/p?token=2&x=1")).await;
    assert_eq!(got.unwrap(), "any query");
    cassette.finish().unwrap();
}

#[tokio::test]
async fn header_matcher() {
    let mut v1 = interaction("GET", "http://m3.record.test/", "", "v1");
    v1.request_mut()
        .headers_mut()
        .insert("x-api-version", "1".parse().unwrap());
    let mut v2 = interaction("GET", "http://m3.record.test/", "", "v2");
    v2.request_mut()
        .headers_mut()
        .insert("x-api-version", "2".parse().unwrap());
    let (cassette, _g) = replay_cassette("m3.record.test:80", vec![v1, v2], |b| {
        b.match_header("x-api-version")
    });
    let req = |v: &str| {
        Request::get("http://m3.record.test/")
            .header("x-api-version", v)
            .body(empty())
            .unwrap()
    };
    assert_eq!(answer(req("2")).await.unwrap(), "v2");
    assert_eq!(answer(req("1")).await.unwrap(), "v1");
    assert!(answer(req("3")).await.is_err());
    let report = cassette.finish().unwrap_err().to_string();
    assert!(
        report.contains("- header x-api-version: requested \"3\""),
        "{report}"
    );
}

#[tokio::test]
async fn body_matcher() {
    let url = "http://m4.record.test/search";
    let (cassette, _g) = replay_cassette(
        "m4.record.test:80",
        vec![
            interaction("POST", url, "q=cats", "cats"),
            interaction("POST", url, "q=dogs", "dogs"),
        ],
        |b| b.match_body(),
    );
    assert_eq!(answer(post(url, "q=dogs")).await.unwrap(), "dogs");
    assert_eq!(answer(post(url, "q=cats")).await.unwrap(), "cats");
    assert!(answer(post(url, "q=birds")).await.is_err());
    let report = cassette.finish().unwrap_err().to_string();
    assert!(report.contains("- body: requested \"q=birds\""), "{report}");
}

#[tokio::test]
async fn json_body_matcher_ignores_key_order_and_whitespace() {
    let url = "http://m5.record.test/graphql";
    let (cassette, _g) = replay_cassette(
        "m5.record.test:80",
        vec![interaction(
            "POST",
            url,
            r#"{"query":"q","vars":{"a":1,"b":2}}"#,
            "json",
        )],
        |b| b.match_json_body(),
    );
    let got = answer(post(url, r#"{ "vars": {"b": 2, "a": 1}, "query": "q" }"#)).await;
    assert_eq!(got.unwrap(), "json");
    cassette.finish().unwrap();
}

#[tokio::test]
async fn custom_matchers_run_after_the_indexed_ones() {
    let url = "http://m6.record.test/items";
    let mut tagged = interaction("GET", url, "", "tagged");
    tagged
        .request_mut()
        .headers_mut()
        .insert("x-tenant", "acme".parse().unwrap());
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let (cassette, _g) = replay_cassette(
        "m6.record.test:80",
        vec![interaction("GET", url, "", "untagged"), tagged],
        move |b| {
            b.matcher("same tenant", move |req, recorded| {
                c.fetch_add(1, Ordering::SeqCst);
                req.headers().get("x-tenant") == recorded.headers().get("x-tenant")
            })
        },
    );
    let req = Request::get(url)
        .header("x-tenant", "acme")
        .body(empty())
        .unwrap();
    assert_eq!(answer(req).await.unwrap(), "tagged");
    assert!(calls.load(Ordering::SeqCst) >= 1);
    let req = Request::get(url)
        .header("x-tenant", "other")
        .body(empty())
        .unwrap();
    assert!(answer(req).await.is_err());
    let report = cassette.finish().unwrap_err().to_string();
    assert!(
        report.contains("- custom matcher \"same tenant\": rejected it"),
        "{report}"
    );
}

// ---- at most once, repeats ------------------------------------------------------

#[tokio::test]
async fn each_interaction_is_served_once_in_recorded_order() {
    let url = "http://once.record.test/poll";
    let (cassette, _g) = replay_cassette(
        "once.record.test:80",
        vec![
            interaction("GET", url, "", "first"),
            interaction("GET", url, "", "second"),
        ],
        |b| b,
    );
    assert_eq!(answer(get(url)).await.unwrap(), "first");
    assert_eq!(answer(get(url)).await.unwrap(), "second");
    assert!(answer(get(url)).await.is_err());
    assert_eq!(cassette.play_count(0), 1);
    assert_eq!(cassette.play_count(1), 1);
    let err = cassette.finish().unwrap_err().to_string();
    assert!(
        err.contains(
            "it matches recorded interactions #1 (GET http://once.record.test/poll), \
             #2 (GET http://once.record.test/poll), which were already played"
        ),
        "{err}"
    );
    assert!(err.contains("allow_playback_repeats(true)"), "{err}");
}

#[tokio::test]
async fn allow_playback_repeats_serves_the_last_match_again() {
    let url = "http://repeat.record.test/poll";
    let (cassette, _g) = replay_cassette(
        "repeat.record.test:80",
        vec![
            interaction("GET", url, "", "first"),
            interaction("GET", url, "", "second"),
        ],
        |b| b.allow_playback_repeats(true),
    );
    for expected in ["first", "second", "second", "second"] {
        assert_eq!(answer(get(url)).await.unwrap(), expected);
    }
    assert_eq!(cassette.play_count(1), 3);
    cassette.finish().unwrap();
}

#[tokio::test]
async fn require_all_played_reports_unplayed_interactions() {
    let (cassette, _g) = replay_cassette(
        "strict.record.test:80",
        vec![
            interaction("GET", "http://strict.record.test/a", "", "a"),
            interaction("GET", "http://strict.record.test/b", "", "b"),
        ],
        |b| b.require_all_played(true),
    );
    assert_eq!(
        answer(get("http://strict.record.test/a")).await.unwrap(),
        "a"
    );
    let err = cassette.finish().unwrap_err().to_string();
    assert!(
        err.contains("1 recorded interaction was never played"),
        "{err}"
    );
    assert!(err.contains("#2 GET http://strict.record.test/b"), "{err}");
}

// ---- failures ----------------------------------------------------------------------

#[tokio::test]
async fn a_recorded_connection_failure_replays_as_a_failure() {
    // A port nothing listens on: connecting is refused.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let url = format!("http://{addr}/down");
    let path = temp_dir().join("down.json");

    let cassette = builder(&path, Mode::Once).open().unwrap();
    let g = http_intercept::add(format!("http://{addr}"), cassette.service()).unwrap();
    let err = client().request(get(&url)).await.unwrap_err();
    assert!(
        !err.is_connect(),
        "in memory, the connection itself worked: {err:?}"
    );
    drop(g);
    cassette.finish().unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(
        saved.contains("\"failure\": {\n        \"kind\": \"connect\""),
        "{saved}"
    );

    let cassette = builder(&path, Mode::Replay).open().unwrap();
    let failure = cassette.interactions()[0].failure().unwrap().clone();
    assert_eq!(failure.kind(), FailureKind::Connect);
    let _g = http_intercept::add(format!("http://{addr}"), cassette.service()).unwrap();
    // HTTP/1.1: the connection closes before a response.
    let err = client().request(get(&url)).await.unwrap_err();
    assert!(format!("{err:?}").contains("IncompleteMessage"), "{err:?}");
    // HTTP/2: the stream is reset.
    let cassette2 = builder(&path, Mode::Replay).open().unwrap();
    drop(_g);
    let _g = http_intercept::add(format!("http://{addr}"), cassette2.service()).unwrap();
    let err = h2_client().request(get(&url)).await.unwrap_err();
    assert!(format!("{err:?}").contains("Reset"), "{err:?}");
    cassette.finish().unwrap();
    cassette2.finish().unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_timeout_while_recording_is_recorded_as_a_timeout() {
    // A server that accepts and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let path = temp_dir().join("slow.json");
    let proxy = Proxy::new().with_timeout(Some(std::time::Duration::from_secs(5)));
    let cassette = builder(&path, Mode::Record).proxy(proxy).open().unwrap();
    let _g = http_intercept::add(format!("http://{addr}"), cassette.service()).unwrap();
    let err = client()
        .request(get(&format!("http://{addr}/slow")))
        .await
        .unwrap_err();
    assert!(format!("{err:?}").contains("IncompleteMessage"), "{err:?}");
    let recorded = cassette.interactions();
    let failure = recorded[0].failure().unwrap();
    assert_eq!(failure.kind(), FailureKind::Timeout, "{failure}");
    assert!(failure.message().contains("timed out"), "{failure}");
    hold.abort();
}

// ---- reports ---------------------------------------------------------------------

#[tokio::test]
async fn the_drop_report_names_each_unmatched_request_and_its_nearest_candidate() {
    let base = "http://report.record.test";
    let (cassette, g) = replay_cassette(
        "report.record.test:80",
        vec![
            interaction("GET", &format!("{base}/users?page=1"), "", "page 1"),
            interaction("POST", &format!("{base}/orders"), "", "order"),
        ],
        |b| b,
    );
    assert!(answer(get(&format!("{base}/users?page=3"))).await.is_err());
    assert!(answer(get(&format!("{base}/orders"))).await.is_err());
    drop(g);
    let panic = std::panic::catch_unwind(AssertUnwindSafe(move || drop(cassette))).unwrap_err();
    let report = panic_text(panic);
    let expected_start = "(mode replay): 2 requests matched no recorded interaction\n\n\
        1. GET http://report.record.test/users?page=3\n   \
        nearest recorded interaction: #1 GET http://report.record.test/users?page=1\n   \
        matchers that differed:\n     - query: requested \"page=3\", recorded \"page=1\"\n\n\
        2. GET http://report.record.test/orders\n   \
        nearest recorded interaction: #2 POST http://report.record.test/orders\n   \
        matchers that differed:\n     - method: requested \"GET\", recorded \"POST\"\n";
    assert!(report.starts_with("cassette "), "{report}");
    assert!(report.contains(expected_start), "{report}");
}

#[test]
#[should_panic(expected = "1 request matched no recorded interaction")]
fn an_unmatched_request_panics_when_the_cassette_drops() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (cassette, g) = replay_cassette(
        "panic.record.test:80",
        vec![interaction("GET", "http://panic.record.test/a", "", "a")],
        |b| b,
    );
    rt.block_on(async {
        assert!(answer(get("http://panic.record.test/b")).await.is_err());
    });
    drop(g);
    drop(cassette);
}

// ---- saving ----------------------------------------------------------------------

#[tokio::test]
async fn saves_only_when_something_was_recorded() {
    let path = temp_dir().join("compact.json");
    let server = Server::start("live").await;
    // A hand-written, compact file: any save would pretty-print it.
    let compact = format!(
        "{{\"version\":1,\"interactions\":[{{\"request\":{{\"method\":\"GET\",\"uri\":\"{}\"}},\"response\":{{\"status\":200,\"body\":{{\"text\":\"hi\"}}}}}}]}}",
        server.url("/a")
    );
    std::fs::write(&path, &compact).unwrap();
    let cassette = builder(&path, Mode::NewEpisodes).open().unwrap();
    let _g = http_intercept::add(server.target(), cassette.service()).unwrap();
    assert_eq!(answer(get(&server.url("/a"))).await.unwrap(), "hi");
    assert!(!cassette.is_dirty());
    assert!(!cassette.save().unwrap(), "nothing to save");
    drop(_g);
    drop(cassette);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), compact);
}

#[tokio::test]
async fn nothing_is_saved_after_a_panic() {
    let path = temp_dir().join("panicked.json");
    let server = Server::start("live").await;
    let cassette = builder(&path, Mode::Once).open().unwrap();
    let g = http_intercept::add(server.target(), cassette.service()).unwrap();
    assert!(answer(get(&server.url("/a"))).await.is_ok());
    assert!(cassette.is_dirty());
    drop(g);
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(move || {
        let _cassette = cassette;
        panic!("the test failed");
    }));
    assert_eq!(panic_text(outcome.unwrap_err()), "the test failed");
    assert!(!path.exists(), "a failed test must not write its cassette");
}

#[tokio::test]
async fn a_failed_save_leaves_the_old_file_intact() {
    let dir = temp_dir();
    let path = dir.join("api.json");
    let server = Server::start("live").await;
    write_cassette(
        &path,
        vec![interaction("GET", &server.url("/a"), "", "old")],
    );
    let before = std::fs::read(&path).unwrap();
    let cassette = builder(&path, Mode::NewEpisodes)
        .secret("k-123")
        .open()
        .unwrap();
    let _g = http_intercept::add(server.target(), cassette.service()).unwrap();
    // The response carries the secret in a header that is not redacted.
    assert_eq!(
        answer(get(&server.url("/cookie"))).await.unwrap(),
        "cookie set"
    );
    drop(_g);
    let err = cassette.save().unwrap_err();
    assert!(err.is_secret(), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("secret #1 was found in interaction 2 of 2 (GET http://")
            && msg.contains("/cookie), response header x-api-key-echo"),
        "{msg}"
    );
    assert!(
        !msg.contains("k-123"),
        "the message must not print the secret: {msg}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    let err = cassette.finish().unwrap_err();
    assert!(err.is_secret());
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[cfg(unix)]
#[tokio::test]
async fn a_save_into_a_read_only_directory_fails_and_keeps_the_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir();
    let path = dir.join("api.json");
    let server = Server::start("live").await;
    write_cassette(
        &path,
        vec![interaction("GET", &server.url("/a"), "", "old")],
    );
    let before = std::fs::read(&path).unwrap();
    let cassette = builder(&path, Mode::NewEpisodes).open().unwrap();
    let _g = http_intercept::add(server.target(), cassette.service()).unwrap();
    assert!(answer(get(&server.url("/b"))).await.is_ok());
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
    let probe = dir.join("probe");
    let writable = std::fs::write(&probe, b"x").is_ok(); // root ignores permissions
    let result = cassette.save();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    if writable {
        let _ = std::fs::remove_file(&probe);
        assert!(result.unwrap());
        return;
    }
    let err = result.unwrap_err();
    assert!(err.is_io(), "{err}");
    assert!(err.to_string().contains("api.json"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    drop(_g);
    cassette.finish().unwrap();
}

#[test]
fn a_malformed_cassette_names_file_line_and_column_and_is_never_overwritten() {
    let path = temp_dir().join("broken.json");
    let broken = "{\n  \"version\": 1,\n  \"interactions\": [\n    {\"request\": {\"method\": \"GET\", \"uri\": \"http://x.test/\"},\n";
    std::fs::write(&path, broken).unwrap();
    let err = builder(&path, Mode::NewEpisodes).open().unwrap_err();
    assert!(err.is_malformed(), "{err}");
    let msg = err.to_string();
    assert!(msg.starts_with("malformed cassette "), "{msg}");
    assert!(msg.contains("broken.json: line 5, column 0"), "{msg}");
    let bad_status =
        "{\"version\": 1, \"interactions\": [\n{\"request\": {\"method\": \"GET\", \"uri\": \"http://x.test/\"},\n \"response\": {\"status\": 42}}]}";
    std::fs::write(&path, bad_status).unwrap();
    let msg = builder(&path, Mode::Once).open().unwrap_err().to_string();
    assert!(
        msg.contains("line 3, column") && msg.contains("invalid status code 42"),
        "{msg}"
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), bad_status);
    // Chunk lengths whose sum overflows are an error too, not a panic.
    let overflowing = format!(
        "{{\"version\": 1, \"interactions\": [\n{{\"request\": {{\"method\": \"GET\", \"uri\": \"http://x.test/\"}},\n \"response\": {{\"status\": 200, \"body\": {{\"text\": \"abc\", \"chunks\": [{}, 4]}}}}}}]}}",
        usize::MAX
    );
    std::fs::write(&path, &overflowing).unwrap();
    let msg = builder(&path, Mode::Once).open().unwrap_err().to_string();
    assert!(msg.contains("`chunks` lengths do not add up"), "{msg}");
}

#[test]
fn a_newer_format_version_is_a_clear_error() {
    let path = temp_dir().join("future.json");
    std::fs::write(&path, r#"{"version": 3, "entries": {"new": "shape"}}"#).unwrap();
    let err = builder(&path, Mode::Replay).open().unwrap_err();
    assert!(err.is_version(), "{err}");
    assert!(err.to_string().contains("format version 3"), "{err}");
}

// ---- redaction -----------------------------------------------------------------------

#[tokio::test]
async fn sensitive_headers_are_redacted_by_default() {
    let path = temp_dir().join("redacted.json");
    let server = Server::start("live").await;
    let cassette = builder(&path, Mode::Once).open().unwrap();
    let _g = http_intercept::add(server.target(), cassette.service()).unwrap();
    let req = Request::get(server.url("/echo"))
        .header("authorization", "Bearer live-token")
        .header("cookie", "session=abc")
        .body(empty())
        .unwrap();
    // The real server and the client see the real values.
    let live = answer(req).await.unwrap();
    assert!(live.contains("auth=17"), "{live}");
    let res = client().request(get(&server.url("/cookie"))).await.unwrap();
    assert_eq!(res.headers()["set-cookie"], "session=s3cr3t-session");
    drop(_g);
    cassette.finish().unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(
        !saved.contains("live-token") && !saved.contains("s3cr3t"),
        "{saved}"
    );
    assert!(saved.contains("\"authorization\": \"REDACTED\""), "{saved}");
    assert!(saved.contains("\"cookie\": \"REDACTED\""), "{saved}");
    assert!(saved.contains("\"set-cookie\": \"REDACTED\""), "{saved}");
    // The recorded request still matches: requests are redacted before matching too.
    let cassette = builder(&path, Mode::Replay).open().unwrap();
    let _g = http_intercept::add(server.target(), cassette.service()).unwrap();
    let req = Request::get(server.url("/echo"))
        .header("authorization", "Bearer another-token")
        .body(empty())
        .unwrap();
    assert!(answer(req).await.unwrap().contains("auth=17"));
}

#[tokio::test]
async fn redact_headers_query_params_and_opt_out() {
    let path = temp_dir().join("custom.json");
    let server = Server::start("live").await;
    let cassette = builder(&path, Mode::Once)
        .keep_sensitive_headers()
        .redact_headers(["x-api-key"])
        .redact_query_params(["api_key"])
        .open()
        .unwrap();
    let _g = http_intercept::add(server.target(), cassette.service()).unwrap();
    let req = Request::get(server.url("/echo?api_key=q-secret&page=2"))
        .header("x-api-key", "h-secret")
        .header("authorization", "Basic kept")
        .body(empty())
        .unwrap();
    let live = answer(req).await.unwrap();
    assert!(live.contains("auth=10 query=2"), "{live}");
    drop(_g);
    cassette.finish().unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(
        !saved.contains("q-secret") && !saved.contains("h-secret"),
        "{saved}"
    );
    assert!(saved.contains("/echo?api_key=REDACTED&page=2"), "{saved}");
    assert!(
        saved.contains("\"authorization\": \"Basic kept\""),
        "{saved}"
    );
    // A replay with another key matches the redacted recording.
    let cassette = builder(&path, Mode::Replay)
        .redact_query_params(["api_key"])
        .open()
        .unwrap();
    let _g = http_intercept::add(server.target(), cassette.service()).unwrap();
    let got = answer(get(&server.url("/echo?page=2&api_key=other"))).await;
    assert!(got.unwrap().contains("auth=10"));
}

#[tokio::test]
async fn before_record_hooks_rewrite_and_drop() {
    let path = temp_dir().join("hooks.json");
    let server = Server::start("live").await;
    let cassette = builder(&path, Mode::Once)
        .before_record_request(|req| (req.uri().path() != "/health").then_some(req))
        .before_record_response(|mut res| {
            res.headers_mut().remove("date");
            *res.body_mut() = Bytes::from(res.body().to_ascii_uppercase());
            Some(res)
        })
        .open()
        .unwrap();
    let _g = http_intercept::add(server.target(), cassette.service()).unwrap();
    assert_eq!(
        answer(get(&server.url("/health"))).await.unwrap(),
        "live /health hit 1"
    );
    assert_eq!(
        answer(get(&server.url("/data"))).await.unwrap(),
        "live /data hit 2"
    );
    assert_eq!(cassette.len(), 1, "the /health request was dropped");
    drop(_g);
    cassette.finish().unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(
        saved.contains("LIVE /DATA HIT 2") && !saved.contains("\"date\""),
        "{saved}"
    );
}

// ---- bodies ------------------------------------------------------------------------

#[tokio::test]
async fn binary_gzip_and_chunked_bodies_are_byte_exact() {
    let path = temp_dir().join("bodies.json");
    let server = Server::start("live").await;
    let cassette = builder(&path, Mode::Once).open().unwrap();
    let g = http_intercept::add(server.target(), cassette.service()).unwrap();
    let mut live = Vec::new();
    for p in ["/gzip", "/binary", "/chunks"] {
        let res = client().request(get(&server.url(p))).await.unwrap();
        live.push(bytes_of(res).await);
    }
    assert_eq!(live[1], binary());
    drop(g);
    cassette.finish().unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(
        saved.contains("\"encoding\": \"gzip\",\n          \"base64\": \"H4sI"),
        "{saved}"
    );
    assert!(saved.contains("\"chunks\": ["), "{saved}");

    drop(server);
    let cassette = builder(&path, Mode::Replay).open().unwrap();
    assert_eq!(cassette.interactions()[2].chunks(), [4, 4, 5]);
    let g = http_intercept::add(
        format!(
            "http://{}",
            cassette.interactions()[0]
                .request()
                .uri()
                .authority()
                .unwrap()
        ),
        cassette.service(),
    )
    .unwrap();
    for (i, p) in ["/gzip", "/binary", "/chunks"].iter().enumerate() {
        let url = cassette.interactions()[i].request().uri().to_string();
        assert!(url.ends_with(p));
        let res = h2_client().request(get(&url)).await.unwrap();
        if *p == "/gzip" {
            assert_eq!(res.headers()["content-encoding"], "gzip");
        }
        let body = bytes_of(res).await;
        assert_eq!(body, live[i], "{p}");
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&live[0][..]), &mut text)
        .unwrap();
    assert_eq!(text, "compressed hello, compressed hello");
    drop(g);
    cassette.finish().unwrap();
}

// ---- scale -----------------------------------------------------------------------------

#[tokio::test]
async fn a_ten_thousand_interaction_cassette_replays() {
    const N: usize = 10_000;
    let path = temp_dir().join("big.json");
    let interactions = (0..N)
        .map(|i| {
            let mut x = interaction(
                if i % 2 == 0 { "GET" } else { "POST" },
                &format!("https://big.record.test/items/{i}?page={}", i % 7),
                "",
                &format!("item {i}"),
            );
            x.request_mut()
                .headers_mut()
                .insert("accept", "application/json".parse().unwrap());
            x
        })
        .collect();
    write_cassette(&path, interactions);
    let cassette = builder(&path, Mode::Replay)
        .require_all_played(true)
        .open()
        .unwrap();
    assert_eq!(cassette.len(), N);
    let _g = http_intercept::add("https://big.record.test", cassette.service()).unwrap();
    let client = client();
    // In reverse order: a scan from the front would be slowest here.
    for i in (0..N).rev() {
        let req = Request::builder()
            .method(if i % 2 == 0 { "GET" } else { "POST" })
            .uri(format!("https://big.record.test/items/{i}?page={}", i % 7))
            .body(empty())
            .unwrap();
        let res = client.request(req).await.unwrap();
        assert_eq!(text(res).await, format!("item {i}"));
    }
    assert!(cassette.all_played());
    drop(_g);
    cassette.finish().unwrap();
}

// ---- the recorder layer ------------------------------------------------------------------

#[tokio::test]
async fn the_recorder_layer_keeps_every_exchange_and_filters_its_display() {
    let app = tower::service_fn(|req: Request<_>| async move {
        let path = req.uri().path().to_owned();
        let body = BodyExt::collect(req.into_body()).await.unwrap().to_bytes();
        let ty = match path.rsplit_once('.').map(|(_, e)| e) {
            Some("css") => "text/css",
            Some("png") => "image/png",
            Some("js") => "application/javascript",
            Some("json") => "application/json",
            _ => "text/html",
        };
        let res = Response::builder()
            .header("content-type", ty)
            .body(Full::new(Bytes::from(format!("{path} {}", body.len()))))
            .unwrap();
        Ok::<_, Infallible>(res)
    });
    let recording = Recording::new();
    let recorded_app = RecordLayer::new(recording.clone()).layer(app);
    let _g = http_intercept::add("http://site.record.test", recorded_app).unwrap();
    for p in ["/", "/style.css", "/logo.png", "/app.js", "/api/data.json"] {
        let res = client()
            .request(get(&format!("http://site.record.test{p}")))
            .await
            .unwrap();
        text(res).await;
    }
    let res = client()
        .request(post("http://site.record.test/form", "name=x"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "/form 6");
    assert_eq!(recording.len(), 6);
    let shown = recording.to_string();
    assert_eq!(
        shown,
        "GET http://site.record.test/ -> 200 text/html (3 bytes)\n\
         GET http://site.record.test/api/data.json -> 200 application/json (16 bytes)\n\
         POST http://site.record.test/form -> 200 text/html (7 bytes)\n"
    );
    assert_eq!(recording.display().all().to_string().lines().count(), 6);
    let posts = recording
        .display()
        .all()
        .filter(|i| i.request().method() == "POST")
        .to_string();
    assert!(
        posts.starts_with("POST http://site.record.test/form"),
        "{posts}"
    );
    let detailed = format!(
        "{:#}",
        recording
            .display()
            .filter(|i| i.request().method() == "POST")
    );
    assert!(
        detailed.contains("    > name=x\n") && detailed.contains("    < /form 6\n"),
        "{detailed}"
    );
    let form = &recording.interactions()[5];
    assert_eq!(form.request().body(), "name=x");

    // A recording saves as a cassette that replays.
    let path = temp_dir().join("site.json");
    recording.save(&path).unwrap();
    drop(_g);
    let cassette = builder(&path, Mode::Replay).open().unwrap();
    let _g = http_intercept::add("http://site.record.test", cassette.service()).unwrap();
    let res = client()
        .request(get("http://site.record.test/style.css"))
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/css");
    assert_eq!(text(res).await, "/style.css 0");
}

#[tokio::test]
async fn the_recorder_records_errors_of_the_wrapped_service() {
    let failing = tower::service_fn(|_req: Request<_>| async {
        Err::<Response<Full<Bytes>>, _>(std::io::Error::other("backend down"))
    });
    let recording = Recording::new();
    let _g = http_intercept::add(
        "http://failing.record.test",
        RecordLayer::new(recording.clone()).layer(failing),
    )
    .unwrap();
    let res = client()
        .request(get("http://failing.record.test/x"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let recorded = recording.interactions();
    assert_eq!(recorded[0].failure().unwrap().message(), "backend down");
    assert_eq!(
        recording.to_string(),
        "GET http://failing.record.test/x -> failed: other error: backend down\n"
    );
}

#[tokio::test]
async fn the_recorder_records_a_body_dropped_before_its_end_as_a_failure() {
    use tower::ServiceExt;
    let streaming = tower::service_fn(
        |_req: Request<http_intercept::record::RecordBody<Full<Bytes>>>| async {
            let frames = futures_util::stream::iter([b"one ".as_slice(), b"two"].map(|chunk| {
                Ok::<_, Infallible>(http_body::Frame::data(Bytes::from_static(chunk)))
            }));
            Ok::<_, Infallible>(Response::new(StreamBody::new(frames)))
        },
    );
    let recording = Recording::new();
    let svc = RecordLayer::new(recording.clone()).layer(streaming);
    let req = Request::get("http://dropped.record.test/")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let res = svc.oneshot(req).await.unwrap();
    let mut body = res.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "one ");
    drop(body);
    let recorded = recording.interactions();
    let failure = recorded[0].failure().expect("recorded as a failure");
    assert!(
        failure.message().contains("dropped before its end"),
        "{}",
        failure.message()
    );
}

// ---- playback ---------------------------------------------------------------------------

#[tokio::test]
async fn playback_detects_a_changed_body_and_ignores_the_date() {
    let v1 = Server::start("v1").await;
    let path = temp_dir().join("regression.json");
    let cassette = builder(&path, Mode::Once).open().unwrap();
    let g = http_intercept::add(v1.target(), cassette.service()).unwrap();
    answer(get(&v1.url("/page"))).await.unwrap();
    drop(g);
    let recorded = cassette.interactions();
    cassette.finish().unwrap();

    // The live server counts its hits: "hit 2" is a changed body.
    let report = Playback::new(recorded.clone()).run(Proxy::new()).await;
    assert!(!report.is_unchanged(), "{report}");
    // A service with the same body and another date header: unchanged.
    let report = Playback::new(Recording::load(&path).unwrap().interactions())
        .run(tower::service_fn(|_req: Request<Full<Bytes>>| async {
            let res = Response::builder()
                .header("content-type", "text/plain")
                .header("date", "another day")
                .body(Full::new(Bytes::from("v1 /page hit 1")))
                .unwrap();
            Ok::<_, Infallible>(res)
        }))
        .await;
    report.assert_unchanged();
    assert_eq!(report.to_string(), "playback: all 1 responses unchanged\n");

    // A new version of the server, through the real network: the body changed.
    let v2 = Server::start("v2").await;
    let moved: Vec<Interaction> = recorded
        .into_iter()
        .map(|mut i| {
            let uri = v2.url(i.request().uri().path());
            *i.request_mut().uri_mut() = uri.parse().unwrap();
            i
        })
        .collect();
    let report = Playback::new(moved).run(Proxy::new()).await;
    assert!(!report.is_unchanged());
    let text = report.to_string();
    assert!(
        text.starts_with("playback: 1 of 1 responses changed\n\n1. GET http://"),
        "{text}"
    );
    assert!(
        text.contains("- body differs at byte 1 (recorded 14 bytes, now 14): recorded \"v1 /page hit 1\", now \"v2 /page hit 1\""),
        "{text}"
    );
    assert!(!text.contains("date"), "date is ignored by default: {text}");
    // Comparing every header reports the date too.
    let strict = Playback::new(Recording::load(&path).unwrap().interactions())
        .compare_all_headers()
        .run(Proxy::new())
        .await;
    assert!(
        strict
            .to_string()
            .contains("- header date: recorded [\"day 1\"], now [\"day 3\"]"),
        "{strict}"
    );
    let panicked = std::panic::catch_unwind(AssertUnwindSafe(|| report.assert_unchanged()));
    assert!(panic_text(panicked.unwrap_err()).contains("body differs"));
}

// ---- the proxy on its own ------------------------------------------------------------------

#[tokio::test]
async fn the_proxy_forwards_to_the_real_host_even_when_it_is_intercepted() {
    let server = Server::start("real").await;
    // The proxy is registered for the very host it forwards to: it must not loop.
    let _g = http_intercept::add(server.target(), Proxy::new()).unwrap();
    let res = client().request(get(&server.url("/p"))).await.unwrap();
    assert_eq!(text(res).await, "real /p hit 1");
    let res = h2_client()
        .request(post(&server.url("/echo"), "abc"))
        .await
        .unwrap();
    let body = text(res).await;
    assert!(body.ends_with("body=abc"), "{body}");
    assert_eq!(server.hits(), 2);
}

#[tokio::test]
async fn the_proxy_reports_connect_and_dns_failures() {
    use tower::ServiceExt;
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let req = Request::get(format!("http://{addr}/"))
        .body(String::new())
        .unwrap();
    let err = Proxy::new().oneshot(req).await.unwrap_err();
    assert!(err.is_upstream() && err.is_connect(), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("forwarding to http://{addr}/ failed")),
        "{err}"
    );
    let req = Request::get("http://no-such-host.invalid/")
        .body(String::new())
        .unwrap();
    let err = Proxy::new().oneshot(req).await.unwrap_err();
    assert!(err.is_connect(), "{err}");
    assert!(err.to_string().contains("cannot resolve the host"), "{err}");
}

// ---- the fixture macro ------------------------------------------------------------------------

#[test]
fn cassette_path_is_named_after_the_test() {
    let path = http_intercept::cassette_path!();
    assert!(
        path.ends_with("tests/cassettes/record/cassette_path_is_named_after_the_test.json"),
        "{}",
        path.display()
    );
    assert!(path.starts_with(env!("CARGO_MANIFEST_DIR")));
}

#[tokio::test]
async fn fixture_macro_replays_the_committed_cassette() {
    // tests/cassettes/record/fixture_macro_replays_the_committed_cassette.json, committed.
    let cassette = http_intercept::cassette!("https://api.fixture.record.test");
    assert!(cassette.is_replaying(), "the committed file replays");
    let res = client()
        .request(get("https://api.fixture.record.test/hello?name=world"))
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(text(res).await, "{\"hello\":\"world\"}");
    assert_eq!(cassette.intercepts().len(), 1);
    cassette.finish().unwrap();
}

#[tokio::test]
async fn a_cassette_mounted_under_a_path_prefix_records_the_full_path() {
    let dir = temp_dir();
    let path = dir.join("prefixed.json");
    let server = Server::start("v1").await;
    let cassette = builder(&path, Mode::Record).open().unwrap();
    let guard = http_intercept::add(format!("{}/v1", server.target()), cassette.service()).unwrap();
    let body = text(
        client()
            .request(get(&server.url("/v1/users?page=2")))
            .await
            .unwrap(),
    )
    .await;
    // The real server was asked for the path the client asked for, prefix included.
    assert_eq!(body, "v1 /v1/users hit 1");
    drop(guard);
    cassette.finish().unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(saved.contains("/v1/users?page=2"), "{saved}");

    // And it replays under the same mount.
    let cassette = builder(&path, Mode::Replay).open().unwrap();
    let _g = http_intercept::add(format!("{}/v1", server.target()), cassette.service()).unwrap();
    drop(server);
    let body = text(
        client()
            .request(get(&format!(
                "http://{}/v1/users?page=2",
                _g.target().authority()
            )))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body, "v1 /v1/users hit 1");
}
