//! Recording over real TLS: the recording proxy reaches an HTTPS origin (the crate's
//! own `serve_tls`, on loopback), then the cassette replays it with the origin gone.
#![cfg(all(feature = "record", feature = "server", feature = "tls"))]

mod support;

use std::convert::Infallible;
use std::sync::Arc;

use http::{Request, Response};
use http_intercept::record::{Cassette, Mode, Proxy};
use hyper::body::Incoming;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use support::*;

/// A rustls client configuration that trusts the crate's in-memory CA.
fn trusting_the_test_ca() -> rustls::ClientConfig {
    let pem = http_intercept::ca_certificate_pem();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pem.as_bytes()).unwrap())
        .unwrap();
    rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth()
}

#[tokio::test]
async fn records_an_https_origin_then_replays_it_without_the_origin() {
    let dir =
        std::env::temp_dir().join(format!("http-intercept-record-tls-{}", std::process::id()));
    let path = dir.join("secure.json");
    let _ = std::fs::remove_file(&path);
    let origin =
        http_intercept::server::serve_tls(tower::service_fn(|req: Request<Incoming>| async move {
            let body = format!(
                "secure origin saw {} over {:?}",
                req.uri().path(),
                req.version()
            );
            Ok::<_, Infallible>(Response::new(body))
        }))
        .unwrap();
    let url = format!("{}/account", origin.url());

    // Record: the intercepted https target's requests go through the proxy, over TLS,
    // to the real origin.
    let cassette = Cassette::builder(&path)
        .mode(Mode::Record)
        .proxy(Proxy::new().with_tls_config(trusting_the_test_ca()))
        .open()
        .unwrap();
    let guard = http_intercept::add(origin.url(), cassette.service()).unwrap();
    let recorded = text(client().request(get(&url)).await.unwrap()).await;
    assert!(
        recorded.starts_with("secure origin saw /account over HTTP/2"),
        "{recorded}"
    );
    drop(guard);
    cassette.finish().unwrap();

    // Replay: the origin is gone; the cassette answers.
    let target = origin.url();
    drop(origin);
    let cassette = Cassette::builder(&path).mode(Mode::Replay).open().unwrap();
    let _guard = http_intercept::add(target, cassette.service()).unwrap();
    let replayed = text(client().request(get(&url)).await.unwrap()).await;
    assert_eq!(replayed, recorded);
    let _ = std::fs::remove_dir_all(&dir);
}
