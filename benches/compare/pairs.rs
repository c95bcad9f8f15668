//! Paired rows (`-- pairs:`): reqwest `.intercept()` and reqwest straight to a loopback
//! server, measured interleaved ([`interleaved`]), for the goal of issue 12
//! (`.intercept()` http ≤ 1.5× direct, https ≤ 2× direct TLS, both runtime flavors).
//! Rows 4 and 5 measure the same calls one after the other, which a shared machine's
//! drift can skew by 2× either way.

use std::fmt::Write as _;

use crate::measure::{interleaved, Budget, Call, Stats};
use crate::table::FLAVORS;
use crate::Filter;

const WORD: &str = "pairs: reqwest `.intercept()` / direct, interleaved";

/// One pair's medians on one runtime flavor.
struct Pair {
    what: &'static str,
    goal: f64,
    flavor: usize,
    ours: Stats,
    direct: Stats,
}

pub(crate) fn report(budget: Budget, filter: &Filter, runtimes: &[usize]) -> String {
    if !filter.wants(WORD) {
        return String::new();
    }
    let mut pairs = Vec::new();
    for flavor in 0..FLAVORS.len() {
        if !runtimes.is_empty() && !runtimes.contains(&flavor) {
            continue;
        }
        let rt = crate::runtime(flavor);
        rt.block_on(measure(budget, flavor, &mut pairs));
    }
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Paired (`-- pairs:`): each pair measured interleaved, a request of one then a request of the other, on one keep-alive client each (medians, µs).\n"
    );
    let _ = writeln!(
        text,
        "| pair | runtime | `.intercept()` | direct | ratio | goal |"
    );
    let _ = writeln!(text, "|---|---|---:|---:|---:|---|");
    for p in &pairs {
        let ratio = p.ours.median.as_secs_f64() / p.direct.median.as_secs_f64();
        let verdict = if ratio <= p.goal { "met" } else { "MISSED" };
        let _ = writeln!(
            text,
            "| {} | {} | {:.1} | {:.1} | {ratio:.2} | ≤ {:.1} {verdict} |",
            p.what,
            FLAVORS[p.flavor],
            p.ours.median.as_secs_f64() * 1e6,
            p.direct.median.as_secs_f64() * 1e6,
            p.goal,
        );
    }
    text
}

async fn pair<A: Call, B: Call>(
    pairs: &mut Vec<Pair>,
    budget: Budget,
    flavor: usize,
    (what, goal): (&'static str, f64),
    ours: A,
    direct: B,
) {
    eprintln!("  {what} ({})", FLAVORS[flavor]);
    let (ours, direct) = interleaved(&ours, &direct, &budget).await;
    pairs.push(Pair {
        what,
        goal,
        flavor,
        ours,
        direct,
    });
}

#[cfg(all(feature = "reqwest", feature = "tls"))]
async fn measure(budget: Budget, flavor: usize, pairs: &mut Vec<Pair>) {
    use http_intercept::reqwest::ClientBuilderExt;

    use crate::clients::Reqwest;
    use crate::service::{Hello, LoopbackServer};

    let _http = http_intercept::add("http://pairs.compare.test", Hello).expect("registering");
    let _https = http_intercept::add("https://pairs.compare.test", Hello).expect("registering");
    let intercepted = || {
        reqwest::Client::builder()
            .intercept()
            .build()
            .expect("building a reqwest client with .intercept()")
    };
    let server = LoopbackServer::start().await;
    pair(
        pairs,
        budget,
        flavor,
        ("reqwest 0.13, http", 1.5),
        Reqwest::new(intercepted(), "http://pairs.compare.test/"),
        Reqwest::plain(&server.url()),
    )
    .await;
    let (tls, cert) = LoopbackServer::start_tls().await;
    let cert = reqwest::Certificate::from_der(&cert).expect("the server's certificate");
    let direct = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_merge([cert])
        .build()
        .expect("building a reqwest client");
    pair(
        pairs,
        budget,
        flavor,
        ("reqwest 0.13, https (direct: TLS)", 2.0),
        Reqwest::new(intercepted(), "https://pairs.compare.test/"),
        Reqwest::new(direct, &tls.tls_url()),
    )
    .await;
}

#[cfg(not(all(feature = "reqwest", feature = "tls")))]
async fn measure(_budget: Budget, _flavor: usize, _pairs: &mut Vec<Pair>) {}
