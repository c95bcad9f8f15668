//! The process-wide background runtime, for the transports whose clients do not run the
//! serving end themselves: reqwest's loopback gateway and blocking clients; and threads
//! of their own for connections that a blocking service must not stall.

use std::future::Future;

use tokio::runtime::Builder;

/// The background runtime, started on first use: a current-thread runtime, with I/O
/// and timers, driven by its own thread named `http-intercept`, for the life of the
/// process.
///
/// A server spawned on a test's `current_thread` runtime only makes progress while that
/// test awaits; one spawned here answers a blocking client, a client on another
/// runtime, or another process, whatever the test is doing. One thread with a
/// current-thread scheduler wakes faster than a multi-thread runtime's worker.
///
/// # Panics
///
/// If the runtime or its thread cannot be started.
#[cfg(feature = "gateway")]
pub(crate) fn handle() -> &'static tokio::runtime::Handle {
    use std::sync::OnceLock;
    use tokio::runtime::Handle;

    static HANDLE: OnceLock<Handle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let runtime = Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("http-intercept: cannot start its background tokio runtime");
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("http-intercept".into())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .expect("http-intercept: cannot start its background thread");
        handle
    })
}

/// Runs the future `make` returns on a new thread named `name` (which must start with
/// `http-intercept`, see `crate::is_background_thread`), on a current-thread runtime
/// of that thread, until it completes: a service that blocks there stalls that future
/// only. A thread or runtime that cannot start drops `make`.
pub(crate) fn on_own_thread<M, F>(name: &str, make: M) -> std::io::Result<()>
where
    M: FnOnce() -> F + Send + 'static,
    F: Future<Output = ()>,
{
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let Ok(runtime) = Builder::new_current_thread().enable_all().build() else {
                return;
            };
            runtime.block_on(make());
        })
        .map(drop)
}

/// Sleeps for `duration` of real time, whatever the clock of the caller's runtime does
/// (a test's paused clock jumps to its next timer whenever the runtime is idle): the
/// timer runs on the background runtime. For the gateway's own deadlines on a test's
/// runtime, which must not fire early in virtual time.
#[cfg(feature = "gateway")]
pub(crate) async fn sleep_real(duration: std::time::Duration) {
    struct AbortOnDrop(tokio::task::AbortHandle);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let (done, slept) = tokio::sync::oneshot::channel::<()>();
    let timer = handle().spawn(async move {
        tokio::time::sleep(duration).await;
        let _ = done.send(());
    });
    let _timer = AbortOnDrop(timer.abort_handle());
    let _ = slept.await;
}
