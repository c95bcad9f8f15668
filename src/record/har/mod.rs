//! HAR 1.2 files as cassettes: replay what a browser (or any HAR writer) exported, and
//! export recordings for the tools that read HAR.
//!
//! # Replaying a HAR file
//!
//! A cassette whose path ends in `.har` reads the file as HAR: open it with
//! [`Cassette::open`](crate::record::Cassette::open) or the builder, then register
//! its service per host, or [`add_all`](crate::record::Cassette::add_all) for every
//! origin its entries name (a whole page load, its CDN and its API included):
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use http_intercept::record::Cassette;
//!
//! let page = Cassette::open("tests/fixtures/checkout.har")?;
//! let _hosts = page.add_all()?; // https://www.shop.test, https://cdn.shop.test, ...
//! // ... the code under test loads the page ...
//! page.finish()?;
//! # Ok(())
//! # }
//! ```
//!
//! A HAR cassette only replays, whatever the [`Mode`](crate::record::Mode) and the
//! environment say, and is never written. Its defaults follow Playwright's
//! `routeFromHAR` and MSW's HAR source:
//!
//! - matching on method, URL (query in any order) and, for requests with a body, the
//!   body byte for byte ([`Match::Body`](crate::record::Match::Body) is added to the
//!   default matchers, unless the builder sets matchers);
//! - entries for the same request served in the order they were recorded, the last
//!   one again once all were served (`allow_playback_repeats(true)`, unless the
//!   builder says otherwise);
//! - a request that matches no entry fails as a network error
//!   ([`NotFound::Abort`](crate::record::NotFound::Abort), Playwright's default
//!   `notFound: "abort"`); [`NotFound::Fallback`](crate::record::NotFound::Fallback)
//!   sends it to the real host instead, and
//!   [`NotFound::Report`](crate::record::NotFound::Report) answers 500 and fails the
//!   test as a JSON cassette does.
//!
//! What real browser exports contain is read as it comes:
//!
//! - bodies in `content.text`, base64 when `content.encoding` is `"base64"`;
//! - bodies that the browser stored decoded while the response still names its
//!   `content-encoding: gzip` or `br`: the header is dropped (kept only for a body
//!   that really starts as gzip does), and `content-length` set to the body's length;
//! - entries without a response, with `status: 0` or an `_error` (Chromium's
//!   `net::ERR_CONNECTION_REFUSED`, Firefox's `NS_ERROR_UNKNOWN_HOST`): replayed as
//!   failures, their kind guessed from the message;
//! - 101, 204, 304 and redirect responses, replayed as recorded (a redirect's
//!   `location` header is what the client follows);
//! - cookies: the `cookie` and `set-cookie` headers are replayed; the `cookies` arrays,
//!   derived from them, are not read;
//! - duplicate entries for the same URL, replayed in order;
//! - query strings from `request.url` (the `queryString` array is derived from it);
//! - POST bodies in `postData.text`, or rebuilt from `postData.params` as a form;
//!   `postData.mimeType` becomes the `content-type` when the headers have none;
//! - HTTP/2 pseudo-headers (`:authority`, `:path`) left out, header names lowercased;
//! - keys browsers add (`_initiator`, `_priority`, `_resourceType`) and `pages`,
//!   `timings`, `cache` ignored.
//!
//! An entry that cannot be replayed (a relative URL, an invalid method) is an error
//! naming the entry; a file that is not JSON, one naming the line and column.
//!
//! # Exporting
//!
//! [`Cassette::export_har`](crate::record::Cassette::export_har) and
//! [`Recording::save_har`](crate::record::Recording::save_har) write HAR 1.2 that
//! browsers' HAR viewers, Playwright and MSW read. Bodies are `text` when they are
//! UTF-8 and not content-encoded, base64 otherwise; a content-encoded body is written
//! as it was on the wire, marked `"_wire": true`, so that it reads back byte-exact. A
//! failure is an entry with `status: 0` and Chromium's `_error`.
//!
//! ```
//! use bytes::Bytes;
//! use http_intercept::record::{Interaction, Recording};
//!
//! let recording = Recording::new();
//! let req = http::Request::get("https://api.test/users/7").body(Bytes::new())?;
//! let res = http::Response::builder()
//!     .header("content-type", "application/json")
//!     .body(Bytes::from(r#"{"id":7}"#))?;
//! recording.push(Interaction::new(req, res));
//! let path = std::env::temp_dir().join(format!("http-intercept-doc-{}.har", std::process::id()));
//! recording.save_har(&path)?;
//! let har: serde_json::Value = serde_json::from_slice(&std::fs::read(&path)?)?;
//! assert_eq!(har["log"]["version"], "1.2");
//! assert_eq!(har["log"]["entries"][0]["response"]["content"]["text"], r#"{"id":7}"#);
//! let back = Recording::load(&path)?; // .har: read as HAR
//! assert_eq!(back.interactions()[0].response().unwrap().body(), r#"{"id":7}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod export;
mod import;

pub(crate) use self::export::to_bytes;
pub(crate) use self::import::{is_har, load};
