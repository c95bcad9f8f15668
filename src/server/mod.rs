//! The scriptable test server: static files, `.headers`, `.asis`, pipes, handlers and
//! the stash, as tower services: the web-platform-tests server (wptserve) rebuilt so
//! that it can be intercepted in memory like any other service, or bound to a real
//! socket for clients that cannot be intercepted.
//!
//! - [`Files`] is the server: a tower service over a directory, with
//!   [handlers](Files::handler) mounted at paths. Register it with [`add`](crate::add)
//!   or serve it with [`serve`].
//! - [`Request`], [`ResponseBuilder`] and [`IntoReply`] are what handlers work with;
//!   [`Stash`] is state shared across requests; [`RawWriter`] (the transport's, which
//!   any service may use) writes bytes straight to an HTTP/1.1 connection.
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
//! # Configuration for substitutions
//!
//! [`Files::with_host`], [`Files::with_subdomain`], [`Files::with_alternate_host`],
//! [`Files::with_port`] and [`Files::with_config`] set what `{{host}}`,
//! `{{domains[..]}}`, `{{hosts[..][..]}}`, `{{ports[..][..]}}` and other `{{key}}`s
//! substitute, as wptserve's configuration does.
//!
//! # Compared with wptserve
//!
//! Measured against wptserve 4.0.3 on the same root. Where the two differ, it is on
//! purpose:
//!
//! | | wptserve | here, and why |
//! |---|---|---|
//! | `{{host}}` unconfigured | `localhost` | the request's host: each test's own intercepted name comes back in its pages |
//! | `../` and symlinks out of the root | 404, symlinks followed | 403 naming the reason, for the file and every file it brings in: a test server must never serve the machine's files |
//! | a malformed pipe string (`status(404`, text after `)`) | a guess | a 500 naming the pipe and what is wrong: a typo should fail the test, not change it |
//! | `f()` | one empty argument | no argument: `gzip()` works |
//! | conditional requests, `ETag`, `Accept-Ranges` | none | `304` for `If-None-Match` / `If-Modified-Since`, as browsers expect of a real server |
//! | `-Header-Name` in `.headers` files | an error | removes the header (`Content-Length` removed: the body is sent chunked) |
//! | `header(Content-Length,N)` not matching the body, over HTTP/2 or the reqwest gateway | not possible | the body is cut to `N` (a longer `N` ends the stream early); on HTTP/1.1 both are sent as they are, raw, as wptserve does |
//! | unknown `{{key}}`, missing `{{headers[x]}}` | an exception | a 500 naming the expression |
//! | `{{file_hash(sha256, /x)}}` | the machine's `/x` | the root's `/x`: paths are root-relative, and confined |
//!
//! Everything else in its differences table is now answered as wptserve answers it:
//! `*.sub.*` files that are not markup are substituted without escaping, a missing
//! `{{GET[x]}}` is empty, `{{location[query]}}` is `?` without a query, `trickle` adds
//! the no-cache headers, content types come from wptserve's table, header values in
//! pipes are Latin-1 (a 500 beyond it), `header(X,v,TRUE)` appends, both
//! `__dir__.headers` and `NAME.headers` values are sent, a `.sub.` file with
//! `?pipe=sub` is substituted twice, the last `pipe=` parameter wins, `/hello.txt/` is
//! a 404, a `204` has no `Content-Length`, a directory without `index.html` is listed,
//! several ranges answer `multipart/byteranges`, `.sub.headers` files apply, and
//! `{{hosts[..][..]}}`, `{{file_hash(..)}}`, `{{fs_path(..)}}` and configuration keys
//! substitute.
//!
//! # Speed
//!
//! A file lookup (confinement, `.headers` files, the content of small files) runs on
//! tokio's blocking pool, never on the runtime thread, and is cached until something
//! it depends on changes (on Linux, inotify reports changes; elsewhere nothing is
//! cached). A cached small file with its `.headers` costs 1.1-1.5x a bare
//! intercepted service (the README's Performance section).
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
