//! A bare in-memory transport without http-intercept: a `tokio::io::duplex` pipe whose
//! far end a spawned hyper server serves with [`Hello`]. The row it makes is what the
//! crate's transport would cost with no registry, routes, normalisation or request log:
//! the difference to row 2 is what http-intercept adds.

use std::future::{ready, Ready};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Uri};
use hyper::body::Incoming;
use hyper::rt::{Read, ReadBufCursor, Write};
use hyper::service::service_fn;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::DuplexStream;

use crate::service::Hello;

/// Connects every URI to a fresh pipe into a [`Hello`] server spawned on the current
/// runtime, with the pipe capacity the crate's transport uses.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DuplexConnector;

impl tower::Service<Uri> for DuplexConnector {
    type Response = Pipe;
    type Error = io::Error;
    type Future = Ready<io::Result<Pipe>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _dst: Uri) -> Self::Future {
        let (client, server) = tokio::io::duplex(256 * 1024);
        tokio::spawn(async move {
            let svc = service_fn(|req: Request<Incoming>| Hello.call(req));
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(server), svc)
                .await;
        });
        ready(Ok(Pipe(TokioIo::new(client))))
    }
}

/// The client's end of the pipe.
#[derive(Debug)]
pub(crate) struct Pipe(TokioIo<DuplexStream>);

impl Connection for Pipe {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl Read for Pipe {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl Write for Pipe {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
