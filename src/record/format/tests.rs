//! The format's round trips and its errors.

use std::path::Path;

use bytes::Bytes;
use http::{Request, Response};

use super::{parse, to_bytes};
use crate::record::interaction::{Failure, FailureKind, Interaction};

fn sample() -> Vec<Interaction> {
    let req = Request::post("https://api.test/x?b=2&a=1")
        .header("host", "api.test")
        .header("accept", "application/json")
        .header("content-type", "application/json")
        .body(Bytes::from_static(b"{\"k\":1,\"a\":[1.50,{}]}"))
        .unwrap();
    let res = Response::builder()
        .status(201)
        .header("set-cookie", "a=1")
        .header("set-cookie", "b=2")
        .header("content-encoding", "gzip")
        .body(Bytes::from_static(&[0x1f, 0x8b, 0, 0xff]))
        .unwrap();
    let mut trailers = http::HeaderMap::new();
    trailers.insert("grpc-status", "0".parse().unwrap());
    let failed = Interaction::failed(
        Request::get("http://down.test/")
            .body(Bytes::new())
            .unwrap(),
        Failure::new(FailureKind::Connect, "connection refused"),
    );
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_126_400);
    let text = Interaction::new(
        Request::get("http://t.test/").body(Bytes::new()).unwrap(),
        Response::new(Bytes::from("line\n\"quoted\" \u{7f} é")),
    )
    .with_trailers(trailers)
    .with_recorded_at(at);
    vec![
        Interaction::new(req, res).with_chunks(vec![1, 3]),
        failed,
        text,
    ]
}

#[test]
fn round_trips_byte_exact_with_stable_output() {
    let bytes = to_bytes(&sample());
    let text = std::str::from_utf8(&bytes).unwrap();
    assert!(text.starts_with("{\n  \"version\": 2,\n"), "{text}");
    assert!(text.contains("\"set-cookie\": [\n"), "{text}");
    assert!(text.contains("\"encoding\": \"gzip\""), "{text}");
    assert!(
        text.contains("\"json\": {\n            \"k\": 1,\n            \"a\": [\n              1.50,\n              {}\n            ]\n          }"),
        "{text}"
    );
    assert!(
        text.contains("\"recorded_at\": \"2026-12-01T12:00:00Z\""),
        "{text}"
    );
    // Valid JSON, whatever reads it.
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(value["interactions"][0]["request"]["body"]["json"]["k"], 1);
    let back = parse(Path::new("x.json"), bytes.clone().into()).unwrap();
    assert_eq!(
        back[0].request().body()[..],
        b"{\"k\":1,\"a\":[1.50,{}]}"[..]
    );
    assert_eq!(
        back[0].response().unwrap().body()[..],
        [0x1f, 0x8b, 0, 0xff]
    );
    assert_eq!(back[0].chunks(), [1, 3]);
    assert_eq!(back[1].failure().unwrap().kind(), FailureKind::Connect);
    assert_eq!(back[2].trailers().unwrap()["grpc-status"], "0");
    assert_eq!(back[2].recorded_at(), sample()[2].recorded_at());
    assert_eq!(to_bytes(&back), bytes);
}

#[test]
fn an_empty_cassette_is_compact() {
    let bytes = to_bytes(&[]);
    assert_eq!(bytes, b"{\n  \"version\": 2,\n  \"interactions\": []\n}\n");
    assert!(parse(Path::new("e.json"), bytes.into()).unwrap().is_empty());
}

fn error(text: &str) -> String {
    let err = parse(Path::new("c.json"), Bytes::copy_from_slice(text.as_bytes())).unwrap_err();
    assert!(err.is_malformed(), "{err}");
    err.to_string()
}

#[test]
fn errors_name_the_line_and_column() {
    let bad = "{\n  \"version\": 1,\n  \"interactions\": [\n    {\"request\": {\"method\": \"G T\", \"uri\": \"/\"}}\n  ]\n}";
    let msg = error(bad);
    assert!(
        msg.starts_with("malformed cassette c.json: line 4, column"),
        "{msg}"
    );
    assert!(msg.contains("invalid method \"G T\""), "{msg}");
    let err = parse(
        Path::new("c.json"),
        Bytes::from_static(b"{\"version\": 7, \"interactions\": 3}"),
    )
    .unwrap_err();
    assert!(err.is_version(), "{err}");
    let err = parse(
        Path::new("c.json"),
        Bytes::from_static(b"{\"version\": 0, \"interactions\": []}"),
    )
    .unwrap_err();
    assert!(err.is_version(), "{err}");
}

const REQ: &str = r#""request": {"method": "GET", "uri": "https://api.test/"}"#;

#[test]
fn unknown_keys_name_the_key_and_the_keys_allowed() {
    let msg = error(&format!(
        "{{\"version\": 2, \"interactions\": [{{{REQ}, \"response\": {{\"status\": 200,\n \"body\": {{\"jsn\": 1}}}}}}]}}"
    ));
    assert_eq!(
        msg,
        "malformed cassette c.json: line 2, column 15: unknown key `jsn`, allowed here: \
         `text`, `json`, `base64`, `encoding`, `chunks`"
    );
    let msg = error(&format!(
        "{{\"version\": 2, \"interactions\": [{{{REQ}, \"response\": {{\"status\": 200, \"header\": {{}}}}}}]}}"
    ));
    assert!(
        msg.contains("unknown key `header`, allowed here: `status`, `headers`, `body`, `trailers`"),
        "{msg}"
    );
    let msg =
        error(r#"{"version": 2, "interactions": [{"request": {"method": "GET", "url": "x"}}]}"#);
    assert!(
        msg.contains("unknown key `url`, allowed here: `method`, `uri`"),
        "{msg}"
    );
}

#[test]
fn wrong_shapes_say_what_was_expected() {
    let msg = error(&format!(
        "{{\"version\": 2, \"interactions\": [{{{REQ}, \"response\": {{\"status\": 200, \"body\": \"hi\"}}}}]}}"
    ));
    assert!(
        msg.contains("expected a body: an object with one of `text`, `json` or `base64`"),
        "{msg}"
    );
    let msg = error(&format!(
        "{{\"version\": 2, \"interactions\": [{{{REQ}, \"response\": {{\"status\": 200, \"body\": {{\"text\": \"a\", \"base64\": \"\"}}}}}}]}}"
    ));
    assert!(msg.contains("not several"), "{msg}");
    let msg = error(&format!(
        "{{\"version\": 2, \"interactions\": [{{{REQ}, \"response\": {{\"status\": 200, \"body\": {{}}}}}}]}}"
    ));
    assert!(msg.contains("a body needs one of"), "{msg}");
    let msg = error(
        r#"{"version": 2, "interactions": [{"request": {"method": "GET", "uri": "/users"}, "response": {"status": 200}}]}"#,
    );
    assert!(msg.contains("relative uri \"/users\""), "{msg}");
    let msg = error(&format!(
        "{{\"version\": 2, \"interactions\": [{{{REQ}}}]}}"
    ));
    assert!(msg.contains("needs a `response` or a `failure`"), "{msg}");
    let msg = error(&format!(
        "{{\"version\": 2, \"interactions\": [{{{REQ}, \"response\": {{\"status\": 200}}, \"recorded_at\": \"now\"}}]}}"
    ));
    assert!(msg.contains("invalid `recorded_at` \"now\""), "{msg}");
}

#[test]
fn escaped_and_plain_strings_read_the_same() {
    let text = r#"{"version": 2, "interactions": [{"request": {"method": "G\u0045T", "uri": "https://api.test/\u0041?q=1", "headers": {"x-\u0061": "v\u0041", "b": ["1", "2\u0033"]}}, "response": {"status": 200, "headers": {"content-type": "text/plain"}, "body": {"text": "a\nb \"c\""}}}]}"#;
    let back = parse(Path::new("s.json"), Bytes::copy_from_slice(text.as_bytes())).unwrap();
    let req = back[0].request();
    assert_eq!(req.method(), "GET");
    assert_eq!(req.uri(), "https://api.test/A?q=1");
    assert_eq!(req.headers()["x-a"], "vA");
    let b: Vec<_> = req.headers().get_all("b").iter().collect();
    assert_eq!(b, ["1", "23"]);
    let res = back[0].response().unwrap();
    assert_eq!(res.headers()["content-type"], "text/plain");
    assert_eq!(&res.body()[..], b"a\nb \"c\"");
}

#[test]
fn a_cassette_is_an_object_not_an_array() {
    let msg = error(r#"[2, []]"#);
    assert!(
        msg.contains("expected a cassette: an object with `version` and `interactions`"),
        "{msg}"
    );
    let msg = error(
        r#"{"version": 2, "interactions": [{"request": ["GET", "https://api.test/"], "response": {"status": 200}}]}"#,
    );
    assert!(msg.contains("expected a request: an object"), "{msg}");
}

#[test]
fn a_file_that_is_not_utf8_names_where() {
    let mut text = br#"{"version": 2, "interactions": [{"request": {"method": "GET", "uri": "https://a.test/"}, "response": {"status": 200, "body": {"text": "#.to_vec();
    text.extend_from_slice(b"\"\xff\"}}}]}");
    let err = parse(Path::new("u.json"), Bytes::from(text)).unwrap_err();
    assert!(err.is_malformed(), "{err}");
    assert!(
        err.to_string()
            .starts_with("malformed cassette u.json: line 1, column 1"),
        "{err}"
    );
}
