//! Record a real server's answers into a cassette, then replay them with the server
//! gone; then record a service's exchanges with the recorder layer and print them.
//!
//! ```text
//! cargo run --example record --features record
//! ```
//!
//! The "real" server is a hyper server on 127.0.0.1 that this example starts, so it
//! runs without network access.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use http_intercept::record::{Cassette, Mode, RecordLayer, Recording};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tower::Layer;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let dir = std::env::temp_dir().join(format!("http-intercept-example-{}", std::process::id()));
    let path = dir.join("cassettes/weather.json");

    // A real server on a loopback port.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let target = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let svc = hyper::service::service_fn(
                |req: http::Request<hyper::body::Incoming>| async move {
                    let city = req.uri().query().unwrap_or("city=nowhere").to_owned();
                    Ok::<_, Infallible>(http::Response::new(Full::new(Bytes::from(format!(
                        "sunny in {}",
                        city.trim_start_matches("city=")
                    )))))
                },
            );
            tokio::spawn(
                hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), svc)
                    .into_owned(),
            );
        }
    });

    let client = Client::builder(TokioExecutor::new())
        .build::<_, Full<Bytes>>(http_intercept::Connector::new());
    let url = format!("{target}/weather?city=Lyon");

    // 1. Record: no file yet, so Mode::Once forwards to the server and records.
    let cassette = Cassette::builder(&path).mode(Mode::Once).open()?;
    let guard = http_intercept::add(target.as_str(), cassette.service())?;
    let res = client.get(url.parse()?).await?;
    println!(
        "recorded: {}",
        String::from_utf8_lossy(&res.into_body().collect().await?.to_bytes())
    );
    drop(guard);
    cassette.finish()?; // saved
    println!(
        "saved {}:\n{}",
        path.display(),
        std::fs::read_to_string(&path)?
    );

    // 2. Replay, with the server shut down.
    server.abort();
    let cassette = Cassette::builder(&path).mode(Mode::Replay).open()?;
    let guard = http_intercept::add(target.as_str(), cassette.service())?;
    let res = client.get(url.parse()?).await?;
    println!(
        "replayed: {}",
        String::from_utf8_lossy(&res.into_body().collect().await?.to_bytes())
    );
    drop(guard);
    cassette.finish()?;

    // 3. The recorder layer around any service; its display shows primary pages.
    let recording = Recording::new();
    let site = tower::service_fn(|req: http::Request<_>| async move {
        let ty = if req.uri().path().ends_with(".css") {
            "text/css"
        } else {
            "text/html"
        };
        let res = http::Response::builder()
            .header("content-type", ty)
            .body(Full::new(Bytes::from("...")))?;
        Ok::<_, http::Error>(res)
    });
    let _site = http_intercept::add(
        "http://site.example",
        RecordLayer::new(recording.clone()).layer(site),
    )?;
    for path in ["/", "/style.css", "/about"] {
        let res = client
            .get(format!("http://site.example{path}").parse()?)
            .await?;
        res.into_body().collect().await?;
    }
    println!("primary pages:\n{recording}");
    println!("everything:\n{}", recording.display().all());

    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
