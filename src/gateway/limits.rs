//! What keeps the gateway from holding what nobody uses: a cap on client connections,
//! a deadline until a connection's first authorized request, and an idle timeout
//! (HTTP/1.1 and HTTP/2 alike, measured on the bytes that move).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// At most this many client connections (TCP) are open at once; more are closed as
/// soon as they are accepted.
pub(super) const MAX_CONNECTIONS: usize = if cfg!(test) { 16 } else { 1024 };

/// A TCP connection that has not sent a request with this process's credentials by
/// then is closed.
pub(super) const AUTH_DEADLINE: Duration = if cfg!(test) {
    Duration::from_millis(300)
} else {
    Duration::from_secs(10)
};

/// A connection with no request in progress and no byte moved for this long is closed.
pub(super) const IDLE_TIMEOUT: Duration = if cfg!(test) {
    Duration::from_millis(300)
} else {
    Duration::from_secs(90)
};

static OPEN: AtomicUsize = AtomicUsize::new(0);

/// One open client connection, counted against [`MAX_CONNECTIONS`] until dropped.
pub(super) struct Slot(());

impl Slot {
    /// A slot, if the cap allows one more connection.
    pub(super) fn take() -> Option<Slot> {
        OPEN.fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
            (open < MAX_CONNECTIONS).then_some(open + 1)
        })
        .ok()
        .map(|_| Slot(()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How many client connections are open (for tests).
#[cfg(test)]
pub(super) fn open() -> usize {
    OPEN.load(Ordering::Acquire)
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// When bytes last moved on a connection, and how many requests are in progress.
#[derive(Default)]
pub(super) struct Activity {
    last_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    pub(super) fn touch(&self) {
        let ms = u64::try_from(epoch().elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Release);
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Acquire));
        epoch().elapsed().saturating_sub(last)
    }

    /// Marks a request in progress until the returned guard is dropped.
    pub(super) fn request(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.touch();
        InFlight(self.clone())
    }

    /// Resolves once the connection has been idle for [`IDLE_TIMEOUT`].
    pub(super) async fn idle(&self) {
        loop {
            let idle = self.idle_for();
            if idle >= IDLE_TIMEOUT && self.in_flight.load(Ordering::Acquire) == 0 {
                return;
            }
            let wait = IDLE_TIMEOUT.saturating_sub(idle).max(IDLE_TIMEOUT / 10);
            tokio::time::sleep(wait).await;
        }
    }
}

/// A request in progress (see [`Activity::request`]).
pub(super) struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// An I/O object that records in its [`Activity`] when bytes move.
pub(super) struct Tracked<I> {
    io: I,
    activity: Arc<Activity>,
}

impl<I> Tracked<I> {
    pub(super) fn new(io: I, activity: Arc<Activity>) -> Tracked<I> {
        activity.touch();
        Tracked { io, activity }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Tracked<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.io).poll_read(cx, buf);
        if res.is_ready() && buf.filled().len() > before {
            self.activity.touch();
        }
        res
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Tracked<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        res
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(res, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
