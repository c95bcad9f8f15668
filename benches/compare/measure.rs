//! How a row is measured: latency samples (median, p99) of one request at a time, and
//! throughput with 32 requests in flight.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Requests in flight in the throughput measurement.
pub(crate) const CONCURRENCY: usize = 32;

/// One request (or one set-up) that a row repeats. Every call checks the response it
/// got, so a row that measures errors panics instead of reporting a fast failure.
pub(crate) trait Call: Clone + Send + Sync + 'static {
    fn call(&self) -> impl Future<Output = ()> + Send;
}

/// How long each measurement runs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Budget {
    /// Untimed calls before the samples are taken.
    pub(crate) warmup: usize,
    /// Samples are taken until this much time has passed...
    pub(crate) time: Duration,
    /// ... and at least this many were taken...
    pub(crate) min_samples: usize,
    /// ... or this many were taken.
    pub(crate) max_samples: usize,
    /// How long the throughput measurement keeps 32 requests in flight.
    pub(crate) throughput_time: Duration,
}

impl Budget {
    /// The full measurement: about 1.5 s per row and runtime.
    pub(crate) fn full() -> Budget {
        Budget {
            warmup: 300,
            time: Duration::from_millis(1000),
            min_samples: 500,
            max_samples: 50_000,
            throughput_time: Duration::from_millis(500),
        }
    }

    /// A smoke run (`cargo test --benches`): every row runs, the numbers mean nothing.
    pub(crate) fn smoke() -> Budget {
        Budget {
            warmup: 2,
            time: Duration::ZERO,
            min_samples: 10,
            max_samples: 10,
            throughput_time: Duration::from_millis(5),
        }
    }

    /// The budget for set-up rows, whose iterations bind ports or start servers: fewer
    /// of them, so that a run does not pile up sockets in TIME_WAIT.
    pub(crate) fn for_setup(self) -> Budget {
        Budget {
            warmup: self.warmup.min(50),
            max_samples: self.max_samples.min(1_000),
            min_samples: self.min_samples.min(200),
            ..self
        }
    }
}

/// Median and 99th percentile of a set of samples.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stats {
    pub(crate) median: Duration,
    pub(crate) p99: Duration,
}

impl Stats {
    fn of(mut samples: Vec<Duration>) -> Stats {
        assert!(!samples.is_empty(), "no samples were taken");
        samples.sort_unstable();
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Stats {
            median: at(0.5),
            p99: at(0.99),
        }
    }
}

/// Times `f()` one call at a time, after a warm-up.
pub(crate) async fn samples<F, Fut>(budget: &Budget, mut f: F) -> Stats
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    for _ in 0..budget.warmup {
        f().await;
    }
    let mut samples = Vec::with_capacity(budget.max_samples.min(1 << 16));
    let start = Instant::now();
    while samples.len() < budget.max_samples
        && (samples.len() < budget.min_samples || start.elapsed() < budget.time)
    {
        let t = Instant::now();
        f().await;
        samples.push(t.elapsed());
    }
    Stats::of(samples)
}

/// Latency of `a` and of `b`, one request at a time, interleaved (a, b, a, b, ...)
/// after a warm-up of each: both see the same moments of a shared machine, so the ratio
/// of their medians holds steadier than that of two rows measured one after the other.
pub(crate) async fn interleaved<A: Call, B: Call>(a: &A, b: &B, budget: &Budget) -> (Stats, Stats) {
    for _ in 0..budget.warmup {
        a.call().await;
        b.call().await;
    }
    let cap = budget.max_samples.min(1 << 16);
    let (mut of_a, mut of_b) = (Vec::with_capacity(cap), Vec::with_capacity(cap));
    let start = Instant::now();
    while of_a.len() < budget.max_samples
        && (of_a.len() < budget.min_samples || start.elapsed() < budget.time)
    {
        let t = Instant::now();
        a.call().await;
        of_a.push(t.elapsed());
        let t = Instant::now();
        b.call().await;
        of_b.push(t.elapsed());
    }
    (Stats::of(of_a), Stats::of(of_b))
}

/// Latency of one request at a time on one client (keep-alive).
pub(crate) async fn latency<C: Call>(call: &C, budget: &Budget) -> Stats {
    samples(budget, || call.call()).await
}

/// Requests per second with [`CONCURRENCY`] requests in flight on clones of one
/// client, each in its own spawned task (so a multi-thread runtime spreads them).
pub(crate) async fn throughput<C: Call>(call: &C, budget: &Budget) -> f64 {
    // Warm-up: opens the connections the pool will keep.
    run_concurrently(call, budget.throughput_time / 5).await;
    let (done, elapsed) = run_concurrently(call, budget.throughput_time).await;
    done as f64 / elapsed.as_secs_f64()
}

async fn run_concurrently<C: Call>(call: &C, time: Duration) -> (u64, Duration) {
    let start = Instant::now();
    let deadline = start + time;
    let barrier = Arc::new(tokio::sync::Barrier::new(CONCURRENCY));
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let call = call.clone();
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                let mut done = 0u64;
                loop {
                    call.call().await;
                    done += 1;
                    if Instant::now() >= deadline {
                        return done;
                    }
                }
            })
        })
        .collect();
    let mut done = 0;
    for task in tasks {
        done += task.await.expect("a throughput task panicked");
    }
    (done, start.elapsed())
}
