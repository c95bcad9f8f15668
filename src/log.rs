//! The request log each registration keeps, for a failing test to print what its
//! service saw.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, Uri, Version};
use http_body::Body;

/// How many requests a registration remembers; older ones are forgotten first.
pub(crate) const LOG_CAPACITY: usize = 1024;

/// How much of a request body a [`LoggedRequest`] keeps: the first 64 KiB.
pub(crate) const LOG_BODY_LIMIT: usize = 64 * 1024;

/// A request a registered service was given, as [`Intercept::requests`] reports it.
///
/// The method, URI, version and headers are those the service saw (see "What a service
/// sees" in the crate docs); the status is filled in once the service answered. The
/// body is there when the service read it whole and handed it back to the log, as the
/// crate's own services that read bodies do (feature `mock`: `mock::Mocks`): its first
/// 64 KiB.
///
/// Its `Debug` output redacts secrets: the values of the `authorization`,
/// `proxy-authorization`, `cookie`, `set-cookie` and `x-api-key` headers (and a few
/// more), and of token-like query parameters (`access_token`, `api_key`, `token`, `key`,
/// ...). The accessors give the values as sent.
///
/// # Examples
///
/// ```
/// let svc = tower::service_fn(|_req| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// });
/// let guard = http_intercept::add_unique(svc);
/// // ... after the code under test ran:
/// for request in guard.requests() {
///     println!("{request:#?}"); // method, URI, status, headers, body excerpt
/// }
/// ```
/// [`Intercept::requests`]: crate::Intercept::requests
#[derive(Clone)]
pub struct LoggedRequest(Arc<Entry>);

struct Entry {
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
    body_size: Option<u64>,
    body: OnceLock<Bytes>,
    status: OnceLock<StatusCode>,
}

/// The request extension through which a service that reads the whole body gives it
/// back to the request's log entry (the transport cannot copy a body it hands on).
#[derive(Clone)]
pub(crate) struct BodySlot(pub(crate) LoggedRequest);

impl BodySlot {
    /// Keeps the first [`LOG_BODY_LIMIT`] bytes of `body` in the log entry.
    #[cfg_attr(not(feature = "mock"), allow(dead_code))]
    pub(crate) fn fill(&self, body: &Bytes) {
        let kept = if body.len() > LOG_BODY_LIMIT {
            Bytes::copy_from_slice(&body[..LOG_BODY_LIMIT])
        } else {
            body.clone()
        };
        let _ = self.0 .0.body.set(kept);
    }
}

impl LoggedRequest {
    pub(crate) fn new<B: Body>(req: &Request<B>) -> LoggedRequest {
        LoggedRequest(Arc::new(Entry {
            method: req.method().clone(),
            uri: req.uri().clone(),
            version: req.version(),
            headers: req.headers().clone(),
            body_size: req.body().size_hint().exact(),
            body: OnceLock::new(),
            status: OnceLock::new(),
        }))
    }

    pub(crate) fn answered(&self, status: StatusCode) {
        let _ = self.0.status.set(status);
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.0.method
    }

    /// The URI, in absolute form, with a mount's path prefix stripped.
    pub fn uri(&self) -> &Uri {
        &self.0.uri
    }

    /// The HTTP version the client spoke.
    pub fn version(&self) -> Version {
        self.0.version
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.0.headers
    }

    /// The size of the request body in bytes, when it was known up front (a
    /// `Content-Length`, or an empty body); `None` for a streamed body of unknown size.
    pub fn body_size(&self) -> Option<u64> {
        self.0.body_size
    }

    /// The body, or its first 64 KiB, when the service that answered
    /// gave it to the log (the crate's mocks do); `None` otherwise.
    pub fn body(&self) -> Option<&Bytes> {
        self.0.body.get()
    }

    /// The status the service answered with; `None` while it has not answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status.get().copied()
    }
}

impl fmt::Debug for LoggedRequest {
    /// `GET https://api.test/users HTTP/1.1 (body: 0 bytes) -> 200 OK`, then, with
    /// `{:#?}`, the headers one per line and the body (JSON pretty-printed, text as
    /// text, binary as size and hex excerpt). Secrets are redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.0;
        write!(
            f,
            "{} {} {:?} (body: ",
            e.method,
            crate::report::uri(&e.uri),
            e.version
        )?;
        match (e.body.get(), e.body_size) {
            (_, Some(n)) => write!(f, "{n} bytes")?,
            (Some(body), None) if body.len() < LOG_BODY_LIMIT => {
                write!(f, "{} bytes, streamed", body.len())?
            }
            _ => f.write_str("streamed")?,
        }
        match e.status.get() {
            Some(status) => write!(f, ") -> {status}")?,
            None => f.write_str(") -> (no answer yet)")?,
        }
        if f.alternate() {
            let mut out = String::new();
            crate::report::write_headers(&mut out, "    ", &e.headers);
            if let Some(body) = e.body.get() {
                crate::report::write_body(&mut out, "    ", &e.headers, body);
            }
            f.write_str(&out)?;
        }
        Ok(())
    }
}

/// The last [`LOG_CAPACITY`] requests of a registration.
#[derive(Default)]
pub(crate) struct RequestLog {
    entries: Mutex<VecDeque<LoggedRequest>>,
}

impl RequestLog {
    pub(crate) fn push(&self, entry: LoggedRequest) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() == LOG_CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    pub(crate) fn snapshot(&self) -> Vec<LoggedRequest> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.iter().cloned().collect()
    }
}
