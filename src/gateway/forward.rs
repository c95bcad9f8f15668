//! Forwarding what the gateway receives: handed to the registered service the way every
//! transport hands requests over, or, for a request that arrives after its target was
//! removed, answered as a fresh client's would be.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::uri::Authority;
use http::{Request, Response, StatusCode, Uri, Version};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use std::sync::Arc;

use super::server::{Miss, View};
use crate::error::BoxError;
use crate::hop::strip_hop_by_hop;
use crate::registry::Host;
use crate::target::{uri_target, Scheme};
use crate::transport;

/// The body of every response the gateway gives.
pub(super) type Body = UnsyncBoxBody<Bytes, BoxError>;

/// Hands `req` to `host`, the one its client finds for it, directly: no second HTTP
/// exchange, so the service sees the HTTP version the client spoke to the gateway. The
/// proxy's own headers are removed first. If `host` lost its last registration on the
/// way, the request is answered as one for an unregistered target (`view`'s miss).
pub(super) async fn forward(
    req: Request<Incoming>,
    host: Arc<Host>,
    view: &View,
    authority: &str,
    scheme: Scheme,
    real: &RealNetwork,
) -> Result<Response<Body>, h2::Error> {
    let (mut parts, body) = req.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    let answer = match transport::dispatch(&host, Request::from_parts(parts, body), scheme) {
        Ok(answer) => answer,
        Err(req) => {
            let req = *req;
            return match (view.miss(authority), scheme) {
                (Miss::Denied, _) => Ok(denied(authority, scheme)),
                (Miss::Forward, Scheme::Http) => Ok(to_real_host(req, authority, real).await),
                (Miss::Forward, Scheme::Https) => late(req, authority, scheme, real).await,
                (Miss::Forbidden, _) => Ok(not_intercepted(authority)),
            };
        }
    };
    match answer.await {
        Ok(res) => {
            let (mut parts, body) = res.into_parts();
            strip_hop_by_hop(&mut parts.headers);
            Ok(Response::from_parts(parts, body))
        }
        // The service aborted (`http_intercept::Abort`): hyper closes the connection
        // (HTTP/1.1) or resets the stream (HTTP/2), as for an in-memory client.
        Err(_) => Err(h2::Reason::INTERNAL_ERROR.into()),
    }
}

/// The gateway's way to the real network, for `http://` requests that reach it for a
/// target that is not (or no longer) registered.
#[derive(Default)]
pub(super) struct RealNetwork {
    _private: (),
}

impl RealNetwork {
    /// A client that speaks `version` to the real host, as the client that sent the
    /// request would have (HTTP/2 with prior knowledge if it spoke HTTP/2 to us). A new
    /// one each time: nothing is pooled, so nothing outlives the runtime it was made on.
    fn client(&self, version: Version) -> Client<HttpConnector, Incoming> {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        let mut builder = Client::builder(TokioExecutor::new());
        builder.pool_max_idle_per_host(0);
        if version == Version::HTTP_2 {
            builder.http2_only(true);
        }
        builder.build(http)
    }
}

/// Sends `req`, an `http://` request for `authority` that is not intercepted, to the
/// real host, as a forward proxy does; the answer, or a 502 that says why there is
/// none. Over HTTP/1.1 the connection closes after it, so the client's next request
/// for `authority` connects afresh. (Best effort: this leg ignores the client's own
/// proxies, DNS overrides and timeouts.)
pub(super) async fn to_real_host(
    req: Request<Incoming>,
    authority: &str,
    real: &RealNetwork,
) -> Response<Body> {
    let version = req.version();
    let mut res = match to_origin_request(req, authority, Scheme::Http) {
        Some(req) => match real.client(version).request(req).await {
            Ok(res) => response_from(res),
            Err(e) => text(
                StatusCode::BAD_GATEWAY,
                &format!(
                    "{authority} is not intercepted, and the real host failed: {}",
                    crate::service::error_chain(&e)
                ),
            ),
        },
        None => text(StatusCode::BAD_REQUEST, "bad request target"),
    };
    if version != Version::HTTP_2 {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

/// Answers a request for an authority whose registration was removed while the client
/// held this connection in its pool.
///
/// reqwest keys its pool by target, not by proxy: after the removal its next request
/// for the target still comes down the pooled gateway connection (in absolute form
/// without credentials, or inside the tunnel). Closing HTTP/1.1 connections at the
/// removal would not prevent that: a client that writes its next request before its
/// runtime noticed the close gets an `IncompleteMessage` error nobody retries. So:
///
/// - HTTP/2: the connection sent a GOAWAY at the removal; the stream is refused, and
///   reqwest retries it on a new connection, which goes direct.
/// - HTTP/1.1, `http://`: this one request goes to the real host from here
///   ([`to_real_host`]), then the connection closes; the next one connects afresh.
/// - HTTP/1.1 inside a tunnel (`https://` with `http1_only`): a 503 that says why, and
///   the connection closes; the next request goes direct.
pub(super) async fn late(
    req: Request<Incoming>,
    authority: &str,
    scheme: Scheme,
    real: &RealNetwork,
) -> Result<Response<Body>, h2::Error> {
    if req.version() == Version::HTTP_2 {
        return Err(h2::Reason::REFUSED_STREAM.into());
    }
    let mut res = match scheme {
        Scheme::Http => return Ok(to_real_host(req, authority, real).await),
        Scheme::Https => text(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "{authority} stopped being intercepted while this connection was pooled; \
                 the next request goes to the real host"
            ),
        ),
    };
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    Ok(res)
}

/// The request the real origin server gets: proxy and hop-by-hop headers removed, a
/// `Host` header (HTTP/1.1), the version the client spoke, and an absolute URI (the client's pool key; it writes origin
/// form on the wire) whose authority is the one the client wrote.
fn to_origin_request(
    req: Request<Incoming>,
    authority: &str,
    scheme: Scheme,
) -> Option<Request<Incoming>> {
    let (mut parts, body) = req.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    // The authority as the client wrote it (default port left out), if it is the one
    // this request is routed to; inside a tunnel `Host` cannot re-route.
    let written = parts
        .uri
        .authority()
        .cloned()
        .or_else(|| {
            let host = parts.headers.get(header::HOST)?;
            Authority::try_from(host.as_bytes()).ok()
        })
        .filter(|written| {
            let uri = format!("{}://{written}/", scheme.as_str());
            uri.parse::<Uri>()
                .ok()
                .and_then(|uri| uri_target(&uri))
                .is_some_and(|t| t.authority() == authority)
        });
    let written = match written {
        Some(written) => written,
        None => Authority::try_from(authority).ok()?,
    };
    if parts.version != Version::HTTP_2 {
        if !parts.headers.contains_key(header::HOST) {
            if let Ok(host) = HeaderValue::from_str(written.as_str()) {
                parts.headers.insert(header::HOST, host);
            }
        }
        parts.version = Version::HTTP_11;
    }
    parts.uri = Uri::builder()
        .scheme(scheme.as_str())
        .authority(written)
        .path_and_query(parts.uri.path_and_query().map_or("/", |p| p.as_str()))
        .build()
        .ok()?;
    Some(Request::from_parts(parts, body))
}

fn response_from(res: Response<Incoming>) -> Response<Body> {
    let (mut parts, body) = res.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    Response::from_parts(parts, body.map_err(BoxError::from).boxed_unsync())
}

pub(super) fn empty() -> Body {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

/// A plain-text answer of the gateway itself.
pub(super) fn text(status: StatusCode, message: &str) -> Response<Body> {
    let body = Full::new(Bytes::from(format!("http-intercept gateway: {message}\n")));
    let mut res = Response::new(body.map_err(|never| match never {}).boxed_unsync());
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}

pub(super) fn proxy_auth_required() -> Response<Body> {
    let mut res = text(
        StatusCode::PROXY_AUTHENTICATION_REQUIRED,
        "proxy credentials required: this gateway serves only clients built with .intercept()",
    );
    res.headers_mut().insert(
        header::PROXY_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"http-intercept\""),
    );
    res
}

pub(super) fn not_intercepted(authority: &str) -> Response<Body> {
    text(
        StatusCode::FORBIDDEN,
        &format!("{authority} is not intercepted; this gateway only serves registered targets"),
    )
}

/// The answer for a target the client's policy refuses: a 502 whose body and
/// [`ERROR_HEADER`](crate::ERROR_HEADER) (`denied`) say which target and how to register
/// it, the same answer a [`Connector`](crate::Connector) gives.
pub(super) fn denied(authority: &str, scheme: Scheme) -> Response<Body> {
    let url = match crate::target::Target::parse(&format!("{}://{authority}", scheme.as_str())) {
        Ok(target) => target.url(),
        Err(_) => format!("{}://{authority}", scheme.as_str()),
    };
    let denied = crate::error::Error::new(crate::error::Kind::Denied {
        authority: authority.to_owned(),
        url,
    });
    crate::service::text_response(
        StatusCode::BAD_GATEWAY,
        "denied",
        format!("http-intercept: {denied}"),
    )
}
