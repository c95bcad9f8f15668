//! What a mock answers: [`ResponseTemplate`], the [`Respond`] trait, and sequences.

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt;
use serde::Serialize;

use super::Request;
use crate::error::BoxError;

/// The body of the responses of [`Mocks`](super::Mocks).
pub type MockBody = UnsyncBoxBody<Bytes, BoxError>;

/// A response a mock gives: status, headers, body, and optionally a delay or a fault.
///
/// Built like wiremock's: `ResponseTemplate::new(201).set_body_json(..)`. Beyond
/// wiremock, the faults the crate can play in memory: [`abort`](Self::abort) (the
/// connection fails), [`stall_body`](Self::stall_body) (the headers, then nothing) and
/// [`cut_body_after`](Self::cut_body_after) (the body breaks off).
///
/// The body setters set a `Content-Type` (`text/plain; charset=utf-8` for
/// [`set_body_string`](Self::set_body_string), `application/json` for
/// [`set_body_json`](Self::set_body_json), the given one for
/// [`set_body_raw`](Self::set_body_raw)); a `content-type` header set explicitly with
/// [`insert_header`](Self::insert_header) or [`append_header`](Self::append_header)
/// wins over it, in whatever order they were called.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use http_intercept::mock::ResponseTemplate;
/// use serde_json::json;
///
/// let created = ResponseTemplate::new(201)
///     .insert_header("location", "/issues/7")
///     .set_body_json(json!({"number": 7}))
///     .set_delay(Duration::from_millis(50));
/// assert_eq!(created.status(), 201);
/// ```
#[derive(Clone, Debug)]
pub struct ResponseTemplate {
    status: StatusCode,
    headers: HeaderMap,
    mime: Option<HeaderValue>,
    body: Bytes,
    delay: Option<Duration>,
    fault: Option<Fault>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fault {
    Abort,
    Stall,
    Cut(usize),
}

fn header_name(caller: &str, name: &str) -> HeaderName {
    match HeaderName::from_bytes(name.as_bytes()) {
        Ok(name) => name,
        Err(_) => panic!("ResponseTemplate::{caller}: {name:?} is not a valid header name"),
    }
}

fn header_value(caller: &str, value: &str) -> HeaderValue {
    match HeaderValue::from_str(value) {
        Ok(value) => value,
        Err(_) => panic!("ResponseTemplate::{caller}: {value:?} is not a valid header value"),
    }
}

impl ResponseTemplate {
    /// A response with the status `status` and an empty body.
    ///
    /// # Panics
    ///
    /// If `status` is not a valid status code (100 to 999).
    ///
    /// # Examples
    ///
    /// ```
    /// let not_found = http_intercept::mock::ResponseTemplate::new(404);
    /// # drop(not_found);
    /// ```
    pub fn new<S>(status: S) -> ResponseTemplate
    where
        S: TryInto<StatusCode>,
        S::Error: std::fmt::Debug,
    {
        let status = match status.try_into() {
            Ok(status) => status,
            Err(e) => panic!("ResponseTemplate::new: not a valid status code: {e:?}"),
        };
        ResponseTemplate {
            status,
            headers: HeaderMap::new(),
            mime: None,
            body: Bytes::new(),
            delay: None,
            fault: None,
        }
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers set so far (without the body's `Content-Type`).
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// Adds a value for header `name`, after those it already has.
    ///
    /// # Panics
    ///
    /// If `name` or `value` is not valid in a header.
    ///
    /// # Examples
    ///
    /// ```
    /// let res = http_intercept::mock::ResponseTemplate::new(200)
    ///     .append_header("set-cookie", "a=1")
    ///     .append_header("set-cookie", "b=2");
    /// assert_eq!(res.headers().get_all("set-cookie").iter().count(), 2);
    /// ```
    pub fn append_header<K: AsRef<str>, V: AsRef<str>>(mut self, name: K, value: V) -> Self {
        self.headers.append(
            header_name("append_header", name.as_ref()),
            header_value("append_header", value.as_ref()),
        );
        self
    }

    /// Sets header `name` to `value`, replacing the values it had.
    ///
    /// # Panics
    ///
    /// If `name` or `value` is not valid in a header.
    ///
    /// # Examples
    ///
    /// ```
    /// let res = http_intercept::mock::ResponseTemplate::new(429).insert_header("retry-after", "1");
    /// assert_eq!(res.headers()["retry-after"], "1");
    /// ```
    pub fn insert_header<K: AsRef<str>, V: AsRef<str>>(mut self, name: K, value: V) -> Self {
        self.headers.insert(
            header_name("insert_header", name.as_ref()),
            header_value("insert_header", value.as_ref()),
        );
        self
    }

    /// Appends every `(name, value)` of `headers`; see
    /// [`append_header`](Self::append_header).
    ///
    /// # Panics
    ///
    /// If a name or a value is not valid in a header.
    ///
    /// # Examples
    ///
    /// ```
    /// let res = http_intercept::mock::ResponseTemplate::new(200)
    ///     .append_headers([("x-a", "1"), ("x-b", "2")]);
    /// assert_eq!(res.headers().len(), 2);
    /// ```
    pub fn append_headers<K, V, I>(self, headers: I) -> Self
    where
        K: AsRef<str>,
        V: AsRef<str>,
        I: IntoIterator<Item = (K, V)>,
    {
        headers
            .into_iter()
            .fold(self, |res, (k, v)| res.append_header(k, v))
    }

    /// Sets the body to `body`, leaving the content type as it is.
    ///
    /// # Examples
    ///
    /// ```
    /// let png = http_intercept::mock::ResponseTemplate::new(200).set_body_bytes(b"\x89PNG");
    /// assert_eq!(png.body().len(), 4);
    /// ```
    pub fn set_body_bytes<B: AsRef<[u8]>>(mut self, body: B) -> Self {
        self.body = Bytes::copy_from_slice(body.as_ref());
        self
    }

    /// Sets the body to `body` as UTF-8 text, `Content-Type: text/plain; charset=utf-8`.
    ///
    /// # Examples
    ///
    /// ```
    /// let hi = http_intercept::mock::ResponseTemplate::new(200).set_body_string("hi");
    /// assert_eq!(hi.body(), "hi");
    /// ```
    pub fn set_body_string<T: Into<String>>(mut self, body: T) -> Self {
        self.body = Bytes::from(body.into());
        self.mime = Some(HeaderValue::from_static("text/plain; charset=utf-8"));
        self
    }

    /// Sets the body to `body` serialized as JSON, `Content-Type: application/json`.
    ///
    /// # Panics
    ///
    /// If `body` cannot be serialized to JSON.
    ///
    /// # Examples
    ///
    /// ```
    /// let res = http_intercept::mock::ResponseTemplate::new(200)
    ///     .set_body_json(serde_json::json!({"ok": true}));
    /// assert_eq!(res.body(), r#"{"ok":true}"#);
    /// ```
    pub fn set_body_json<B: Serialize>(mut self, body: B) -> Self {
        match serde_json::to_vec(&body) {
            Ok(json) => self.body = Bytes::from(json),
            Err(e) => panic!("ResponseTemplate::set_body_json: cannot serialize the body: {e}"),
        }
        self.mime = Some(HeaderValue::from_static("application/json"));
        self
    }

    /// Sets the body to `body` with the content type `mime`.
    ///
    /// # Panics
    ///
    /// If `mime` is not a valid header value.
    ///
    /// # Examples
    ///
    /// ```
    /// let res = http_intercept::mock::ResponseTemplate::new(200)
    ///     .set_body_raw("<p>hi</p>", "text/html");
    /// # drop(res);
    /// ```
    pub fn set_body_raw<B: AsRef<[u8]>>(mut self, body: B, mime: &str) -> Self {
        self.body = Bytes::copy_from_slice(body.as_ref());
        self.mime = Some(header_value("set_body_raw", mime));
        self
    }

    /// Waits `delay` before answering, on tokio's clock: under paused time
    /// (`#[tokio::test(start_paused = true)]`) on the hyper-util path, the delay passes
    /// at once, and a client timeout shorter than it fires deterministically. Default:
    /// no delay.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let slow = http_intercept::mock::ResponseTemplate::new(200).set_delay(Duration::from_secs(30));
    /// # drop(slow);
    /// ```
    pub fn set_delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Answers with a connection failure instead of this response: over HTTP/1.1 the
    /// connection closes without an answer, over HTTP/2 the stream is reset (the core's
    /// [`Abort`](crate::Abort)).
    ///
    /// # Examples
    ///
    /// ```
    /// let broken = http_intercept::mock::ResponseTemplate::new(200).abort();
    /// # drop(broken);
    /// ```
    pub fn abort(mut self) -> Self {
        self.fault = Some(Fault::Abort);
        self
    }

    /// Sends the status and headers, then never a byte of the body: the client's read
    /// timeout fires.
    ///
    /// # Examples
    ///
    /// ```
    /// let hangs = http_intercept::mock::ResponseTemplate::new(200).set_body_string("never").stall_body();
    /// # drop(hangs);
    /// ```
    pub fn stall_body(mut self) -> Self {
        self.fault = Some(Fault::Stall);
        self
    }

    /// Sends the status, the headers (with the full `Content-Length`) and the first `n`
    /// bytes of the body, then breaks the response off: over HTTP/1.1 the connection
    /// closes, over HTTP/2 the stream is reset. The client sees an incomplete body.
    ///
    /// # Examples
    ///
    /// ```
    /// let cut = http_intercept::mock::ResponseTemplate::new(200)
    ///     .set_body_string("0123456789")
    ///     .cut_body_after(4);
    /// # drop(cut);
    /// ```
    pub fn cut_body_after(mut self, n: usize) -> Self {
        self.fault = Some(Fault::Cut(n));
        self
    }

    pub(crate) fn delay(&self) -> Option<Duration> {
        self.delay
    }

    /// The HTTP response.
    pub(crate) fn into_response(self) -> Response<MockBody> {
        let len = self.body.len();
        let body = match self.fault {
            None | Some(Fault::Abort) => http_body_util::Full::new(self.body)
                .map_err(|e| match e {})
                .boxed_unsync(),
            Some(Fault::Stall) => Stall {
                hint: (len > 0).then_some(len as u64),
            }
            .boxed_unsync(),
            Some(Fault::Cut(n)) => Cut {
                data: Some(self.body.slice(..n.min(len))),
                yielded: false,
                len: len as u64,
            }
            .boxed_unsync(),
        };
        let mut res = Response::new(body);
        *res.status_mut() = self.status;
        *res.headers_mut() = self.headers;
        if let Some(mime) = self.mime {
            res.headers_mut().entry(CONTENT_TYPE).or_insert(mime);
        }
        if self.fault == Some(Fault::Abort) {
            res.extensions_mut().insert(crate::Abort);
        }
        res
    }
}

/// A body that never yields.
struct Stall {
    hint: Option<u64>,
}

impl Body for Stall {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Poll::Pending
    }

    fn size_hint(&self) -> SizeHint {
        self.hint.map_or_else(SizeHint::new, SizeHint::with_exact)
    }
}

/// A body that sends its first bytes, then fails, announcing its full length. Between
/// the two it yields once, so that the server writes out what was sent before the
/// failure closes the connection.
struct Cut {
    data: Option<Bytes>,
    yielded: bool,
    len: u64,
}

impl Body for Cut {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(data) = self.data.take().filter(|d| !d.is_empty()) {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        if !self.yielded {
            self.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Poll::Ready(Some(Err(
            "http-intercept: the mock cut this response body off on purpose".into(),
        )))
    }

    fn is_end_stream(&self) -> bool {
        false
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}

/// What builds a mock's response for a request.
///
/// Implemented by [`ResponseTemplate`] (the same response every time) and by closures
/// `Fn(&Request) -> ResponseTemplate`, for answers that depend on the request. A panic
/// in `respond` answers a 500 that names the panic, and the
/// [`MockHost`](super::MockHost) raises it again when it is dropped.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::path_regex, Mock, Request, ResponseTemplate};
///
/// let echo_id = Mock::given(path_regex(r"^/users/\d+$")).respond_with(|req: &Request| {
///     let id = req.path().rsplit('/').next().unwrap_or_default();
///     ResponseTemplate::new(200).set_body_json(serde_json::json!({ "id": id }))
/// });
/// # drop(echo_id);
/// ```
pub trait Respond: Send + Sync + 'static {
    /// The response to `request`.
    fn respond(&self, request: &Request) -> ResponseTemplate;
}

impl Respond for ResponseTemplate {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        self.clone()
    }
}

impl<F> Respond for F
where
    F: Fn(&Request) -> ResponseTemplate + Send + Sync + 'static,
{
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self(request)
    }
}

/// Answers with each template in turn, then repeats the last one.
pub(crate) struct Sequence {
    templates: Vec<ResponseTemplate>,
    next: AtomicUsize,
}

impl Sequence {
    pub(crate) fn new(templates: Vec<ResponseTemplate>) -> Sequence {
        assert!(
            !templates.is_empty(),
            "respond_with_sequence: the sequence has no response"
        );
        Sequence {
            templates,
            next: AtomicUsize::new(0),
        }
    }
}

impl Respond for Sequence {
    fn respond(&self, _request: &Request) -> ResponseTemplate {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        self.templates[i.min(self.templates.len() - 1)].clone()
    }
}
