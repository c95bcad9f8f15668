//! Declarative mocks at the real host name: `cargo run --example mock --features mock`.
//!
//! A tiny "GitHub client" (the code under test) creates an issue with a hyper-util
//! client; the test declares what api.github.com answers, then shows the report a
//! request gets when it matches no mock.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use http_intercept::mock::matchers::{bearer_token, body_partial_json, method, path};
use http_intercept::mock::{Mock, MockHost, ResponseTemplate};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The code under test: it knows its host, and nothing about the test.
async fn create_issue(token: &str, title: &str) -> Result<(u16, String), BoxError> {
    let client = Client::builder(TokioExecutor::new())
        .build::<_, Full<Bytes>>(http_intercept::Connector::new());
    let req = http::Request::post("https://api.github.com/repos/o/r/issues")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(
            json!({ "title": title }).to_string(),
        )))?;
    let res = client.request(req).await?;
    let status = res.status().as_u16();
    let body = res.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), BoxError> {
    // Arrange: api.github.com is intercepted at once; nothing listens on a port.
    let github = MockHost::start("https://api.github.com")?.fail_on_unmatched(false);
    Mock::given(method("POST"))
        .and(path("/repos/o/r/issues"))
        .and(bearer_token("t0ken"))
        .and(body_partial_json(json!({ "title": "bug" })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({ "number": 7 })))
        .expect(1)
        .named("create issue")
        .mount(&github);

    // Act and assert.
    let (status, body) = create_issue("t0ken", "bug").await?;
    println!("created: {status} {body}");
    assert_eq!(status, 201);

    // A request that matches no mock: a 404 that says why.
    let (status, report) = create_issue("wrong-token", "bug").await?;
    println!("\nunmatched: {status}\n{report}");
    assert_eq!(status, 404);

    println!(
        "what the registration logged:\n{:#?}",
        github.intercept().requests()
    );
    Ok(()) // dropping `github` verifies "create issue" got exactly 1 request
}
