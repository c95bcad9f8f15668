//! The recorder middleware: [`RecordLayer`] wraps any tower service in [`Record`],
//! which keeps every exchange in a shared [`Recording`] as it streams.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tower::Layer;

use super::future::ResponseFuture;
use super::interaction::{Failure, FailureKind, Interaction};
use super::recording::Recording;

/// A tower layer that wraps a service in [`Record`], keeping its exchanges in a
/// [`Recording`].
///
/// # Examples
///
/// ```
/// use http_intercept::record::{RecordLayer, Recording};
/// use tower::{Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let recording = Recording::new();
/// let app = tower::service_fn(|_req: http::Request<_>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hi")))
/// });
/// let app = RecordLayer::new(recording.clone()).layer(app);
/// let req = http::Request::get("http://app.test/").body(String::new())?;
/// let res = app.oneshot(req).await?;
/// http_body_util::BodyExt::collect(res.into_body()).await?; // the body ends: recorded
/// assert_eq!(recording.len(), 1);
/// assert_eq!(recording.to_string(), "GET http://app.test/ -> 200 (2 bytes)\n");
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RecordLayer {
    recording: Recording,
}

impl RecordLayer {
    /// A layer recording into `recording`.
    pub fn new(recording: Recording) -> Self {
        RecordLayer { recording }
    }
}

impl<S> Layer<S> for RecordLayer {
    type Service = Record<S>;

    fn layer(&self, inner: S) -> Record<S> {
        Record::new(inner, self.recording.clone())
    }
}

/// A tower service that passes each request to the service it wraps and records the
/// exchange in a [`Recording`]: the request head and body, the response status,
/// headers, body chunks and trailers, or the error, like scotch's Recorder.
///
/// Bodies stream through untouched; the exchange is complete (and shows in the
/// recording) when the response body ends, fails or is dropped. A request body the
/// inner service did not read is recorded as far as it was read.
#[derive(Clone, Debug)]
pub struct Record<S> {
    inner: S,
    recording: Recording,
}

impl<S> Record<S> {
    /// Wraps `inner`, recording into `recording`.
    pub fn new(inner: S, recording: Recording) -> Self {
        Record { inner, recording }
    }

    /// A [`RecordLayer`] recording into `recording`.
    pub fn layer(recording: Recording) -> RecordLayer {
        RecordLayer::new(recording)
    }

    /// The recording.
    pub fn recording(&self) -> &Recording {
        &self.recording
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B, RB> tower_service::Service<Request<B>> for Record<S>
where
    S: tower_service::Service<Request<RecordBody<B>>, Response = Response<RB>>,
    S::Error: std::fmt::Display,
{
    type Response = Response<RecordBody<RB>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let (parts, body) = req.into_parts();
        let mut head = Request::new(Bytes::new());
        *head.method_mut() = parts.method.clone();
        *head.uri_mut() = parts.uri.clone();
        *head.version_mut() = parts.version;
        *head.headers_mut() = parts.headers.clone();
        let slot = Slot::new(self.recording.clone(), head);
        let body = RecordBody {
            inner: body,
            tap: Tap::Request(slot.clone()),
        };
        let fut = self.inner.call(Request::from_parts(parts, body));
        ResponseFuture::new(fut, slot)
    }
}

pin_project! {
    /// A body that streams through unchanged while its chunks are recorded: the
    /// request body the wrapped service reads, and the response body it answers.
    pub struct RecordBody<B> {
        #[pin]
        inner: B,
        tap: Tap,
    }
}

impl<B> std::fmt::Debug for RecordBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordBody").finish_non_exhaustive()
    }
}

enum Tap {
    Request(Slot),
    /// Completes the exchange when the body ends or is dropped.
    Response(Completer),
}

struct Completer(Slot);

impl Drop for Completer {
    /// A response body dropped before its end (the client went away, the connection
    /// broke) is recorded as a failure, not as a complete, shorter body. Once the body
    /// ended, this does nothing.
    fn drop(&mut self) {
        self.0
            .complete(Some("the response body was dropped before its end".into()));
    }
}

impl<B> RecordBody<B> {
    pub(crate) fn response(inner: B, slot: Slot) -> Self {
        RecordBody {
            inner,
            tap: Tap::Response(Completer(slot)),
        }
    }

    /// The wrapped body.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }
}

impl<B> Body for RecordBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: std::fmt::Display,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.project();
        let polled = std::task::ready!(this.inner.poll_frame(cx));
        let slot = match &*this.tap {
            Tap::Request(slot) => slot,
            Tap::Response(Completer(slot)) => slot,
        };
        let response = matches!(this.tap, Tap::Response(_));
        match &polled {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    slot.chunk(response, data.clone());
                } else if let (true, Some(trailers)) = (response, frame.trailers_ref()) {
                    // Trailers are the last frame: hyper sends them and drops the body
                    // without polling it again.
                    slot.trailers(trailers.clone());
                    slot.complete(None);
                }
            }
            Some(Err(err)) if response => slot.complete(Some(err.to_string())),
            None if response => slot.complete(None),
            _ => {}
        }
        Poll::Ready(polled)
    }

    fn is_end_stream(&self) -> bool {
        let end = self.inner.is_end_stream();
        // A body known to be over (an empty one) may never be polled: it ended here.
        if end {
            if let Tap::Response(Completer(slot)) = &self.tap {
                slot.complete(None);
            }
        }
        end
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// One exchange being recorded; it fills its reserved place in the recording when
/// complete.
#[derive(Clone)]
pub(crate) struct Slot(Arc<SlotInner>);

struct SlotInner {
    recording: Recording,
    place: usize,
    exchange: Mutex<Exchange>,
}

struct Exchange {
    request: Request<Bytes>,
    request_chunks: Vec<Bytes>,
    response: Option<(StatusCode, HeaderMap)>,
    response_chunks: Vec<Bytes>,
    response_trailers: HeaderMap,
    done: bool,
}

impl Slot {
    fn new(recording: Recording, request: Request<Bytes>) -> Slot {
        let place = recording.reserve();
        Slot(Arc::new(SlotInner {
            recording,
            place,
            exchange: Mutex::new(Exchange {
                request,
                request_chunks: Vec::new(),
                response: None,
                response_chunks: Vec::new(),
                response_trailers: HeaderMap::new(),
                done: false,
            }),
        }))
    }

    fn exchange(&self) -> std::sync::MutexGuard<'_, Exchange> {
        self.0
            .exchange
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn chunk(&self, response: bool, data: Bytes) {
        let mut ex = self.exchange();
        if response {
            ex.response_chunks.push(data);
        } else {
            ex.request_chunks.push(data);
        }
    }

    fn trailers(&self, trailers: HeaderMap) {
        self.exchange().response_trailers.extend(trailers);
    }

    pub(crate) fn response_head<B>(&self, res: &Response<B>) {
        self.exchange().response = Some((res.status(), res.headers().clone()));
    }

    /// The wrapped service failed: record the failure.
    pub(crate) fn failed(&self, message: String) {
        let interaction = {
            let mut ex = self.exchange();
            if ex.done {
                return;
            }
            ex.done = true;
            let request = take_request(&mut ex);
            Interaction::failed(request, Failure::new(FailureKind::Other, message))
        };
        self.0.recording.fill(self.0.place, interaction);
    }

    /// The response body ended (with `error` if it failed): record the exchange.
    fn complete(&self, error: Option<String>) {
        let interaction = {
            let mut ex = self.exchange();
            if ex.done {
                return;
            }
            ex.done = true;
            let request = take_request(&mut ex);
            let chunks = std::mem::take(&mut ex.response_chunks);
            match (ex.response.take(), error) {
                (Some((status, headers)), None) => {
                    let lengths: Vec<usize> = chunks.iter().map(Bytes::len).collect();
                    let mut res = Response::new(join(chunks));
                    *res.status_mut() = status;
                    *res.headers_mut() = headers;
                    let trailers = std::mem::take(&mut ex.response_trailers);
                    Interaction::new(request, res)
                        .with_chunks(lengths)
                        .with_trailers(trailers)
                }
                (_, error) => {
                    let read: usize = chunks.iter().map(Bytes::len).sum();
                    let message = format!(
                        "the response body failed after {read} bytes: {}",
                        error.unwrap_or_else(|| "no response".into())
                    );
                    Interaction::failed(request, Failure::new(FailureKind::Other, message))
                }
            }
        };
        self.0.recording.fill(self.0.place, interaction);
    }
}

fn take_request(ex: &mut Exchange) -> Request<Bytes> {
    let body = join(std::mem::take(&mut ex.request_chunks));
    let mut req = std::mem::replace(&mut ex.request, Request::new(Bytes::new()));
    *req.body_mut() = body;
    req
}

fn join(chunks: Vec<Bytes>) -> Bytes {
    match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.into_iter().next().unwrap_or_default(),
        _ => Bytes::from(chunks.concat()),
    }
}
