//! The stream a [`Connector`](super::Connector) returns.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::rt::{Read, ReadBufCursor, Write};
use hyper_util::client::legacy::connect::{Connected, Connection};

use crate::route::Route;
use crate::transport::ClientEnd;

/// A connection made by a [`Connector`](super::Connector): either in memory, into a
/// registered service, or the wrapped connector's own stream, passed through.
///
/// Either way it follows its route, so that a client does not keep using it once the
/// registry would send a new connection elsewhere:
///
/// - in memory, once the registration is dropped (or shadowed by one the client sees
///   first): the connection stays open, and each request that still arrives on it,
///   even one the client sent at the very moment of the change, goes where a new
///   connection would go: the host registered now, or the real host through the
///   wrapped connector. Where a new connection would fail (refused by the
///   [`Policy`](super::Policy), or the real host unreachable) the answer is a 502 whose
///   body says why, marked with [`ERROR_HEADER`](crate::ERROR_HEADER) `denied` or
///   `late`. An HTTP/1.1 answer sent that way closes the
///   connection; an HTTP/2 connection keeps carrying requests that way (one registry
///   look-up each) until the client drops it. A request is never failed by the change;
/// - passed through, once the target is registered: reads report end-of-file and
///   writes fail with a broken pipe at once, so the client reconnects into the service
///   (an exchange in progress with the real host at that moment is cut). The
///   registration waits, half a second at the most, until such connections of clients
///   on other threads have closed, so that the next request made after it opens a new
///   connection.
pub struct InterceptStream<T> {
    io: Io<T>,
    route: Route,
}

enum Io<T> {
    InMemory(ClientEnd),
    PassThrough(T),
}

impl<T> InterceptStream<T> {
    pub(crate) fn in_memory(end: ClientEnd, route: Route) -> Self {
        InterceptStream {
            io: Io::InMemory(end),
            route,
        }
    }

    /// Whether a passed-through connection's route changed: time to report
    /// end-of-file. (In-memory connections follow route changes on their serving end.)
    fn is_finished(&self, cx: &mut Context<'_>) -> bool {
        match &self.io {
            Io::InMemory(_) => false,
            Io::PassThrough(_) => self.route.poll_stale(cx),
        }
    }

    pub(crate) fn pass_through(io: T, route: Route) -> Self {
        InterceptStream {
            io: Io::PassThrough(io),
            route,
        }
    }

    /// Whether this connection goes into a registered service, in memory.
    pub fn is_intercepted(&self) -> bool {
        matches!(self.io, Io::InMemory(_))
    }

    /// The wrapped connector's stream, for a connection that passed through.
    pub fn get_ref(&self) -> Option<&T> {
        match &self.io {
            Io::PassThrough(io) => Some(io),
            Io::InMemory(_) => None,
        }
    }

    fn route_changed() -> io::Error {
        io::Error::new(
            io::ErrorKind::BrokenPipe,
            "http-intercept: the route of this connection changed (an intercept was added or removed)",
        )
    }
}

impl<T: Read + Unpin> Read for InterceptStream<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.is_finished(cx) {
            // End of file: the client treats the connection as closed by its peer.
            return Poll::Ready(Ok(()));
        }
        match &mut this.io {
            Io::InMemory(end) => Pin::new(&mut end.io).poll_read(cx, buf),
            Io::PassThrough(io) => Pin::new(io).poll_read(cx, buf),
        }
    }
}

impl<T: Write + Unpin> Write for InterceptStream<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.is_finished(cx) {
            return Poll::Ready(Err(Self::route_changed()));
        }
        match &mut this.io {
            Io::InMemory(end) => Pin::new(&mut end.io).poll_write(cx, buf),
            Io::PassThrough(io) => Pin::new(io).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.is_finished(cx) {
            return Poll::Ready(Err(Self::route_changed()));
        }
        match &mut this.io {
            Io::InMemory(end) => Pin::new(&mut end.io).poll_write_vectored(cx, bufs),
            Io::PassThrough(io) => Pin::new(io).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match &self.io {
            Io::InMemory(end) => end.io.is_write_vectored(),
            Io::PassThrough(io) => io.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::InMemory(end) => Pin::new(&mut end.io).poll_flush(cx),
            Io::PassThrough(io) => Pin::new(io).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().io {
            Io::InMemory(end) => Pin::new(&mut end.io).poll_shutdown(cx),
            Io::PassThrough(io) => Pin::new(io).poll_shutdown(cx),
        }
    }
}

impl<T> Drop for InterceptStream<T> {
    fn drop(&mut self) {
        // A registration that diverted this connection waits for it to be gone.
        self.route.ack();
    }
}

impl<T: Connection> Connection for InterceptStream<T> {
    fn connected(&self) -> Connected {
        match &self.io {
            Io::InMemory(_) => Connected::new(),
            Io::PassThrough(io) => io.connected(),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for InterceptStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("InterceptStream");
        match &self.io {
            Io::InMemory(_) => d.field("io", &"in memory"),
            Io::PassThrough(io) => d.field("io", io),
        };
        d.field("route", &self.route).finish()
    }
}
