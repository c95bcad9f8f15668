//! The report: the measured rows as markdown tables, and the targets as ratios.

use std::fmt::Write as _;
use std::time::Duration;

use crate::measure::{Stats, CONCURRENCY};
use crate::rows::{self, Measured};
use crate::setup;

/// The runtimes every row runs on, in the order of the columns.
pub(crate) const FLAVORS: [&str; 2] = ["current_thread", "multi_thread (2 workers)"];

/// Everything measured in one run, by row name and runtime (index into [`FLAVORS`]).
#[derive(Debug, Default)]
pub(crate) struct Report {
    requests: Vec<(&'static str, [Option<Measured>; 2])>,
    setup: Vec<(&'static str, [Option<Stats>; 2])>,
}

fn merge<T: Copy>(
    into: &mut Vec<(&'static str, [Option<T>; 2])>,
    flavor: usize,
    rows: Vec<(&'static str, T)>,
) {
    for (name, value) in rows {
        match into.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values[flavor] = Some(value),
            None => {
                let mut values = [None, None];
                values[flavor] = Some(value);
                into.push((name, values));
            }
        }
    }
}

fn us(d: Duration) -> String {
    let v = d.as_secs_f64() * 1e6;
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 1000.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

fn per_second(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2} M", r / 1e6)
    } else {
        format!("{:.1} k", r / 1e3)
    }
}

fn ratio(num: Duration, den: Duration) -> f64 {
    num.as_secs_f64() / den.as_secs_f64()
}

fn dash() -> String {
    String::from("–")
}

impl Report {
    pub(crate) fn add_requests(&mut self, flavor: usize, rows: Vec<(&'static str, Measured)>) {
        merge(&mut self.requests, flavor, rows);
    }

    pub(crate) fn add_setup(&mut self, flavor: usize, rows: Vec<(&'static str, Stats)>) {
        merge(&mut self.setup, flavor, rows);
    }

    fn request(&self, name: &str, flavor: usize) -> Option<Measured> {
        self.requests.iter().find(|(n, _)| *n == name)?.1[flavor]
    }

    fn set_up(&self, name: &str, flavor: usize) -> Option<Stats> {
        self.setup.iter().find(|(n, _)| *n == name)?.1[flavor]
    }

    fn median(&self, of: Of, flavor: usize) -> Option<Duration> {
        match of {
            Of::Request(name) => self.request(name, flavor).map(|m| m.latency.median),
            Of::SetUp(name) => self.set_up(name, flavor).map(|s| s.median),
        }
    }

    /// The per-request table, markdown.
    pub(crate) fn requests_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Per request: one keep-alive client, median and p99 latency of one request at a \
             time (µs); requests/s with {CONCURRENCY} in flight; × TCP = median / the \
             median of row 3 (HTTP/1.1) on the same runtime.\n"
        );
        let _ = writeln!(
            out,
            "| path | {0}: median | p99 | {CONCURRENCY} in flight | × TCP | {1}: median | p99 | {CONCURRENCY} in flight | × TCP |",
            FLAVORS[0], FLAVORS[1]
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (name, values) in &self.requests {
            let _ = write!(out, "| {name} |");
            for (flavor, value) in values.iter().enumerate() {
                match value {
                    Some(m) => {
                        let vs_tcp = self
                            .median(Of::Request(rows::TCP_H1), flavor)
                            .map_or_else(dash, |tcp| {
                                format!("{:.2}", ratio(m.latency.median, tcp))
                            });
                        let _ = write!(
                            out,
                            " {} | {} | {}/s | {vs_tcp} |",
                            us(m.latency.median),
                            us(m.latency.p99),
                            per_second(m.throughput)
                        );
                    }
                    None => out.push_str(" – | – | – | – |"),
                }
            }
            out.push('\n');
        }
        out
    }

    /// The set-up table, markdown.
    pub(crate) fn setup_table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Per test set-up, each iteration a whole test's worth: arrange the fake host, \
             build a new client, first request, tear everything down (µs); × wiremock = \
             median / the median of wiremock's with the same client.\n"
        );
        let _ = writeln!(
            out,
            "| set-up | {0}: median | p99 | × wiremock | {1}: median | p99 | × wiremock |",
            FLAVORS[0], FLAVORS[1]
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
        for (name, values) in &self.setup {
            let peer = if name.contains("reqwest") {
                setup::WIREMOCK_REQWEST
            } else {
                setup::WIREMOCK
            };
            let _ = write!(out, "| {name} |");
            for (flavor, value) in values.iter().enumerate() {
                match value {
                    Some(s) => {
                        let vs = self
                            .median(Of::SetUp(peer), flavor)
                            .map_or_else(dash, |w| format!("{:.3}", ratio(s.median, w)));
                        let _ = write!(out, " {} | {} | {vs} |", us(s.median), us(s.p99));
                    }
                    None => out.push_str(" – | – | – |"),
                }
            }
            out.push('\n');
        }
        out
    }

    /// The targets of issue 6, as ratios of medians measured in this run, markdown.
    pub(crate) fn targets_table(&self, replay: Option<f64>) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "| target (ratio of medians) | goal | {} | {} |",
            FLAVORS[0], FLAVORS[1]
        );
        let _ = writeln!(out, "|---|---:|---:|---:|");
        for goal in GOALS {
            let _ = write!(out, "| {} | {} {:.2} |", goal.what, goal.kind, goal.limit);
            for flavor in 0..FLAVORS.len() {
                let cell = match (self.median(goal.num, flavor), self.median(goal.den, flavor)) {
                    (Some(num), Some(den)) => {
                        let r = ratio(num, den);
                        let verdict = if r <= goal.limit { "met" } else { "MISSED" };
                        format!("{r:.3} {verdict}")
                    }
                    _ => String::from("not measured"),
                };
                let _ = write!(out, " {cell} |");
            }
            out.push('\n');
        }
        let replay = replay.map_or_else(
            || String::from("not measured"),
            |r| format!("{r:.3} {}", if r <= 1.5 { "met" } else { "MISSED" }),
        );
        let _ = writeln!(
            out,
            "| replayed request, largest cassette / 10 interactions | ≤ 1.50 | {replay} | (not run) |"
        );
        out
    }
}

#[derive(Clone, Copy, Debug)]
enum Of {
    Request(&'static str),
    SetUp(&'static str),
}

struct Goal {
    what: &'static str,
    /// `≤` for a target, `aim ≤` for an aspiration.
    kind: &'static str,
    num: Of,
    den: Of,
    limit: f64,
}

const GOALS: &[Goal] = &[
    Goal {
        what: "a small file + `.headers` via `server::Files` / a bare intercepted service (row 2)",
        kind: "≤",
        num: Of::Request(crate::files::FILES_H1),
        den: Of::Request(rows::MEM_H1),
        limit: 3.0,
    },
    Goal {
        what: "in-memory HTTP/1.1 / hyper over loopback TCP (row 2 / row 3)",
        kind: "≤",
        num: Of::Request(rows::MEM_H1),
        den: Of::Request(rows::TCP_H1),
        limit: 0.5,
    },
    Goal {
        what: "in-memory HTTP/1.1 / wiremock, same hyper-util client",
        kind: "≤",
        num: Of::Request(rows::MEM_H1),
        den: Of::Request(rows::WIREMOCK_HYPER),
        limit: 0.3,
    },
    Goal {
        what: "in-memory HTTP/1.1 (hyper-util) / reqwest → wiremock",
        kind: "≤",
        num: Of::Request(rows::MEM_H1),
        den: Of::Request(rows::WIREMOCK_REQWEST),
        limit: 0.3,
    },
    Goal {
        what: "set-up: `add` + client + first request / wiremock's (hyper-util)",
        kind: "≤",
        num: Of::SetUp(setup::MEM),
        den: Of::SetUp(setup::WIREMOCK),
        limit: 0.2,
    },
    Goal {
        what: "set-up with reqwest: `.intercept()` / wiremock's",
        kind: "≤",
        num: Of::SetUp(setup::MEM_REQWEST),
        den: Of::SetUp(setup::WIREMOCK_REQWEST),
        limit: 0.2,
    },
    Goal {
        what: "reqwest `.intercept()`, http / reqwest → wiremock",
        kind: "≤",
        num: Of::Request(rows::REQWEST_MEM_HTTP),
        den: Of::Request(rows::WIREMOCK_REQWEST),
        limit: 1.0,
    },
    Goal {
        what: "reqwest `.intercept()`, http / reqwest direct to loopback (row 5)",
        kind: "≤",
        num: Of::Request(rows::REQWEST_MEM_HTTP),
        den: Of::Request(rows::REQWEST_TCP),
        limit: 1.5,
    },
    Goal {
        what: "reqwest `.intercept()`, https / reqwest direct to loopback TLS (row 5)",
        kind: "≤",
        num: Of::Request(rows::REQWEST_MEM_HTTPS),
        den: Of::Request(rows::REQWEST_TLS),
        limit: 2.0,
    },
    Goal {
        what: "reqwest 0.12 `.intercept()`, http / reqwest 0.12 direct to loopback (row 5)",
        kind: "≤",
        num: Of::Request(crate::reqwest012::REQWEST012_MEM_HTTP),
        den: Of::Request(crate::reqwest012::REQWEST012_TCP),
        limit: 1.5,
    },
    Goal {
        what: "reqwest 0.12 `.intercept()`, https / reqwest 0.12 direct to loopback TLS",
        kind: "≤",
        num: Of::Request(crate::reqwest012::REQWEST012_MEM_HTTPS),
        den: Of::Request(crate::reqwest012::REQWEST012_TLS),
        limit: 2.0,
    },
];
