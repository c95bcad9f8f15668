//! Scale rows: what 10 000 live registrations cost, and what the first request of a
//! fresh process costs on each client path (the `cargo nextest` case: one process per
//! test).
//!
//! - Memory: resident set (`/proc/self/statm`, 4 KiB pages) of a fresh child process
//!   before and after registering 10 000 targets, each with the [`Hello`] service.
//!   Goal: at most 10 MB above the empty process.
//! - `add` + drop of one more target while 10 and while 10 000 registrations are live
//!   (medians; goal: flat, at most 1.5x).
//! - First request: the bench binary runs itself as a child
//!   (`--scale-child=<path>`) that registers, builds the client and makes one request,
//!   timing each step from the start of its `main`; the median of several children.
//!   Goal: at most 20 ms for reqwest `.intercept()`.

use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::measure::{samples, Budget};
use crate::service::{Hello, BODY};
use crate::Filter;

/// The argument that makes the bench binary a first-request child.
const CHILD: &str = "--scale-child=";
const ROW_MEMORY: &str = "scale: resident memory of 10 000 live registrations";
const ROW_ADD_DROP: &str = "scale: `add` + drop at 10 000 live registrations";
const TARGET: &str = "http://scale.compare.test";
const LIVE: usize = 10_000;

/// The client paths a child can take, in the order of the table.
const PATHS: [(&str, &str); 8] = [
    ("hyper-h1", "hyper-util `Connector`, HTTP/1.1"),
    ("hyper-h2", "hyper-util `Connector`, HTTP/2"),
    ("reqwest-http", "reqwest `.intercept()`, http"),
    ("reqwest-https", "reqwest `.intercept()`, https"),
    ("reqwest-blocking", "reqwest::blocking `.intercept()`, http"),
    ("ureq", "ureq `http_intercept::ureq::agent()`"),
    (
        "reqwest-plain",
        "for reference: a plain `reqwest::Client` (build only, no request)",
    ),
    (
        "ca",
        "for reference: the in-memory CA, `ca_certificate_pem()` (as build)",
    ),
];

/// The scale section of the report.
#[derive(Debug)]
pub(crate) struct Scale {
    /// Markdown.
    pub(crate) text: String,
}

/// Runs as a first-request child if the arguments say so: prints its timings as
/// `add build first` in microseconds and returns true.
pub(crate) fn child(args: &[String]) -> bool {
    let Some(path) = args.iter().find_map(|a| a.strip_prefix(CHILD)) else {
        return false;
    };
    if path == "memory" {
        println!("{}", memory_child());
        return true;
    }
    let started = Instant::now();
    let steps = first_request(path, started);
    let us = |d: Duration| d.as_micros();
    println!("{} {} {}", us(steps[0]), us(steps[1]), us(steps[2]));
    true
}

/// Resident bytes of this process.
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// In a fresh process: resident bytes added by [`LIVE`] registrations, as
/// `before after`.
fn memory_child() -> String {
    // The registry and its first allocation exist before the baseline.
    drop(http_intercept::add(TARGET, Hello).expect("registering"));
    let before = resident();
    let guards: Vec<_> = (0..LIVE)
        .map(|i| {
            http_intercept::add(format!("http://h{i}.scale.test"), Hello).expect("registering")
        })
        .collect();
    let after = resident();
    drop(guards);
    format!("{before} {after}")
}

/// The three steps of a first request, each timed from `started`: registered, client
/// built, answered.
fn first_request(path: &str, started: Instant) -> [Duration; 3] {
    let target = if path == "reqwest-https" {
        "https://scale.compare.test"
    } else {
        TARGET
    };
    let url = format!("{target}/");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let guard = http_intercept::add(target, Hello).expect("registering");
    let added = started.elapsed();
    let (built, answered) = match path {
        "hyper-h1" | "hyper-h2" => rt.block_on(async {
            use http_body_util::{BodyExt, Empty};
            let client =
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .http2_only(path == "hyper-h2")
                    .build::<_, Empty<bytes::Bytes>>(http_intercept::Connector::new());
            let built = started.elapsed();
            let res = client.get(url.parse().unwrap()).await.expect("a response");
            let body = res.into_body().collect().await.expect("a body").to_bytes();
            assert_eq!(body, BODY);
            (built, started.elapsed())
        }),
        #[cfg(feature = "reqwest")]
        "reqwest-http" | "reqwest-https" => rt.block_on(async {
            use http_intercept::reqwest::ClientBuilderExt;
            let client = reqwest::Client::builder()
                .intercept()
                .build()
                .expect("a client");
            let built = started.elapsed();
            let body = client
                .get(&url)
                .send()
                .await
                .expect("a response")
                .text()
                .await;
            assert_eq!(body.expect("a body"), BODY);
            (built, started.elapsed())
        }),
        #[cfg(feature = "tls")]
        "ca" => {
            // The first key generation of the process, which `.intercept()` pays.
            let pem = http_intercept::ca_certificate_pem();
            let built = started.elapsed();
            assert!(pem.contains("CERTIFICATE"));
            (built, built)
        }
        "reqwest-plain" => {
            // Where a fresh process's reqwest time goes without this crate: the build.
            let client = reqwest::Client::builder().build().expect("a client");
            let built = started.elapsed();
            drop(client);
            (built, built)
        }
        #[cfg(feature = "reqwest")]
        "reqwest-blocking" => {
            use http_intercept::reqwest::ClientBuilderExt;
            let client = reqwest::blocking::Client::builder()
                .intercept()
                .build()
                .expect("a client");
            let built = started.elapsed();
            let body = client.get(&url).send().expect("a response").text();
            assert_eq!(body.expect("a body"), BODY);
            (built, started.elapsed())
        }
        #[cfg(all(feature = "ureq", unix))]
        "ureq" => {
            use std::io::Read as _;
            let agent = http_intercept::ureq::agent();
            let built = started.elapsed();
            let mut body = String::new();
            agent
                .get(&url)
                .call()
                .expect("a response")
                .into_body()
                .into_reader()
                .read_to_string(&mut body)
                .expect("a body");
            assert_eq!(body, BODY);
            (built, started.elapsed())
        }
        other => panic!("unknown or disabled client path {other:?}"),
    };
    drop(guard);
    [added, built, answered]
}

fn available(path: &str) -> bool {
    match path {
        "hyper-h1" | "hyper-h2" | "reqwest-plain" => true,
        "ureq" => cfg!(all(feature = "ureq", unix)),
        "ca" => cfg!(feature = "tls"),
        _ => cfg!(feature = "reqwest"),
    }
}

/// Runs the bench binary as a child with `arg`; its one line of output.
fn run_child(arg: &str) -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let out = Command::new(exe).arg(arg).output().ok()?;
    if !out.status.success() {
        eprintln!(
            "  child {arg} failed: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
        return None;
    }
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

fn ms(us: u64) -> String {
    format!("{:.2}", us as f64 / 1000.0)
}

/// `add` + drop of one more target, median, with `live` other registrations live.
fn add_drop_at(budget: &Budget, live: usize) -> Duration {
    let guards: Vec<_> = (0..live)
        .map(|i| {
            http_intercept::add(format!("http://live{i}.scale.test"), Hello).expect("registering")
        })
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let stats = rt.block_on(samples(budget, || async {
        drop(http_intercept::add(TARGET, Hello).expect("registering"));
    }));
    drop(guards);
    stats.median
}

/// Measures the scale rows the filter wants.
pub(crate) fn report(budget: Budget, filter: &Filter, full: bool) -> Scale {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Scale (`current_thread`): {LIVE} live registrations, and the first request of a fresh process (the bench binary run as a child, as `cargo nextest` runs each test).\n"
    );
    let _ = writeln!(text, "| measurement | value | goal | |");
    let _ = writeln!(text, "|---|---:|---:|---|");
    if filter.wants(ROW_MEMORY) {
        eprintln!("  {ROW_MEMORY}");
        match run_child(&format!("{CHILD}memory")) {
            Some(line) => {
                let v: Vec<u64> = line.split(' ').filter_map(|n| n.parse().ok()).collect();
                let added = v[1].saturating_sub(v[0]);
                let mb = added as f64 / 1e6;
                let _ = writeln!(
                    text,
                    "| resident memory of {LIVE} live registrations, above the process without them | {mb:.2} MB ({} bytes each) | ≤ 10 MB | {} |",
                    added / LIVE as u64,
                    if mb <= 10.0 { "met" } else { "MISSED" }
                );
            }
            None => {
                let _ = writeln!(text, "| resident memory | (child failed) | ≤ 10 MB | |");
            }
        }
    }
    if filter.wants(ROW_ADD_DROP) {
        eprintln!("  {ROW_ADD_DROP}");
        let budget = budget.for_setup();
        let at_10 = add_drop_at(&budget, 10);
        let at_live = add_drop_at(&budget, LIVE);
        let ratio = at_live.as_secs_f64() / at_10.as_secs_f64();
        let _ = writeln!(
            text,
            "| `add` + drop, median: {:.2} µs at 10 live, {:.2} µs at {LIVE} live | {ratio:.2}x | ≤ 1.50x | {} |",
            at_10.as_secs_f64() * 1e6,
            at_live.as_secs_f64() * 1e6,
            if ratio <= 1.5 { "met" } else { "MISSED" }
        );
    }
    let children = if full { 7 } else { 1 };
    let mut first = String::new();
    for (path, name) in PATHS {
        let row = format!("scale: first request, {name}");
        if !available(path) || !filter.wants(&row) {
            continue;
        }
        eprintln!("  {row}");
        let mut steps = [Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..children {
            let Some(line) = run_child(&format!("{CHILD}{path}")) else {
                continue;
            };
            let v: Vec<u64> = line.split(' ').filter_map(|n| n.parse().ok()).collect();
            steps[0].push(v[0]);
            steps[1].push(v[1] - v[0]);
            steps[2].push(v[2] - v[1]);
        }
        if steps[0].is_empty() {
            continue;
        }
        let (add, build, request) = (
            median(steps[0].clone()),
            median(steps[1].clone()),
            median(steps[2].clone()),
        );
        // The total is the sum of the steps' medians.
        let total = add + build + request;
        let goal = path.starts_with("reqwest") && path != "reqwest-plain";
        let _ = writeln!(
            first,
            "| {name} | {} | {} | {} | {} | {} |",
            ms(add),
            ms(build),
            ms(request),
            ms(total),
            match (goal, total <= 20_000) {
                (false, _) => "–",
                (true, true) => "≤ 20 ms met",
                (true, false) => "≤ 20 ms MISSED",
            }
        );
    }
    if !first.is_empty() {
        let _ = writeln!(
            text,
            "\nFirst request in a fresh process (ms from the start of `main`, median of {children}): register, build the client, first request answered.\n"
        );
        let _ = writeln!(
            text,
            "| client path | `add` | build client | first request | total | goal |"
        );
        let _ = writeln!(text, "|---|---:|---:|---:|---:|---|");
        text.push_str(&first);
    }
    Scale { text }
}
