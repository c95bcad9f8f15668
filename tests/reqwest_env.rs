//! The user's proxy settings keep working for traffic that is not intercepted, and
//! intercepted targets never go to those proxies. In its own binary: it sets the
//! process environment.
#![cfg(feature = "reqwest")]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use http_intercept::reqwest::ClientBuilderExt;
use hyper::body::Incoming;

/// A forward proxy on 127.0.0.1 that answers every request itself, logging its target.
async fn recording_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let seen = seen.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    seen.lock().unwrap().push(req.uri().to_string());
                    async {
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(
                            "via the user's proxy",
                        ))))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (format!("http://{addr}"), log)
}

#[tokio::test]
async fn environment_proxies_still_carry_what_is_not_intercepted() {
    let (proxy, log) = recording_proxy().await;
    // Set before any client is configured; nothing else in this binary reads it.
    std::env::set_var("HTTP_PROXY", &proxy);
    std::env::set_var("NO_PROXY", "bypass.env.test");

    let svc = tower::service_fn(|_req: Request<Incoming>| async {
        Ok::<_, Infallible>(Response::new(String::from("the service")))
    });
    let _g = http_intercept::add("http://intercepted.env.test", svc).unwrap();
    let client = reqwest::Client::builder().intercept().build().unwrap();

    let body = client
        .get("http://elsewhere.env.test/a")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "via the user's proxy");
    let body = client
        .get("http://intercepted.env.test/b")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "the service");
    // NO_PROXY is honoured: this one goes direct, and the name does not resolve.
    assert!(client.get("http://bypass.env.test/c").send().await.is_err());

    assert_eq!(*log.lock().unwrap(), ["http://elsewhere.env.test/a"]);
}
