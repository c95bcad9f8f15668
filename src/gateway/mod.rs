//! The loopback gateway: an HTTP proxy inside the test process, on `127.0.0.1`, for
//! clients that cannot be handed an in-memory connector but take a proxy: reqwest
//! (0.12 and 0.13, through `.intercept()`), curl, or a Python or Node child process
//! (`HTTP_PROXY` / `HTTPS_PROXY` set to [`proxy_url`](crate::proxy_url), and the CA of
//! [`ca_certificate_pem`](crate::ca_certificate_pem) trusted).
//!
//! - [`server`]: the listener, the proxy credentials, the client connections.
//! - [`tunnel`]: `https://` through `CONNECT`, TLS terminated with the in-memory CA.
//! - [`forward`]: handing each request to its service, or answering a late one.
//! - [`proxy`]: the proxy URL for other clients.

mod forward;
mod limits;
mod proxy;
pub(crate) mod server;
#[cfg(test)]
mod tests;
mod tunnel;

pub use self::proxy::proxy_url;
