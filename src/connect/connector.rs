//! [`Connector`]: registered targets in memory, the rest through the wrapped connector.

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use std::sync::OnceLock;

use http::{Request, StatusCode, Uri};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper::rt::{Read, Write};
use hyper_util::client::legacy::connect::{Connection, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use pin_project_lite::pin_project;

use super::InterceptStream;
use crate::error::{BoxError, Error, Kind};
use crate::registry::{Host, Registry, Resolved};
use crate::route::Route;
use crate::scope::{Lookup, Scope};
use crate::service::text_response;
use crate::target::{uri_target, Scheme, Target};
use crate::transport::{self, HostFuture, Late};

/// What a [`Connector`] does with a connection to a target that nothing is registered
/// for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Policy {
    /// Connect through the wrapped connector, to the real network, as if this crate
    /// were not there. The default.
    #[default]
    PassThrough,
    /// Refuse the connection with an error that names the target and says how to
    /// register it ([`Error::is_denied`]).
    Deny,
    /// Refuse, as [`Policy::Deny`] does, unless the host is a loopback address
    /// (`localhost`, `127.0.0.0/8`, `[::1]`): a test's own servers stay reachable.
    LoopbackOnly,
}

impl Policy {
    pub(crate) fn allows(self, target: &Target) -> bool {
        match self {
            Policy::PassThrough => true,
            Policy::Deny => false,
            Policy::LoopbackOnly => is_loopback(target.host()),
        }
    }
}

fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A connector for hyper-util's legacy `Client` that serves registered targets in
/// memory and passes everything else to the connector it wraps.
///
/// For a URI whose `host:port` is registered (in [`Registry::global`] unless
/// [`with_registry`](Connector::with_registry) says otherwise), the connection is an
/// in-memory pipe into the registered service: no DNS, no socket, and no TLS even for
/// `https://`. The serving end runs on the caller's tokio runtime, so a test that
/// pauses time (`#[tokio::test(start_paused = true)]`) controls the delays of the
/// services it registers. HTTP/1.1 and HTTP/2 (`http2_only(true)`) both work.
///
/// Anything else goes to the wrapped connector (a default [`HttpConnector`] from
/// [`Connector::new`], or yours from [`Connector::wrap`], such as an HTTPS connector),
/// or is refused, per the [`Policy`].
///
/// # Examples
///
/// ```
/// use http_body_util::{BodyExt, Empty};
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let svc = tower::service_fn(|req: http::Request<hyper::body::Incoming>| async move {
///     let body = format!("you asked for {}", req.uri().path());
///     Ok::<_, std::convert::Infallible>(http::Response::new(body))
/// });
/// let _api = http_intercept::add("https://api.connector-example.test", svc)?;
///
/// let client = Client::builder(TokioExecutor::new())
///     .build::<_, Empty<bytes::Bytes>>(http_intercept::Connector::new());
/// let res = client.get("https://api.connector-example.test/users".parse()?).await?;
/// let body = res.into_body().collect().await?.to_bytes();
/// assert_eq!(body, "you asked for /users");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Connector<C = HttpConnector> {
    inner: C,
    registry: Registry,
    policy: Policy,
    /// Set by `with_scope`, or for the connector that carries late requests: the
    /// lookup of the connection they arrived on.
    lookup: Option<Lookup>,
}

impl Connector {
    /// A connector that passes unregistered targets to a default [`HttpConnector`] with
    /// `TCP_NODELAY` set, as reqwest sets it (plain `http://` only; wrap an HTTPS
    /// connector with [`Connector::wrap`] to pass `https://` through).
    pub fn new() -> Self {
        let mut http = HttpConnector::new();
        // Without it, small HTTP/2 exchanges to a real host wait out delayed ACKs (40 ms).
        http.set_nodelay(true);
        Connector::wrap(http)
    }
}

impl Default for Connector {
    fn default() -> Self {
        Connector::new()
    }
}

impl<C> Connector<C> {
    /// A connector that passes unregistered targets to `inner`, for example a
    /// `hyper_rustls::HttpsConnector` or a `hyper_tls::HttpsConnector`.
    pub fn wrap(inner: C) -> Self {
        Connector {
            inner,
            registry: Registry::global().clone(),
            policy: Policy::PassThrough,
            lookup: None,
        }
    }

    /// Consults `registry` instead of the global one.
    ///
    /// Default: [`Registry::global`].
    pub fn with_registry(mut self, registry: &Registry) -> Self {
        self.registry = registry.clone();
        self
    }

    /// Looks targets up in `scope` (then process-wide) wherever the connector is used,
    /// instead of in the scope of the task that opens each connection: for a client
    /// shared between tests or used from threads outside the test's scope (see
    /// [`Scope`]).
    ///
    /// Default: the scope of the task that opens the connection ([`Scope::current`]),
    /// then its thread's, then the process.
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.lookup = Some(Lookup::pinned(scope));
        self
    }

    /// Sets what happens to connections to targets nothing is registered for.
    ///
    /// Default: [`Policy::PassThrough`].
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The registry this connector consults.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The policy for unregistered targets.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// The wrapped connector.
    pub fn get_ref(&self) -> &C {
        &self.inner
    }

    /// The wrapped connector, mutably.
    pub fn get_mut(&mut self) -> &mut C {
        &mut self.inner
    }

    /// Unwraps the wrapped connector.
    pub fn into_inner(self) -> C {
        self.inner
    }
}

impl<C: fmt::Debug> fmt::Debug for Connector<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("inner", &self.inner)
            .field("registry", &self.registry)
            .field("policy", &self.policy)
            .field("lookup", &self.lookup)
            .finish()
    }
}

impl<C> tower_service::Service<Uri> for Connector<C>
where
    C: tower_service::Service<Uri> + Clone + Send + Sync + 'static,
    C::Response: Read + Write + Connection + Unpin + Send + 'static,
    C::Future: Unpin + Send + 'static,
    C::Error: Into<BoxError>,
{
    type Response = InterceptStream<C::Response>;
    type Error = BoxError;
    type Future = Connecting<C::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, dst: Uri) -> Self::Future {
        let Some(target) = uri_target(&dst) else {
            // No host that could be registered: the wrapped connector reports the URI as
            // it would, unless real connections are refused.
            if self.policy == Policy::PassThrough {
                return Connecting::pass_through(self.inner.call(dst), None);
            }
            let authority = dst
                .authority()
                .map_or_else(|| dst.to_string(), |a| a.to_string());
            return Connecting {
                state: State::Failed {
                    error: Some(Box::new(Error::new(Kind::Denied {
                        url: format!("{}://{authority}", Scheme::from_uri(&dst).as_str()),
                        authority,
                    }))),
                },
            };
        };
        let lookup = self.lookup.unwrap_or_else(Lookup::here);
        match self.registry.resolve(&lookup, &target.authority(), true) {
            Resolved::InMemory(host, route) => Connecting {
                state: State::InMemory {
                    host: Some(host),
                    scheme: target.scheme(),
                    route: Some(route),
                    late: Some(late_path(Connector {
                        lookup: Some(lookup),
                        ..self.clone()
                    })),
                },
            },
            Resolved::PassThrough(route) if self.policy.allows(&target) => {
                Connecting::pass_through(self.inner.call(dst), Some(route))
            }
            Resolved::PassThrough(_) => Connecting {
                state: State::Failed {
                    error: Some(Box::new(Error::new(Kind::Denied {
                        authority: target.authority(),
                        url: target.url(),
                    }))),
                },
            },
        }
    }
}

pin_project! {
    /// The future of [`Connector`]'s `call`: an in-memory connection, the wrapped
    /// connector's connection, or a refusal.
    pub struct Connecting<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        InMemory {
            host: Option<Arc<Host>>,
            scheme: Scheme,
            route: Option<Route>,
            late: Option<Late>,
        },
        PassThrough {
            #[pin]
            future: F,
            route: Option<Route>,
        },
        Failed {
            error: Option<BoxError>,
        },
    }
}

impl<F> Connecting<F> {
    fn pass_through(future: F, route: Option<Route>) -> Self {
        Connecting {
            state: State::PassThrough { future, route },
        }
    }
}

impl<F, T, E> Future for Connecting<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<InterceptStream<T>, BoxError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::InMemory {
                host,
                scheme,
                route,
                late,
            } => {
                let (Some(host), Some(route), Some(late)) =
                    (host.take(), route.take(), late.take())
                else {
                    panic!("Connecting polled after completion");
                };
                // Spawned here rather than in `call`, which may run outside a runtime.
                let io = transport::connect(host, *scheme, route, late)?;
                Poll::Ready(Ok(InterceptStream::in_memory(io, Route::detached())))
            }
            StateProj::PassThrough { future, route } => {
                let io = std::task::ready!(future.poll(cx)).map_err(Into::into)?;
                // A connector whose URI had no host gets a route that never turns stale.
                let route = route.take().unwrap_or_else(Route::detached);
                Poll::Ready(Ok(InterceptStream::pass_through(io, route)))
            }
            StateProj::Failed { error } => Poll::Ready(Err(error
                .take()
                .expect("Connecting polled after completion"))),
        }
    }
}

impl<F> fmt::Debug for Connecting<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connecting").finish_non_exhaustive()
    }
}

/// Where the requests go that reach an in-memory connection after its route changed:
/// where a new connection of `connector` (pinned to the lookup of that connection)
/// would go, decided again for each request. Into the host registered now, directly
/// (no second connection, so a long-lived HTTP/2 connection never stacks up hops);
/// through the wrapped connector to the real host, over the HTTP version the client
/// spoke; or, where the policy refuses real connections, a 502 that says so.
fn late_path<C>(connector: Connector<C>) -> Late
where
    C: tower_service::Service<Uri> + Clone + Send + Sync + 'static,
    C::Response: Read + Write + Connection + Unpin + Send + 'static,
    C::Future: Unpin + Send + 'static,
    C::Error: Into<BoxError>,
{
    let lookup = connector.lookup.unwrap_or_else(Lookup::here);
    let real: Arc<[OnceLock<Client<C, Incoming>>; 2]> = Arc::default();
    Arc::new(move |req: Request<Incoming>| -> HostFuture {
        // Normalised by the transport: absolute, with the scheme the client used.
        let Some(target) = uri_target(req.uri()) else {
            let message = format!(
                "http-intercept: a late request without a host: {}",
                req.uri()
            );
            return Box::pin(std::future::ready(Ok(text_response(
                StatusCode::BAD_GATEWAY,
                "late",
                message,
            ))));
        };
        // A host found here may lose its last registration before the request reaches
        // it: then the request comes back, and goes where it would go now (the host is
        // out of the registry by then, so this looks up once more at most).
        let mut req = req;
        if let Some(host) = connector.registry.host(&lookup, &target.authority()) {
            match transport::dispatch(&host, req, target.scheme()) {
                Ok(answer) => return answer,
                Err(back) => req = *back,
            }
            if let Some(host) = connector.registry.host(&lookup, &target.authority()) {
                match transport::dispatch(&host, req, target.scheme()) {
                    Ok(answer) => return answer,
                    Err(back) => req = *back,
                }
            }
        }
        if !connector.policy.allows(&target) {
            let denied = Error::new(Kind::Denied {
                authority: target.authority(),
                url: target.url(),
            });
            let message = format!("http-intercept: {denied}");
            return Box::pin(std::future::ready(Ok(text_response(
                StatusCode::BAD_GATEWAY,
                "denied",
                message,
            ))));
        }
        let h2 = req.version() == http::Version::HTTP_2;
        let client = real[usize::from(h2)]
            .get_or_init(|| {
                Client::builder(TokioExecutor::new())
                    .http2_only(h2)
                    .build(connector.inner.clone())
            })
            .clone();
        Box::pin(async move {
            match client.request(req).await {
                Ok(res) => Ok(res.map(|body| body.map_err(Into::into).boxed_unsync())),
                Err(err) => Ok(text_response(
                    StatusCode::BAD_GATEWAY,
                    "late",
                    format!(
                        "http-intercept: the route to {} changed while this request was on \
                         its way, and sending it to the real host failed: {}",
                        target.authority(),
                        crate::service::error_chain(&err)
                    ),
                )),
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "app.localhost",
            "127.0.0.1",
            "127.3.2.1",
            "[::1]",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "example.com",
            "10.0.0.1",
            "[2001:db8::1]",
            "localhost.example",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
