//! The in-memory pipe: a tokio duplex whose far end is served on the caller's runtime.

use std::sync::Arc;

use hyper_util::rt::TokioIo;
use tokio::io::DuplexStream;

use super::serve::{serve, Late};
use crate::error::{Error, Kind};
use crate::registry::Host;
use crate::route::Route;
use crate::target::Scheme;

/// How much an in-memory pipe buffers in each direction before a writer waits.
const PIPE_CAPACITY: usize = 256 * 1024;

/// The client's end of an in-memory connection.
#[derive(Debug)]
pub(crate) struct ClientEnd {
    pub(crate) io: TokioIo<DuplexStream>,
}

/// Opens an in-memory connection to `host`: spawns the serving end on the current tokio
/// runtime and returns the client's end. Once `route` turns stale (the registration
/// was removed, or another one now comes first), the connection stays open and hands
/// each request that still arrives to `late`, which sends it where a new connection
/// would go: a request the client already sent is never failed by the change.
///
/// # Errors
///
/// Without a tokio runtime on this thread.
pub(crate) fn connect(
    host: Arc<Host>,
    scheme: Scheme,
    route: Route,
    late: Late,
) -> Result<ClientEnd, Error> {
    let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
        Error::new(Kind::NoRuntime {
            authority: host.authority().to_owned(),
        })
    })?;
    let (client, server) = tokio::io::duplex(PIPE_CAPACITY);
    runtime.spawn(serve(
        TokioIo::new(server),
        host,
        scheme,
        Some(route),
        Some(late),
    ));
    Ok(ClientEnd {
        io: TokioIo::new(client),
    })
}
