//! Put a tower service in place of a real host, for tests.
//!
//! The code under test keeps its real HTTP client; connections to an intercepted
//! `host:port` run over an in-memory stream into the service you registered, and
//! everything else passes through to the real network. No ports, no servers to start,
//! no DNS, no certificates: thousands of tests can run in parallel, each with its own
//! hosts.
//!
//! # Quick start
//!
//! ```
//! use http_body_util::{BodyExt, Full};
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! // Arrange: any tower service stands in for https://api.example.com.
//! let service = tower::service_fn(|req: http::Request<hyper::body::Incoming>| async move {
//!     let reply = format!("{} {}", req.method(), req.uri().path());
//!     Ok::<_, std::convert::Infallible>(http::Response::new(reply))
//! });
//! let api = http_intercept::add("https://api.example.com", service)?;
//! let client = Client::builder(TokioExecutor::new())
//!     .build::<_, Full<bytes::Bytes>>(http_intercept::Connector::new());
//!
//! // Act: the real client, a real HTTP/1.1 exchange, in memory.
//! let res = client.get("https://api.example.com/users/7".parse()?).await?;
//!
//! // Assert.
//! assert_eq!(res.status(), 200);
//! assert_eq!(res.into_body().collect().await?.to_bytes(), "GET /users/7");
//! assert_eq!(api.hits(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! # The parts
//!
//! - [`add`], [`remove`], [`add_unique`] and [`intercept!`] register services in the
//!   process-wide [`Registry`]; [`Registry::new`] makes isolated ones.
//! - [`Intercept`] is the guard: dropping it removes the registration; in-memory
//!   connections opened to it finish the exchanges in progress, then close.
//! - [`Connector`] plugs into hyper-util's legacy `Client` (and what is built on it):
//!   registered targets in memory, the rest through the connector it wraps, or refused
//!   per its [`Policy`].
//! - Feature `mock`: `mock::MockHost` and `mock::Mock`, declarative mocks with
//!   wiremock's vocabulary and reports that say what differed.
//!
//! # What a service sees
//!
//! One view of a request on HTTP/1.1 and HTTP/2 alike:
//!
//! - the URI is in absolute form (`https://api.test/users?page=2`), with the scheme the
//!   client connected with and the authority it asked for;
//! - a `Host` header carries that authority (HTTP/2 clients send none: it is added);
//! - under a path-prefix mount the prefix is stripped from the path and available as
//!   the [`PathPrefix`] request extension;
//! - header names are lowercase, as hyper gives them.
//!
//! # Failures
//!
//! A service that panics answers the client with a 500 whose body names the panic; a
//! service that returns an error answers a 500 whose body names the error. Both carry
//! the [`ERROR_HEADER`] header. Neither hangs the client.
//!
//! # Runtimes
//!
//! The in-memory server side of a connection runs on the tokio runtime of the client
//! that opened it, so paused time (`#[tokio::test(start_paused = true)]`) applies to
//! the registered services too. As with any hyper client, a `Client` whose connection
//! tasks live on one runtime should not be used from another runtime after the first
//! one went idle or away: build one client per test.

#![deny(missing_docs)]
#![warn(missing_debug_implementations, rust_2018_idioms, unreachable_pub)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(any(feature = "gateway", all(feature = "ureq", unix)))]
mod background;
mod connect;
mod error;
#[cfg(feature = "gateway")]
mod gateway;
mod guard;
mod hop;
mod log;
mod macros;
mod registry;
// Without `mock`, some of the report's pieces are unused.
#[cfg_attr(not(feature = "mock"), allow(dead_code))]
mod report;
mod route;
mod scope;
mod service;
mod target;
mod times;
#[cfg(feature = "tls")]
mod tls;
mod transport;

#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock;
#[cfg(feature = "record")]
#[cfg_attr(docsrs, doc(cfg(feature = "record")))]
pub mod record;
#[cfg(any(feature = "reqwest", feature = "reqwest012"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "reqwest", feature = "reqwest012"))))]
pub mod reqwest;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod server;
#[cfg(all(feature = "ureq", unix))]
#[cfg_attr(docsrs, doc(cfg(all(feature = "ureq", unix))))]
pub mod ureq;

pub use crate::connect::{Connecting, Connector, InterceptStream, Policy};
pub use crate::error::{BoxError, Error};
#[cfg(feature = "gateway")]
#[cfg_attr(docsrs, doc(cfg(feature = "gateway")))]
pub use crate::gateway::proxy_url;
pub use crate::guard::{Intercept, Intercepts};
pub use crate::log::LoggedRequest;
pub use crate::registry::Registry;
pub use crate::scope::{EnteredScope, Scope};
pub use crate::service::{Abort, InterceptService, ERROR_HEADER};
#[doc(hidden)]
pub use crate::service::{BoxedService, HyperMarker, TowerMarker};
pub use crate::target::{IntoTarget, Scheme, Target};
pub use crate::times::Times;
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use crate::tls::ca_certificate_pem;
pub use crate::transport::PathPrefix;
pub use crate::transport::RawWriter;

/// Registers `service` for `target` in the global registry; see [`Registry::add`].
///
/// `target` is `"host:port"`, `"http://host[:port][/prefix]"` or
/// `"https://host[:port][/prefix]"` (default ports 80 and 443), with IPv4 and bracketed
/// IPv6 hosts, or anything else that is [`IntoTarget`].
///
/// # Errors
///
/// Returns an error naming the target if it cannot be parsed or is already registered.
///
/// # Examples
///
/// ```
/// let svc = tower::service_fn(|_req| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("ok")))
/// });
/// let guard = http_intercept::add("api.add-example.test:443", svc)?;
/// assert_eq!(guard.url(), "https://api.add-example.test");
/// # Ok::<(), http_intercept::Error>(())
/// ```
pub fn add<T, S, M>(target: T, service: S) -> Result<Intercept, Error>
where
    T: IntoTarget,
    S: InterceptService<M>,
{
    Registry::global().add(target, service)
}

/// Removes the global registration for `target`; see [`Registry::remove`].
pub fn remove<T: IntoTarget>(target: T) -> bool {
    Registry::global().remove(target)
}

/// Registers `service` under a fresh, unresolvable host in the global registry; see
/// [`Registry::add_unique`].
pub fn add_unique<S, M>(service: S) -> Intercept
where
    S: InterceptService<M>,
{
    Registry::global().add_unique(service)
}

/// The README's examples, run as doctests (they use every feature).
#[cfg(all(
    doctest,
    feature = "mock",
    feature = "record",
    feature = "reqwest",
    feature = "server",
    feature = "ureq"
))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Whether the current thread is one of the crate's own background threads, which must
/// never wait on themselves.
pub(crate) fn is_background_thread() -> bool {
    std::thread::current()
        .name()
        .is_some_and(|name| name.starts_with("http-intercept"))
}

#[allow(dead_code)]
fn _assert_impls() {
    fn send_sync<T: Send + Sync>() {}
    fn clone<T: Clone>() {}
    send_sync::<Registry>();
    clone::<Registry>();
    send_sync::<Intercept>();
    send_sync::<Intercepts>();
    send_sync::<Error>();
    send_sync::<Target>();
    send_sync::<LoggedRequest>();
    send_sync::<Connector>();
    send_sync::<Scope>();
    clone::<Connector>();
    send_sync::<InterceptStream<hyper_util::rt::TokioIo<tokio::net::TcpStream>>>();
    #[cfg(feature = "mock")]
    {
        send_sync::<mock::MockHost>();
        send_sync::<mock::Mocks>();
        clone::<mock::Mocks>();
        send_sync::<mock::Mock>();
        send_sync::<mock::MockGuard>();
        send_sync::<mock::Request>();
        clone::<mock::Request>();
        send_sync::<mock::ResponseTemplate>();
    }
}
