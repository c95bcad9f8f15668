//! The request log each registration keeps, for a failing test to print what its
//! service saw.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use http::{HeaderMap, Method, Request, StatusCode, Uri, Version};
use http_body::Body;

/// How many requests a registration remembers; older ones are forgotten first.
pub(crate) const LOG_CAPACITY: usize = 1024;

/// A request a registered service was given, as [`Intercept::requests`] reports it.
///
/// The method, URI, version and headers are those the service saw (see "What a service
/// sees" in the crate docs); the status is filled in once the service answered.
///
/// [`Intercept::requests`]: crate::Intercept::requests
#[derive(Clone)]
pub struct LoggedRequest(Arc<Entry>);

struct Entry {
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
    body_size: Option<u64>,
    status: OnceLock<StatusCode>,
}

impl LoggedRequest {
    pub(crate) fn new<B: Body>(req: &Request<B>) -> LoggedRequest {
        LoggedRequest(Arc::new(Entry {
            method: req.method().clone(),
            uri: req.uri().clone(),
            version: req.version(),
            headers: req.headers().clone(),
            body_size: req.body().size_hint().exact(),
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

    /// The status the service answered with; `None` while it has not answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status.get().copied()
    }
}

impl fmt::Debug for LoggedRequest {
    /// `GET https://api.test/users HTTP/1.1 (body: 0 bytes) -> 200 OK`, then the
    /// headers, one per line with `{:#?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.0;
        write!(f, "{} {} {:?} (body: ", e.method, e.uri, e.version)?;
        match e.body_size {
            Some(n) => write!(f, "{n} bytes")?,
            None => f.write_str("streamed")?,
        }
        match e.status.get() {
            Some(status) => write!(f, ") -> {status}")?,
            None => f.write_str(") -> (no answer yet)")?,
        }
        if f.alternate() {
            for (name, value) in &e.headers {
                write!(
                    f,
                    "\n    {name}: {}",
                    String::from_utf8_lossy(value.as_bytes())
                )?;
            }
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
