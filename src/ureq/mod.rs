//! ureq 3 (blocking) support.
//!
//! [`agent`] builds a `ureq::Agent` whose connections to registered targets are served
//! by the registered service, and whose other connections go through ureq's own
//! connector, exactly as without this crate:
//!
//! ```
//! # #[cfg(unix)] {
//! let svc = tower::service_fn(|req: http::Request<hyper::body::Incoming>| async move {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(format!("hello from {}", req.uri().path())))
//! });
//! let _api = http_intercept::add("https://api.ureq-example.test", svc).unwrap();
//!
//! let agent = http_intercept::ureq::agent();
//! let body = agent
//!     .get("https://api.ureq-example.test/users")
//!     .call()
//!     .unwrap()
//!     .body_mut()
//!     .read_to_string()
//!     .unwrap();
//! assert_eq!(body, "hello from /users");
//! # }
//! ```
//!
//! # How
//!
//! ureq is blocking, so its side of an intercepted connection is one end of a Unix
//! socket pair (no port, no DNS, no TLS even for `https://`), and the registered
//! service is served on the other end, on a thread of the connection's own (ureq pools
//! connections, so that is one thread per pooled connection, not per request). A [`Resolver`] answers registered names without DNS, and a
//! [`Connector`] opens the socket pair for them and hands everything else to ureq's
//! `DefaultConnector`, or refuses it per its [`Policy`](crate::Policy). Pooled
//! connections notice route changes: after a guard is dropped, the next request goes
//! where a fresh agent's would.
//!
//! The services run on that thread's runtime, not on the test's: paused tokio time
//! does not reach them. A service that blocks (a blocking ureq call of its own, a long
//! computation) stalls its own connection only. Socket pairs make this integration
//! Unix-only.
//!
//! ureq's transport API is "unversioned" (it may change in a minor release): this
//! module is built against ureq 3.5.

mod connector;
mod transport;

pub use self::connector::{agent, agent_with, Connector, Resolver};
