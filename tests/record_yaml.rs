//! vcrpy and Ruby VCR YAML cassettes: the fixtures under tests/cassettes/vcr (vcrpy's
//! recorded by vcrpy itself, see record.py there; VCR's written by hand after VCR's
//! format) replayed through hyper-util and reqwest, HTTP/1.1 and HTTP/2, on both
//! runtime flavors; converted to the cassette format and replayed the same; malformed
//! files refused with the line and column.
#![cfg(all(feature = "record", feature = "reqwest"))]

mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{HeaderMap, Request, Version};
use http_body_util::BodyExt;
use http_intercept::record::{yaml, Cassette, Mode, Recording};
use http_intercept::reqwest::ClientBuilderExt;
use proptest::prelude::*;
use support::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cassettes/vcr")
        .join(name)
}

fn temp_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "http-intercept-record-yaml-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gunzip(bytes: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut out)
        .unwrap();
    out
}

/// The clients every fixture is replayed through.
#[derive(Clone, Copy, Debug)]
enum Via {
    /// hyper-util over the crate's `Connector`, HTTP/1.1.
    Hyper1,
    /// hyper-util, HTTP/2 (prior knowledge).
    Hyper2,
    /// reqwest `.intercept()`: HTTP/1.1 for http://, HTTP/2 by ALPN for https://.
    Reqwest,
    /// reqwest `.intercept()` with HTTP/2 prior knowledge.
    ReqwestH2,
}

const VIAS: [Via; 4] = [Via::Hyper1, Via::Hyper2, Via::Reqwest, Via::ReqwestH2];

enum Client {
    Hyper(Box<TestClient>),
    Reqwest(reqwest::Client),
}

struct Got {
    status: u16,
    headers: HeaderMap,
    body: Bytes,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }
}

impl Client {
    /// Built after the cassette is registered, in the test's scope. Redirects are not
    /// followed: each recorded response is checked as it was.
    fn new(via: Via) -> Client {
        let reqwest = || {
            reqwest::Client::builder()
                .intercept()
                .redirect(reqwest::redirect::Policy::none())
        };
        match via {
            Via::Hyper1 => Client::Hyper(Box::new(client())),
            Via::Hyper2 => Client::Hyper(Box::new(h2_client())),
            Via::Reqwest => Client::Reqwest(reqwest().build().unwrap()),
            Via::ReqwestH2 => Client::Reqwest(reqwest().http2_prior_knowledge().build().unwrap()),
        }
    }

    async fn send(
        &self,
        via: Via,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Got {
        let expected = match via {
            Via::Hyper1 => Version::HTTP_11,
            Via::Reqwest if url.starts_with("http:") => Version::HTTP_11,
            _ => Version::HTTP_2,
        };
        let (status, version, headers, body) = match self {
            Client::Hyper(client) => {
                let mut req = Request::builder().method(method).uri(url);
                for (n, v) in headers {
                    req = req.header(*n, *v);
                }
                let req = req.body(full(body.to_vec())).unwrap();
                let res = client
                    .request(req)
                    .await
                    .unwrap_or_else(|e| panic!("{via:?} {url}: {e:?}"));
                let (parts, body) = res.into_parts();
                let body = body.collect().await.unwrap().to_bytes();
                (parts.status, parts.version, parts.headers, body)
            }
            Client::Reqwest(client) => {
                let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
                let mut req = client.request(method, url).body(body.to_vec());
                for (n, v) in headers {
                    req = req.header(*n, *v);
                }
                let res = req
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("{via:?} {url}: {e:?}"));
                let (status, version, headers) =
                    (res.status(), res.version(), res.headers().clone());
                (status, version, headers, res.bytes().await.unwrap())
            }
        };
        assert_eq!(version, expected, "{via:?} {url}");
        Got {
            status: status.as_u16(),
            headers,
            body,
        }
    }
}

/// Opens `path`, registers it for every host it names, and returns a client.
fn mount(path: &Path, via: Via) -> (Cassette, http_intercept::Intercepts, Client) {
    let cassette = Cassette::open(path).unwrap();
    // A YAML file replays only; its conversion, in Mode::Once, replays as it exists.
    assert!(cassette.is_replaying() && !cassette.is_recording());
    let hosts = cassette.add_all().unwrap();
    (cassette, hosts, Client::new(via))
}

fn end(cassette: Cassette, hosts: http_intercept::Intercepts) {
    drop(hosts);
    assert!(cassette.all_played(), "{:?}", cassette.path());
    assert!(!cassette.is_dirty());
    cassette.finish().unwrap();
}

const VCRPY: &str = "http://127.0.0.1:18733";

/// vcrpy_api.yaml: JSON, a POST, a query, a counter three times, a redirect.
async fn vcrpy_api(path: &Path, via: Via) {
    let (cassette, hosts, c) = mount(path, via);
    assert_eq!(cassette.origins(), [VCRPY]);
    assert_eq!(cassette.len(), 8);
    let json = r#"{"id": 7, "name": "Ada", "langs": ["rust", "python"]}"#;
    let got = c.send(via, "GET", &format!("{VCRPY}/json"), &[], b"").await;
    assert_eq!((got.status, got.text()), (200, json));
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(got.header("content-length"), Some("53"));
    assert_eq!(got.header("server"), Some("BaseHTTP/0.6 Python/3.11.7"));

    let got = c
        .send(
            via,
            "POST",
            &format!("{VCRPY}/users"),
            &[("content-type", "application/json")],
            br#"{"name": "Grace"}"#,
        )
        .await;
    assert_eq!(got.status, 201);
    assert_eq!(got.text(), r#"{"created": {"name": "Grace"}, "id": 42}"#);
    assert_eq!(got.header("set-cookie"), Some("session=s-1; HttpOnly"));

    // The query in another order matches, as vcrpy's `query` matcher does.
    let got = c
        .send(
            via,
            "GET",
            &format!("{VCRPY}/search?page=2&q=rust+yaml"),
            &[],
            b"",
        )
        .await;
    assert_eq!(got.text(), r#"{"page": "2", "q": "rust yaml"}"#);

    // Identical requests, in recorded order.
    for n in 1..=3 {
        let got = c
            .send(via, "GET", &format!("{VCRPY}/counter"), &[], b"")
            .await;
        assert_eq!(got.text(), format!("count={n}"));
    }
    let got = c
        .send(via, "GET", &format!("{VCRPY}/redirect"), &[], b"")
        .await;
    assert_eq!(got.status, 302);
    assert_eq!(got.header("location"), Some("/json"));
    assert!(got.body.is_empty());
    let got = c.send(via, "GET", &format!("{VCRPY}/json"), &[], b"").await;
    assert_eq!(got.text(), json);
    end(cassette, hosts);
}

/// vcrpy_binary.yaml: a gzip body recorded raw (`!!binary`), one recorded decoded with
/// the gzip header kept, a binary body, a binary POST.
async fn vcrpy_binary(path: &Path, via: Via) {
    let (cassette, hosts, c) = mount(path, via);
    let text = "hello, compressed world\n".repeat(20);
    let got = c.send(via, "GET", &format!("{VCRPY}/gzip"), &[], b"").await;
    assert_eq!(got.header("content-encoding"), Some("gzip"));
    assert_eq!(got.header("content-length"), Some("49"));
    assert_eq!(got.body.len(), 49);
    assert_eq!(&got.body[..2], [0x1f, 0x8b]);
    assert_eq!(gunzip(&got.body), text);

    // vcrpy on urllib3 2 stored the decoded body under `Content-Encoding: gzip`: the
    // header is dropped, the length made true.
    let got = c
        .send(via, "GET", &format!("{VCRPY}/gzip?via=requests"), &[], b"")
        .await;
    assert_eq!(got.header("content-encoding"), None);
    assert_eq!(got.header("content-length"), Some("480"));
    assert_eq!(got.text(), text);

    let got = c
        .send(via, "GET", &format!("{VCRPY}/binary"), &[], b"")
        .await;
    assert_eq!(got.body, (0..=255u8).collect::<Vec<_>>());
    assert_eq!(got.header("content-type"), Some("application/octet-stream"));

    let upload: Vec<u8> = (0..=255u8).rev().collect();
    let got = c
        .send(via, "POST", &format!("{VCRPY}/upload"), &[], &upload)
        .await;
    assert_eq!(got.text(), "256 bytes, first 255");
    assert_eq!(cassette.interactions()[3].request().body(), &upload[..]);
    end(cassette, hosts);
}

/// vcrpy_decoded.yaml: `decode_compressed_response=True`.
async fn vcrpy_decoded(path: &Path, via: Via) {
    let (cassette, hosts, c) = mount(path, via);
    let got = c.send(via, "GET", &format!("{VCRPY}/gzip"), &[], b"").await;
    assert_eq!(got.header("content-encoding"), None);
    assert_eq!(got.header("content-length"), Some("480"));
    assert_eq!(got.text(), "hello, compressed world\n".repeat(20));
    end(cassette, hosts);
}

/// vcrpy1_python2.yaml: `!!python/unicode`, `!!python/str`, a pickled BytesIO body.
async fn vcrpy1_python2(path: &Path, via: Via) {
    let (cassette, hosts, c) = mount(path, via);
    let got = c
        .send(
            via,
            "POST",
            "http://py2.vcr.test/search?lang=fr",
            &[],
            "{\"q\": \"café\"}".as_bytes(),
        )
        .await;
    assert_eq!(got.text(), "{\"hits\": 1, \"q\": \"café\"}");
    assert_eq!(got.header("content-length"), Some("25"));
    let got = c
        .send(
            via,
            "PUT",
            "http://py2.vcr.test/upload",
            &[],
            b"hello from a file",
        )
        .await;
    assert_eq!(got.status, 204);
    assert!(got.body.is_empty());
    // A pickled iterator body: its chunks, joined.
    let got = c
        .send(
            via,
            "POST",
            "http://py2.vcr.test/stream",
            &[],
            b"chunked body",
        )
        .await;
    assert_eq!(got.text(), "got 12 bytes");
    let recorded = cassette.interactions();
    assert_eq!(
        recorded[0].request().headers()["content-type"],
        "application/json"
    );
    assert_eq!(recorded[1].request().body(), "hello from a file");
    assert_eq!(recorded[2].request().body(), "chunked body");
    end(cassette, hosts);
}

/// vcr_ruby.yml: VCR 6 with webmock, two hosts, http and https.
async fn vcr_ruby(path: &Path, via: Via) {
    let (cassette, hosts, c) = mount(path, via);
    assert_eq!(
        cassette.origins(),
        ["https://api.ruby.test", "http://static.ruby.test"]
    );
    let api = "https://api.ruby.test";
    let user = r#"{"id":7,"name":"Matz","langs":["ruby"]}"#;
    let got = c
        .send(
            via,
            "GET",
            &format!("{api}/users/7?fields=name,langs"),
            &[],
            b"",
        )
        .await;
    assert_eq!((got.status, got.text()), (200, user));
    assert_eq!(got.header("etag"), Some("W/\"7a\""));
    assert_eq!(got.header("content-length"), Some("39"));

    let form = [("content-type", "application/x-www-form-urlencoded")];
    let got = c
        .send(
            via,
            "POST",
            &format!("{api}/session"),
            &form,
            b"login=matz&password=x",
        )
        .await;
    assert_eq!(got.status, 303);
    assert_eq!(got.header("location"), Some("https://api.ruby.test/home"));
    let cookies: Vec<_> = got.headers.get_all("set-cookie").iter().collect();
    assert_eq!(
        cookies,
        ["session=r-1; path=/; HttpOnly", "theme=light; path=/"]
    );
    let got = c.send(via, "GET", &format!("{api}/home"), &[], b"").await;
    assert_eq!(got.text(), "welcome home, matz\n");

    // Psych's `!binary` gzip, with webmock's `Transfer-Encoding: chunked` dropped.
    let got = c.send(via, "GET", &format!("{api}/repos"), &[], b"").await;
    assert_eq!(got.header("content-encoding"), Some("gzip"));
    assert_eq!(got.header("transfer-encoding"), None);
    assert_eq!(
        gunzip(&got.body),
        r#"{"repos":[{"name":"vcr","stars":5900},{"name":"webmock","stars":3900}]}"#
    );

    // `base64_string` (preserve_exact_body_bytes): a PNG, byte for byte.
    let got = c
        .send(via, "GET", "http://static.ruby.test/logo.png", &[], b"")
        .await;
    assert_eq!(got.body.len(), 70);
    assert_eq!(&got.body[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(got.header("content-type"), Some("image/png"));

    for state in ["queued", "done"] {
        let got = c.send(via, "GET", &format!("{api}/jobs/1"), &[], b"").await;
        assert_eq!(got.text(), format!(r#"{{"state":"{state}"}}"#));
    }
    // HEAD keeps the length of the body it does not have.
    let got = c
        .send(via, "HEAD", &format!("{api}/users/7"), &[], b"")
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-length"), Some("39"));
    assert!(got.body.is_empty());

    let at = cassette.interactions()[0].recorded_at().unwrap();
    let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(secs, 1_796_126_400); // 2026-12-01T12:00:00Z
    end(cassette, hosts);
}

/// vcr2_legacy.yml: VCR 2.9 with Psych's `!binary` in header values and the status
/// message.
async fn vcr2_legacy(path: &Path, via: Via) {
    let (cassette, hosts, c) = mount(path, via);
    let got = c
        .send(via, "GET", "http://legacy.ruby.test/", &[], b"")
        .await;
    assert_eq!(
        got.header("content-type"),
        Some("text/html; charset=ISO-8859-1")
    );
    assert_eq!(got.header("content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&got.body), "<html><body>legacy page</body></html>\n");
    let at = cassette.interactions()[0].recorded_at().unwrap();
    let secs = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(secs, 1_393_842_030); // 2014-03-03T10:20:30Z
    end(cassette, hosts);
}

macro_rules! every_client {
    ($($name:ident => $script:ident($file:literal);)*) => {
        mod current_thread {
            use super::*;
            $(
                #[tokio::test(flavor = "current_thread")]
                async fn $name() {
                    for via in VIAS {
                        $script(&fixture($file), via).await;
                    }
                }
            )*
        }
        mod multi_thread {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    for via in VIAS {
                        $script(&fixture($file), via).await;
                    }
                }
            )*
        }
        /// Each fixture converted to the cassette format replays the same.
        mod converted {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let dir = temp_dir();
                    let json = dir.join(concat!(stringify!($name), ".json"));
                    let n = yaml::convert(fixture($file), &json).unwrap();
                    assert_eq!(n, Cassette::open(fixture($file)).unwrap().len());
                    same_interactions(&fixture($file), &json);
                    for via in VIAS {
                        $script(&json, via).await;
                    }
                }
            )*
        }
    };
}

every_client! {
    vcrpy_api_replays => vcrpy_api("vcrpy_api.yaml");
    vcrpy_binary_replays => vcrpy_binary("vcrpy_binary.yaml");
    vcrpy_decoded_replays => vcrpy_decoded("vcrpy_decoded.yaml");
    vcrpy1_python2_replays => vcrpy1_python2("vcrpy1_python2.yaml");
    vcr_ruby_replays => vcr_ruby("vcr_ruby.yml");
    vcr2_legacy_replays => vcr2_legacy("vcr2_legacy.yml");
}

/// The converted file holds what the YAML file replays, byte for byte.
fn same_interactions(yaml: &Path, json: &Path) {
    let a = Recording::load(yaml).unwrap().interactions();
    let b = Cassette::builder(json)
        .mode(Mode::Replay)
        .mode_from_env(false)
        .open()
        .unwrap()
        .interactions();
    assert_eq!(a.len(), b.len());
    for (a, b) in a.iter().zip(&b) {
        assert_eq!(a.request().method(), b.request().method());
        assert_eq!(a.request().uri(), b.request().uri());
        assert_eq!(a.request().headers(), b.request().headers());
        assert_eq!(a.request().body(), b.request().body());
        let (x, y) = (a.response().unwrap(), b.response().unwrap());
        assert_eq!(x.status(), y.status());
        assert_eq!(x.headers(), y.headers());
        assert_eq!(x.body(), y.body());
        assert_eq!(a.recorded_at(), b.recorded_at());
    }
}

#[tokio::test]
async fn reqwest_follows_a_recorded_redirect() {
    let cassette = Cassette::open(fixture("vcrpy_api.yaml")).unwrap();
    let _hosts = cassette.add_all().unwrap();
    let client = reqwest::Client::builder().intercept().build().unwrap();
    let res = client
        .get(format!("{VCRPY}/redirect"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.url().as_str(), format!("{VCRPY}/json"));
    assert_eq!(
        res.text().await.unwrap(),
        r#"{"id": 7, "name": "Ada", "langs": ["rust", "python"]}"#
    );
}

#[tokio::test]
async fn a_request_past_the_recorded_ones_fails_the_test() {
    let cassette = Cassette::open(fixture("vcrpy_api.yaml")).unwrap();
    let hosts = cassette.add_all().unwrap();
    let c = client();
    for n in 1..=3 {
        let res = c.request(get(&format!("{VCRPY}/counter"))).await.unwrap();
        assert_eq!(text(res).await, format!("count={n}"));
    }
    // Played once each, as vcrpy's `allow_playback_repeats=False`.
    let res = c.request(get(&format!("{VCRPY}/counter"))).await.unwrap();
    assert_eq!(res.status(), 500);
    drop(hosts);
    let err = cassette.finish().unwrap_err();
    assert!(err.is_unmatched(), "{err}");
    assert!(
        err.to_string()
            .contains("GET http://127.0.0.1:18733/counter"),
        "{err}"
    );

    // allow_playback_repeats: the last one again.
    let cassette = Cassette::builder(fixture("vcrpy_api.yaml"))
        .allow_playback_repeats(true)
        .open()
        .unwrap();
    let _hosts = cassette.add_all().unwrap();
    for expected in ["count=1", "count=2", "count=3", "count=3"] {
        let res = c.request(get(&format!("{VCRPY}/counter"))).await.unwrap();
        assert_eq!(text(res).await, expected);
    }
}

#[test]
fn a_yaml_cassette_only_replays_and_is_never_written() {
    let dir = temp_dir();
    let path = dir.join("api.yml");
    std::fs::copy(fixture("vcr_ruby.yml"), &path).unwrap();
    let before = std::fs::read(&path).unwrap();
    for mode in [Mode::Once, Mode::Record, Mode::NewEpisodes] {
        let cassette = Cassette::builder(&path)
            .mode(mode)
            .mode_from_env(false)
            .open()
            .unwrap();
        assert!(
            cassette.is_replaying() && !cassette.is_recording(),
            "{mode:?}"
        );
        assert_eq!(cassette.len(), 8);
        cassette.finish().unwrap();
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let err = Cassette::open(dir.join("missing.yaml")).unwrap_err();
    assert!(err.is_missing(), "{err}");
    let err = yaml::convert(dir.join("missing.yaml"), dir.join("out.json")).unwrap_err();
    assert!(err.is_io(), "{err}");
    assert!(!dir.join("out.json").exists());
}

#[test]
fn a_failed_conversion_leaves_the_old_file() {
    let dir = temp_dir();
    let out = dir.join("out.json");
    std::fs::write(&out, "old").unwrap();
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "interactions: [\n").unwrap();
    assert!(yaml::convert(&bad, &out).unwrap_err().is_malformed());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old");
}

/// A vcrpy cassette with one interaction whose parts are given.
fn vcrpy_doc(request: &str, response: &str) -> String {
    format!("interactions:\n- request:\n{request}  response:\n{response}version: 1\n")
}

const REQ: &str = "    body: null\n    headers: {}\n    method: GET\n    uri: http://api.test/x\n";
const RES: &str = "    body: {string: ok}\n    headers: {}\n    status: {code: 200, message: OK}\n";

#[test]
fn malformed_files_name_the_line_the_column_and_what_was_expected() {
    let dir = temp_dir();
    let cases: Vec<(&str, String, &str)> = vec![
        ("not yaml", "interactions: [\n".into(), "line 2, column 1: not YAML: "),
        ("not a cassette", "foo: 1\n".into(), "line 1, column 1: expected a vcrpy cassette (a mapping with `interactions` and `version`) or a Ruby VCR cassette"),
        ("a scalar", "just text\n".into(), "line 1, column 1: expected a vcrpy cassette"),
        ("empty", "# nothing\n".into(), "line 1, column 1: empty file"),
        ("pre 1.0", "- request: {}\n  response: {}\n".into(), "python -m vcr.migration"),
        ("version", "interactions: []\nversion: 2\n".into(), "line 2, column 10: vcrpy cassette version 2"),
        (
            "unknown key",
            vcrpy_doc(REQ, &RES.replace("status:", "stauts:")),
            "line 10, column 5: unknown key `stauts` in a response, allowed here: `status`, `headers`, `body`, `url`, `status_code`, `content`, `http_version`",
        ),
        ("missing uri", vcrpy_doc(&REQ.replace("    uri: http://api.test/x\n", ""), RES), "line 3, column 5: missing key `uri` in a request"),
        ("missing status", vcrpy_doc(REQ, &RES.replace("    status: {code: 200, message: OK}\n", "")), "line 8, column 5: missing key `status` in a response"),
        ("status", vcrpy_doc(REQ, &RES.replace("200", "abc")), "line 10, column 20: the status `code` \"abc\" is not an integer"),
        ("status range", vcrpy_doc(REQ, &RES.replace("200", "42")), "line 10, column 20: invalid status code 42"),
        ("relative", vcrpy_doc(&REQ.replace("http://api.test/x", "/x"), RES), "line 6, column 10: relative uri \"/x\""),
        ("method", vcrpy_doc(&REQ.replace("GET", "G T"), RES), "line 5, column 13: invalid method \"G T\""),
        ("base64", vcrpy_doc(REQ, &RES.replace("string: ok", "string: !!binary '@@@'")), "line 8, column 20: invalid base64"),
        (
            "tag",
            vcrpy_doc(&REQ.replace("body: null", "body: !!python/object:requests.Foo {a: 1}"), RES),
            "line 3, column 11: unsupported tag `!!python/object:requests.Foo` in the request body: expected a string, `!!binary` or null",
        ),
        ("headers", vcrpy_doc(&REQ.replace("headers: {}", "headers: [a, b]"), RES), "line 4, column 14: expected headers (a mapping from names to lists of values), found a sequence"),
        ("header name", vcrpy_doc(&REQ.replace("headers: {}", "headers: {'bad name': [x]}"), RES), "line 4, column 15: invalid header name \"bad name\""),
        ("duplicate", vcrpy_doc(&format!("{REQ}    method: POST\n"), RES), "line 7, column 5: duplicate key `method` in a request"),
        ("interactions", "interactions: {a: 1}\nversion: 1\n".into(), "line 1, column 15: expected the interactions (a sequence), found a mapping"),
        (
            "vcr both bodies",
            "http_interactions:\n- request: {method: get, uri: 'http://a.test/'}\n  response:\n    status: {code: 200}\n    body: {encoding: UTF-8, string: a, base64_string: YQ==}\nrecorded_with: VCR 6.0.0\n".into(),
            "line 5, column 55: a body with both `string` and `base64_string`",
        ),
        (
            "vcr date",
            "http_interactions:\n- request: {method: get, uri: 'http://a.test/'}\n  response: {status: {code: 200}}\n  recorded_at: yesterday\n".into(),
            "line 4, column 16: `recorded_at` \"yesterday\" is not a date",
        ),
        (
            "vcr key",
            "http_interactions:\n- request: {method: get, uri: 'http://a.test/'}\n  response: {status: {code: 200}}\n  played_at: now\n".into(),
            "line 4, column 3: unknown key `played_at` in an interaction, allowed here: `request`, `response`, `recorded_at`",
        ),
        ("two documents", "interactions: []\n---\ninteractions: []\n".into(), "line 2, column 1: a second YAML document"),
    ];
    let mut wrong = Vec::new();
    for (what, text, expected) in cases {
        let path = dir.join(format!("{}.yaml", what.replace(' ', "-")));
        std::fs::write(&path, &text).unwrap();
        let err = Cassette::open(&path).unwrap_err();
        assert!(err.is_malformed(), "{what}: {err}");
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("malformed cassette {}: ", path.display())),
            "{what}: {message}"
        );
        if !message.contains(expected) {
            wrong.push(format!(
                "{what}:\n  got      {message}\n  expected {expected}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Not UTF-8: the position of the first bad byte.
    let path = dir.join("latin1.yaml");
    std::fs::write(&path, b"interactions:\n- caf\xe9\n").unwrap();
    let err = Cassette::open(&path).unwrap_err().to_string();
    assert!(err.contains("line 2, column 6: not UTF-8"), "{err}");
}

/// Edits that break a real cassette in every way an edit can.
fn edit() -> impl Strategy<Value = (usize, usize, usize, String)> {
    (
        0usize..6,
        any::<prop::sample::Index>().prop_map(|i| i.index(usize::MAX)),
        0usize..40,
        "[-:\\[\\]{}'\"!&*#|>%@` \n\tA-Za-z0-9]{0,6}",
    )
}

const FIXTURES: [&str; 6] = [
    "vcrpy_api.yaml",
    "vcrpy_binary.yaml",
    "vcrpy_decoded.yaml",
    "vcrpy1_python2.yaml",
    "vcr_ruby.yml",
    "vcr2_legacy.yml",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A fixture with a span replaced by YAML's special characters reads or fails with
    /// a malformed-cassette error; it never panics.
    #[test]
    fn an_edited_cassette_never_panics((which, at, len, insert) in edit()) {
        let dir = temp_dir();
        let mut text = std::fs::read(fixture(FIXTURES[which])).unwrap();
        let at = at % (text.len() + 1);
        let end = (at + len).min(text.len());
        text.splice(at..end, insert.bytes());
        let path = dir.join("edited.yaml");
        std::fs::write(&path, &text).unwrap();
        if let Err(err) = Recording::load(&path) {
            prop_assert!(err.is_malformed(), "{err}");
            prop_assert!(err.to_string().contains(", column "), "{err}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Any bytes at all: an error or a cassette, never a panic.
    #[test]
    fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let dir = temp_dir();
        let path = dir.join("bytes.yml");
        std::fs::write(&path, &bytes).unwrap();
        if let Err(err) = Recording::load(&path) {
            prop_assert!(err.is_malformed(), "{err}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The cost of opening a 10 000-interaction vcrpy cassette (4 MB). Not a benchmark:
/// `cargo test --release --features record,reqwest --test record_yaml -- --ignored --nocapture`
/// prints it.
#[test]
#[ignore]
fn open_a_10000_interaction_cassette() {
    let dir = temp_dir();
    let path = dir.join("big.yaml");
    let one = std::fs::read_to_string(fixture("vcrpy_api.yaml")).unwrap();
    let (head, tail) = one.split_once("- request:").unwrap();
    let body = tail.trim_end().strip_suffix("version: 1").unwrap();
    let mut text = String::from(head);
    for i in 0..1250 {
        text.push_str(&format!(
            "- request:{}",
            body.replace("/json", &format!("/json/{i}"))
        ));
    }
    text.push_str("version: 1\n");
    std::fs::write(&path, &text).unwrap();
    let mut times = Vec::new();
    for _ in 0..5 {
        let start = std::time::Instant::now();
        let cassette = Cassette::open(&path).unwrap();
        times.push(start.elapsed());
        assert_eq!(cassette.len(), 10_000);
    }
    times.sort();
    println!(
        "open {} interactions, {:.1} MB of YAML: median {:?} ({:.0} MB/s)",
        10_000,
        text.len() as f64 / 1e6,
        times[2],
        text.len() as f64 / 1e6 / times[2].as_secs_f64()
    );
}

#[tokio::test]
async fn a_vcrpy_json_cassette_converts() {
    // vcrpy's `serializer="json"` writes the same structure as JSON, which is YAML:
    // `convert` reads it whatever its extension.
    let dir = temp_dir();
    let out = dir.join("converted.json");
    assert_eq!(yaml::convert(fixture("vcrpy_json.json"), &out).unwrap(), 1);
    let cassette = Cassette::builder(&out).mode(Mode::Replay).open().unwrap();
    let _hosts = cassette.add_all().unwrap();
    let res = client()
        .request(get(&format!(
            "{VCRPY}/search?page=1&q=caf%C3%A9+%22quoted%22"
        )))
        .await
        .unwrap();
    assert_eq!(res.headers()["content-length"], "42");
    assert_eq!(
        text(res).await,
        r#"{"page": "1", "q": "caf\u00e9 \"quoted\""}"#
    );
    drop(_hosts);
    cassette.finish().unwrap();
}
