//! Declarative mocks: say what a host answers with [`Mock`]s, in memory, at the real
//! host name, with reports that say what differed.
//!
//! Wiremock's vocabulary, without a server or a base URL: a [`MockHost`] stands in for
//! the host the code under test calls (`https://api.github.com`), for every client the
//! crate intercepts.
//!
//! ```
//! use http_intercept::mock::matchers::{body_partial_json, header, method, path};
//! use http_intercept::mock::{Mock, MockHost, ResponseTemplate};
//! use serde_json::json;
//!
//! # fn main() -> Result<(), http_intercept::Error> {
//! let github = MockHost::start("https://api.mod-example.test")?; // registered at once
//! Mock::given(method("POST"))
//!     .and(path("/repos/o/r/issues"))
//!     .and(header("authorization", "Bearer t"))
//!     .and(body_partial_json(json!({"title": "bug"})))
//!     .respond_with(ResponseTemplate::new(201).set_body_json(json!({"number": 7})))
//!     .expect(0..=1)
//!     .named("create issue")
//!     .mount(&github);
//! // ... the code under test calls https://api.mod-example.test with its own client ...
//! # Ok(())
//! # } // dropping `github` verifies every expectation, panicking with a numbered report
//! ```
//!
//! - [`Mock::given`]`(matcher).and(..)` with the [`matchers`], or any closure
//!   `Fn(&Request) -> bool` ([`Match`]).
//! - [`ResponseTemplate`]: status, headers, body (bytes, text, JSON, raw), a delay on
//!   tokio's clock, and faults (a failed connection, a stalled or cut body). A
//!   closure `Fn(&Request) -> ResponseTemplate` ([`Respond`]) or
//!   [`respond_with_sequence`](MockBuilder::respond_with_sequence) for answers that
//!   change.
//! - Rules as wiremock's: [`with_priority`](Mock::with_priority),
//!   [`up_to_n_times`](Mock::up_to_n_times), [`expect`](Mock::expect),
//!   [`named`](Mock::named); [`mount`](Mock::mount) for the host's life,
//!   [`mount_as_scoped`](Mock::mount_as_scoped) for a block.
//! - [`Mocks`] is the tower service underneath, usable wherever a service is.

mod host;
pub mod matchers;
#[allow(clippy::module_inception)]
mod mock;
mod mocks;
mod request;
mod template;
mod verify;

pub use self::host::MockHost;
pub use self::matchers::Match;
pub use self::mock::{Mock, MockBuilder, MockGuard};
pub use self::mocks::{Mocks, ResponseFuture};
pub use self::request::Request;
pub use self::template::{MockBody, Respond, ResponseTemplate};
pub use crate::times::Times;
