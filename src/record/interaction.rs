//! One recorded exchange: a request and what came back, a response or a failure.

use std::fmt;
use std::time::SystemTime;

use bytes::Bytes;
use http::{HeaderMap, Request, Response};

/// One recorded exchange: the request, and the response or the failure it got.
///
/// Requests and responses are plain [`http`] types with their whole body as [`Bytes`];
/// the chunk boundaries of the response body, as it streamed when it was recorded, are
/// kept too and replayed.
///
/// # Examples
///
/// ```
/// use http_intercept::record::Interaction;
///
/// let req = http::Request::get("https://api.test/users/7").body(bytes::Bytes::new())?;
/// let res = http::Response::builder()
///     .header("content-type", "application/json")
///     .body(bytes::Bytes::from(r#"{"id":7}"#))?;
/// let interaction = Interaction::new(req, res);
/// assert_eq!(interaction.response().unwrap().status(), 200);
/// # Ok::<(), http::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Interaction {
    pub(crate) request: Request<Bytes>,
    pub(crate) outcome: Outcome,
    /// Lengths of the response body chunks as recorded; empty: one chunk.
    pub(crate) chunks: Vec<usize>,
    /// The response's trailers (gRPC's `grpc-status`), if it had any.
    pub(crate) trailers: Option<HeaderMap>,
    /// When it was recorded, if known.
    pub(crate) recorded_at: Option<SystemTime>,
}

/// What a recorded request got: a response, or a failure.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// A response, with its whole body.
    Response(Response<Bytes>),
    /// No response: the connection failed.
    Failure(Failure),
}

/// A failure recorded instead of a response: the real host could not be reached, or
/// did not answer in time.
///
/// Replaying it makes the client see a failed request, not a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    kind: FailureKind,
    message: String,
}

/// The kind of a recorded [`Failure`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// The connection could not be made: refused, reset, TLS handshake failed.
    Connect,
    /// The host name did not resolve.
    Dns,
    /// No response in time.
    Timeout,
    /// Any other failure (a broken response, a service error).
    Other,
}

impl FailureKind {
    /// The name used in cassette files: `connect`, `dns`, `timeout` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Connect => "connect",
            FailureKind::Dns => "dns",
            FailureKind::Timeout => "timeout",
            FailureKind::Other => "other",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<FailureKind> {
        Some(match s {
            "connect" => FailureKind::Connect,
            "dns" => FailureKind::Dns,
            "timeout" => FailureKind::Timeout,
            "other" => FailureKind::Other,
            _ => return None,
        })
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Failure {
    /// A failure of `kind`, described by `message`.
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Failure {
        Failure {
            kind,
            message: message.into(),
        }
    }

    /// What kind of failure it was.
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// The error message, as recorded.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error: {}", self.kind, self.message)
    }
}

impl Interaction {
    /// An interaction where `request` got `response`.
    pub fn new(request: Request<Bytes>, response: Response<Bytes>) -> Interaction {
        Interaction {
            request,
            outcome: Outcome::Response(response),
            chunks: Vec::new(),
            trailers: None,
            recorded_at: None,
        }
    }

    /// An interaction where `request` got no response but `failure`.
    pub fn failed(request: Request<Bytes>, failure: Failure) -> Interaction {
        Interaction {
            request,
            outcome: Outcome::Failure(failure),
            chunks: Vec::new(),
            trailers: None,
            recorded_at: None,
        }
    }

    /// Sets how the response body is split into chunks when it is replayed: the
    /// lengths of the chunks, in order. Lengths that do not add up to the body's length
    /// are ignored (the body is then replayed as one chunk); empty chunks are dropped.
    ///
    /// Default: one chunk.
    pub fn with_chunks(mut self, lengths: Vec<usize>) -> Interaction {
        self.chunks = lengths;
        self.normalize_chunks();
        self
    }

    /// Sets the trailers the response ends with (sent after its body, as gRPC sends
    /// `grpc-status`); an empty map means none. Ignored for a failure.
    ///
    /// Default: none.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::record::Interaction;
    ///
    /// let req = http::Request::post("http://grpc.test/svc/Call").body(bytes::Bytes::new())?;
    /// let mut trailers = http::HeaderMap::new();
    /// trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
    /// let i = Interaction::new(req, http::Response::new(bytes::Bytes::new()))
    ///     .with_trailers(trailers);
    /// assert_eq!(i.trailers().unwrap()["grpc-status"], "0");
    /// # Ok::<(), http::Error>(())
    /// ```
    pub fn with_trailers(mut self, trailers: HeaderMap) -> Interaction {
        self.trailers = (!trailers.is_empty() && self.response().is_some()).then_some(trailers);
        self
    }

    /// The response's trailers, if it had any.
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.trailers.as_ref()
    }

    /// Sets when the interaction was recorded (saved as `recorded_at`, used by
    /// [`re_record_after`](crate::record::CassetteBuilder::re_record_after)).
    /// Cassettes set it when they record.
    ///
    /// Default: unknown.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::record::Interaction;
    ///
    /// let req = http::Request::get("http://api.test/").body(bytes::Bytes::new())?;
    /// let now = std::time::SystemTime::now();
    /// let i = Interaction::new(req, http::Response::new(bytes::Bytes::new()))
    ///     .with_recorded_at(now);
    /// assert_eq!(i.recorded_at(), Some(now));
    /// # Ok::<(), http::Error>(())
    /// ```
    pub fn with_recorded_at(mut self, at: SystemTime) -> Interaction {
        self.recorded_at = Some(at);
        self
    }

    /// When the interaction was recorded, if known.
    pub fn recorded_at(&self) -> Option<SystemTime> {
        self.recorded_at
    }

    /// The recorded request.
    pub fn request(&self) -> &Request<Bytes> {
        &self.request
    }

    /// The recorded request, to edit.
    pub fn request_mut(&mut self) -> &mut Request<Bytes> {
        &mut self.request
    }

    /// The outcome: a response or a failure.
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    /// The recorded response, if there was one.
    pub fn response(&self) -> Option<&Response<Bytes>> {
        match &self.outcome {
            Outcome::Response(res) => Some(res),
            Outcome::Failure(_) => None,
        }
    }

    /// The recorded response, to edit.
    pub fn response_mut(&mut self) -> Option<&mut Response<Bytes>> {
        match &mut self.outcome {
            Outcome::Response(res) => Some(res),
            Outcome::Failure(_) => None,
        }
    }

    /// The recorded failure, if the request got no response.
    pub fn failure(&self) -> Option<&Failure> {
        match &self.outcome {
            Outcome::Response(_) => None,
            Outcome::Failure(failure) => Some(failure),
        }
    }

    /// The lengths of the response body chunks as recorded (empty: one chunk).
    pub fn chunks(&self) -> &[usize] {
        &self.chunks
    }

    /// Drops chunk lengths that do not describe the body (after an edit).
    pub(crate) fn normalize_chunks(&mut self) {
        let len = self.response().map_or(0, |r| r.body().len());
        if checked_total(&self.chunks) != Some(len) {
            self.chunks.clear();
        }
        // Empty chunks stream nothing.
        self.chunks.retain(|&c| c > 0);
        if self.chunks.len() < 2 {
            self.chunks.clear();
        }
    }

    /// `GET http://host/path?query`, for reports.
    pub(crate) fn request_line(&self) -> String {
        request_line(&self.request)
    }
}

/// The sum of chunk lengths, or `None` if it overflows (a malformed cassette).
pub(crate) fn checked_total(lengths: &[usize]) -> Option<usize> {
    lengths
        .iter()
        .try_fold(0usize, |total, &len| total.checked_add(len))
}

/// `GET http://host/path?query`, for reports.
pub(crate) fn request_line<B>(req: &Request<B>) -> String {
    format!("{} {}", req.method(), req.uri())
}
