//! vcrpy and Ruby VCR YAML cassettes: replay them as they are, or convert them to this
//! crate's [format](crate::record::format).
//!
//! # Replaying a YAML cassette
//!
//! A cassette whose path ends in `.yaml` or `.yml` reads the file as a vcrpy (Python)
//! or Ruby VCR cassette: open it with
//! [`Cassette::open`](crate::record::Cassette::open) or the builder, then register its
//! service per host, or [`add_all`](crate::record::Cassette::add_all) for every origin
//! its interactions name:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! use http_intercept::record::Cassette;
//!
//! let cassette = Cassette::open("tests/cassettes/test_github_user.yaml")?; // from vcrpy
//! let _github = cassette.add("https://api.github.com")?;
//! // ... the code under test calls https://api.github.com ...
//! drop(_github);
//! cassette.finish()?;
//! # Ok(())
//! # }
//! ```
//!
//! A YAML cassette only replays, whatever the [`Mode`](crate::record::Mode) and the
//! environment say, and is never written: record new interactions in this crate's
//! format ([`convert`] the file first to keep the old ones). Its defaults are those
//! both tools share:
//!
//! - matching on method, scheme, host, port, path and query (the crate's
//!   [`Match::defaults`](crate::record::Match::defaults)): vcrpy's default
//!   `match_on`, and Ruby VCR's `[:method, :uri]` but for the query's order, which
//!   does not matter here; the builder's `match_on` and `match_body` change it;
//! - each recorded interaction served once, identical requests in recorded order
//!   (both tools' `allow_playback_repeats: false`);
//!   [`allow_playback_repeats`](crate::record::CassetteBuilder::allow_playback_repeats)
//!   serves the last match again;
//! - a request that matches nothing gets a 500 naming the nearest interaction, and
//!   fails the test at [`finish`](crate::record::Cassette::finish) (vcrpy's
//!   `CannotOverwriteExistingCassetteException`, VCR's `UnhandledHTTPRequestError`);
//!   [`not_found`](crate::record::CassetteBuilder::not_found) changes it.
//!
//! # What is read
//!
//! **vcrpy** (version 1, as vcrpy 1.0 to 9.x write it, whichever HTTP library
//! recorded):
//!
//! ```yaml
//! interactions:
//! - request:
//!     body: '{"name": "Grace"}'      # or null, or !!binary | base64
//!     headers:
//!       Content-Type:
//!       - application/json
//!     method: POST
//!     uri: http://127.0.0.1:18733/users
//!   response:
//!     body:
//!       string: !!binary |
//!         H4sIAAAAAAACA8tIzcnJ11FIzs8tKEotLk5NUSjPL8pJ4coYFR8W4gCAYhqU4AEAAA==
//!     headers:
//!       Content-Encoding:
//!       - gzip
//!     status:
//!       code: 201
//!       message: Created
//! version: 1
//! ```
//!
//! - bodies as strings, `!!binary` base64 blocks, or null (empty); the tags vcrpy 1.x
//!   wrote under Python 2 (`!!python/unicode`, `!!python/str`) and the request bodies
//!   older versions pickled (`!!python/object/new:_io.BytesIO`,
//!   `!!python/object/apply:builtins.iter`) read as their content; any other tag is
//!   an error naming it;
//! - a response body `{}` (vcrpy's aiohttp stub, no body), a response `url` (its
//!   tornado and aiohttp stubs), the `status_code`/`content`/`http_version` responses
//!   of its httpx stub before vcrpy 4.3, and `metadata` (vcrpy 9) are read or skipped;
//! - a cassette from before vcrpy 1.0 (a bare list) is an error that says to run
//!   `python -m vcr.migration`.
//!
//! Cassettes written by vcrpy's JSON serializer (`serializer="json"`) have the same
//! structure, and JSON is YAML: [`convert`] reads them whatever their extension (a
//! `.json` path opens as this crate's format).
//!
//! **Ruby VCR** (`recorded_with: VCR 2.x` to `6.x`):
//!
//! ```yaml
//! ---
//! http_interactions:
//! - request:
//!     method: get
//!     uri: https://api.test/logo.png
//!     body:
//!       encoding: US-ASCII
//!       string: ''
//!     headers:
//!       Accept:
//!       - "*/*"
//!   response:
//!     status:
//!       code: 200
//!       message: OK
//!     headers:
//!       Content-Type:
//!       - image/png
//!     body:
//!       encoding: ASCII-8BIT
//!       base64_string: |
//!         iVBORw0KGgo=
//!     http_version:
//!     adapter_metadata:
//!       effective_url: https://api.test/logo.png
//!   recorded_at: Tue, 01 Dec 2026 12:00:00 GMT
//! recorded_with: VCR 6.3.1
//! ```
//!
//! - bodies as `string` (text, or Psych's `!binary` base64 for binary strings) or
//!   `base64_string` (`preserve_exact_body_bytes`); the `encoding` is not needed to
//!   replay the bytes and is not used;
//! - methods in lowercase, as VCR writes them, replayed uppercase;
//! - `recorded_at` kept, for
//!   [`re_record_after`](crate::record::CassetteBuilder::re_record_after) on a
//!   converted cassette; `http_version` and `adapter_metadata` skipped.
//!
//! **Both**: header names in any case (lowercased, as everywhere in this crate), each
//! mapped to a list of values (or to one value); status messages skipped (the client
//! sees the standard reason phrase). Responses replay the bytes as recorded, with
//! headers made true to those bytes:
//!
//! - `transfer-encoding` dropped: the recorded body is whole;
//! - `content-encoding: gzip` (or `deflate`, `zstd`) dropped when the body is not so
//!   compressed: vcrpy on urllib3 2 (`requests`) stores the body urllib3 already
//!   decoded and keeps the header; a body that is still compressed, as vcrpy
//!   records it from `http.client`, `urllib` or `httpx`, keeps its header and replays
//!   compressed, for the client to decode;
//! - `content-length` set to the body's length (but for HEAD, 1xx, 204 and 304).
//!
//! # Errors
//!
//! A file that is not YAML, is not a cassette of either tool, or has a key neither
//! tool writes there, a missing key or a value of the wrong shape, is an error for
//! which [`Error::is_malformed`](crate::record::Error::is_malformed) is true, naming
//! the file, the line and the column, and what was expected there:
//!
//! ```text
//! malformed cassette tests/cassettes/api.yaml: line 12, column 5: unknown key `stauts` in a response, allowed here: `status`, `headers`, `body`, `url`, `status_code`, `content`, `http_version`
//! ```
//!
//! Anchors and aliases are read (to a bound: a document whose aliases expand past
//! 100 000 nodes is refused), as are nesting levels up to 64. The parser is
//! [saphyr-parser](https://docs.rs/saphyr-parser), a pure-Rust YAML 1.2 parser that is
//! maintained today (serde_yaml is archived, serde_yml is not to be trusted, and
//! yaml-rust is unmaintained); its events carry the line, the column and the tag of
//! every node, which is what these errors and `!!binary` need.
//!
//! # Converting
//!
//! [`convert`] writes a YAML cassette as this crate's format, which can then record
//! new interactions, be redacted and diff well:
//!
//! ```no_run
//! # fn main() -> Result<(), http_intercept::record::Error> {
//! let n = http_intercept::record::yaml::convert(
//!     "tests/cassettes/test_github_user.yaml",
//!     "tests/cassettes/test_github_user.json",
//! )?;
//! println!("{n} interactions converted");
//! # Ok(())
//! # }
//! ```
//!
//! `cargo run --example vcr --features record -- FROM.yaml TO.json` does the same
//! from the command line.

mod convert;
mod import;
mod tree;

pub use self::convert::convert;
pub(crate) use self::import::{is_yaml, load};
