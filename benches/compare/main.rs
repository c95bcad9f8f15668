//! The comparison the README's "Performance" section quotes: http-intercept against the
//! ways a test would otherwise fake a host (a hyper server on loopback TCP, wiremock),
//! measured side by side in one run on the same machine, printed as one report.
//!
//! ```text
//! cargo bench --bench compare                      # the full report, about a minute
//! cargo bench --features record --bench compare    # with the record/replay rows
//! cargo bench --all-features --bench compare       # with those and the reqwest rows
//! cargo bench --features server --bench compare -- files  # the test server's row
//! cargo bench --bench compare -- wiremock "in memory"  # only rows whose name contains a word
//! cargo bench --bench compare -- current_thread     # one runtime (or multi_thread)
//! cargo bench --bench compare --all-features -- mocks:  # the declarative-mock rows
//! cargo bench --all-features --bench compare -- scale  # only the scale rows
//! cargo test --bench compare                       # smoke run: every row once, numbers meaningless
//! ```
//!
//! Every row serves the same `GET /` → `200 text/plain "hello, world"`, checked on
//! every request. Each row runs on a `current_thread` runtime (as `#[tokio::test]`
//! uses) and on a multi-thread runtime with 2 workers, with the client driven from
//! `block_on` as a test body is. Latency: median and p99 of one request at a time on
//! one keep-alive client, after a warm-up, each timed with `Instant`. Throughput: 32
//! spawned tasks sharing one client for a fixed time. Set-up: one whole test per
//! iteration. Only loopback addresses and intercepted names are ever contacted.
//!
//! The harness is this file (`harness = false`), not criterion: the report is one table
//! of ratios measured in the same run, and it keeps `cargo bench --no-run` light.

mod cassette_io;
mod clients;
mod duplex;
mod files;
mod measure;
mod mocks;
mod pairs;
mod peers;
mod replay;
mod reqwest012;
mod rows;
mod scale;
mod service;
mod setup;
mod table;

use std::time::Instant;

use measure::Budget;
use table::{Report, FLAVORS};

/// Which rows to run: those whose name contains one of the words given on the command
/// line (case-insensitive), or all.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    words: Vec<String>,
}

impl Filter {
    pub(crate) fn wants(&self, name: &str) -> bool {
        let name = name.to_lowercase();
        self.words.is_empty() || self.words.iter().any(|w| name.contains(w.as_str()))
    }
}

pub(crate) fn runtime(flavor: usize) -> tokio::runtime::Runtime {
    let mut builder = match flavor {
        0 => tokio::runtime::Builder::new_current_thread(),
        _ => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(2);
            b
        }
    };
    builder
        .enable_all()
        .build()
        .expect("building a tokio runtime")
}

/// One line on what ran where: CPU, cores, kernel, build.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| String::from("unknown CPU"));
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| format!("{} {}", std::env::consts::OS, k.trim()))
        .unwrap_or_else(|_| std::env::consts::OS.to_owned());
    let build = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let features: Vec<&str> = [
        ("mock", cfg!(feature = "mock")),
        ("record", cfg!(feature = "record")),
        ("reqwest", cfg!(feature = "reqwest")),
        ("server", cfg!(feature = "server")),
        ("reqwest012", cfg!(feature = "reqwest012")),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    let features = if features.is_empty() {
        String::from("no features")
    } else {
        format!("features: {}", features.join(", "))
    };
    format!("{cpu}, {cores} cores, {kernel}; {build} build, {features}")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if scale::child(&args) {
        return;
    }
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing: a smoke run.
    let full = args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--smoke");
    let mut words: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .map(|a| a.to_lowercase())
        .collect();
    // `current_thread` or `multi_thread` among the words picks the runtime.
    let runtimes: Vec<usize> = (0..FLAVORS.len())
        .filter(|&i| words.iter().any(|w| FLAVORS[i].starts_with(w.as_str())))
        .collect();
    words.retain(|w| !FLAVORS.iter().any(|f| f.starts_with(w.as_str())));
    let filter = Filter { words };
    let budget = if full {
        Budget::full()
    } else {
        Budget::smoke()
    };

    let started = Instant::now();
    let mut report = Report::default();
    for (i, flavor) in FLAVORS.iter().enumerate() {
        if !runtimes.is_empty() && !runtimes.contains(&i) {
            continue;
        }
        eprintln!("measuring on {flavor}");
        let rt = runtime(i);
        report.add_requests(i, rt.block_on(rows::run(budget, &filter, flavor)));
        report.add_setup(i, rt.block_on(setup::run(budget, &filter, flavor)));
    }
    let replay = replay::report(budget, &filter, full);
    let mocks = mocks::report(budget, &filter, &runtimes);
    let pairs = pairs::report(budget, &filter, &runtimes);
    let cassette_io = cassette_io::report(budget, &filter, full);
    let scale = scale::report(budget, &filter, full);

    println!();
    if !full {
        println!("SMOKE RUN: every row ran a few times; the numbers mean nothing. `cargo bench --bench compare` measures.\n");
    }
    println!("Machine: {}\n", machine());
    println!("{}", report.requests_table());
    println!("{}", report.setup_table());
    println!("{}", replay.text);
    println!("{mocks}");
    println!("{pairs}");
    println!("{cassette_io}");
    println!("{}", scale.text);
    println!("{}", report.targets_table(replay.ratio));
    println!("(measured in {:.0} s)", started.elapsed().as_secs_f64());
}
