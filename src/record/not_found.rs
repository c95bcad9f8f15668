//! What a cassette that does not record does with a request that matches nothing.

/// What a cassette that does not record (it replays only, or is a HAR file) does
/// with a request that matches no recorded interaction; see
/// [`CassetteBuilder::not_found`](crate::record::CassetteBuilder::not_found).
///
/// The names follow Playwright's `routeFromHAR({ notFound })`.
///
/// # Examples
///
/// ```
/// use http_intercept::record::{Cassette, NotFound};
///
/// let dir = std::env::temp_dir().join("http-intercept-doc-not-found");
/// let cassette = Cassette::builder(dir.join("api.json"))
///     .not_found(NotFound::Abort)
///     .open()?;
/// # drop(cassette);
/// # Ok::<(), http_intercept::record::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotFound {
    /// Answer 500 with the nearest recorded candidate and the matchers that differed
    /// (and the [`ERROR_HEADER`](crate::ERROR_HEADER)), and fail the test with the
    /// report when the cassette ends. The default for JSON cassettes.
    Report,
    /// Fail the request as a network error would (the connection closes before a
    /// response), and report nothing. The default for HAR files, as Playwright's.
    Abort,
    /// Send the request to the upstream (the real host, through
    /// [`Proxy`](crate::record::Proxy)) and answer with its response, recording
    /// nothing and reporting nothing.
    Fallback,
}
