//! The loopback gateway: the HTTP proxy reqwest is pointed at, through
//! `Proxy::custom`, for registered targets only.
//!
//! - Started once per process, on first use, on the crate's background runtime: a
//!   server spawned on a `#[tokio::test]` current-thread runtime only answers while that
//!   test awaits, and `reqwest::blocking` has no runtime at all.
//! - Listens on `127.0.0.1:0`. Every local process can reach it, so it is not an open
//!   proxy: each request and each `CONNECT` must carry `Proxy-Authorization: Basic`
//!   with the random secret of this process (407 otherwise), and target a registered
//!   authority (403 otherwise). The user name says which registry.
//! - `http://` targets arrive as absolute-form requests (or, with HTTP/2 prior
//!   knowledge, with `:scheme` and `:authority`); `https://` targets as `CONNECT
//!   host:port`, whose tunnel is terminated here ([`super::tunnel`]).
//! - Each request, its proxy headers removed, is handed to the registered service the
//!   way every transport hands requests over ([`super::forward`]).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::Poll;

use base64::Engine as _;
use http::header::{self, HeaderMap};
use http::{Method, Request, Response, StatusCode, Uri, Version};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Notify;
use tokio::task::AbortHandle;

use super::forward::{self, Body, RealNetwork};
use super::limits::{Activity, Slot, Tracked, AUTH_DEADLINE};
use crate::connect::Policy;
use crate::registry::{Host, Registry, WeakRegistry};
use crate::route::Route;
use crate::scope::Lookup;
use crate::target::{normalize_host, Scheme};

/// How long a client connection may take to send a request's head.
const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// The gateway of this process, started on first use.
pub(crate) struct Gateway {
    url: String,
    real: RealNetwork,
}

impl Gateway {
    /// `http://127.0.0.1:PORT`: what `Proxy::custom` answers for registered targets.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}

/// The gateway, started on first call.
///
/// # Panics
///
/// If no loopback port can be bound.
pub(crate) fn gateway() -> &'static Gateway {
    static GATEWAY: OnceLock<Gateway> = OnceLock::new();
    GATEWAY.get_or_init(|| {
        start().unwrap_or_else(|e| panic!("http-intercept: cannot start the reqwest gateway: {e}"))
    })
}

fn start() -> std::io::Result<Gateway> {
    // Bound here, so that the address is known before this returns.
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
    listener.set_nonblocking(true)?;
    let addr: SocketAddr = listener.local_addr()?;
    crate::background::handle().spawn(accept_loop(listener));
    Ok(Gateway {
        url: format!("http://{addr}"),
        real: RealNetwork::default(),
    })
}

async fn accept_loop(listener: std::net::TcpListener) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => panic!("http-intercept: the reqwest gateway cannot listen: {e}"),
    };
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            // Out of file descriptors and the like: back off instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        // Over the cap: closed at once (every local process can connect).
        let Some(slot) = Slot::take() else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok(stream) = stream.into_std() else {
            continue;
        };
        // Each connection on a thread of its own: a service that blocks (a sync lock,
        // `std::thread::sleep`, a nested `reqwest::blocking` call through the gateway)
        // stalls its own connection only. A thread that cannot start drops it.
        let _ = std::thread::Builder::new()
            .name("http-intercept-gateway".into())
            .spawn(move || serve_on_own_thread(stream, slot));
    }
}

/// Serves one accepted TCP connection on a current-thread runtime of this thread, until
/// it and the tunnel it may carry are closed.
fn serve_on_own_thread(stream: std::net::TcpStream, slot: Slot) {
    let _slot = slot;
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async move {
        let Ok(stream) = tokio::net::TcpStream::from_std(stream) else {
            return;
        };
        let (keep, mut kept) = tokio::sync::mpsc::channel::<()>(1);
        serve_connection(stream, Arc::new(ConnState::new(Leg::Proxy, Some(keep)))).await;
        // A CONNECT's tunnel outlives the proxy exchange that opened it: wait for it.
        let _ = kept.recv().await;
    });
}

// ===== credentials =====

/// The random proxy password of this process.
fn secret() -> &'static str {
    static SECRET: OnceLock<String> = OnceLock::new();
    SECRET.get_or_init(|| {
        let mut raw = [0u8; 24];
        crate::tls::fill_random(&mut raw);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    })
}

/// The registries clients were built for, by the user name their credentials carry.
fn registries() -> &'static Mutex<Vec<(u64, WeakRegistry)>> {
    static REGISTRIES: OnceLock<Mutex<Vec<(u64, WeakRegistry)>>> = OnceLock::new();
    REGISTRIES.get_or_init(Mutex::default)
}

/// What the clients of one set of credentials see: a registry, from the scopes the
/// client was built in.
#[derive(Clone)]
pub(super) struct View {
    registry: Registry,
    lookup: Lookup,
    policy: Policy,
}

impl View {
    /// The host these clients find for `authority`.
    pub(super) fn host(&self, authority: &str) -> Option<Arc<Host>> {
        self.registry.host(&self.lookup, authority)
    }

    /// Whether these clients' policy refuses `authority` (`host:port`) when nothing is
    /// registered for it.
    pub(super) fn refuses(&self, authority: &str) -> bool {
        self.policy != Policy::PassThrough
            && crate::target::Target::parse(authority).is_ok_and(|t| !self.policy.allows(&t))
    }
}

/// One letter per policy, in the proxy user name.
fn policy_code(policy: Policy) -> char {
    match policy {
        Policy::Deny => 'd',
        Policy::LoopbackOnly => 'l',
        _ => 'a',
    }
}

fn policy_from_code(code: &str) -> Option<Policy> {
    match code {
        "a" => Some(Policy::PassThrough),
        "d" => Some(Policy::Deny),
        "l" => Some(Policy::LoopbackOnly),
        _ => None,
    }
}

/// The proxy credentials (user, password) for clients of `registry` that see `lookup`
/// and refuse what `policy` refuses.
pub(crate) fn credentials(
    registry: &Registry,
    lookup: &Lookup,
    policy: Policy,
) -> (String, &'static str) {
    let mut known = registries().lock().unwrap_or_else(PoisonError::into_inner);
    known.retain(|(_, weak)| weak.upgrade().is_some());
    if !known.iter().any(|(id, _)| *id == registry.id()) {
        known.push((registry.id(), registry.downgrade()));
    }
    let user = format!(
        "registry-{}-{}-{}",
        registry.id(),
        policy_code(policy),
        lookup.encode()
    );
    (user, secret())
}

/// What the clients whose credentials `headers` carry see, if those are this process's.
fn authorized(headers: &HeaderMap) -> Option<View> {
    let value = headers.get(header::PROXY_AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    if !constant_time_eq(password.as_bytes(), secret().as_bytes()) {
        return None;
    }
    let (id, rest) = user.strip_prefix("registry-")?.split_once('-')?;
    let (policy, lookup) = rest.split_once('-')?;
    let id: u64 = id.parse().ok()?;
    let policy = policy_from_code(policy)?;
    let lookup = Lookup::decode(lookup)?;
    let known = registries().lock().unwrap_or_else(PoisonError::into_inner);
    let registry = known
        .iter()
        .find(|(known_id, _)| *known_id == id)
        .and_then(|(_, weak)| weak.upgrade())?;
    Some(View {
        registry,
        lookup,
        policy,
    })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

// ===== client connections =====

/// What a client connection to the gateway is.
pub(super) enum Leg {
    /// The TCP connection itself: proxy requests (absolute form, `CONNECT`).
    Proxy,
    /// Decrypted inside a `CONNECT` tunnel: origin requests, all for one authority of
    /// one registry.
    Tunnel { view: View, authority: String },
}

/// The task that waits for a served authority's removal (HTTP/2), and its route.
type Watch = (AbortHandle, Route);

/// Per client connection: the authorities it carried requests for (to answer a late
/// request for one that was removed), and, over HTTP/2, the routes that shut the
/// connection down gracefully when one is removed.
pub(super) struct ConnState {
    leg: Leg,
    /// Held by the tunnel a `CONNECT` opens, so that its thread waits for it.
    keep: Option<tokio::sync::mpsc::Sender<()>>,
    /// Whether a request with this process's credentials came (tunnels: from the start).
    authorized: AtomicBool,
    activity: Arc<Activity>,
    served: Mutex<Vec<(String, Option<Watch>)>>,
    /// Routes that went stale: acknowledged once the connection started shutting down.
    stale: Mutex<Vec<Route>>,
    shutdown: Notify,
}

impl ConnState {
    pub(super) fn new(leg: Leg, keep: Option<tokio::sync::mpsc::Sender<()>>) -> ConnState {
        ConnState {
            authorized: AtomicBool::new(matches!(leg, Leg::Tunnel { .. })),
            leg,
            keep,
            activity: Arc::default(),
            served: Mutex::default(),
            stale: Mutex::default(),
            shutdown: Notify::new(),
        }
    }

    /// Records that this connection carries requests for `authority`. Over HTTP/2,
    /// also watches its registration: when it is removed the connection sends a GOAWAY
    /// (so the client's next request opens a new connection, which goes direct), and
    /// the removal waits for that. HTTP/1.1 connections are left open on purpose: see
    /// `forward::late`.
    fn watch(self: &Arc<Self>, view: &View, authority: &str, version: Version) {
        let mut served = self.served.lock().unwrap_or_else(PoisonError::into_inner);
        if served.iter().any(|(a, _)| a == authority) {
            return;
        }
        let task = (version == Version::HTTP_2)
            .then(|| view.registry.watch(&view.lookup, authority))
            .flatten()
            .map(|route| {
                let state = Arc::downgrade(self);
                let watched = route.clone();
                let task = tokio::spawn(async move {
                    std::future::poll_fn(|cx| {
                        if route.poll_stale(cx) {
                            Poll::Ready(())
                        } else {
                            Poll::Pending
                        }
                    })
                    .await;
                    match state.upgrade() {
                        Some(state) => {
                            state
                                .stale
                                .lock()
                                .unwrap_or_else(PoisonError::into_inner)
                                .push(route);
                            state.shutdown.notify_one();
                        }
                        None => route.ack(),
                    }
                });
                (task.abort_handle(), watched)
            });
        served.push((authority.to_owned(), task));
    }

    /// Whether this connection carried requests for `authority` before.
    fn served(&self, authority: &str) -> bool {
        self.served
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|(a, _)| a == authority)
    }

    fn ack_stale(&self) {
        for route in self
            .stale
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            route.ack();
        }
    }
}

impl Drop for ConnState {
    fn drop(&mut self) {
        let served = self
            .served
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        // The connection is gone: nothing is left to act on a removal, so acknowledge
        // every route it watched, lest a removal wait for it in vain.
        for (task, route) in served.drain(..).filter_map(|(_, watch)| watch) {
            task.abort();
            route.ack();
        }
        self.ack_stale();
    }
}

/// Serves one client connection (TCP, or TLS inside a tunnel), HTTP/1.1 or HTTP/2.
pub(super) async fn serve_connection<I>(io: I, state: Arc<ConnState>)
where
    I: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let svc = {
        let state = state.clone();
        service_fn(move |req| {
            let in_flight = state.activity.request();
            let state = state.clone();
            async move {
                let res = handle(req, state).await;
                drop(in_flight);
                res
            }
        })
    };
    let io = Tracked::new(io, state.activity.clone());
    // Until the first authorized request, then while bytes move or requests run.
    let watchdog = {
        let state = state.clone();
        async move {
            tokio::time::sleep(AUTH_DEADLINE).await;
            if state.authorized.load(Ordering::Acquire) {
                state.activity.idle().await;
            }
        }
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Every local process can connect: one that sends nothing is dropped.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    // With upgrades: CONNECT hands the connection over to the tunnel. Boxed so that
    // dropping it really closes the socket.
    let mut conn = Box::pin(builder.serve_connection_with_upgrades(TokioIo::new(io), svc));
    tokio::select! {
        _ = conn.as_mut() => return,
        // Dropping the connection closes it.
        () = watchdog => return,
        () = state.shutdown.notified() => conn.as_mut().graceful_shutdown(),
    }
    // Poll once, so that hyper writes the GOAWAY before the removal is acknowledged.
    let first = std::future::poll_fn(|cx| Poll::Ready(conn.as_mut().poll(cx))).await;
    state.ack_stale();
    if first.is_pending() {
        let _ = conn.await;
    }
}

/// The service of every client connection. Its error is an `h2::Error` so that a
/// stream can be refused: hyper resets an HTTP/2 stream with the reason it finds.
async fn handle(
    req: Request<Incoming>,
    state: Arc<ConnState>,
) -> Result<Response<Body>, h2::Error> {
    let real = &gateway().real;
    match &state.leg {
        Leg::Proxy => {
            let target = absolute_http_authority(req.uri());
            let view = authorized(req.headers());
            if view.is_some() {
                state.authorized.store(true, Ordering::Release);
            }
            let Some(view) = view else {
                // After its target was removed, a client reuses its pooled connection
                // for it, without credentials: answer as the real host would.
                if let Some(authority) = &target {
                    if state.served(authority) {
                        return forward::late(req, authority, Scheme::Http, real).await;
                    }
                }
                return Ok(forward::proxy_auth_required());
            };
            if req.method() == Method::CONNECT {
                return Ok(super::tunnel::connect(req, view, state.keep.clone()));
            }
            let Some(authority) = target else {
                return Ok(forward::text(
                    StatusCode::BAD_REQUEST,
                    "expected an absolute-form http:// proxy request",
                ));
            };
            if view.host(&authority).is_none() {
                if view.refuses(&authority) {
                    return Ok(forward::denied(&authority, Scheme::Http));
                }
                if state.served(&authority) {
                    return forward::late(req, &authority, Scheme::Http, real).await;
                }
                return Ok(forward::not_intercepted(&authority));
            }
            state.watch(&view, &authority, req.version());
            forward::forward(req, &view, &authority, Scheme::Http).await
        }
        Leg::Tunnel { view, authority } => {
            // Every request in the tunnel is for the authority it was opened for,
            // whatever `Host` says; no proxy credentials travel inside.
            if view.host(authority).is_none() {
                if view.refuses(authority) {
                    return Ok(forward::denied(authority, Scheme::Https));
                }
                return forward::late(req, authority, Scheme::Https, real).await;
            }
            state.watch(view, authority, req.version());
            forward::forward(req, view, authority, Scheme::Https).await
        }
    }
}

/// `host:port` of an absolute-form `http://` request target, as the registry keys it.
fn absolute_http_authority(uri: &Uri) -> Option<String> {
    if uri.scheme() != Some(&http::uri::Scheme::HTTP) {
        return None;
    }
    let authority = uri.authority()?;
    let host = normalize_host(authority.host()).ok()?;
    Some(format!("{host}:{}", authority.port_u16().unwrap_or(80)))
}
