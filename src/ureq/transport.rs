//! The ureq transports: one end of a socket pair into a registered service, and a
//! wrapper around ureq's own transports that watches their route.

use std::fmt;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use ureq::unversioned::transport::{Buffers, LazyBuffers, NextTimeout, Transport};

use crate::registry::Host;
use crate::route::Route;
use crate::target::Scheme;

/// The client's end of a socket pair whose other end is served, on a thread of its
/// own, with the services registered for a host.
pub(crate) struct InMemory {
    stream: UnixStream,
    buffers: LazyBuffers,
    route: Route,
    authority: Arc<str>,
    scheme: Scheme,
}

impl InMemory {
    pub(crate) fn open(
        host: Arc<Host>,
        scheme: Scheme,
        route: Route,
        buffers: LazyBuffers,
    ) -> io::Result<InMemory> {
        let (client, server) = UnixStream::pair()?;
        server.set_nonblocking(true)?;
        let authority: Arc<str> = host.authority().into();
        let serving_route = route.clone();
        // A thread per connection (ureq pools them): a service that blocks (a sync
        // lock, `std::thread::sleep`, a nested blocking call) stalls its own
        // connection only.
        crate::background::on_own_thread("http-intercept-ureq", move || async move {
            if let Ok(io) = tokio::net::UnixStream::from_std(server) {
                let io = TokioIo::new(io);
                crate::transport::serve(io, host, scheme, Some(serving_route), None).await;
            }
        })?;
        Ok(InMemory {
            stream: client,
            buffers,
            route,
            authority,
            scheme,
        })
    }
}

impl fmt::Debug for InMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemory")
            .field("authority", &self.authority)
            .field("route", &self.route)
            .finish()
    }
}

fn timeout_error(err: io::Error, timeout: NextTimeout) -> ureq::Error {
    match err.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ureq::Error::Timeout(timeout.reason),
        _ => ureq::Error::Io(err),
    }
}

fn check(timeout: NextTimeout) -> Result<NextTimeout, ureq::Error> {
    if timeout.after.is_zero() {
        Err(ureq::Error::Timeout(timeout.reason))
    } else {
        Ok(timeout)
    }
}

impl Transport for InMemory {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        if self.route.is_stale() {
            return Err(ureq::Error::Io(route_changed()));
        }
        let timeout = check(timeout.for_write())?;
        self.stream
            .set_write_timeout(timeout.not_zero().map(|d| *d))?;
        let output = &self.buffers.output()[..amount];
        self.stream
            .write_all(output)
            .map_err(|e| timeout_error(e, timeout))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = check(timeout.for_read())?;
        self.stream
            .set_read_timeout(timeout.not_zero().map(|d| *d))?;
        let input = self.buffers.input_append_buf();
        let amount = loop {
            match self.stream.read(input) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other.map_err(|e| timeout_error(e, timeout))?,
            }
        };
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        if self.route.is_stale() {
            return false;
        }
        // Open if reading would block: no stray bytes, no end of file.
        let mut probe = [0u8];
        let open = self.stream.set_nonblocking(true).is_ok()
            && matches!(self.stream.read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        open && self.stream.set_nonblocking(false).is_ok()
    }

    /// An `https://` connection counts as TLS: ureq needs no TLS to reach a registered
    /// target, and must not wrap this stream in TLS.
    fn is_tls(&self) -> bool {
        self.scheme == Scheme::Https
    }
}

/// One of ureq's own transports, passed through, that stops being reused once its
/// target is registered.
pub(crate) struct PassThrough {
    inner: Box<dyn Transport>,
    route: Route,
}

impl PassThrough {
    pub(crate) fn new(inner: Box<dyn Transport>, route: Route) -> PassThrough {
        PassThrough { inner, route }
    }
}

impl fmt::Debug for PassThrough {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PassThrough")
            .field("inner", &self.inner)
            .field("route", &self.route)
            .finish()
    }
}

impl Transport for PassThrough {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.inner.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        !self.route.is_stale() && self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

fn route_changed() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "http-intercept: the route of this connection changed (an intercept was added or removed)",
    )
}
