//! Intercepts a made-up host with a tower service and prints the exchange.
//!
//! Starts nothing real: no port is bound and no name is resolved.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // A tower service standing in for https://api.example.com: it greets by name.
    let service = tower::service_fn(|req: Request<Incoming>| async move {
        let name = req.uri().path().trim_start_matches("/hello/").to_owned();
        let body = format!("{{\"greeting\":\"hello, {name}\"}}");
        let res = Response::builder()
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        Ok::<_, Infallible>(res)
    });
    let api = http_intercept::add("https://api.example.com", service)?;

    // The code under test keeps its real hyper-util client; only the connector differs.
    let client = Client::builder(TokioExecutor::new())
        .build::<_, Full<Bytes>>(http_intercept::Connector::new());

    let url = format!("{}/hello/world", api.url());
    println!("> GET {url}");
    let res = client.get(url.parse()?).await?;
    println!("< {:?} {}", res.version(), res.status());
    for (name, value) in res.headers() {
        println!("< {name}: {}", value.to_str()?);
    }
    let body = res.into_body().collect().await?.to_bytes();
    println!("<");
    println!("< {}", String::from_utf8_lossy(&body));
    println!();
    println!(
        "{} request served in memory by the service registered for {}",
        api.hits(),
        api.target()
    );
    Ok(())
}
