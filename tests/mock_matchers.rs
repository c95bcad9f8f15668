//! Declarative mocks (feature `mock`): every matcher, positive and negative, through
//! real hyper-util (HTTP/1.1 and HTTP/2) and reqwest clients, on both runtimes.
#![cfg(all(feature = "mock", feature = "reqwest"))]

mod mock_support;
mod support;

use http_intercept::mock::matchers::*;
use http_intercept::mock::{Match, Mock, MockHost, Request, ResponseTemplate};
use mock_support::*;
use serde_json::json;

/// Each matcher: a request it matches (200) and one it does not (404, unmatched).
fn matcher_cases(base: &str) -> Vec<(&'static str, Box<dyn Match>, Req, Req)> {
    let u = |p: &str| format!("{base}{p}");
    vec![
        (
            "any",
            Box::new(any()),
            req("GET", u("/x")),
            req("GET", u("/x")),
        ),
        (
            "method",
            Box::new(method("POST")),
            req("POST", u("/")),
            req("GET", u("/")),
        ),
        (
            "path",
            Box::new(path("/a/b")),
            req("GET", u("/a/b?x=1")),
            req("GET", u("/a/b/c")),
        ),
        (
            "path_regex",
            Box::new(path_regex(r"^/users/\d+$")),
            req("GET", u("/users/12")),
            req("GET", u("/users/ada")),
        ),
        (
            "query_param",
            Box::new(query_param("q", "a b")),
            req("GET", u("/s?page=1&q=a+b")),
            req("GET", u("/s?q=a")),
        ),
        (
            "query_param_contains",
            Box::new(query_param_contains("q", "rust")),
            req("GET", u("/s?q=i+like+rust")),
            req("GET", u("/s?q=go")),
        ),
        (
            "query_param_is_missing",
            Box::new(query_param_is_missing("debug")),
            req("GET", u("/s?page=1")),
            req("GET", u("/s?debug=1")),
        ),
        (
            "header",
            Box::new(header("x-version", "2")),
            req("GET", u("/")).header("X-Version", "2"),
            req("GET", u("/")).header("x-version", "3"),
        ),
        (
            "headers",
            Box::new(headers("x-tags", vec!["a", "b"])),
            req("GET", u("/")).header("x-tags", "a, b"),
            req("GET", u("/")).header("x-tags", "a"),
        ),
        (
            "header_exists",
            Box::new(header_exists("x-trace")),
            req("GET", u("/")).header("x-trace", "1"),
            req("GET", u("/")),
        ),
        (
            "header_missing",
            Box::new(header_missing("x-trace")),
            req("GET", u("/")),
            req("GET", u("/")).header("x-trace", "1"),
        ),
        (
            "header_regex",
            Box::new(header_regex("x-client", r"^sdk/\d+$")),
            req("GET", u("/")).header("x-client", "sdk/3"),
            req("GET", u("/")).header("x-client", "curl/8"),
        ),
        (
            "bearer_token",
            Box::new(bearer_token("t0k")),
            req("GET", u("/")).header("authorization", "Bearer t0k"),
            req("GET", u("/")).header("authorization", "Bearer nope"),
        ),
        (
            "basic_auth",
            Box::new(basic_auth("ada", "secret")),
            req("GET", u("/")).header("authorization", "Basic YWRhOnNlY3JldA=="),
            req("GET", u("/")).header("authorization", "Basic YWRhOndyb25n"),
        ),
        (
            "body_string",
            Box::new(body_string("hello")),
            req("POST", u("/")).body("hello"),
            req("POST", u("/")).body("hello!"),
        ),
        (
            "body_bytes",
            Box::new(body_bytes(b"\x00\x01".to_vec())),
            req("POST", u("/")).body("\u{0}\u{1}"),
            req("POST", u("/")).body("\u{0}"),
        ),
        (
            "body_string_contains",
            Box::new(body_string_contains("world")),
            req("POST", u("/")).body("hello world"),
            req("POST", u("/")).body("hello moon"),
        ),
        (
            "body_json",
            Box::new(body_json(json!({"a": 1, "b": [true]}))),
            req("POST", u("/")).body(r#"{ "b": [true], "a": 1 }"#),
            req("POST", u("/")).body(r#"{"a": 1}"#),
        ),
        (
            "body_json_string",
            Box::new(body_json_string(r#"{"a":1}"#)),
            req("POST", u("/")).body(r#"{"a": 1}"#),
            req("POST", u("/")).body("not json"),
        ),
        (
            "body_partial_json",
            Box::new(body_partial_json(json!({"user": {"name": "ada"}}))),
            req("POST", u("/")).body(r#"{"user": {"name": "ada", "id": 7}, "x": 1}"#),
            req("POST", u("/")).body(r#"{"user": {"name": "bob"}}"#),
        ),
        (
            "body_partial_json_string",
            Box::new(body_partial_json_string(r#"{"a":1}"#)),
            req("POST", u("/")).body(r#"{"a":1,"b":2}"#),
            req("POST", u("/")).body(r#"{"a":2}"#),
        ),
        (
            "closure",
            Box::new(|r: &Request| r.path().ends_with(".json")),
            req("GET", u("/data.json")),
            req("GET", u("/data.xml")),
        ),
    ]
}

async fn every_matcher(name: &str) {
    let clients = clients();
    for via in ALL {
        let host = format!("https://{name}-{via:?}.matchers.mock.test").to_lowercase();
        let cases = matcher_cases(&host);
        for (i, (matcher, m, positive, negative)) in cases.into_iter().enumerate() {
            let api = MockHost::start(format!("{host}:{}", 8000 + i))
                .unwrap()
                .fail_on_unmatched(false);
            let port = format!(":{}/", 8000 + i);
            let fix = |r: &Req| {
                let mut r = r.clone();
                r.url = r.url.replacen(".test/", &format!(".test{port}"), 1);
                r
            };
            Mock::given(m)
                .respond_with(ResponseTemplate::new(200).set_body_string("matched"))
                .mount(&api);
            let yes = send(&clients, via, &fix(&positive)).await;
            assert_eq!(
                (yes.status, yes.body.as_str()),
                (200, "matched"),
                "{via:?} {matcher}: {positive:?}"
            );
            if matcher != "any" {
                let no = send(&clients, via, &fix(&negative)).await;
                assert_eq!(
                    no.status, 404,
                    "{via:?} {matcher}: {negative:?}: {}",
                    no.body
                );
                assert_eq!(no.headers["x-http-intercept-error"], "unmatched");
            }
        }
    }
}

#[tokio::test]
async fn every_matcher_positive_and_negative() {
    every_matcher("ct").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_matcher_positive_and_negative_multi_thread() {
    every_matcher("mt").await;
}
