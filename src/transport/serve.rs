//! Serving a connection with the services registered for a host, and handing each
//! request to the mount that serves its path.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::uri::{Authority, PathAndQuery, Scheme as UriScheme};
use http::{header, HeaderValue, Request, Response, StatusCode, Uri};
use hyper::body::Incoming;
use hyper_util::rt::TokioExecutor;
use hyper_util::server::conn::auto;

use crate::error::BoxError;
use crate::hop::strip_hop_by_hop;
use crate::log::{BodySlot, LoggedRequest};
use crate::registry::{strip_prefix, Host};
use crate::route::Route;
use crate::service::{text_response, Abort, ResponseBody};
use crate::target::Scheme;

/// The path prefix a request was mounted under, when its target had one
/// (`add("http://api.test/v1", svc)`): the service sees `/users` for
/// `http://api.test/v1/users`, and this extension holds `"/v1"`, like WSGI's
/// `SCRIPT_NAME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathPrefix(Arc<str>);

impl PathPrefix {
    /// The prefix, without a trailing slash (`"/v1"`).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a request goes that reaches a connection after its route turned stale: where
/// a new connection from the same client would go (another registration, the real
/// network, or a refusal). Made by the connector that opened the connection.
pub(crate) type Late = Arc<dyn Fn(Request<Incoming>) -> HostFuture + Send + Sync>;

/// Serves one connection with the services registered for `host`, until the client
/// closes it. When a `route` is given and turns stale: with a `late` path, each request
/// that still arrives goes there (HTTP/1.1 answers then close the connection); without
/// one, the connection shuts down gracefully (requests in flight finish, no new one
/// starts).
pub(crate) async fn serve<I>(
    io: I,
    host: Arc<Host>,
    scheme: Scheme,
    route: Option<Route>,
    late: Option<Late>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    // Raw access for the HTTP/1.x requests of the connection (see `RawWriter`).
    let (io, raw) = super::raw::wrap(io);
    let builder = auto::Builder::new(TokioExecutor::new());
    // With a late path the connection stays open after a route change: requests that
    // still arrive are sent on, never failed (HTTP/1.1 answers then close the
    // connection). Without one it shuts down gracefully.
    let (late, shut_down_on) = match (route, late) {
        (Some(route), Some(late)) => (Some((route, late)), None),
        (route, _) => (None, route),
    };
    let service = HostService {
        host,
        scheme,
        late,
        raw,
    };
    let conn = builder.serve_connection_with_upgrades(io, service);
    let Some(route) = shut_down_on else {
        let _ = conn.await;
        return;
    };
    let mut conn = std::pin::pin!(conn);
    let mut shutting_down = false;
    let _ = std::future::poll_fn(|cx| {
        if !shutting_down && route.poll_stale(cx) {
            shutting_down = true;
            conn.as_mut().graceful_shutdown();
        }
        conn.as_mut().poll(cx)
    })
    .await;
}

/// The hyper service of one connection: routes each request to a mount of the host.
#[derive(Clone)]
struct HostService {
    host: Arc<Host>,
    scheme: Scheme,
    /// For in-memory connections: the connection's route, and where requests go once
    /// it is stale.
    late: Option<(Route, Late)>,
    /// The connection's raw slot, handed to HTTP/1.x requests.
    raw: super::raw::RawSlot,
}

pub(crate) type HostFuture =
    Pin<Box<dyn Future<Output = Result<Response<ResponseBody>, BoxError>> + Send>>;

impl hyper::service::Service<Request<Incoming>> for HostService {
    type Response = Response<ResponseBody>;
    /// Only for [`Abort`]: hyper answers a service error by closing the HTTP/1.1
    /// connection or resetting the HTTP/2 stream.
    type Error = BoxError;
    type Future = HostFuture;

    fn call(&self, req: Request<Incoming>) -> HostFuture {
        let req = {
            let mut req = req;
            self.raw.attach(&mut req);
            req
        };
        let late = self
            .late
            .as_ref()
            .map(|(route, late)| (route.is_stale(), late));
        // Without a late path, a host that closed while the request was on its way
        // answers as an empty one does.
        dispatch_or_late(&self.host, req, self.scheme, late)
            .unwrap_or_else(|req| nothing_mounted(&self.host, req.uri().path()))
    }
}

/// Hands one request to the mount of `host` that serves its path, as every transport
/// does: normalised (see the crate docs), logged, counted, its mount's path prefix
/// stripped; a 404 that says what is mounted when nothing serves the path. The error
/// is only for [`Abort`].
///
/// `Err` gives the request back, normalised, when `host` lost its last registration
/// (between the caller's look-up and now): the caller decides again where it goes,
/// instead of answering a 404 from a host that is no longer there.
pub(crate) fn dispatch(
    host: &Host,
    req: Request<Incoming>,
    scheme: Scheme,
) -> Result<HostFuture, Box<Request<Incoming>>> {
    dispatch_or_late(host, req, scheme, None)
}

/// The 404 of a host where nothing serves `path`, saying what is mounted.
fn nothing_mounted(host: &Host, path: &str) -> HostFuture {
    let message = format!(
        "http-intercept: nothing is mounted at {path} on {}; mounted path prefixes: {}",
        host.authority(),
        host.prefixes().join(", ")
    );
    let res = text_response(StatusCode::NOT_FOUND, "not-found", message);
    Box::pin(std::future::ready(Ok(res)))
}

/// [`dispatch`], for a connection that has a `late` path: taken when its route is stale
/// (the `bool`), or when the host lost its last registration while the request was on
/// its way. Such a request never gets a 404 from a host with nothing mounted. Without a
/// late path, such a request is given back (`Err`).
fn dispatch_or_late(
    host: &Host,
    mut req: Request<Incoming>,
    scheme: Scheme,
    late: Option<(bool, &Late)>,
) -> Result<HostFuture, Box<Request<Incoming>>> {
    normalize(&mut req, scheme, host.authority());
    if let Some((true, late)) = late {
        return Ok(send_late(late, req));
    }
    let path = req.uri().path();
    let Some(mount) = host.mount_for(path) else {
        if host.is_closed() {
            return match late {
                Some((_, late)) => Ok(send_late(late, req)),
                None => Err(Box::new(req)),
            };
        }
        return Ok(nothing_mounted(host, path));
    };
    if let Some(prefix) = mount.target().path_prefix() {
        let prefix: Arc<str> = prefix.into();
        strip_mount_prefix(&mut req, &prefix);
        req.extensions_mut().insert(PathPrefix(prefix));
    }
    let entry = LoggedRequest::new(&req);
    // A service that reads the whole body gives it to the log through this slot.
    req.extensions_mut().insert(BodySlot(entry.clone()));
    mount.hit(entry.clone());
    let fut = mount
        .service()
        .call_guarded(req, mount.label().clone(), mount.panic().clone());
    Ok(Box::pin(async move {
        let res = fut.await;
        if res.extensions().get::<Abort>().is_some() {
            return Err("http-intercept: the service aborted the exchange".into());
        }
        entry.answered(res.status());
        Ok(res)
    }))
}

/// Hands a request that arrived after its connection's route changed to `late`, as a
/// proxy would: its hop-by-hop headers removed, and over HTTP/1.1 an answer that closes
/// the connection, so that the client's next request opens a new one.
fn send_late(late: &Late, mut req: Request<Incoming>) -> HostFuture {
    let h1 = req.version() < http::Version::HTTP_2;
    strip_hop_by_hop(req.headers_mut());
    let fut = late(req);
    Box::pin(async move {
        let mut res = fut.await?;
        strip_hop_by_hop(res.headers_mut());
        if h1 {
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        Ok(res)
    })
}

/// Gives the request the absolute-form URI and the `Host` header described in the
/// module docs.
fn normalize(req: &mut Request<Incoming>, scheme: Scheme, fallback_authority: &str) {
    let authority = req
        .uri()
        .authority()
        .cloned()
        .or_else(|| {
            req.headers()
                .get(header::HOST)
                .and_then(|h| Authority::try_from(h.as_bytes()).ok())
        })
        .or_else(|| Authority::try_from(fallback_authority).ok());
    let Some(authority) = authority else { return };
    if !req.headers().contains_key(header::HOST) {
        if let Ok(value) = HeaderValue::from_str(authority.as_str()) {
            req.headers_mut().insert(header::HOST, value);
        }
    }
    if req.uri().scheme().is_none() {
        let mut parts = req.uri().clone().into_parts();
        parts.scheme = Some(match scheme {
            Scheme::Http => UriScheme::HTTP,
            Scheme::Https => UriScheme::HTTPS,
        });
        parts.authority = Some(authority);
        if parts.path_and_query.is_none() {
            parts.path_and_query = Some(PathAndQuery::from_static("/"));
        }
        if let Ok(uri) = Uri::from_parts(parts) {
            *req.uri_mut() = uri;
        }
    }
}

fn strip_mount_prefix(req: &mut Request<Incoming>, prefix: &str) {
    let Some(rest) = strip_prefix(req.uri().path(), prefix) else {
        return;
    };
    let path_and_query = match req.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    let mut parts = req.uri().clone().into_parts();
    parts.path_and_query = PathAndQuery::try_from(path_and_query).ok();
    if let Ok(uri) = Uri::from_parts(parts) {
        *req.uri_mut() = uri;
    }
}
