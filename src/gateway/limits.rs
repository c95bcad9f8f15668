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
            // Real time, as `idle_for` measures: a test's paused clock must not close
            // a connection it merely waited on.
            crate::background::sleep_real(wait).await;
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

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::super::server::Holder;
    use super::super::tests::{authorization, connect, hello};
    use super::{open, AUTH_DEADLINE, IDLE_TIMEOUT, MAX_CONNECTIONS};
    use crate::Registry;

    /// How long until the gateway closes `stream` (reads until EOF or an error).
    async fn closed_after(mut stream: TcpStream) -> Duration {
        let started = Instant::now();
        let mut buf = [0u8; 4096];
        let read = async {
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .expect("the gateway kept the connection open");
        started.elapsed()
    }

    // One test, so that the connection count is this test's alone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn limits() {
        let _serial = super::super::tests::SERIAL.lock().await;
        // A silent connection, a partial and a full h2 preface: closed at the deadline.
        for opening in [
            &b""[..],
            b"PRI * HTTP/2.0\r\n",
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        ] {
            let mut stream = connect().await;
            stream.write_all(opening).await.unwrap();
            let took = closed_after(stream).await;
            assert!(took >= AUTH_DEADLINE / 2, "{opening:?}: {took:?}");
        }

        // Requests without credentials (407s) do not keep a connection open.
        let mut stream = connect().await;
        for _ in 0..3 {
            stream
                .write_all(b"GET http://x.limits.test/ HTTP/1.1\r\nHost: x.limits.test\r\n\r\n")
                .await
                .unwrap();
            tokio::time::sleep(AUTH_DEADLINE / 4).await;
        }
        closed_after(stream).await;

        // Authorized, then idle: closed after the idle timeout, over h1 and h2.
        let registry = Registry::new();
        let _g = registry.add("http://idle.limits.test", hello()).unwrap();
        let auth = authorization(&registry, Holder::ProxyUrl);
        let mut stream = connect().await;
        let request = format!(
            "GET http://idle.limits.test/ HTTP/1.1\r\nHost: idle.limits.test\r\n\
             Proxy-Authorization: Basic {auth}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.unwrap();
        assert_eq!(&head, b"HTTP/1.1 200");
        let took = closed_after(stream).await;
        assert!(took >= IDLE_TIMEOUT / 2, "h1 idle: {took:?}");

        let stream = connect().await;
        let (mut sender, conn) = hyper::client::conn::http2::handshake(
            hyper_util::rt::TokioExecutor::new(),
            hyper_util::rt::TokioIo::new(stream),
        )
        .await
        .unwrap();
        let conn = tokio::spawn(conn);
        let req = http::Request::get("http://idle.limits.test/")
            .header("proxy-authorization", format!("Basic {auth}"))
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .unwrap();
        let res = sender.send_request(req).await.unwrap();
        assert_eq!(res.status(), 200);
        let started = Instant::now();
        tokio::time::timeout(Duration::from_secs(10), conn)
            .await
            .expect("the gateway kept the idle h2 connection open")
            .unwrap()
            .ok();
        assert!(started.elapsed() >= IDLE_TIMEOUT / 2);

        // The cap: past it, a new connection is closed at once.
        let mut held = Vec::new();
        for _ in 0..MAX_CONNECTIONS {
            held.push(connect().await);
        }
        // Accepted on the gateway's thread: wait until it counted them.
        let started = Instant::now();
        while open() < MAX_CONNECTIONS && started.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let took = closed_after(connect().await).await;
        assert!(
            took < AUTH_DEADLINE / 2,
            "over the cap: closed after {took:?}"
        );
        drop(held);
    }
}
