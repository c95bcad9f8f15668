//! Declarative mocks (feature `mock`): the rules (priority, up_to_n_times, sequences,
//! expectations, scoped mounts), the unmatched report, responders and the request log,
//! through real hyper-util (HTTP/1.1 and HTTP/2) and reqwest clients.
#![cfg(all(feature = "mock", feature = "reqwest"))]

mod mock_support;
mod support;

use std::panic::AssertUnwindSafe;

use http_intercept::mock::matchers::*;
use http_intercept::mock::{Mock, MockHost, Request, ResponseTemplate};
use http_intercept::reqwest::ClientBuilderExt;
use mock_support::*;
use serde_json::json;

#[tokio::test]
async fn priorities_and_ties() {
    let clients = clients();
    for via in ALL {
        let api =
            MockHost::start(format!("https://{via:?}.priority.mock.test").to_lowercase()).unwrap();
        // Mounted first but lower priority (higher number): loses.
        Mock::given(path("/p"))
            .respond_with(ResponseTemplate::new(200).set_body_string("low"))
            .with_priority(9)
            .mount(&api);
        Mock::given(path("/p"))
            .respond_with(ResponseTemplate::new(200).set_body_string("high"))
            .with_priority(1)
            .mount(&api);
        // A tie: the first mounted wins.
        Mock::given(path("/t"))
            .respond_with(ResponseTemplate::new(200).set_body_string("first"))
            .mount(&api);
        Mock::given(path("/t"))
            .respond_with(ResponseTemplate::new(200).set_body_string("second"))
            .mount(&api);
        let url = api.url();
        assert_eq!(
            send(&clients, via, &req("GET", format!("{url}/p")))
                .await
                .body,
            "high"
        );
        assert_eq!(
            send(&clients, via, &req("GET", format!("{url}/t")))
                .await
                .body,
            "first"
        );
    }
}

#[tokio::test]
async fn up_to_n_times_falls_through_to_the_next_mock() {
    let clients = clients();
    for via in ALL {
        let api = MockHost::unique();
        Mock::given(any())
            .respond_with(ResponseTemplate::new(500))
            .up_to_n_times(2)
            .expect(2)
            .mount(&api);
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200))
            .with_priority(6)
            .expect(1)
            .mount(&api);
        let url = format!("{}/", api.url());
        let statuses = [
            send(&clients, via, &req("GET", &url)).await.status,
            send(&clients, via, &req("GET", &url)).await.status,
            send(&clients, via, &req("GET", &url)).await.status,
        ];
        assert_eq!(statuses, [500, 500, 200], "{via:?}");
    }
}

#[tokio::test]
async fn a_sequence_drives_a_retry_loop() {
    let clients = clients();
    for via in ALL {
        let api =
            MockHost::start(format!("https://{via:?}.retry.mock.test").to_lowercase()).unwrap();
        Mock::given(method("GET"))
            .and(path("/flaky"))
            .respond_with_sequence([
                ResponseTemplate::new(503),
                ResponseTemplate::new(503),
                ResponseTemplate::new(200).set_body_string("finally"),
            ])
            .expect(3)
            .mount(&api);
        // The code under test: retry on 5xx, at most 5 attempts.
        let mut attempts = 0;
        let reply = loop {
            attempts += 1;
            let reply = send(&clients, via, &req("GET", format!("{}/flaky", api.url()))).await;
            if reply.status < 500 || attempts == 5 {
                break reply;
            }
        };
        assert_eq!(
            (reply.status, reply.body.as_str(), attempts),
            (200, "finally", 3)
        );
    }
}

#[tokio::test]
async fn expect_met_and_not_counting_other_mocks() {
    let clients = clients();
    let api = MockHost::unique();
    Mock::given(path("/a"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .named("a")
        .mount(&api);
    Mock::given(path("/b"))
        .respond_with(ResponseTemplate::new(200))
        .expect(2)
        .named("b")
        .mount(&api);
    let url = api.url();
    send(&clients, Via::H1, &req("GET", format!("{url}/a"))).await;
    send(&clients, Via::H2, &req("GET", format!("{url}/b"))).await;
    send(&clients, Via::Reqwest, &req("GET", format!("{url}/b"))).await;
    api.verify();
    assert_eq!(api.received_requests().len(), 3);
    assert_eq!(drop_report(api), None);
}

#[tokio::test]
async fn expect_unmet_reports_what_each_mock_got() {
    let clients = clients();
    let api = MockHost::start("https://unmet.mock.test").unwrap();
    Mock::given(method("POST"))
        .and(path("/repos/o/r/issues"))
        .respond_with(ResponseTemplate::new(201))
        .expect(1)
        .named("create issue")
        .mount(&api);
    Mock::given(path("/other"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&api);
    // Another mock's requests do not count toward "create issue".
    let r = req("POST", "https://unmet.mock.test/other")
        .header("authorization", "Bearer sup3rs3cret")
        .header("content-type", "application/json")
        .body(r#"{"title":"bug"}"#);
    assert_eq!(send(&clients, Via::Reqwest, &r).await.status, 200);
    let report = drop_report(api).expect("the drop panics");
    assert!(
        report.contains(
            "1. mock #1 \"create issue\" (method POST, path \"/repos/o/r/issues\") \
             expected exactly 1 request, got 0\n   it answered no request"
        ),
        "{report}"
    );
    assert!(
        report.contains("requests the host received (1):"),
        "{report}"
    );
    assert!(
        report.contains("1. POST https://unmet.mock.test/other"),
        "{report}"
    );
    assert!(report.contains("authorization: [redacted]"), "{report}");
    assert!(!report.contains("sup3rs3cret"), "{report}");
    assert!(
        report.contains("body (15 bytes, JSON):\n     {\n       \"title\": \"bug\"\n     }"),
        "{report}"
    );
}

#[tokio::test]
async fn mount_as_scoped_unmounts_and_verifies_on_drop() {
    let clients = clients();
    let api = MockHost::unique().fail_on_unmatched(false);
    let url = format!("{}/s", api.url());
    {
        let guard = Mock::given(path("/s"))
            .respond_with(ResponseTemplate::new(200))
            .expect(1)
            .mount_as_scoped(&api);
        assert_eq!(send(&clients, Via::H1, &req("GET", &url)).await.status, 200);
        assert_eq!(guard.hits(), 1);
        assert_eq!(guard.received_requests()[0].path(), "/s");
    }
    assert_eq!(send(&clients, Via::H1, &req("GET", &url)).await.status, 404);

    let guard = Mock::given(path("/s"))
        .respond_with(ResponseTemplate::new(200))
        .expect(2)
        .mount_as_scoped(&api);
    send(&clients, Via::Reqwest, &req("GET", &url)).await;
    let err = std::panic::catch_unwind(AssertUnwindSafe(move || drop(guard))).unwrap_err();
    let message = err.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("a scoped mock was not satisfied")
            && message.contains("expected exactly 2 requests, got 1")
            && message.contains("- GET "),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unmatched_request_report_names_the_nearest_mock_and_the_failing_matcher() {
    let clients = clients();
    for via in ALL {
        let api =
            MockHost::start(format!("https://{via:?}.unmatched.mock.test").to_lowercase()).unwrap();
        Mock::given(method("GET"))
            .and(path("/users"))
            .respond_with(ResponseTemplate::new(200))
            .named("list users")
            .mount(&api);
        Mock::given(method("POST"))
            .and(path("/users"))
            .and(header("x-version", "2"))
            .and(body_partial_json(json!({"name": "ada"})))
            .respond_with(ResponseTemplate::new(201))
            .named("create user")
            .mount(&api);
        let r = req("POST", format!("{}/users?api_key=k3y", api.url()))
            .header("x-version", "3")
            .header("cookie", "session=c00kie")
            .body(r#"{"name":"ada"}"#);
        let reply = send(&clients, via, &r).await;
        assert_eq!(reply.status, 404, "{via:?}");
        assert_eq!(reply.headers["x-http-intercept-error"], "unmatched");
        let body = &reply.body;
        assert!(
            body.starts_with("http-intercept: no mock matched this request:\nPOST https://"),
            "{body}"
        );
        assert!(body.contains("/users?api_key=[redacted]"), "{body}");
        assert!(body.contains("cookie: [redacted]"), "{body}");
        assert!(!body.contains("k3y") && !body.contains("c00kie"), "{body}");
        assert!(
            body.contains(
                "nearest mock: mock #2 \"create user\" (method POST, path \"/users\", header x-version \"2\", \
                 body_partial_json JSON including {\"name\":\"ada\"}) (3 of 4 matchers matched)\n   \
                 matchers that failed:\n     - header x-version: expected \"2\", got \"3\""
            ),
            "{body}"
        );
        // By default the request also fails the test when the host drops.
        let report = drop_report(api).expect("an unmatched request fails the drop");
        assert!(report.contains("matched no mock"), "{report}");
        assert!(
            report.contains("- header x-version: expected \"2\", got \"3\""),
            "{report}"
        );
    }
}

#[tokio::test]
async fn unmatched_status_is_configurable_and_unmatched_can_be_allowed() {
    let clients = clients();
    let api = MockHost::unique()
        .with_unmatched_status(501)
        .fail_on_unmatched(false);
    let reply = send(
        &clients,
        Via::H1,
        &req("GET", format!("{}/nothing", api.url())),
    )
    .await;
    assert_eq!(reply.status, 501);
    assert!(reply.body.contains("no mock is mounted"), "{}", reply.body);
    assert_eq!(drop_report(api), None);
}

#[tokio::test]
async fn responders_see_the_request_and_headers_are_sent() {
    let clients = clients();
    for via in ALL {
        let api = MockHost::unique();
        Mock::given(path_regex(r"^/users/\d+$"))
            .respond_with(|r: &Request| {
                let id = r.path().rsplit('/').next().unwrap().to_owned();
                ResponseTemplate::new(200)
                    .append_header("x-id", id.as_str())
                    .append_header("set-cookie", "a=1")
                    .append_header("set-cookie", "b=2")
                    .set_body_json(json!({ "id": id, "q": r.query_param("q") }))
            })
            .mount(&api);
        let reply = send(
            &clients,
            via,
            &req("GET", format!("{}/users/42?q=x", api.url())),
        )
        .await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.headers["x-id"], "42");
        assert_eq!(reply.headers["content-type"], "application/json");
        assert_eq!(reply.headers.get_all("set-cookie").iter().count(), 2);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&reply.body).unwrap(),
            json!({"id": "42", "q": "x"})
        );
    }
}

#[tokio::test]
async fn reset_forgets_mocks_and_requests() {
    let clients = clients();
    let api = MockHost::unique().fail_on_unmatched(false);
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .expect(5)
        .mount(&api);
    let url = format!("{}/", api.url());
    assert_eq!(send(&clients, Via::H1, &req("GET", &url)).await.status, 200);
    api.reset();
    assert!(api.received_requests().is_empty());
    assert_eq!(send(&clients, Via::H1, &req("GET", &url)).await.status, 404);
}

#[tokio::test]
async fn intercept_requests_carry_bodies_and_redact_secrets() {
    let clients = clients();
    let api = MockHost::unique();
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&api);
    let r = req("POST", format!("{}/login?token=t0p", api.url()))
        .header("authorization", "Bearer s3cret")
        .header("x-api-key", "k3y")
        .body(r#"{"user":"ada"}"#);
    send(&clients, Via::H1, &r).await;
    let logged = api.intercept().requests();
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].body().unwrap(), r#"{"user":"ada"}"#);
    assert_eq!(logged[0].headers()["authorization"], "Bearer s3cret");
    let debug = format!("{:#?}", logged[0]);
    assert!(
        debug.contains("token=[redacted]") && debug.contains("authorization: [redacted]"),
        "{debug}"
    );
    assert!(
        debug.contains("x-api-key: [redacted]") && debug.contains("\"user\": \"ada\""),
        "{debug}"
    );
    assert!(
        !debug.contains("s3cret") && !debug.contains("k3y") && !debug.contains("t0p"),
        "{debug}"
    );
}

#[tokio::test]
async fn mocks_serve_under_a_path_prefix_and_on_a_real_socket() {
    use http_intercept::mock::Mocks;

    let mocks = Mocks::new();
    mocks.register(
        Mock::given(path("/ping")).respond_with(ResponseTemplate::new(200).set_body_string("pong")),
    );
    let _g = http_intercept::add("http://prefix.mock.test/v1", mocks.clone()).unwrap();
    let clients = clients();
    let reply = send(
        &clients,
        Via::H1,
        &req("GET", "http://prefix.mock.test/v1/ping"),
    )
    .await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "pong"));

    #[cfg(feature = "server")]
    {
        let server = http_intercept::server::serve(mocks.clone()).unwrap();
        let plain = reqwest::Client::builder().no_proxy().build().unwrap();
        let body = plain
            .get(format!("{}/ping", server.url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(body, "pong");
    }
    assert!(mocks
        .received_requests()
        .iter()
        .all(|r| r.path() == "/ping"));
}

#[test]
fn reqwest_blocking_client() {
    let api = MockHost::start("https://blocking.mock.test").unwrap();
    Mock::given(method("PUT"))
        .and(body_json(json!({"on": true})))
        .respond_with(ResponseTemplate::new(200).set_body_string("switched"))
        .expect(1)
        .mount(&api);
    let client = reqwest::blocking::Client::builder()
        .intercept()
        .build()
        .unwrap();
    let res = client
        .put("https://blocking.mock.test/switch")
        .body(r#"{"on":true}"#)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().unwrap(), "switched");
}

#[cfg(all(feature = "ureq", unix))]
#[test]
fn ureq_agent() {
    let api = MockHost::start("http://ureq.mock.test").unwrap();
    Mock::given(method("GET"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_string("page two"))
        .expect(1)
        .mount(&api);
    let mut res = http_intercept::ureq::agent()
        .get("http://ureq.mock.test/items?page=2")
        .call()
        .unwrap();
    assert_eq!(res.body_mut().read_to_string().unwrap(), "page two");
}
