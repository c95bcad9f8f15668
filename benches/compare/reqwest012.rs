//! Rows 4 and 5 for reqwest 0.12 (feature `reqwest012`): through the gateway, and
//! direct to the loopback server, as for reqwest 0.13.

use crate::rows::Rows;

pub(crate) const REQWEST012_MEM_HTTP: &str = "4 reqwest 0.12 `.intercept()`, http";
pub(crate) const REQWEST012_MEM_HTTPS: &str = "4 reqwest 0.12 `.intercept()`, https";
pub(crate) const REQWEST012_TCP: &str = "5 reqwest 0.12 → hyper server, loopback TCP";
pub(crate) const REQWEST012_TLS: &str = "5 reqwest 0.12 → hyper server, loopback TLS (https)";

/// The reqwest 0.12 rows the filter wants; `http://compare.test` is registered by the
/// caller, `server_url` is its loopback server.
#[cfg(feature = "reqwest012")]
pub(crate) async fn rows(rows: &mut Rows<'_>, server_url: &str) {
    use http_intercept::reqwest::ClientBuilderExt;

    let intercepted = || {
        reqwest012::Client::builder()
            .intercept()
            .build()
            .expect("building a reqwest 0.12 client with .intercept()")
    };
    if rows.wants(REQWEST012_MEM_HTTP) {
        let call = Reqwest012::new(intercepted(), "http://compare.test/");
        rows.measure(REQWEST012_MEM_HTTP, call).await;
    }
    if rows.wants(REQWEST012_MEM_HTTPS) {
        let _https = http_intercept::add("https://compare.test", crate::service::Hello)
            .expect("registering compare.test:443");
        let call = Reqwest012::new(intercepted(), "https://compare.test/");
        rows.measure(REQWEST012_MEM_HTTPS, call).await;
    }
    if rows.wants(REQWEST012_TCP) {
        let client = reqwest012::Client::builder()
            .no_proxy()
            .build()
            .expect("building a reqwest 0.12 client");
        rows.measure(REQWEST012_TCP, Reqwest012::new(client, server_url))
            .await;
    }
    if rows.wants(REQWEST012_TLS) {
        let (server, cert) = crate::service::LoopbackServer::start_tls().await;
        let cert = reqwest012::Certificate::from_der(&cert).expect("the server's certificate");
        let client = reqwest012::Client::builder()
            .no_proxy()
            .add_root_certificate(cert)
            .build()
            .expect("building a reqwest 0.12 client");
        rows.measure(REQWEST012_TLS, Reqwest012::new(client, &server.tls_url()))
            .await;
    }
}

/// Needs the `reqwest012` feature.
#[cfg(not(feature = "reqwest012"))]
pub(crate) async fn rows(rows: &mut Rows<'_>, server_url: &str) {
    let _ = (
        rows,
        server_url,
        REQWEST012_MEM_HTTP,
        REQWEST012_MEM_HTTPS,
        REQWEST012_TCP,
        REQWEST012_TLS,
    );
}

/// A reqwest 0.12 client and the URL it asks for.
#[cfg(feature = "reqwest012")]
#[derive(Clone, Debug)]
struct Reqwest012 {
    client: reqwest012::Client,
    url: reqwest012::Url,
}

#[cfg(feature = "reqwest012")]
impl Reqwest012 {
    fn new(client: reqwest012::Client, url: &str) -> Reqwest012 {
        Reqwest012 {
            client,
            url: url.parse().expect("a valid URL"),
        }
    }
}

#[cfg(feature = "reqwest012")]
impl crate::measure::Call for Reqwest012 {
    async fn call(&self) {
        let res = self
            .client
            .get(self.url.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {} failed: {e:?}", self.url));
        let status = res.status();
        let body = res
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("reading the body of GET {} failed: {e}", self.url));
        assert!(status.is_success(), "GET {}: {status}", self.url);
        assert!(!body.is_empty(), "GET {}: an empty body", self.url);
    }
}
