//! The scriptable test server: static files, `.headers`, `.asis`, pipes, handlers and
//! the stash, as tower services: the web-platform-tests server (wptserve) rebuilt so
//! that it can be intercepted in memory like any other service, or bound to a real
//! socket for clients that cannot be intercepted.
//!
//! - [`Files`] is the server: a tower service over a directory, with
//!   [handlers](Files::handler) mounted at paths. Register it with [`add`](crate::add)
//!   or serve it with [`serve`].
//! - [`Request`], [`ResponseBuilder`] and [`IntoReply`] are what handlers work with;
//!   [`Stash`] is state shared across requests; [`RawWriter`] writes bytes straight to
//!   an HTTP/1.1 connection.
//! - [`serve`] binds `127.0.0.1` with an ephemeral port and returns a [`Server`] guard;
//!   `serve_tls` (feature `tls`) does the same over HTTPS.
//!
//! # Examples
//!
//! ```
//! use http_intercept::server::{Files, Request, ResponseBuilder};
//! use http_body_util::{BodyExt, Empty};
//! use hyper_util::client::legacy::Client;
//! use hyper_util::rt::TokioExecutor;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let files = Files::new("tests/www").handler("/echo", |req: Request, res: ResponseBuilder| async move {
//!     res.body(req.body().clone())
//! });
//! let site = http_intercept::add("http://server-doc.test", files)?;
//! let client = Client::builder(TokioExecutor::new())
//!     .build::<_, Empty<bytes::Bytes>>(http_intercept::Connector::new());
//!
//! let res = client.get(format!("{}/hello.txt?pipe=slice(0,5)", site.url()).parse()?).await?;
//! assert_eq!(res.into_body().collect().await?.to_bytes(), "hello");
//! # Ok(())
//! # }
//! ```
//!
//! # TLS
//!
//! With the `tls` feature, [`serve_tls`] serves over HTTPS with a certificate from the
//! crate's in-memory CA, whose certificate [`ca_certificate_pem`](crate::ca_certificate_pem)
//! exports for a browser or a subprocess to trust. In memory, `https://` targets need
//! no TLS.

mod asis;
mod body;
mod cache;
mod digest;
mod files;
mod handler;
mod headers;
mod listing;
mod lookup;
mod mime;
mod path;
mod pipes;
#[cfg(test)]
mod proptests;
mod query;
mod ranges;
mod respond;
mod serve;
mod serve_file;
mod site;
mod stash;
mod sub;

pub use self::body::{Body, Response};
pub use self::files::{Files, ResponseFuture};
pub use self::handler::{IntoReply, Request, ResponseBuilder};
#[cfg(feature = "tls")]
pub use self::serve::serve_tls;
pub use self::serve::{serve, serve_listener, Server};
pub use self::stash::{Stash, StashError};
#[doc(no_inline)]
pub use crate::transport::RawWriter;
