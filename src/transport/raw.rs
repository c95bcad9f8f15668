//! Raw access to an HTTP/1.x connection, for any service: a [`RawWriter`] in each
//! HTTP/1.x request's extensions writes bytes that hyper would never write (a
//! malformed response, one cut short, a reset).
//!
//! The transport serves every connection through a [`Takeover`], which owns the
//! stream. Unused, it costs one atomic load per read or write and one
//! compare-and-swap per response: no lock, no copy. A writer that takes the
//! connection over queues its bytes in a slot shared with the `Takeover`, and wakes
//! the connection's task, which writes them out; from then on whatever hyper writes
//! for that request is swallowed, and the connection ends once hyper has written it.
//!
//! A writer belongs to the exchange of the request it came with: once hyper starts
//! writing that request's response (the service has answered), the writer and its
//! clones can no longer take anything over, so a clone kept past its exchange cannot
//! write into a later exchange of the same keep-alive connection.

use std::any::Any;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::{Buf, BytesMut};
use http::{Request, Version};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::rt::TokioIo;

/// The low two bits of [`Shared::ctl`]: no exchange may be taken over.
const CLOSED: u64 = 0;
/// An exchange is in progress and may be taken over.
const OPEN: u64 = 1;
/// A writer took the connection over.
const TAKEN: u64 = 2;
/// A writer reset the connection.
const RESET: u64 = 3;
const STATE: u64 = 3;

/// Wraps a connection's stream, and returns the slot the transport keeps for it.
pub(crate) fn wrap<I>(io: I) -> (Takeover<I>, RawSlot) {
    let shared = Arc::new(Shared {
        ctl: AtomicU64::new(CLOSED),
        next: AtomicU64::new(0),
        raw: Mutex::new(Raw::default()),
    });
    (
        Takeover {
            io,
            shared: shared.clone(),
            aborted: false,
        },
        RawSlot { shared },
    )
}

/// What a connection's `Takeover` and its writers share.
struct Shared {
    /// The exchange number (high bits) and the state (low two bits).
    ctl: AtomicU64,
    /// The number of the last exchange handed out.
    next: AtomicU64,
    /// Only touched once a writer took over.
    raw: Mutex<Raw>,
}

#[derive(Default)]
struct Raw {
    /// Bytes written raw, not yet on the stream.
    queue: BytesMut,
    /// The writer asked to close the sending side.
    close: bool,
    /// The sending side is closed.
    shut: bool,
    /// hyper wrote (into the void) its response to the request taken over.
    responded: bool,
    /// The stream failed: later raw writes report it.
    error: Option<io::ErrorKind>,
    /// The connection's task, to wake when there is something to write.
    waker: Option<Waker>,
}

impl Shared {
    fn raw(&self) -> MutexGuard<'_, Raw> {
        self.raw.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wake(&self) {
        if let Some(waker) = self.raw().waker.take() {
            waker.wake();
        }
    }
}

fn reset_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "http-intercept: the connection was reset on purpose",
    )
}

/// The stream hyper serves: passes everything through until a [`RawWriter`] takes the
/// connection over.
pub(crate) struct Takeover<I> {
    io: I,
    shared: Arc<Shared>,
    /// A reset was turned into an abortive close already.
    aborted: bool,
}

impl<I: Read + Write + Unpin + 'static> Takeover<I> {
    /// Writes the queued raw bytes out, then closes the sending side if asked to.
    fn pump(&mut self, cx: &mut Context<'_>, raw: &mut Raw) -> Poll<io::Result<()>> {
        while !raw.queue.is_empty() {
            match Pin::new(&mut self.io).poll_write(cx, &raw.queue) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(self.fail(raw, io::ErrorKind::WriteZero.into())))
                }
                Poll::Ready(Ok(n)) => raw.queue.advance(n),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(self.fail(raw, e))),
                Poll::Pending => return Poll::Pending,
            }
        }
        if let Poll::Ready(Err(e)) = Pin::new(&mut self.io).poll_flush(cx) {
            return Poll::Ready(Err(self.fail(raw, e)));
        }
        if raw.close && !raw.shut {
            match Pin::new(&mut self.io).poll_shutdown(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(_) => raw.shut = true,
            }
        }
        Poll::Ready(Ok(()))
    }

    fn fail(&self, raw: &mut Raw, e: io::Error) -> io::Error {
        raw.error = Some(e.kind());
        raw.queue.clear();
        e
    }

    /// After a reset: over TCP, a zero linger turns the close into a reset (RST).
    fn abort(&mut self) -> io::Error {
        if !self.aborted {
            self.aborted = true;
            let io: &dyn Any = &self.io;
            if let Some(tcp) = io.downcast_ref::<TokioIo<tokio::net::TcpStream>>() {
                // A zero linger never blocks: the close sends an RST at once.
                #[allow(deprecated)]
                let _ = tcp.inner().set_linger(Some(std::time::Duration::ZERO));
            }
        }
        reset_error()
    }

    /// hyper writes while a writer has the connection: swallowed, and the exchange
    /// counts as answered.
    fn swallow(&mut self, cx: &mut Context<'_>, len: usize) -> Poll<io::Result<usize>> {
        let shared = self.shared.clone();
        let mut raw = shared.raw();
        raw.responded = true;
        let _ = self.pump(cx, &mut raw);
        Poll::Ready(Ok(len))
    }

    /// Whether hyper may use the stream: closes the exchange for raw access at the
    /// first write of its response. Returns the state.
    fn state_for_write(&self) -> u64 {
        loop {
            let v = self.shared.ctl.load(Ordering::Acquire);
            if v & STATE != OPEN {
                return v & STATE;
            }
            let closed = (v & !STATE) | CLOSED;
            if self
                .shared
                .ctl
                .compare_exchange(v, closed, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return CLOSED;
            }
        }
    }
}

impl<I: Read + Write + Unpin + 'static> Read for Takeover<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match self.shared.ctl.load(Ordering::Acquire) & STATE {
            TAKEN => {}
            RESET => return Poll::Ready(Err(self.abort())),
            _ => return Pin::new(&mut self.io).poll_read(cx, buf),
        }
        let shared = self.shared.clone();
        let mut raw = shared.raw();
        raw.waker = Some(cx.waker().clone());
        match self.pump(cx, &mut raw) {
            Poll::Pending => return Poll::Pending,
            // The client is gone: end of the connection.
            Poll::Ready(Err(_)) => return Poll::Ready(Ok(())),
            Poll::Ready(Ok(())) => {}
        }
        if raw.responded {
            // End of the connection once hyper has answered the request taken over,
            // so that nothing pipelined after it is mistaken for a response.
            raw.close = true;
            return match self.pump(cx, &mut raw) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(_) => Poll::Ready(Ok(())),
            };
        }
        Poll::Pending
    }
}

impl<I: Read + Write + Unpin + 'static> Write for Takeover<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.state_for_write() {
            TAKEN => self.swallow(cx, buf.len()),
            RESET => Poll::Ready(Err(self.abort())),
            _ => Pin::new(&mut self.io).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.state_for_write() {
            TAKEN => {
                let len = bufs.iter().map(|b| b.len()).sum();
                self.swallow(cx, len)
            }
            RESET => Poll::Ready(Err(self.abort())),
            _ => Pin::new(&mut self.io).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.shared.ctl.load(Ordering::Acquire) & STATE {
            TAKEN => {
                let shared = self.shared.clone();
                let mut raw = shared.raw();
                if raw.responded {
                    raw.close = true;
                }
                self.pump(cx, &mut raw).map(|_| Ok(()))
            }
            RESET => Poll::Ready(Err(self.abort())),
            _ => Pin::new(&mut self.io).poll_flush(cx),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.shared.ctl.load(Ordering::Acquire) & STATE {
            TAKEN => {
                let shared = self.shared.clone();
                let mut raw = shared.raw();
                raw.close = true;
                self.pump(cx, &mut raw).map(|_| Ok(()))
            }
            RESET => {
                let _ = self.abort();
                Poll::Ready(Ok(()))
            }
            _ => Pin::new(&mut self.io).poll_shutdown(cx),
        }
    }
}

/// The transport's handle on a connection's raw slot.
#[derive(Clone)]
pub(crate) struct RawSlot {
    shared: Arc<Shared>,
}

impl RawSlot {
    /// Opens a new exchange for raw access and gives an HTTP/1.x request the
    /// [`RawWriter`] of that exchange.
    pub(crate) fn attach<B>(&self, req: &mut Request<B>) {
        if req.version() > Version::HTTP_11 {
            return;
        }
        let exchange = self.shared.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut v = self.shared.ctl.load(Ordering::Acquire);
        loop {
            // A connection taken over or reset stays so.
            if matches!(v & STATE, TAKEN | RESET) {
                break;
            }
            match self.shared.ctl.compare_exchange(
                v,
                (exchange << 2) | OPEN,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => v = now,
            }
        }
        req.extensions_mut().insert(RawWriter {
            shared: self.shared.clone(),
            exchange,
        });
    }
}

/// Writes bytes straight to an HTTP/1.x connection, bypassing hyper: for malformed
/// responses, responses cut short and the like. Any registered service may use it.
///
/// Every HTTP/1.x request that reaches a service over a connection of its own (the
/// hyper-util connector's in-memory connections, ureq's socket pairs, and the test
/// server's sockets) carries one in its extensions. HTTP/2 requests have none (a
/// stream of a multiplexed connection cannot be written raw), nor do requests the
/// reqwest gateway hands over one by one.
///
/// Once anything is written through it, the connection belongs to the writer: the
/// response the service then returns is never sent, and the connection closes after
/// that response would have been written. Write the whole response, status line and
/// headers included. The bytes are queued on the connection and written by its task,
/// as soon as it runs, and at the latest when the service returns.
///
/// A writer belongs to its request: once the service has answered, it (and every
/// clone of it) can no longer write, so it can never take over a later request on the
/// same keep-alive connection.
///
/// # Examples
///
/// ```
/// use http_body_util::{BodyExt, Empty};
/// use http_intercept::RawWriter;
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let service = tower::service_fn(|req: http::Request<hyper::body::Incoming>| async move {
///     if let Some(raw) = req.extensions().get::<RawWriter>() {
///         // A body shorter than its announced length.
///         raw.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").await?;
///     }
///     Ok::<_, std::io::Error>(http::Response::new(String::new()))
/// });
/// let _api = http_intercept::add("http://raw-doc.test", service)?;
/// let client = Client::builder(TokioExecutor::new())
///     .build::<_, Empty<bytes::Bytes>>(http_intercept::Connector::new());
///
/// let res = client.get("http://raw-doc.test/".parse()?).await?;
/// assert_eq!(res.status(), 200);
/// assert!(res.into_body().collect().await.is_err()); // cut short
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RawWriter {
    shared: Arc<Shared>,
    exchange: u64,
}

impl RawWriter {
    /// Takes the connection over for this writer's exchange, or says why not.
    fn take(&self) -> io::Result<()> {
        let mine = self.exchange << 2;
        let mut v = self.shared.ctl.load(Ordering::Acquire);
        loop {
            if v & !STATE != mine {
                return Err(self.over());
            }
            match v & STATE {
                TAKEN => return Ok(()),
                RESET => return Err(reset_error()),
                CLOSED => return Err(self.over()),
                _ => {}
            }
            match self.shared.ctl.compare_exchange(
                v,
                mine | TAKEN,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(now) => v = now,
            }
        }
    }

    fn over(&self) -> io::Error {
        io::Error::other(
            "http-intercept: the exchange of this raw writer is over: a raw writer can only \
             write while the service answers the request it came with",
        )
    }

    /// Queues all of `bytes` on the connection, taking it over.
    ///
    /// # Errors
    ///
    /// When the exchange of this writer is over (the service answered), when the
    /// connection was closed or reset through a writer, or when writing earlier raw
    /// bytes failed (the client has gone).
    pub async fn write(&self, bytes: impl AsRef<[u8]>) -> io::Result<()> {
        self.take()?;
        {
            let mut raw = self.shared.raw();
            if let Some(kind) = raw.error {
                return Err(io::Error::new(
                    kind,
                    "http-intercept: the raw connection failed",
                ));
            }
            if raw.close || raw.shut {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "http-intercept: the raw connection was already closed",
                ));
            }
            raw.queue.extend_from_slice(bytes.as_ref());
        }
        self.shared.wake();
        Ok(())
    }

    /// Closes the connection's sending side once the queued bytes are out (the client
    /// reads end-of-file), taking the connection over.
    ///
    /// # Errors
    ///
    /// When the exchange of this writer is over or the connection was reset.
    pub async fn close(&self) -> io::Result<()> {
        self.take()?;
        self.shared.raw().close = true;
        self.shared.wake();
        Ok(())
    }

    /// Resets the connection: over plain TCP the client gets a reset (RST); over TLS
    /// and in memory the stream is closed abruptly. Nothing more is sent on it. Does
    /// nothing once the exchange of this writer is over.
    pub fn reset(&self) {
        let mine = self.exchange << 2;
        let mut v = self.shared.ctl.load(Ordering::Acquire);
        while v & !STATE == mine && matches!(v & STATE, OPEN | TAKEN) {
            match self.shared.ctl.compare_exchange(
                v,
                mine | RESET,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    self.shared.wake();
                    return;
                }
                Err(now) => v = now,
            }
        }
    }

    /// Whether this writer's exchange has been taken over (written, closed or reset).
    pub fn is_taken(&self) -> bool {
        let v = self.shared.ctl.load(Ordering::Acquire);
        v & !STATE == self.exchange << 2 && matches!(v & STATE, TAKEN | RESET)
    }
}

impl fmt::Debug for RawWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawWriter")
            .field("exchange", &self.exchange)
            .field("taken", &self.is_taken())
            .finish()
    }
}
