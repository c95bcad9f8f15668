//! reqwest (async and blocking) support, through an in-process loopback gateway:
//! reqwest 0.13 with the feature `reqwest`, reqwest 0.12 with the feature `reqwest012`
//! (one trait, [`ClientBuilderExt`], for both; one gateway, one CA).
//!
//! reqwest has no public way to plug in a connector, so a client built with
//! [`.intercept()`](ClientBuilderExt::intercept) sends its requests for registered
//! targets to a small proxy that this crate runs inside the test process, on
//! `127.0.0.1`, and everything else direct, exactly as without the crate:
//!
//! ```
//! use http_intercept::reqwest::ClientBuilderExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let svc = tower::service_fn(|req: http::Request<hyper::body::Incoming>| async move {
//!     Ok::<_, std::convert::Infallible>(http::Response::new(format!("hello from {}", req.uri().path())))
//! });
//! let _api = http_intercept::add("https://api.reqwest-example.test", svc)?;
//!
//! let client = reqwest::Client::builder().intercept().build()?;
//! let body = client.get("https://api.reqwest-example.test/users").send().await?.text().await?;
//! assert_eq!(body, "hello from /users");
//! # Ok(())
//! # }
//! ```
//!
//! # How
//!
//! - An async client's connections go to a gateway listener of the tokio runtime they
//!   are opened on (`#[tokio::test]` or multi-thread), started there on first use, and
//!   are served on that runtime, as the client's own connection tasks are: a request
//!   crosses a loopback socket but never waits for another runtime's thread, and
//!   paused tokio time reaches the services, as with the hyper-util `Connector` (the
//!   gateway's own deadlines run on real time). `reqwest::blocking` clients (and
//!   connections opened outside a runtime) go to the shared gateway, started once per
//!   process, which serves each connection on a thread of its own: a service that
//!   blocks stalls only its connection.
//! - Policies: [`intercept_with_policy`](ClientBuilderExt::intercept_with_policy) with
//!   [`Policy::Deny`](crate::Policy::Deny) or `LoopbackOnly` refuses unregistered
//!   targets with a 502 that names the target, `https://` included.
//! - Limits: a connection that sends no authorized request within 10 s is closed, an
//!   idle one (no request in progress, no byte moved) after 90 s; at most 1 024
//!   connections are open at once.
//! - `http://` requests reach it as proxy requests; `https://` ones as a `CONNECT`
//!   tunnel, whose TLS it terminates with a certificate for the requested host (names
//!   and IP literals), signed by a CA made in memory for this process and trusted only
//!   by clients built with `.intercept()`. No key or certificate is written to disk.
//!   HTTP/2 (ALPN) and HTTP/1.1 both work.
//! - It hands each request to the registered service directly, in memory, so services
//!   see what they see from any other client (see the README's "What a service
//!   sees"), in the HTTP version reqwest spoke, with no proxy artefacts.
//! - It is not an open proxy: requests without this process's proxy credentials get a
//!   407, requests for targets that are not registered a 403.
//! - After a guard is dropped, a client holding a pooled connection to its target
//!   behaves as a fresh client would: it goes to the real host.
//!
//! # Costs and limits
//!
//! The path uses a loopback socket (reqwest to the gateway), so it costs more than the
//! in-memory path of hyper-util clients; the README's performance table has the
//! figures. The first `.intercept()` of a process makes the CA (tens of
//! milliseconds). https to an IPv6 literal through any proxy fails inside reqwest
//! 0.13 ("invalid server name"); IPv4 literals work. A client that already holds a
//! pooled direct connection to a host keeps using it after the host is registered, and
//! a client that sent an `http://` request direct to a host keeps that host direct for
//! its life (reqwest would send the gateway's credentials over the pooled direct
//! connection): register before the client first talks to the host. A user-set
//! `ClientBuilder::retry` policy replaces reqwest's retries of refused HTTP/2 streams
//! that the gateway relies on after a guard is dropped.

mod client;

pub use self::client::ClientBuilderExt;
pub use crate::gateway::proxy_url;
