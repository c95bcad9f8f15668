//! The process-wide background runtime, for the transports whose clients do not run the
//! serving end themselves: reqwest's loopback gateway, blocking clients, real sockets.

use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle, Runtime};

/// The background runtime, started on first use: one worker thread named
/// `http-intercept`, with I/O and timers. It lives as long as the process.
///
/// A server spawned on a test's `current_thread` runtime only makes progress while that
/// test awaits; one spawned here answers a blocking client, a client on another
/// runtime, or another process, whatever the test is doing.
pub(crate) fn handle() -> &'static Handle {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("http-intercept")
                .enable_all()
                .build()
                .expect("http-intercept: cannot start its background tokio runtime")
        })
        .handle()
}
