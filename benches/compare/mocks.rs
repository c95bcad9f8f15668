//! Declarative-mock rows (feature `mock`): http-intercept's `MockHost` against
//! wiremock's `MockServer` with the same mocks, the same client, in the same run.
//!
//! - Per request: 100 mounted mocks, `GET /item/{i}` for i in 0..100, each answering
//!   `200 text/plain "hello, world"`; every request is for `/item/99`, so it is matched
//!   by the last mock tried (all have the default priority). One keep-alive client,
//!   hyper-util (HTTP/1.1) and reqwest; median and p99 as the per-request rows.
//! - Mounting: 1 000 mocks of that shape mounted one after the other on a fresh host
//!   (wiremock: `.mount(&server).await` each), per iteration; the table gives the whole
//!   and the cost per mock.
//!
//! `cargo bench --bench compare --all-features -- mocks:` runs only these rows.

use crate::measure::Budget;
use crate::Filter;

/// Measures the mock rows on the runtimes given (indices into `FLAVORS`), with the
/// `mock` feature; markdown.
#[cfg(feature = "mock")]
pub(crate) fn report(budget: Budget, filter: &Filter, runtimes: &[usize]) -> String {
    measure::run(budget, filter, runtimes)
}

/// Without the `mock` feature there is nothing to measure.
#[cfg(not(feature = "mock"))]
pub(crate) fn report(_budget: Budget, _filter: &Filter, _runtimes: &[usize]) -> String {
    String::from(
        "Declarative mocks: not measured, needs the `mock` feature \
         (`cargo bench --features mock --bench compare`).\n",
    )
}

#[cfg(feature = "mock")]
mod measure {
    use std::fmt::Write as _;
    use std::time::{Duration, Instant};

    use http_intercept::mock::{matchers, Mock, MockHost, ResponseTemplate};
    use http_intercept::Connector;

    use crate::clients::{tcp, Hyper, Proto, Reqwest};
    use crate::measure::{latency, Budget, Stats};
    use crate::service::BODY;
    use crate::table::FLAVORS;
    use crate::Filter;

    const MOCKS: usize = 100;
    const MOUNTS: usize = 1_000;
    /// Issue 10's target, on `current_thread`.
    const GOAL: f64 = 0.2;

    pub(super) const HYPER: &str = "mocks: 100 mounted, match the last; hyper-util";
    pub(super) const REQWEST: &str = "mocks: 100 mounted, match the last; reqwest";
    pub(super) const MOUNT: &str = "mocks: mount 1 000";

    fn template() -> ResponseTemplate {
        ResponseTemplate::new(200).set_body_raw(BODY, "text/plain")
    }

    fn mount_all(host: &MockHost, n: usize) {
        for i in 0..n {
            Mock::given(matchers::method("GET"))
                .and(matchers::path(format!("/item/{i}")))
                .respond_with(template())
                .mount(host);
        }
    }

    async fn wiremock_with(n: usize) -> wiremock::MockServer {
        let server = wiremock::MockServer::start().await;
        mount_wiremock(&server, n).await;
        server
    }

    async fn mount_wiremock(server: &wiremock::MockServer, n: usize) {
        for i in 0..n {
            wiremock::Mock::given(wiremock::matchers::method("GET"))
                .and(wiremock::matchers::path(format!("/item/{i}")))
                .respond_with(
                    wiremock::ResponseTemplate::new(200)
                        .set_body_raw(BODY.as_bytes().to_vec(), "text/plain"),
                )
                .mount(server)
                .await;
        }
    }

    #[derive(Default)]
    struct Flavor {
        ours_hyper: Option<Stats>,
        wire_hyper: Option<Stats>,
        ours_reqwest: Option<Stats>,
        wire_reqwest: Option<Stats>,
        ours_mount: Option<Stats>,
        wire_mount: Option<Stats>,
    }

    async fn on_runtime(budget: Budget, filter: &Filter, flavor: &str) -> Flavor {
        let mut out = Flavor::default();
        let last = format!("/item/{}", MOCKS - 1);
        if filter.wants(HYPER) || filter.wants(REQWEST) {
            let host = MockHost::start("http://mocks.compare.test")
                .expect("registering mocks.compare.test");
            mount_all(&host, MOCKS);
            let wire = wiremock_with(MOCKS).await;
            let wire_url = format!("{}{last}", wire.uri());
            let ours_url = format!("http://mocks.compare.test{last}");
            if filter.wants(HYPER) {
                eprintln!("  {HYPER} ({flavor})");
                let ours = Hyper::new(Connector::new(), Proto::Http1, &ours_url);
                out.ours_hyper = Some(latency(&ours, &budget).await);
                let theirs = Hyper::new(tcp(), Proto::Http1, &wire_url);
                out.wire_hyper = Some(latency(&theirs, &budget).await);
            }
            if filter.wants(REQWEST) {
                eprintln!("  {REQWEST} ({flavor})");
                out.ours_reqwest = intercepted(&ours_url, &budget).await;
                out.wire_reqwest = Some(latency(&Reqwest::plain(&wire_url), &budget).await);
            }
            // The hosts' own verification: nothing unmatched.
            drop(host);
        }
        if filter.wants(MOUNT) {
            eprintln!("  {MOUNT} ({flavor})");
            let setup = Budget {
                warmup: budget.warmup.min(3),
                min_samples: budget.min_samples.min(30),
                max_samples: budget.max_samples.min(200),
                ..budget
            };
            out.ours_mount = Some(
                crate::measure::samples(&setup, || async {
                    let host = MockHost::unique();
                    mount_all(&host, MOUNTS);
                    drop(host);
                })
                .await,
            );
            let wire = wiremock::MockServer::start().await;
            out.wire_mount = Some(
                crate::measure::samples(&setup, || async {
                    mount_wiremock(&wire, MOUNTS).await;
                    wire.reset().await;
                })
                .await,
            );
        }
        out
    }

    #[cfg(feature = "reqwest")]
    async fn intercepted(url: &str, budget: &Budget) -> Option<Stats> {
        use http_intercept::reqwest::ClientBuilderExt;
        let client = reqwest::Client::builder()
            .intercept()
            .build()
            .expect("building a reqwest client with .intercept()");
        Some(latency(&Reqwest::new(client, url), budget).await)
    }

    #[cfg(not(feature = "reqwest"))]
    async fn intercepted(_url: &str, _budget: &Budget) -> Option<Stats> {
        None
    }

    fn us(d: Duration) -> String {
        let v = d.as_secs_f64() * 1e6;
        if v < 10.0 {
            format!("{v:.2}")
        } else {
            format!("{v:.1}")
        }
    }

    fn cell(ours: Option<Stats>, theirs: Option<Stats>) -> String {
        match (ours, theirs) {
            (Some(o), Some(t)) => format!(
                "{} | {} | {} | {} | {:.3}",
                us(o.median),
                us(o.p99),
                us(t.median),
                us(t.p99),
                o.median.as_secs_f64() / t.median.as_secs_f64()
            ),
            _ => "– | – | – | – | –".into(),
        }
    }

    pub(super) fn run(budget: Budget, filter: &Filter, runtimes: &[usize]) -> String {
        if !filter.wants(HYPER) && !filter.wants(REQWEST) && !filter.wants(MOUNT) {
            return String::new();
        }
        let started = Instant::now();
        let mut out = String::from(
            "Declarative mocks: http-intercept `MockHost` / wiremock `MockServer`, same mocks, \
             same client, same run (µs; × = median / wiremock's median).\n\n\
             | row | runtime | http-intercept median | p99 | wiremock median | p99 | × wiremock |\n\
             |---|---|---:|---:|---:|---:|---:|\n",
        );
        let mut goals = Vec::new();
        for (i, flavor) in FLAVORS.iter().enumerate() {
            if !runtimes.is_empty() && !runtimes.contains(&i) {
                continue;
            }
            let rt = crate::runtime(i);
            let f = rt.block_on(on_runtime(budget, filter, flavor));
            for (name, ours, theirs) in [
                (HYPER, f.ours_hyper, f.wire_hyper),
                (REQWEST, f.ours_reqwest, f.wire_reqwest),
                (MOUNT, f.ours_mount, f.wire_mount),
            ] {
                if ours.is_some() || theirs.is_some() {
                    let _ = writeln!(out, "| {name} | {flavor} | {} |", cell(ours, theirs));
                }
            }
            if let (Some(o), Some(t)) = (f.ours_hyper, f.wire_hyper) {
                let r = o.median.as_secs_f64() / t.median.as_secs_f64();
                let verdict = if r <= GOAL { "met" } else { "MISSED" };
                goals.push(format!(
                    "| 100 mocks, hyper-util, per request / wiremock's | {flavor} | ≤ {GOAL:.2} | {r:.3} {verdict} |"
                ));
            }
            if let (Some(o), Some(t)) = (f.ours_mount, f.wire_mount) {
                let _ = writeln!(
                    out,
                    "| mocks: mount, per mock | {flavor} | {} | – | {} | – | {:.3} |",
                    us(o.median / MOUNTS as u32),
                    us(t.median / MOUNTS as u32),
                    o.median.as_secs_f64() / t.median.as_secs_f64()
                );
            }
        }
        if !goals.is_empty() {
            out.push_str(
                "\n| target (ratio of medians) | runtime | goal | measured |\n|---|---|---:|---:|\n",
            );
            for g in &goals {
                let _ = writeln!(out, "{g}");
            }
        }
        let _ = writeln!(
            out,
            "\n(mock rows measured in {:.0} s)",
            started.elapsed().as_secs_f64()
        );
        out
    }
}
