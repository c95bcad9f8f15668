//! The per-test set-up rows: what a test pays before its first answer, and to tear
//! down after it. Each iteration is one whole test's worth: arrange the fake host, build
//! a new client, make the first request, drop everything.

use std::future::Future;

use http_intercept::Connector;

use crate::clients::{tcp, Hyper, Proto, Reqwest};
use crate::measure::{samples, Budget, Call, Stats};
use crate::peers::{self, Peer};
use crate::service::{Hello, LoopbackServer};
use crate::Filter;

pub(crate) const ADD_DROP: &str = "http-intercept: `add` + drop the guard";
pub(crate) const MEM: &str = "http-intercept: `add` + new hyper-util client + first request";
pub(crate) const MEM_REQWEST: &str =
    "http-intercept: `add` + new reqwest `.intercept()` client + first request";
pub(crate) const WIREMOCK: &str =
    "wiremock: `MockServer::start` + mount + new hyper-util client + first request";
pub(crate) const WIREMOCK_REQWEST: &str =
    "wiremock: `MockServer::start` + mount + new reqwest client + first request";
pub(crate) const HTTPMOCK: &str =
    "httpmock: `MockServer::start_async` + mock + new hyper-util client + first request";
pub(crate) const MOCKITO: &str =
    "mockito: `Server::new_async` + mock + new hyper-util client + first request";
pub(crate) const TCP: &str =
    "hyper server: bind 127.0.0.1:0 + spawn + new hyper-util client + first request";

const TARGET: &str = "http://setup.compare.test";
const URL: &str = "http://setup.compare.test/";

/// Measures every set-up row the filter wants.
pub(crate) async fn run(
    budget: Budget,
    filter: &Filter,
    flavor: &str,
) -> Vec<(&'static str, Stats)> {
    let budget = budget.for_setup();
    let mut out = Vec::new();
    let note = |name: &str| eprintln!("  {name} ({flavor})");

    if filter.wants(ADD_DROP) {
        note(ADD_DROP);
        let stats = samples(&budget, || async {
            let guard = http_intercept::add(TARGET, Hello).expect("registering the set-up target");
            drop(guard);
        })
        .await;
        out.push((ADD_DROP, stats));
    }

    if filter.wants(MEM) {
        note(MEM);
        let stats = samples(&budget, || async {
            let guard = http_intercept::add(TARGET, Hello).expect("registering the set-up target");
            Hyper::new(Connector::new(), Proto::Http1, URL).call().await;
            drop(guard);
        })
        .await;
        out.push((MEM, stats));
    }

    if cfg!(feature = "reqwest") && filter.wants(MEM_REQWEST) {
        note(MEM_REQWEST);
        if let Some(stats) = reqwest_intercepted(&budget).await {
            out.push((MEM_REQWEST, stats));
        }
    }

    if filter.wants(WIREMOCK) {
        note(WIREMOCK);
        out.push((WIREMOCK, peer(&budget, peers::wiremock).await));
    }
    if filter.wants(WIREMOCK_REQWEST) {
        note(WIREMOCK_REQWEST);
        let stats = samples(&budget, || async {
            let server = peers::wiremock().await;
            Reqwest::plain(&server.url()).call().await;
            drop(server);
        })
        .await;
        out.push((WIREMOCK_REQWEST, stats));
    }

    if filter.wants(HTTPMOCK) {
        note(HTTPMOCK);
        out.push((HTTPMOCK, peer(&budget, peers::httpmock).await));
    }

    if filter.wants(MOCKITO) {
        note(MOCKITO);
        out.push((MOCKITO, peer(&budget, peers::mockito).await));
    }

    if filter.wants(TCP) {
        note(TCP);
        let stats = samples(&budget, || async {
            let server = LoopbackServer::start().await;
            Hyper::new(tcp(), Proto::Http1, &server.url()).call().await;
            drop(server);
        })
        .await;
        out.push((TCP, stats));
    }

    out
}

/// A peer's start + mock, a new hyper-util client and its first request.
async fn peer<P, F>(budget: &Budget, start: impl Fn() -> F) -> Stats
where
    P: Peer,
    F: Future<Output = P>,
{
    samples(budget, || async {
        let server = start().await;
        Hyper::new(tcp(), Proto::Http1, &server.url()).call().await;
        drop(server);
    })
    .await
}

#[cfg(feature = "reqwest")]
async fn reqwest_intercepted(budget: &Budget) -> Option<Stats> {
    use http_intercept::reqwest::ClientBuilderExt;

    let stats = samples(budget, || async {
        let guard = http_intercept::add(TARGET, Hello).expect("registering the set-up target");
        let client = reqwest::Client::builder()
            .intercept()
            .build()
            .expect("building a reqwest client with .intercept()");
        Reqwest::new(client, URL).call().await;
        drop(guard);
    })
    .await;
    Some(stats)
}

/// Needs the `reqwest` feature.
#[cfg(not(feature = "reqwest"))]
async fn reqwest_intercepted(_budget: &Budget) -> Option<Stats> {
    None
}
