//! Record and replay: cassettes, the recorder layer and the forwarding proxy.
//!
//! What vcrpy, VCR, dvd-rw and scotch give their users, as tower services:
//!
//! - a [`Cassette`] replays recorded interactions from a JSON file in place of a real
//!   host, and records what it has not seen (per its [`Mode`]) through a [`Proxy`] to
//!   the real network; register its [`service`](Cassette::service) with
//!   [`add`](crate::add). [`cassette!`](crate::cassette) opens the one named after the
//!   calling test;
//! - the same [`Cassette`] replays a HAR file ([`har`]) or a vcrpy or Ruby VCR YAML
//!   cassette ([`yaml`], which also converts them to this crate's format);
//! - [`Proxy`] forwards a request to the real host its URI names, over real TCP and
//!   TLS, bypassing the registry;
//! - [`RecordLayer`] / [`Record`] wrap any service and keep its exchanges in a
//!   [`Recording`], which saves in the cassette format and prints with filters;
//! - [`Playback`] sends recorded requests again and reports how the responses changed.
//!
//! # Quick start
//!
//! ```no_run
//! use http_intercept::record::{Cassette, Mode};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! // Mode::Once: the first run records from api.github.com, later runs replay the file.
//! let cassette = Cassette::open("tests/cassettes/github_user.json")?;
//! let _g = http_intercept::add("https://api.github.com", cassette.service())?;
//! // ... the code under test calls https://api.github.com ...
//! # Ok(())
//! # }
//! // Dropping the cassette saves what was recorded (only if the test passed) and
//! // reports requests that matched nothing.
//! ```
//!
//! # Modes
//!
//! [`Mode::Once`] (default) replays if the file exists and records otherwise;
//! [`Mode::Replay`] never touches the network; [`Mode::Record`] records everything
//! again; [`Mode::NewEpisodes`] replays what matches and records the rest. The
//! [`MODE_ENV`] environment variable (`HTTP_INTERCEPT_RECORD_MODE=record cargo test`)
//! forces a mode on every cassette of a run.
//!
//! # Matching
//!
//! A request matches a recorded one when the configured [`Match`]ers agree (by default
//! method, scheme, host, port, path and query in any order), then the custom matcher
//! closures. The matchers' values are hashed into a keyed index, so a lookup costs the
//! same on a 10 000-interaction cassette as on a small one. Each recorded interaction
//! is served at most once, in recorded order for identical requests;
//! [`CassetteBuilder::allow_playback_repeats`] serves the last match again.
//!
//! # Failures
//!
//! A connection failure, DNS failure or timeout while recording is recorded; replaying
//! it makes the client's request fail (see [`ReplayBody`]). A request that matches
//! nothing while the cassette does not record gets a 500 response naming the nearest
//! recorded candidate and the matchers that differed, and the cassette panics with a
//! numbered report of all of them when it is dropped (unless already panicking);
//! [`Cassette::finish`] gives the report as an error instead.
//!
//! # Saving and secrets
//!
//! A cassette is saved only when something was recorded, only if the test did not
//! panic, and atomically (a temporary file renamed over the old one); a failed save
//! leaves the old file intact. `Authorization`, `Proxy-Authorization`, `Cookie` and
//! `Set-Cookie` values are recorded as [`REDACTED`] unless
//! [`CassetteBuilder::keep_sensitive_headers`]; more headers and query parameters can
//! be redacted in one line, and [`CassetteBuilder::secret`] makes a save fail if a
//! secret value is found anywhere in the cassette.

mod body;
mod builder;
mod cassette;
mod error;
mod fixture;
pub mod format;
pub mod future;
pub mod har;
mod index;
mod interaction;
mod matcher;
mod mode;
mod not_found;
mod playback;
mod proxy;
mod recorder;
mod recording;
mod redact;
mod report;
mod save;
mod service;
mod upstream;
pub mod yaml;

pub use self::body::ReplayBody;
pub use self::builder::CassetteBuilder;
pub use self::cassette::Cassette;
pub use self::error::Error;
#[doc(hidden)]
pub use self::fixture::__fixture_path;
pub use self::fixture::CassetteGuard;
pub use self::interaction::{Failure, FailureKind, Interaction, Outcome};
pub use self::matcher::Match;
pub use self::mode::{Mode, MODE_ENV};
pub use self::not_found::NotFound;
pub use self::playback::{Comparison, Difference, Playback, PlaybackReport};
pub use self::proxy::Proxy;
pub use self::recorder::{Record, RecordBody, RecordLayer};
pub use self::recording::{is_primary_page, Recording, RecordingDisplay};
pub use self::redact::REDACTED;
pub use self::service::CassetteService;
