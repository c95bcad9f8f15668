//! Handlers: Rust closures mounted at a path of a [`Files`](crate::server::Files),
//! given the request and a response builder, as wptserve's Python handlers are.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, Version};

use crate::error::BoxError;
use crate::server::body::{Body, Response};
use crate::server::query;
use crate::server::stash::Stash;
use crate::transport::RawWriter;

/// The request a handler is given: its head, its whole body, the server's stash and,
/// on HTTP/1.1, the connection's raw writer.
///
/// The URI is in absolute form as http-intercept gives it (see the crate docs, "What a
/// service sees").
pub struct Request {
    parts: Parts,
    body: Bytes,
    query: Vec<(String, String)>,
    stash: Stash,
    raw: Option<RawWriter>,
}

impl Request {
    pub(crate) fn new(parts: Parts, body: Bytes, stash: Stash, raw: Option<RawWriter>) -> Request {
        let query = parts.uri.query().map(query::pairs).unwrap_or_default();
        Request {
            parts,
            body,
            query,
            stash,
            raw,
        }
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.parts.method
    }

    /// The URI.
    pub fn uri(&self) -> &Uri {
        &self.parts.uri
    }

    /// The URI's path.
    pub fn path(&self) -> &str {
        self.parts.uri.path()
    }

    /// The HTTP version the client spoke.
    pub fn version(&self) -> Version {
        self.parts.version
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    /// The first value of header `name` (case-insensitive), if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.parts.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The first value of query parameter `name`, decoded (wptserve's `request.GET`).
    pub fn query(&self, name: &str) -> Option<&str> {
        query::first(&self.query, name)
    }

    /// Every decoded query parameter, in order.
    pub fn query_pairs(&self) -> &[(String, String)] {
        &self.query
    }

    /// The request body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The request's extensions.
    pub fn extensions(&self) -> &http::Extensions {
        &self.parts.extensions
    }

    /// The stash of the server this handler is mounted on.
    pub fn stash(&self) -> &Stash {
        &self.stash
    }

    /// The connection's raw writer: present on HTTP/1.x connections served by
    /// http-intercept, absent on HTTP/2. See [`RawWriter`].
    pub fn raw_writer(&self) -> Option<&RawWriter> {
        self.raw.as_ref()
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.parts.method)
            .field("uri", &self.parts.uri)
            .field("headers", &self.parts.headers)
            .field("body", &self.body.len())
            .finish()
    }
}

/// Builds a handler's response: status and headers, then [`body`](Self::body).
///
/// A bad status or header is reported when the response is built, as an error that
/// the server answers with a 500 naming it.
///
/// # Examples
///
/// ```
/// use http_intercept::server::ResponseBuilder;
///
/// let res = ResponseBuilder::new()
///     .status(201)
///     .header("content-type", "text/plain")
///     .body("made")?;
/// assert_eq!(res.status(), 201);
/// # Ok::<(), http_intercept::BoxError>(())
/// ```
#[must_use = "a response builder does nothing until its body is set"]
#[derive(Debug)]
pub struct ResponseBuilder {
    status: StatusCode,
    headers: HeaderMap,
    error: Option<String>,
}

impl ResponseBuilder {
    /// A 200 response with no headers.
    pub fn new() -> ResponseBuilder {
        ResponseBuilder {
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            error: None,
        }
    }

    /// Sets the status code. Default: 200.
    pub fn status(mut self, code: u16) -> ResponseBuilder {
        match StatusCode::from_u16(code) {
            Ok(status) => self.status = status,
            Err(_) => self.fail(format!("{code} is not a status code")),
        }
        self
    }

    /// Sets header `name` to `value`, replacing its earlier values.
    pub fn header(self, name: &str, value: impl AsRef<[u8]>) -> ResponseBuilder {
        self.put(name, value.as_ref(), false)
    }

    /// Adds a value to header `name`, keeping its earlier values.
    pub fn append_header(self, name: &str, value: impl AsRef<[u8]>) -> ResponseBuilder {
        self.put(name, value.as_ref(), true)
    }

    /// Removes header `name`.
    pub fn remove_header(mut self, name: &str) -> ResponseBuilder {
        self.headers.remove(name);
        self
    }

    fn put(mut self, name: &str, value: &[u8], append: bool) -> ResponseBuilder {
        let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
            self.fail(format!("{name:?} is not a header name"));
            return self;
        };
        let Ok(value) = HeaderValue::from_bytes(value) else {
            self.fail(format!("the value given for {name} is not a header value"));
            return self;
        };
        if append {
            self.headers.append(header, value);
        } else {
            self.headers.insert(header, value);
        }
        self
    }

    fn fail(&mut self, why: String) {
        self.error.get_or_insert(why);
    }

    /// Finishes the response with `body`.
    ///
    /// # Errors
    ///
    /// Returns the first bad status or header given to this builder.
    pub fn body(self, body: impl Into<Body>) -> Result<Response, BoxError> {
        if let Some(why) = self.error {
            return Err(format!("the handler built a bad response: {why}").into());
        }
        let mut res = Response::new(body.into());
        *res.status_mut() = self.status;
        *res.headers_mut() = self.headers;
        Ok(res)
    }
}

impl Default for ResponseBuilder {
    fn default() -> ResponseBuilder {
        ResponseBuilder::new()
    }
}

/// What a handler may return: a [`Response`], a [`ResponseBuilder`] (an empty body),
/// or a `Result` of either whose error the server answers with a 500 naming it.
pub trait IntoReply {
    /// Converts into the response, or the error to report.
    ///
    /// # Errors
    ///
    /// The handler's error.
    fn into_reply(self) -> Result<Response, BoxError>;
}

impl IntoReply for Response {
    fn into_reply(self) -> Result<Response, BoxError> {
        Ok(self)
    }
}

impl IntoReply for ResponseBuilder {
    fn into_reply(self) -> Result<Response, BoxError> {
        self.body(Body::empty())
    }
}

impl<T, E> IntoReply for Result<T, E>
where
    T: IntoReply,
    E: Into<BoxError>,
{
    fn into_reply(self) -> Result<Response, BoxError> {
        self.map_err(Into::into)?.into_reply()
    }
}

pub(crate) type HandlerFuture = Pin<Box<dyn Future<Output = Result<Response, BoxError>> + Send>>;

/// A mounted handler with its type erased.
pub(crate) trait ErasedHandler: Send + Sync {
    fn call(&self, req: Request, res: ResponseBuilder) -> HandlerFuture;
}

pub(crate) struct FnHandler<F>(pub(crate) F);

impl<F, Fut, R> ErasedHandler for FnHandler<F>
where
    F: Fn(Request, ResponseBuilder) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoReply,
{
    fn call(&self, req: Request, res: ResponseBuilder) -> HandlerFuture {
        let fut = (self.0)(req, res);
        Box::pin(async move { fut.await.into_reply() })
    }
}

/// Where a handler is mounted: one path, or every path under a prefix (`/api/*`).
#[derive(Clone)]
pub(crate) struct Mounted {
    pattern: Arc<str>,
    pub(crate) handler: Arc<dyn ErasedHandler>,
}

impl Mounted {
    pub(crate) fn new(pattern: &str, handler: Arc<dyn ErasedHandler>) -> Mounted {
        Mounted {
            pattern: pattern.into(),
            handler,
        }
    }

    pub(crate) fn pattern(&self) -> &str {
        &self.pattern
    }

    pub(crate) fn matches(&self, path: &str) -> bool {
        match self.pattern.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == &*self.pattern,
        }
    }
}
