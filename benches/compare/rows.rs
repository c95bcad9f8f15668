//! The per-request rows: the same `GET /` answered by [`Hello`] (or a peer set up to
//! answer the same), one keep-alive client, on the runtime the caller runs this on.

use std::future::Future;

use http_intercept::Connector;

use crate::clients::{tcp, Floor, Hyper, Proto, Reqwest};
use crate::duplex::DuplexConnector;
use crate::measure::{latency, throughput, Budget, Call, Stats};
use crate::peers::{self, Peer};
use crate::service::{Hello, LoopbackServer};
use crate::Filter;

pub(crate) const FLOOR: &str = "1 floor: tower `oneshot` on the service, no HTTP";
pub(crate) const MEM_H1: &str = "2 hyper-util → `Connector`, in memory, HTTP/1.1";
pub(crate) const MEM_H2: &str = "2 hyper-util → `Connector`, in memory, HTTP/2";
pub(crate) const BARE_H1: &str =
    "2 hyper-util → bare duplex pipe + hyper server, no http-intercept, HTTP/1.1";
pub(crate) const TCP_H1: &str = "3 hyper-util → hyper server, loopback TCP, HTTP/1.1";
pub(crate) const TCP_H2: &str = "3 hyper-util → hyper server, loopback TCP, h2c";
pub(crate) const REQWEST_MEM_HTTP: &str = "4 reqwest `.intercept()`, http";
pub(crate) const REQWEST_MEM_HTTPS: &str = "4 reqwest `.intercept()`, https";
pub(crate) const REQWEST_TCP: &str = "5 reqwest → hyper server, loopback TCP";
pub(crate) const REQWEST_TLS: &str = "5 reqwest → hyper server, loopback TLS (https)";
pub(crate) const WIREMOCK_HYPER: &str = "6 hyper-util → wiremock";
pub(crate) const WIREMOCK_REQWEST: &str = "6 reqwest → wiremock";
pub(crate) const HTTPMOCK_HYPER: &str = "6 hyper-util → httpmock";
pub(crate) const HTTPMOCK_REQWEST: &str = "6 reqwest → httpmock";
pub(crate) const MOCKITO_HYPER: &str = "6 hyper-util → mockito";
pub(crate) const MOCKITO_REQWEST: &str = "6 reqwest → mockito";

/// What one row measured on one runtime.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Measured {
    pub(crate) latency: Stats,
    /// Requests per second with 32 in flight.
    pub(crate) throughput: f64,
}

pub(crate) struct Rows<'a> {
    budget: Budget,
    filter: &'a Filter,
    flavor: &'a str,
    out: Vec<(&'static str, Measured)>,
}

impl Rows<'_> {
    pub(crate) fn wants(&self, name: &str) -> bool {
        self.filter.wants(name)
    }

    pub(crate) async fn measure<C: Call>(&mut self, name: &'static str, call: C) {
        eprintln!("  {name} ({})", self.flavor);
        let latency = latency(&call, &self.budget).await;
        let throughput = throughput(&call, &self.budget).await;
        self.out.push((
            name,
            Measured {
                latency,
                throughput,
            },
        ));
    }
}

/// Measures every row the filter wants.
pub(crate) async fn run(
    budget: Budget,
    filter: &Filter,
    flavor: &str,
) -> Vec<(&'static str, Measured)> {
    let mut rows = Rows {
        budget,
        filter,
        flavor,
        out: Vec::new(),
    };

    if rows.wants(FLOOR) {
        rows.measure(FLOOR, Floor).await;
    }

    // In memory, through the crate's connector; the global registry, as tests use it.
    let http =
        http_intercept::add("http://compare.test", Hello).expect("registering compare.test:80");
    if rows.wants(MEM_H1) {
        let call = Hyper::new(Connector::new(), Proto::Http1, "http://compare.test/");
        rows.measure(MEM_H1, call).await;
    }
    if rows.wants(MEM_H2) {
        let call = Hyper::new(Connector::new(), Proto::Http2, "http://compare.test/");
        rows.measure(MEM_H2, call).await;
    }
    crate::files::rows(&mut rows).await;

    // The same transport without the crate: what http-intercept adds is the difference.
    if rows.wants(BARE_H1) {
        let call = Hyper::new(DuplexConnector, Proto::Http1, "http://bare.compare.test/");
        rows.measure(BARE_H1, call).await;
    }

    // A hyper server on loopback TCP, spawned on this runtime as a test would.
    let server = LoopbackServer::start().await;
    if rows.wants(TCP_H1) {
        rows.measure(TCP_H1, Hyper::new(tcp(), Proto::Http1, &server.url()))
            .await;
    }
    if rows.wants(TCP_H2) {
        rows.measure(TCP_H2, Hyper::new(tcp(), Proto::Http2, &server.url()))
            .await;
    }

    reqwest_intercepted(&mut rows).await;

    if rows.wants(REQWEST_TCP) {
        rows.measure(REQWEST_TCP, Reqwest::plain(&server.url()))
            .await;
    }
    reqwest_tls(&mut rows).await;
    crate::reqwest012::rows(&mut rows, &server.url()).await;
    drop(server);
    drop(http);

    peer(
        &mut rows,
        peers::wiremock(),
        WIREMOCK_HYPER,
        WIREMOCK_REQWEST,
    )
    .await;
    peer(
        &mut rows,
        peers::httpmock(),
        HTTPMOCK_HYPER,
        HTTPMOCK_REQWEST,
    )
    .await;
    peer(&mut rows, peers::mockito(), MOCKITO_HYPER, MOCKITO_REQWEST).await;

    rows.out
}

/// Row 6 for one peer: a hyper-util client and a reqwest client to its mock server.
async fn peer<P: Peer>(
    rows: &mut Rows<'_>,
    start: impl Future<Output = P>,
    hyper: &'static str,
    reqwest: &'static str,
) {
    if !rows.wants(hyper) && !rows.wants(reqwest) {
        return;
    }
    let server = start.await;
    if rows.wants(hyper) {
        rows.measure(hyper, Hyper::new(tcp(), Proto::Http1, &server.url()))
            .await;
    }
    if rows.wants(reqwest) {
        rows.measure(reqwest, Reqwest::plain(&server.url())).await;
    }
}

/// Row 4: reqwest through the crate's gateway, with the `reqwest` feature.
#[cfg(feature = "reqwest")]
async fn reqwest_intercepted(rows: &mut Rows<'_>) {
    use http_intercept::reqwest::ClientBuilderExt;

    let intercepted = || {
        reqwest::Client::builder()
            .intercept()
            .build()
            .expect("building a reqwest client with .intercept()")
    };
    // http://compare.test is registered by the caller; https needs port 443.
    let _https =
        http_intercept::add("https://compare.test", Hello).expect("registering compare.test:443");
    if rows.wants(REQWEST_MEM_HTTP) {
        let call = Reqwest::new(intercepted(), "http://compare.test/");
        rows.measure(REQWEST_MEM_HTTP, call).await;
    }
    if rows.wants(REQWEST_MEM_HTTPS) {
        let call = Reqwest::new(intercepted(), "https://compare.test/");
        rows.measure(REQWEST_MEM_HTTPS, call).await;
    }
}

/// Row 5 over TLS: reqwest straight to a loopback TLS server on this runtime, the
/// reference for row 4's https.
#[cfg(feature = "reqwest")]
async fn reqwest_tls(rows: &mut Rows<'_>) {
    if !rows.wants(REQWEST_TLS) {
        return;
    }
    let (server, cert) = LoopbackServer::start_tls().await;
    let cert = reqwest::Certificate::from_der(&cert).expect("the server's certificate");
    let client = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_merge([cert])
        .build()
        .expect("building a reqwest client");
    rows.measure(REQWEST_TLS, Reqwest::new(client, &server.tls_url()))
        .await;
}

#[cfg(not(feature = "reqwest"))]
async fn reqwest_tls(rows: &mut Rows<'_>) {
    let _ = (rows, REQWEST_TLS);
}

/// Row 4 needs the `reqwest` feature: `cargo bench --features reqwest`.
#[cfg(not(feature = "reqwest"))]
async fn reqwest_intercepted(rows: &mut Rows<'_>) {
    let _ = (rows, REQWEST_MEM_HTTP, REQWEST_MEM_HTTPS);
}
