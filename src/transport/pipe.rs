//! The in-memory pipe: a tokio duplex whose far end is served on the caller's runtime,
//! with both ends counting what is in flight so that the client's end knows when the
//! connection is idle.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt as _;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};

use super::serve::{serve, HostFuture};
use crate::error::{BoxError, Error, Kind};
use crate::registry::Host;
use crate::service::ResponseBody;
use crate::target::Scheme;

/// How much an in-memory pipe buffers in each direction before a writer waits.
const PIPE_CAPACITY: usize = 256 * 1024;

/// What is in flight on one in-memory connection, as both ends count it.
///
/// The connection is idle when every byte either end wrote has been read by the other
/// and no exchange is in progress (a service computing its answer, or a response body
/// still streaming). Only then may the client's end report end-of-file after its route
/// changed: a request or response in flight finishes first.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    written_by_client: AtomicU64,
    read_by_server: AtomicU64,
    written_by_server: AtomicU64,
    read_by_client: AtomicU64,
    exchanges: AtomicU64,
}

impl Activity {
    pub(crate) fn is_idle(&self) -> bool {
        self.exchanges.load(Ordering::SeqCst) == 0
            && self.written_by_client.load(Ordering::SeqCst)
                == self.read_by_server.load(Ordering::SeqCst)
            && self.written_by_server.load(Ordering::SeqCst)
                == self.read_by_client.load(Ordering::SeqCst)
    }

    /// Counts `fut`'s exchange as in progress until it failed, or its response body
    /// was sent or dropped.
    pub(super) fn track(self: &Arc<Self>, fut: HostFuture) -> HostFuture {
        self.exchanges.fetch_add(1, Ordering::SeqCst);
        let guard = Exchange(self.clone());
        Box::pin(async move {
            let res = fut.await?;
            Ok(res.map(|body| {
                let body: ResponseBody = Tracked {
                    body,
                    _guard: guard,
                }
                .boxed_unsync();
                body
            }))
        })
    }
}

/// One exchange in progress; it ends when this is dropped.
struct Exchange(Arc<Activity>);

impl Drop for Exchange {
    fn drop(&mut self) {
        self.0.exchanges.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A response body that keeps its exchange in progress while it exists.
struct Tracked {
    body: ResponseBody,
    _guard: Exchange,
}

impl Body for Tracked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Which end of the pipe a [`Counted`] stream is.
#[derive(Clone, Copy, Debug)]
enum End {
    Client,
    Server,
}

/// One end of the duplex, counting the bytes it reads and writes into the
/// connection's [`Activity`].
#[derive(Debug)]
pub(crate) struct Counted {
    io: DuplexStream,
    end: End,
    activity: Arc<Activity>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.io).poll_read(cx, buf);
        let n = (buf.filled().len() - before) as u64;
        if n > 0 {
            let counter = match self.end {
                End::Client => &self.activity.read_by_client,
                End::Server => &self.activity.read_by_server,
            };
            counter.fetch_add(n, Ordering::SeqCst);
        }
        poll
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll {
            let counter = match self.end {
                End::Client => &self.activity.written_by_client,
                End::Server => &self.activity.written_by_server,
            };
            counter.fetch_add(n as u64, Ordering::SeqCst);
        }
        poll
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// The client's end of an in-memory connection.
#[derive(Debug)]
pub(crate) struct ClientEnd {
    pub(crate) io: TokioIo<Counted>,
    pub(crate) activity: Arc<Activity>,
}

/// Opens an in-memory connection to `host`: spawns the serving end on the current tokio
/// runtime and returns the client's end. The serving end shuts down gracefully (the
/// exchanges in progress finish) once the host's registration is removed.
///
/// # Errors
///
/// Without a tokio runtime on this thread.
pub(crate) fn connect(host: Arc<Host>, scheme: Scheme) -> Result<ClientEnd, Error> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
        Error::new(Kind::NoRuntime {
            authority: host.authority().to_owned(),
        })
    })?;
    let activity = Arc::new(Activity::default());
    let (client, server) = tokio::io::duplex(PIPE_CAPACITY);
    let server = Counted {
        io: server,
        end: End::Server,
        activity: activity.clone(),
    };
    let route = host.route();
    runtime.spawn(serve(
        TokioIo::new(server),
        host,
        scheme,
        Some(route),
        Some(activity.clone()),
    ));
    let client = Counted {
        io: client,
        end: End::Client,
        activity: activity.clone(),
    };
    Ok(ClientEnd {
        io: TokioIo::new(client),
        activity,
    })
}
