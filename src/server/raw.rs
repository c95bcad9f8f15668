//! Raw access to an HTTP/1.1 connection: the hook that lets `.asis` files, the fault
//! pipes and handlers write bytes that hyper would never write.
//!
//! The transport wraps every served connection in a [`RawIo`], which shares a slot
//! with a [`RawConn`]. For HTTP/1.1 requests the transport inserts a [`RawWriter`] into
//! the request's extensions. A service that writes through it takes the connection
//! over: its bytes go straight to the stream, whatever hyper then writes for that
//! request's response is swallowed, and the connection is closed once hyper has
//! written it (so nothing pipelined after it can be mistaken for a response).

use std::any::Any;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use http::{Request, Version};
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::rt::TokioIo;

/// Wraps a connection's stream, and returns the handle the transport keeps for it.
pub(crate) fn wrap<I>(io: I) -> (RawIo<I>, RawConn)
where
    I: Read + Write + Unpin + Send + 'static,
{
    let shared = Arc::new(Shared {
        inner: Mutex::new(Inner {
            io,
            mode: Mode::Normal,
            read_waker: None,
        }),
    });
    (
        RawIo {
            shared: shared.clone(),
        },
        RawConn { shared },
    )
}

/// The stream hyper serves: passes everything through until a [`RawWriter`] takes the
/// connection over.
pub(crate) struct RawIo<I> {
    shared: Arc<Shared<I>>,
}

struct Shared<I> {
    inner: Mutex<Inner<I>>,
}

struct Inner<I> {
    io: I,
    mode: Mode,
    /// hyper's read, parked while a raw response is being written.
    read_waker: Option<Waker>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// hyper owns the stream.
    Normal,
    /// A raw writer took the stream over. `responded`: hyper has since written (into
    /// the void) its own response for that request, so the exchange is over.
    Raw { responded: bool, shut: bool },
    /// The connection was reset: every operation fails, so hyper drops it.
    Reset,
}

impl<I> Shared<I> {
    fn lock(&self) -> MutexGuard<'_, Inner<I>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn reset_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "http-intercept: the connection was reset on purpose",
    )
}

impl<I: Read + Write + Unpin> Read for RawIo<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let mut inner = self.shared.lock();
        match inner.mode {
            Mode::Normal => Pin::new(&mut inner.io).poll_read(cx, buf),
            // End of the connection once hyper has finished the request's response.
            Mode::Raw {
                responded: true, ..
            } => Poll::Ready(Ok(())),
            Mode::Raw { .. } => {
                inner.read_waker = Some(cx.waker().clone());
                Poll::Pending
            }
            Mode::Reset => Poll::Ready(Err(reset_error())),
        }
    }
}

impl<I: Read + Write + Unpin> Write for RawIo<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut inner = self.shared.lock();
        match inner.mode {
            Mode::Normal => Pin::new(&mut inner.io).poll_write(cx, buf),
            Mode::Raw { shut, .. } => {
                // hyper's own response to a request answered raw: swallowed.
                inner.mode = Mode::Raw {
                    responded: true,
                    shut,
                };
                if let Some(waker) = inner.read_waker.take() {
                    waker.wake();
                }
                Poll::Ready(Ok(buf.len()))
            }
            Mode::Reset => Poll::Ready(Err(reset_error())),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut inner = self.shared.lock();
        if inner.mode == Mode::Normal {
            return Pin::new(&mut inner.io).poll_write_vectored(cx, bufs);
        }
        drop(inner);
        let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| b);
        self.poll_write(cx, first)
    }

    fn is_write_vectored(&self) -> bool {
        self.shared.lock().io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut inner = self.shared.lock();
        match inner.mode {
            Mode::Normal => Pin::new(&mut inner.io).poll_flush(cx),
            Mode::Raw {
                responded: true,
                shut: false,
            } => {
                let done = Pin::new(&mut inner.io).poll_shutdown(cx);
                if done.is_ready() {
                    inner.mode = Mode::Raw {
                        responded: true,
                        shut: true,
                    };
                }
                done.map(|_| Ok(()))
            }
            Mode::Raw { .. } => Poll::Ready(Ok(())),
            Mode::Reset => Poll::Ready(Err(reset_error())),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut inner = self.shared.lock();
        match inner.mode {
            Mode::Raw { shut: true, .. } | Mode::Reset => Poll::Ready(Ok(())),
            _ => Pin::new(&mut inner.io).poll_shutdown(cx),
        }
    }
}

/// What the raw writer may do with a connection, with the stream's type erased.
trait Conn: Send + Sync {
    fn poll_write_raw(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    fn poll_flush_raw(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    fn poll_shutdown_raw(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;
    fn reset(&self);
    fn is_taken(&self) -> bool;
}

impl<I> Conn for Shared<I>
where
    I: Read + Write + Unpin + Send + 'static,
{
    fn poll_write_raw(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let mut inner = self.lock();
        match inner.mode {
            Mode::Normal => {
                inner.mode = Mode::Raw {
                    responded: false,
                    shut: false,
                };
            }
            Mode::Raw { shut: true, .. } => {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "http-intercept: the raw connection was already closed",
                )))
            }
            Mode::Raw { .. } => {}
            Mode::Reset => return Poll::Ready(Err(reset_error())),
        }
        Pin::new(&mut inner.io).poll_write(cx, buf)
    }

    fn poll_flush_raw(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut inner = self.lock();
        match inner.mode {
            Mode::Raw { shut: true, .. } => Poll::Ready(Ok(())),
            Mode::Reset => Poll::Ready(Err(reset_error())),
            _ => Pin::new(&mut inner.io).poll_flush(cx),
        }
    }

    fn poll_shutdown_raw(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut inner = self.lock();
        let responded = match inner.mode {
            Mode::Raw { shut: true, .. } | Mode::Reset => return Poll::Ready(Ok(())),
            Mode::Raw { responded, .. } => responded,
            Mode::Normal => false,
        };
        let done = Pin::new(&mut inner.io).poll_shutdown(cx);
        if done.is_ready() {
            inner.mode = Mode::Raw {
                responded,
                shut: true,
            };
        }
        done
    }

    fn reset(&self) {
        let mut inner = self.lock();
        // Over TCP, a zero linger turns the close into a reset (RST); other streams
        // just close.
        let io: &dyn Any = &inner.io;
        if let Some(tcp) = io.downcast_ref::<TokioIo<tokio::net::TcpStream>>() {
            #[allow(deprecated)]
            let _ = tcp.inner().set_linger(Some(std::time::Duration::ZERO));
        }
        inner.mode = Mode::Reset;
        if let Some(waker) = inner.read_waker.take() {
            waker.wake();
        }
    }

    fn is_taken(&self) -> bool {
        self.lock().mode != Mode::Normal
    }
}

/// The transport's handle on a connection's raw slot.
#[derive(Clone)]
pub(crate) struct RawConn {
    shared: Arc<dyn Conn>,
}

impl RawConn {
    /// Gives an HTTP/1.x request the [`RawWriter`] of its connection.
    pub(crate) fn attach<B>(&self, req: &mut Request<B>) {
        if req.version() <= Version::HTTP_11 {
            req.extensions_mut().insert(RawWriter {
                conn: self.shared.clone(),
            });
        }
    }
}

/// Writes bytes straight to an HTTP/1.1 connection, bypassing hyper: for malformed
/// responses, responses cut short and the like.
///
/// Every HTTP/1.x request served by http-intercept (in memory or by
/// [`serve`](crate::server::serve)) carries one in its extensions; handlers get it from
/// [`Request::raw_writer`](crate::server::Request::raw_writer). HTTP/2 requests have
/// none: a stream of a multiplexed connection cannot be written raw.
///
/// Once anything is written through it, the connection belongs to the writer: the
/// response the service then returns is never sent, and the connection is closed
/// after that response would have been written. Write the whole response, status line
/// and headers included.
///
/// # Examples
///
/// ```
/// use http_intercept::server::{Files, Request, ResponseBuilder};
///
/// let files = Files::new("tests/www").handler("/broken", |req: Request, res: ResponseBuilder| async move {
///     if let Some(raw) = req.raw_writer() {
///         raw.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort").await?;
///     }
///     Ok::<_, std::io::Error>(res)
/// });
/// # drop(files);
/// ```
#[derive(Clone)]
pub struct RawWriter {
    conn: Arc<dyn Conn>,
}

impl RawWriter {
    /// Writes all of `bytes` to the connection and flushes them.
    ///
    /// # Errors
    ///
    /// Returns the stream's error, for example when the client has gone, or when the
    /// connection was already closed or reset through this writer.
    pub async fn write(&self, bytes: impl AsRef<[u8]>) -> io::Result<()> {
        let mut bytes = bytes.as_ref();
        while !bytes.is_empty() {
            let n = poll_fn(|cx| self.conn.poll_write_raw(cx, bytes)).await?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            bytes = &bytes[n..];
        }
        poll_fn(|cx| self.conn.poll_flush_raw(cx)).await
    }

    /// Closes the connection's sending side now (the client reads end-of-file).
    ///
    /// # Errors
    ///
    /// Returns the stream's error.
    pub async fn close(&self) -> io::Result<()> {
        poll_fn(|cx| self.conn.poll_shutdown_raw(cx)).await
    }

    /// Resets the connection: over plain TCP the client gets a reset (RST); over TLS
    /// and in memory the stream is closed abruptly. Nothing more is sent on it.
    pub fn reset(&self) {
        self.conn.reset();
    }

    /// Whether the connection has been taken over (written, closed or reset) already.
    pub fn is_taken(&self) -> bool {
        self.conn.is_taken()
    }
}

impl fmt::Debug for RawWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawWriter")
            .field("taken", &self.is_taken())
            .finish()
    }
}
