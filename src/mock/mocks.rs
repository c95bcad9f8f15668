//! The tower service that holds a host's mounted mocks and answers with them:
//! [`Mocks`].

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body::Body;
use http_body_util::BodyExt;

use super::mock::{Mock, MockGuard, MountedMock};
use super::template::MockBody;
use super::verify;
use super::Request;
use crate::error::BoxError;
use crate::log::BodySlot;
use crate::service::{panic_message, text_response};

/// The mounted mocks of one host, as a tower service: a request is answered by the
/// first mock that matches it (see [`Mock`] for the rules), or with the
/// unmatched-request report.
///
/// A [`MockHost`](super::MockHost) registers one for its target; a `Mocks` can also be
/// used wherever a service can: registered with [`add`](crate::add) (behind a path
/// prefix too), or served on a real socket with `server::serve` (feature `server`) for
/// a browser or a subprocess. Clones share the same mocks. It reads each request's
/// whole body before matching, and gives it to the request log of the registration
/// ([`Intercept::requests`](crate::Intercept::requests)).
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::path, Mock, Mocks, ResponseTemplate};
///
/// let mocks = Mocks::new();
/// mocks.register(Mock::given(path("/v1/ping")).respond_with(ResponseTemplate::new(204)));
/// // In memory, under a path prefix: http://api.mocks-example.test/v1/...
/// let _api = http_intercept::add("http://api.mocks-example.test/v1", mocks.clone())?;
/// # Ok::<(), http_intercept::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Mocks {
    pub(crate) state: Arc<State>,
}

/// What a host's mocks share.
pub(crate) struct State {
    /// Mounted mocks in matching order: priority, then mount order. Copy-on-write: a
    /// request takes a snapshot (one reference count), mounting copies only while a
    /// snapshot is held.
    mocks: RwLock<Arc<Table>>,
    next_number: AtomicU64,
    pub(crate) received: Mutex<Vec<Request>>,
    pub(crate) unmatched: Mutex<Vec<Unmatched>>,
    pub(crate) panics: Mutex<Vec<String>>,
    unmatched_status: AtomicU16,
}

/// The mounted mocks in matching order, with a key per mock kept contiguous so that a
/// request skips the mocks whose exact path cannot match without touching them: the
/// hash of the path a `path(..)` matcher requires, or 0 when the mock has none.
#[derive(Clone, Default)]
pub(crate) struct Table {
    pub(crate) mocks: Vec<Arc<MountedMock>>,
    keys: Vec<u64>,
}

/// FNV-1a of a path, never 0.
fn path_key(path: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in path.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h | 1
}

impl Table {
    /// The first mock, in matching order, that matches `request` and may still answer;
    /// it is counted.
    fn find(&self, request: &Request) -> Option<Arc<MountedMock>> {
        let key = path_key(request.path());
        self.keys
            .iter()
            .zip(&self.mocks)
            .filter(|(k, _)| **k == 0 || **k == key)
            .map(|(_, m)| m)
            .find(|m| m.matches(request) && m.take())
            .cloned()
    }
}

/// A request that matched no mock, and why.
#[derive(Clone, Debug)]
pub(crate) struct Unmatched {
    pub(crate) request: Request,
    pub(crate) why: String,
}

impl Default for State {
    fn default() -> State {
        State {
            mocks: RwLock::default(),
            next_number: AtomicU64::new(1),
            received: Mutex::default(),
            unmatched: Mutex::default(),
            panics: Mutex::default(),
            unmatched_status: AtomicU16::new(404),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Mocks {
    /// An empty set of mocks.
    pub fn new() -> Mocks {
        Mocks::default()
    }

    /// Sets the status of the answer to a request no mock matched. Default: 404.
    ///
    /// # Panics
    ///
    /// If `status` is not a valid status code.
    ///
    /// # Examples
    ///
    /// ```
    /// let mocks = http_intercept::mock::Mocks::new().with_unmatched_status(501);
    /// # drop(mocks);
    /// ```
    pub fn with_unmatched_status(self, status: u16) -> Mocks {
        assert!(
            StatusCode::from_u16(status).is_ok(),
            "with_unmatched_status: {status} is not a valid status code"
        );
        self.state.unmatched_status.store(status, Ordering::Relaxed);
        self
    }

    /// Mounts `mock` until these mocks are [`reset`](Mocks::reset) or dropped (as
    /// wiremock's `MockServer::register`).
    pub fn register(&self, mock: Mock) {
        self.mount(mock);
    }

    /// Mounts `mock` until the returned guard is dropped; see
    /// [`Mock::mount_as_scoped`].
    pub fn register_as_scoped(&self, mock: Mock) -> MockGuard {
        MockGuard {
            mocks: self.clone(),
            mounted: self.mount(mock),
        }
    }

    fn mount(&self, mock: Mock) -> Arc<MountedMock> {
        let number = self.state.next_number.fetch_add(1, Ordering::Relaxed);
        let mounted = Arc::new(MountedMock::new(number, mock.spec));
        let mut mocks = self
            .state
            .mocks
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let table = Arc::make_mut(&mut mocks);
        let priority = mounted.spec.priority;
        let at = table.mocks.partition_point(|m| m.spec.priority <= priority);
        let key = mounted
            .spec
            .matchers
            .iter()
            .find_map(|m| m.exact_path())
            .map_or(0, path_key);
        table.mocks.insert(at, mounted.clone());
        table.keys.insert(at, key);
        mounted
    }

    pub(crate) fn unmount(&self, number: u64) {
        let mut mocks = self
            .state
            .mocks
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = mocks.mocks.iter().position(|m| m.number == number) {
            let table = Arc::make_mut(&mut mocks);
            table.mocks.remove(at);
            table.keys.remove(at);
        }
    }

    pub(crate) fn snapshot(&self) -> Arc<Table> {
        self.state
            .mocks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every request these mocks were given, matched or not, oldest first.
    pub fn received_requests(&self) -> Vec<Request> {
        lock(&self.state.received).clone()
    }

    /// Unmounts every mock and forgets every request, unmatched request and panic (as
    /// wiremock's `MockServer::reset`). Scoped mocks' guards still check their own
    /// expectations.
    pub fn reset(&self) {
        *self
            .state
            .mocks
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::default();
        lock(&self.state.received).clear();
        lock(&self.state.unmatched).clear();
        lock(&self.state.panics).clear();
    }

    /// Answers one request.
    async fn answer<B>(self, req: http::Request<B>) -> Response<MockBody>
    where
        B: Body<Data = Bytes>,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = req.into_parts();
        // An empty body (most GETs) needs no collecting.
        let body = if body.is_end_stream() {
            Bytes::new()
        } else {
            match body.collect().await {
                Ok(body) => body.to_bytes(),
                Err(e) => {
                    let e: BoxError = e.into();
                    return text_response(
                        StatusCode::BAD_REQUEST,
                        "error",
                        format!("http-intercept: reading the request body failed: {e}"),
                    );
                }
            }
        };
        if let Some(slot) = parts.extensions.get::<BodySlot>() {
            slot.fill(&body);
        }
        let request = Request::from_http(http::Request::from_parts(parts, body));
        lock(&self.state.received).push(request.clone());

        let snapshot = self.snapshot();
        let found = std::panic::catch_unwind(AssertUnwindSafe(|| snapshot.find(&request)));
        let found = match found {
            Ok(found) => found,
            Err(panic) => {
                let message = format!(
                    "a matcher panicked on {}: {}",
                    request.line(),
                    panic_message(&*panic)
                );
                return self.panicked(message);
            }
        };
        let Some(mock) = found else {
            return self.unmatched(request);
        };
        mock.record(request.clone());
        let template = match std::panic::catch_unwind(AssertUnwindSafe(|| {
            mock.spec.responder.respond(&request)
        })) {
            Ok(template) => template,
            Err(panic) => {
                let message = format!(
                    "the responder of {} panicked on {}: {}",
                    mock.title(),
                    request.line(),
                    panic_message(&*panic)
                );
                return self.panicked(message);
            }
        };
        if let Some(delay) = template.delay() {
            tokio::time::sleep(delay).await;
        }
        template.into_response()
    }

    /// Keeps the panic for the host's drop, and answers a 500 that names it.
    fn panicked(&self, message: String) -> Response<MockBody> {
        lock(&self.state.panics).push(message.clone());
        text_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "panic",
            format!("http-intercept: {message}"),
        )
    }

    fn unmatched(&self, request: Request) -> Response<MockBody> {
        let why = verify::nearest(&self.snapshot().mocks, &request);
        let status = StatusCode::from_u16(self.state.unmatched_status.load(Ordering::Relaxed))
            .unwrap_or(StatusCode::NOT_FOUND);
        let body = format!(
            "http-intercept: no mock matched this request:\n{}\n\n{why}\n",
            request.render("   ")
        );
        lock(&self.state.unmatched).push(Unmatched { request, why });
        text_response(status, "unmatched", body)
    }
}

impl fmt::Debug for Mocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let titles: Vec<String> = self.snapshot().mocks.iter().map(|m| m.title()).collect();
        f.debug_struct("Mocks").field("mounted", &titles).finish()
    }
}

impl<B> tower_service::Service<http::Request<B>> for Mocks
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<MockBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> ResponseFuture {
        let mocks = self.clone();
        ResponseFuture(Box::pin(async move { Ok(mocks.answer(req).await) }))
    }
}

/// The future of a [`Mocks`] call.
pub struct ResponseFuture(
    Pin<Box<dyn Future<Output = Result<Response<MockBody>, Infallible>> + Send>>,
);

impl Future for ResponseFuture {
    type Output = Result<Response<MockBody>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseFuture")
    }
}
