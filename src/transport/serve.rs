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

use super::pipe::Activity;
use crate::error::BoxError;
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

/// Serves one connection with the services registered for `host`, until the client
/// closes it, or, when a `route` is given, until that route turns stale (then the
/// connection shuts down gracefully: requests in flight finish, no new one starts).
pub(crate) async fn serve<I>(
    io: I,
    host: Arc<Host>,
    scheme: Scheme,
    route: Option<Route>,
    activity: Option<Arc<Activity>>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    // Feature "server": the stream is wrapped so that `.asis` files, fault pipes and
    // handlers can write raw bytes on HTTP/1.1 connections (see `server::RawWriter`).
    #[cfg(feature = "server")]
    let (io, raw) = crate::server::raw::wrap(io);
    let builder = auto::Builder::new(TokioExecutor::new());
    let service = HostService {
        host,
        scheme,
        activity,
        #[cfg(feature = "server")]
        raw,
    };
    let conn = builder.serve_connection_with_upgrades(io, service);
    let Some(route) = route else {
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
    /// For in-memory connections: counts the exchanges in progress, so that the
    /// client's end knows when the connection is idle.
    activity: Option<Arc<Activity>>,
    /// Feature "server": the connection's raw slot, handed to HTTP/1.x requests.
    #[cfg(feature = "server")]
    raw: crate::server::raw::RawConn,
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
        #[cfg(feature = "server")]
        let req = {
            let mut req = req;
            self.raw.attach(&mut req);
            req
        };
        let fut = dispatch(&self.host, req, self.scheme);
        match &self.activity {
            None => fut,
            Some(activity) => activity.track(fut),
        }
    }
}

/// Hands one request to the mount of `host` that serves its path, as every transport
/// does: normalised (see the crate docs), logged, counted, its mount's path prefix
/// stripped; a 404 that says what is mounted when nothing serves the path. The error
/// is only for [`Abort`].
pub(crate) fn dispatch(host: &Host, mut req: Request<Incoming>, scheme: Scheme) -> HostFuture {
    normalize(&mut req, scheme, host.authority());
    let path = req.uri().path();
    let Some(mount) = host.mount_for(path) else {
        let message = format!(
            "http-intercept: nothing is mounted at {path} on {}; mounted path prefixes: {}",
            host.authority(),
            host.prefixes().join(", ")
        );
        let res = text_response(StatusCode::NOT_FOUND, "not-found", message);
        return Box::pin(std::future::ready(Ok(res)));
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
    let fut = mount.service().call_guarded(req, mount.label().clone());
    Box::pin(async move {
        let res = fut.await;
        if res.extensions().get::<Abort>().is_some() {
            return Err("http-intercept: the service aborted the exchange".into());
        }
        entry.answered(res.status());
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
