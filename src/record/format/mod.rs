//! The cassette file format, version 2: the reference for writing and reviewing
//! cassettes by hand.
//!
//! A cassette is one JSON document, written pretty (two spaces) with a fixed key order
//! and sorted header names, so that a re-recorded cassette diffs line by line against
//! the old one. This crate writes version 2 and reads versions 1 and 2 (version 1 is
//! version 2 without `json` bodies, `trailers` and `recorded_at`).
//!
//! # A complete example
//!
//! ```json
//! {
//!   "version": 2,
//!   "interactions": [
//!     {
//!       "request": {
//!         "method": "POST",
//!         "uri": "https://api.example.test/v1/users?team=7",
//!         "headers": {
//!           "authorization": "REDACTED",
//!           "content-type": "application/json"
//!         },
//!         "body": {
//!           "json": {
//!             "name": "Ada"
//!           }
//!         }
//!       },
//!       "response": {
//!         "status": 201,
//!         "headers": {
//!           "content-type": "application/json",
//!           "set-cookie": [
//!             "a=REDACTED",
//!             "b=REDACTED"
//!           ]
//!         },
//!         "body": {
//!           "json": {
//!             "id": 42,
//!             "name": "Ada",
//!             "tags": []
//!           }
//!         }
//!       },
//!       "recorded_at": "2026-12-01T12:00:00Z"
//!     },
//!     {
//!       "request": {
//!         "method": "GET",
//!         "uri": "https://api.example.test/v1/greeting"
//!       },
//!       "response": {
//!         "status": 200,
//!         "headers": {
//!           "content-encoding": "gzip",
//!           "content-type": "text/plain"
//!         },
//!         "body": {
//!           "encoding": "gzip",
//!           "base64": "H4sIAAAAAAACA8tIzcnJ11HIQKIUAae70v4UAAAA",
//!           "chunks": [
//!             10,
//!             20
//!           ]
//!         }
//!       }
//!     },
//!     {
//!       "request": {
//!         "method": "POST",
//!         "uri": "http://grpc.example.test/grpc.health.v1.Health/Check",
//!         "headers": {
//!           "content-type": "application/grpc"
//!         },
//!         "body": {
//!           "base64": "AAAAAAA="
//!         }
//!       },
//!       "response": {
//!         "status": 200,
//!         "headers": {
//!           "content-type": "application/grpc"
//!         },
//!         "body": {
//!           "base64": "AAAAAAIIAQ=="
//!         },
//!         "trailers": {
//!           "grpc-status": "0"
//!         }
//!       }
//!     },
//!     {
//!       "request": {
//!         "method": "GET",
//!         "uri": "https://down.example.test/"
//!       },
//!       "failure": {
//!         "kind": "connect",
//!         "message": "connection refused"
//!       }
//!     }
//!   ]
//! }
//! ```
//!
//! # Every key
//!
//! **The file** is an object with:
//!
//! - `version` (required): the format version, `1` or `2`. A newer version is an error
//!   that asks to upgrade http-intercept, not a guess.
//! - `interactions` (required): an array of interactions, in recorded order. Identical
//!   requests replay in this order.
//!
//! **An interaction** is an object with:
//!
//! - `request` (required): the request, as it was recorded (after redaction).
//! - `response` or `failure` (exactly one): what the request got.
//! - `recorded_at` (optional): when it was recorded, in UTC, `"2026-12-01T12:00:00Z"`
//!   (fractions of a second and offsets such as `+01:00` are read too). Cassettes write it;
//!   [`re_record_after`](crate::record::CassetteBuilder::re_record_after) reads it.
//!
//! **A request** is an object with:
//!
//! - `method` (required): `"GET"`, or any valid method token.
//! - `uri` (required): the absolute URI, with scheme and host:
//!   `"https://api.test/users?page=2"`. A relative URI (`"/users"`) is an error.
//! - `headers` (optional): see below.
//! - `body` (optional): see below; no `body` is an empty body.
//!
//! **A response** is an object with:
//!
//! - `status` (required): the status code, `100` to `999`.
//! - `headers` (optional) and `body` (optional), as for a request.
//! - `trailers` (optional): headers sent after the body (gRPC's `grpc-status` and
//!   `grpc-message`), in the form of `headers`; replayed as the body's last frame.
//!
//! **A failure** is an object with:
//!
//! - `kind` (required): `"connect"` (refused, reset, TLS handshake failed), `"dns"`,
//!   `"timeout"` or `"other"`.
//! - `message` (optional): the error as it was seen.
//!
//! Replaying a failure makes the client's request fail (see
//! [`ReplayBody`](crate::record::ReplayBody)).
//!
//! **Headers** are an object from lowercase header names to a string, or to an array of
//! strings for a header sent several times (in the order sent). Names are written
//! sorted; values that are not UTF-8 are written lossily.
//!
//! **A body** is an object with exactly one of:
//!
//! - `json`: the body as a JSON value, written indented. Used for bodies whose
//!   `content-type` is JSON (`application/json`, `application/*+json`), that are not
//!   content-encoded and that are compact JSON, as servers send it. It reads back as
//!   the same value without whitespace: byte-exact for what was recorded, key order,
//!   number spelling and duplicate keys included. Edited by hand, it is sent compact.
//! - `text`: the body as a string: used for UTF-8 bodies that are not content-encoded.
//! - `base64`: the body in standard base64 with padding: everything else (binary,
//!   compressed), byte-exact.
//!
//! and optionally:
//!
//! - `encoding`: the `content-encoding` of a compressed body (`"gzip"`), for the
//!   reader; the body is stored as it was on the wire, still compressed, and the
//!   response's `content-encoding` header is what replays.
//! - `chunks`: the lengths of the chunks the body streamed in, when there was more than
//!   one; they must add up to the body's length. Replayed in the same chunks.
//!
//! # Errors
//!
//! Loading is strict: a key the format does not know, a missing required key or a
//! value of the wrong shape is an error for which
//! [`Error::is_malformed`](crate::record::Error::is_malformed) is true, naming the
//! file, the line and the column, and for an unknown key the keys allowed there:
//!
//! ```text
//! malformed cassette tests/cassettes/api.json: line 9, column 16: unknown key `jsn`, allowed here: `text`, `json`, `base64`, `encoding`, `chunks`
//! ```
//!
//! A cassette that failed to load is never overwritten.
//!
//! # Examples
//!
//! A cassette written by hand, replayed:
//!
//! ```
//! use http_intercept::record::{Cassette, Mode};
//!
//! let dir = std::env::temp_dir().join(format!("http-intercept-doc-format-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("hand.json");
//! std::fs::write(&path, r#"{
//!   "version": 2,
//!   "interactions": [
//!     {
//!       "request": { "method": "GET", "uri": "https://api.test/users/7" },
//!       "response": {
//!         "status": 200,
//!         "headers": { "content-type": "application/json" },
//!         "body": { "json": { "id": 7, "name": "Ada" } }
//!       }
//!     }
//!   ]
//! }"#).unwrap();
//! let cassette = Cassette::builder(&path).mode(Mode::Replay).mode_from_env(false).open()?;
//! let body = cassette.interactions()[0].response().unwrap().body().clone();
//! assert_eq!(body, r#"{"id":7,"name":"Ada"}"#);
//!
//! // An unknown key is an error that names it.
//! std::fs::write(&path, r#"{"version": 2, "interactions": [], "extra": 1}"#).unwrap();
//! let err = Cassette::builder(&path).mode(Mode::Replay).mode_from_env(false).open().unwrap_err();
//! assert!(err.is_malformed());
//! assert!(err.to_string().contains("unknown key `extra`, allowed here: `version`, `interactions`"), "{err}");
//! # Ok::<(), http_intercept::record::Error>(())
//! ```

mod json;
mod read;
mod time;
mod write;

#[cfg(test)]
mod tests;

pub(crate) use self::read::{load, parse, parse_each};
pub(crate) use self::time::{format as format_time, parse as parse_time};
pub(crate) use self::write::{to_bytes, B64, VERSION};
