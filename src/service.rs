//! What can be registered, and how a registered service is called: type erasure, and
//! turning a panic or an error into a response that says so.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::FutureExt;
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body::{Body, Frame};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Full};
use hyper::body::Incoming;
use tower::ServiceExt;

use crate::error::BoxError;

/// Where a registration keeps the first panic of its service (the call or the response
/// body), for its guard to raise again when it drops.
#[derive(Clone, Default)]
pub(crate) struct PanicSlot(Arc<Mutex<Option<String>>>);

impl PanicSlot {
    /// Keeps `message` unless a panic is kept already.
    fn record(&self, message: &str) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            *slot = Some(message.to_owned());
        }
    }

    /// The panic kept, taken out: the guard will not raise it.
    pub(crate) fn take(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// The body of every response a registered service gives, once erased.
pub(crate) type ResponseBody = UnsyncBoxBody<Bytes, BoxError>;

/// The future of an erased service call.
pub(crate) type ServiceFuture =
    Pin<Box<dyn Future<Output = Result<Response<ResponseBody>, BoxError>> + Send>>;

/// The header set on responses that http-intercept made up rather than the registered
/// service: its value is `panic` (the service panicked), `error` (it returned an
/// error), `not-found` (nothing is mounted at that path), `denied` or `late` (a request
/// on a pooled connection whose registration was dropped: a new connection would be
/// refused by the connector's policy, or failed to reach the real host; status 502),
/// from the test server `server` (a refusal, a bad pipe string or a malformed
/// `.headers` file), or, from the mocks of feature `mock`, `unmatched` (no mock matched
/// the request; the body says which came nearest and why it failed).
pub const ERROR_HEADER: &str = "x-http-intercept-error";

/// A response extension that makes the client see a connection failure instead of
/// the response: over HTTP/1.1 the connection closes without an answer, over HTTP/2 the
/// stream is reset. For tests of a client's error handling, and for replaying a
/// recorded connection failure.
///
/// # Examples
///
/// ```
/// let svc = tower::service_fn(|_req| async {
///     let mut res = http::Response::new(String::new());
///     res.extensions_mut().insert(http_intercept::Abort);
///     Ok::<_, std::convert::Infallible>(res)
/// });
/// let _g = http_intercept::add("flaky.abort-example.test:80", svc)?;
/// // A client's request to http://flaky.abort-example.test/ now fails at the connection.
/// # Ok::<(), http_intercept::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Abort;

/// A service that can be registered with [`add`](crate::add).
///
/// Implemented for every tower service and every hyper service that takes
/// `http::Request<hyper::body::Incoming>` and answers `http::Response<B>` where `B` is
/// any [`http_body::Body`] of [`Bytes`]:
///
/// - a tower [`Service`](tower_service::Service) that is `Clone + Send + 'static` (it
///   is cloned for each request, as hyper's servers do), such as an `axum::Router` or
///   `tower::service_fn(..)`;
/// - a [`hyper::service::Service`] that is `Send + Sync + 'static`, such as
///   `hyper::service::service_fn(..)`.
///
/// The `Marker` parameter only keeps the two blanket implementations apart; it is
/// inferred. This trait is sealed: implement tower's `Service` instead.
pub trait InterceptService<Marker>: sealed::Sealed<Marker> {
    #[doc(hidden)]
    fn into_boxed(self, _: sealed::Token) -> BoxedService;
}

mod sealed {
    pub trait Sealed<M> {}

    /// Only this crate can make one, so only this crate can call `into_boxed`.
    #[derive(Debug)]
    pub struct Token(pub(crate) ());
}

/// Erases a registrable service.
pub(crate) fn boxed<S: InterceptService<M>, M>(service: S) -> BoxedService {
    service.into_boxed(sealed::Token(()))
}

/// Marks the [`InterceptService`] implementation for tower services.
#[doc(hidden)]
#[derive(Debug)]
pub enum TowerMarker {}

/// Marks the [`InterceptService`] implementation for hyper services.
#[doc(hidden)]
#[derive(Debug)]
pub enum HyperMarker {}

impl<S, B> sealed::Sealed<TowerMarker> for S
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
}

impl<S, B> InterceptService<TowerMarker> for S
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn into_boxed(self, _: sealed::Token) -> BoxedService {
        BoxedService(Arc::new(Tower(Mutex::new(self))))
    }
}

impl<S, B> sealed::Sealed<HyperMarker> for S
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
}

impl<S, B> InterceptService<HyperMarker> for S
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn into_boxed(self, _: sealed::Token) -> BoxedService {
        BoxedService(Arc::new(Hyper(self)))
    }
}

/// A registered service with its type erased.
#[doc(hidden)]
#[derive(Clone)]
pub struct BoxedService(Arc<dyn Erased>);

impl std::fmt::Debug for BoxedService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoxedService")
    }
}

trait Erased: Send + Sync {
    fn call(&self, req: Request<Incoming>) -> ServiceFuture;
}

/// A tower service, behind a mutex so that services that are `Send` but not `Sync`
/// (`tower::util::BoxCloneService`) can be registered; it is only held to clone.
struct Tower<S>(Mutex<S>);

impl<S, B> Erased for Tower<S>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn call(&self, req: Request<Incoming>) -> ServiceFuture {
        let svc = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Box::pin(async move {
            let res = svc.oneshot(req).await.map_err(Into::into)?;
            Ok(res.map(box_body))
        })
    }
}

struct Hyper<S>(S);

impl<S, B> Erased for Hyper<S>
where
    S: hyper::service::Service<Request<Incoming>, Response = Response<B>> + Send + Sync + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn call(&self, req: Request<Incoming>) -> ServiceFuture {
        let fut = self.0.call(req);
        Box::pin(async move {
            let res = fut.await.map_err(Into::into)?;
            Ok(res.map(box_body))
        })
    }
}

fn box_body<B>(body: B) -> ResponseBody
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}

impl BoxedService {
    /// Calls the service for `target`, answering a 500 that names the panic or the
    /// error if the service panics or fails. A panic while the response body streams
    /// ends the body with an error instead. Panics are recorded in `panics`.
    pub(crate) fn call_guarded(
        &self,
        req: Request<Incoming>,
        target: Arc<str>,
        panics: PanicSlot,
    ) -> impl Future<Output = Response<ResponseBody>> + Send + 'static {
        let called = std::panic::catch_unwind(AssertUnwindSafe(|| self.0.call(req)));
        async move {
            let outcome = match called {
                Ok(fut) => AssertUnwindSafe(fut).catch_unwind().await,
                Err(panic) => Err(panic),
            };
            match outcome {
                Ok(Ok(res)) => res.map(|body| {
                    CatchUnwind {
                        inner: Some(body),
                        panics,
                    }
                    .boxed_unsync()
                }),
                Ok(Err(err)) => text_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "error",
                    format!(
                        "http-intercept: the service for {target} returned an error: {}",
                        error_chain(&*err)
                    ),
                ),
                Err(panic) => {
                    let message = panic_message(&*panic);
                    panics.record(message);
                    text_response(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "panic",
                        format!("http-intercept: the service for {target} panicked: {message}"),
                    )
                }
            }
        }
    }
}

/// A plain-text response made up by http-intercept, marked with [`ERROR_HEADER`].
pub(crate) fn text_response(
    status: StatusCode,
    kind: &'static str,
    message: String,
) -> Response<ResponseBody> {
    let mut res = Response::new(box_body(Full::new(Bytes::from(message))));
    *res.status_mut() = status;
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(ERROR_HEADER, HeaderValue::from_static(kind));
    res
}

/// The text of a panic payload, as the standard panic hook prints it.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "Box<dyn Any>"
    }
}

/// An error and its sources, joined by `": "`.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// A body that turns a panic while it is polled into an error that ends it.
struct CatchUnwind {
    inner: Option<ResponseBody>,
    panics: PanicSlot,
}

impl Body for CatchUnwind {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll_frame(cx))) {
            Ok(poll) => poll,
            Err(panic) => {
                self.inner = None;
                let message = panic_message(&*panic);
                self.panics
                    .record(&format!("{message} (while the response body streamed)"));
                let message = format!("http-intercept: the response body panicked: {message}");
                Poll::Ready(Some(Err(message.into())))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| http_body::SizeHint::with_exact(0), Body::size_hint)
    }
}
