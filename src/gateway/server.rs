//! The loopback gateway: the HTTP proxy reqwest is pointed at, through
//! `Proxy::custom`, for registered targets only.
//!
//! - Two kinds of listener, both on `127.0.0.1:0`:
//!   - one per tokio runtime that async reqwest clients open connections on
//!     ([`local_url`]): accepted and served on that runtime, as the client's own
//!     connection task is, so a request never waits for another runtime's thread; it
//!     lives and dies with the runtime, and its deadlines run on real time (the
//!     runtime's clock may be paused);
//!   - the shared one ([`gateway`]), started once per process on the crate's background
//!     runtime, for clients with no runtime of theirs (`reqwest::blocking`, whose
//!     internal runtime a blocking service would stall, curl, child processes): each of
//!     its connections is served on a thread of its own.
//! - Every local process can connect, so it is not an open proxy: each request and
//!   each `CONNECT` must carry `Proxy-Authorization: Basic` with a random password of
//!   this process, one for the clients it builds and one for proxy URL holders (407
//!   otherwise). The user name says which registry, scopes and [`Holder`].
//! - What is not registered: a client's request goes on to the real host (forwarded,
//!   or tunnelled over TCP) or gets its policy's refusal; a proxy URL holder's gets a
//!   403. Without credentials, only an `http://` request that one of this process's
//!   clients sent direct down a gateway connection goes on (see `uncredentialed`).
//! - `http://` targets arrive as absolute-form requests (or, with HTTP/2 prior
//!   knowledge, with `:scheme` and `:authority`); `https://` targets as `CONNECT
//!   host:port`, whose tunnel is terminated here ([`super::tunnel`]).
//! - Each request, its proxy headers removed, is handed to the registered service the
//!   way every transport hands requests over ([`super::forward`]).

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::Poll;

use base64::Engine as _;
use http::header::{self, HeaderMap, HeaderValue};
use http::uri::Authority;
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
use super::tunnel::{self, Connect};
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

/// The URL of the gateway listener of the caller's tokio runtime, started there on
/// first use; `None` outside a runtime and on the crate's own threads.
///
/// Its connections are served on that runtime, like the connection tasks of the
/// clients that open them: a runtime that is not driven serves nothing, but then its
/// clients send nothing either. When the runtime shuts down, its listener and their
/// connections close with it.
#[cfg_attr(
    not(any(feature = "reqwest", feature = "reqwest012")),
    allow(dead_code)
)]
pub(crate) fn local_url() -> Option<String> {
    local_listener(true, |local| local.url.clone())
}

/// Notes that a client decided to send its `http://` request for `authority` direct:
/// if the request still comes down a gateway connection that client pooled for it
/// (reqwest keys its pool by target, not by proxy), the listener it uses (`local`: the
/// caller's runtime's; else the shared one) forwards it, without credentials, to the
/// real host.
#[cfg_attr(
    not(any(feature = "reqwest", feature = "reqwest012")),
    allow(dead_code)
)]
pub(crate) fn note_direct(authority: &str, local: bool) {
    let insert = |direct: &Mutex<HashSet<String>>| {
        let mut direct = direct.lock().unwrap_or_else(PoisonError::into_inner);
        if !direct.contains(authority) {
            direct.insert(authority.to_owned());
        }
    };
    if local {
        local_listener(false, |local| insert(&local.direct));
    } else {
        insert(shared_direct());
    }
}

/// The `http://` authorities that clients of the shared gateway (`reqwest::blocking`)
/// decided to send direct: see [`note_direct`].
fn shared_direct() -> &'static Arc<Mutex<HashSet<String>>> {
    static DIRECT: OnceLock<Arc<Mutex<HashSet<String>>>> = OnceLock::new();
    DIRECT.get_or_init(Arc::default)
}

/// A runtime's listener.
struct Local {
    url: String,
    task: AbortHandle,
    /// The `http://` authorities its clients decided to send direct.
    direct: Arc<Mutex<HashSet<String>>>,
}

/// Calls `f` with the listener of the caller's runtime, started on first use if
/// `start`.
fn local_listener<T>(start: bool, f: impl FnOnce(&Local) -> T) -> Option<T> {
    static LOCAL: OnceLock<Mutex<HashMap<tokio::runtime::Id, Local>>> = OnceLock::new();
    if crate::is_background_thread() {
        return None;
    }
    let handle = tokio::runtime::Handle::try_current().ok()?;
    let mut listeners = LOCAL
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(local) = listeners.get(&handle.id()) {
        if !local.task.is_finished() {
            return Some(f(local));
        }
    }
    if !start {
        return None;
    }
    // The runtimes that shut down took their listeners with them.
    listeners.retain(|_, local| !local.task.is_finished());
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).ok()?;
    listener.set_nonblocking(true).ok()?;
    let url = format!("http://{}", listener.local_addr().ok()?);
    let listener = tokio::net::TcpListener::from_std(listener).ok()?;
    // Served on a current-thread runtime, a connection cannot act on a removal while
    // the thread that removes waits for it: see `ConnState::acking`.
    let current_thread = handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread;
    let direct = Arc::<Mutex<HashSet<String>>>::default();
    let task = handle.spawn(local_accept_loop(listener, current_thread, direct.clone()));
    let local = Local {
        url,
        task: task.abort_handle(),
        direct,
    };
    let result = f(&local);
    listeners.insert(handle.id(), local);
    Some(result)
}

/// Accepts the connections of one runtime's listener and serves each on that runtime.
async fn local_accept_loop(
    listener: tokio::net::TcpListener,
    current_thread: bool,
    direct: Arc<Mutex<HashSet<String>>>,
) {
    accept_each(listener, |stream, slot| {
        let direct = direct.clone();
        tokio::spawn(async move {
            let _slot = slot;
            // Held by a CONNECT's tunnel, so that the slot counts it until it closes.
            let (keep, mut kept) = tokio::sync::mpsc::channel::<()>(1);
            let mut state = ConnState::new(Leg::Proxy, Some(keep)).acking(!current_thread);
            state.direct = Some(direct);
            state.on_test_runtime = true;
            serve_connection(stream, Arc::new(state)).await;
            let _ = kept.recv().await;
        });
    })
    .await;
}

/// Accepts the shared gateway's connections, each served on a thread of its own: a
/// service that blocks (a sync lock, `std::thread::sleep`, a nested `reqwest::blocking`
/// call through the gateway) stalls its own connection only.
async fn accept_loop(listener: std::net::TcpListener) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(e) => panic!("http-intercept: the reqwest gateway cannot listen: {e}"),
    };
    accept_each(listener, |stream, slot| {
        let Ok(stream) = stream.into_std() else {
            return;
        };
        // A thread that cannot start drops the connection.
        let _ = crate::background::on_own_thread("http-intercept-gateway", move || async move {
            let _slot = slot;
            let Ok(stream) = tokio::net::TcpStream::from_std(stream) else {
                return;
            };
            let (keep, mut kept) = tokio::sync::mpsc::channel::<()>(1);
            let mut state = ConnState::new(Leg::Proxy, Some(keep));
            state.direct = Some(shared_direct().clone());
            serve_connection(stream, Arc::new(state)).await;
            // A CONNECT's tunnel outlives the proxy exchange that opened it: wait for it.
            let _ = kept.recv().await;
        });
    })
    .await;
}

/// Accepts connections for ever, handing each, with its slot under the connection cap,
/// to `serve`; over the cap, a connection is closed at once (every local process can
/// connect).
async fn accept_each(
    listener: tokio::net::TcpListener,
    mut serve: impl FnMut(tokio::net::TcpStream, Slot),
) {
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            // Out of file descriptors and the like: back off instead of spinning.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let Some(slot) = Slot::take() else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        serve(stream, slot);
    }
}

// ===== credentials =====

/// The random proxy passwords of this process: one for the clients it builds, one for
/// proxy URL holders. The holder is written in the user name, which the password does
/// not cover: with one password for both, a proxy URL's holder (a child process, a URL
/// in a log) could call itself a client and have unregistered targets forwarded.
fn secret(holder: Holder) -> &'static str {
    static CLIENTS: OnceLock<String> = OnceLock::new();
    static PROXY_URLS: OnceLock<String> = OnceLock::new();
    let slot = match holder {
        Holder::Client(_) => &CLIENTS,
        Holder::ProxyUrl => &PROXY_URLS,
    };
    slot.get_or_init(|| {
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

/// Who a set of credentials was made for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Holder {
    /// A client built by this crate (reqwest's `.intercept()`), which asks for the
    /// gateway per target and refuses what its policy refuses of the rest. What reaches
    /// the gateway unregistered (the registration went away between the client's
    /// decision and the gateway's look-up) is forwarded as any proxy would, or refused
    /// under the policy, as a connection opened a moment later would be.
    Client(Policy),
    /// Whoever holds a [`proxy_url`](crate::proxy_url) (curl, a child process), which may
    /// send everything here: what is not registered gets a 403, never the real network.
    ProxyUrl,
}

/// What the clients of one set of credentials see: a registry, from the scopes the
/// client was built in.
#[derive(Clone)]
pub(super) struct View {
    registry: Registry,
    lookup: Lookup,
    holder: Holder,
}

/// What the gateway does with a request for a target that is not registered.
pub(super) enum Miss {
    /// The client's policy refuses it: answered with a `denied` 502.
    Denied,
    /// Sent on to the real host, as a proxy does.
    Forward,
    /// A 403: this gateway serves the proxy URL's holders registered targets only.
    Forbidden,
}

impl View {
    /// The host these clients find for `authority`.
    pub(super) fn host(&self, authority: &str) -> Option<Arc<Host>> {
        self.registry.host(&self.lookup, authority)
    }

    /// What becomes of a request for `authority` (`host:port`) when nothing is
    /// registered for it.
    pub(super) fn miss(&self, authority: &str) -> Miss {
        match self.holder {
            Holder::ProxyUrl => Miss::Forbidden,
            Holder::Client(Policy::PassThrough) => Miss::Forward,
            Holder::Client(policy) => match crate::target::Target::parse(authority) {
                Ok(target) if policy.allows(&target) => Miss::Forward,
                _ => Miss::Denied,
            },
        }
    }

    /// Whether these clients' policy refuses `authority` when nothing is registered.
    pub(super) fn refuses(&self, authority: &str) -> bool {
        matches!(self.miss(authority), Miss::Denied)
    }
}

/// One letter per holder, in the proxy user name.
fn holder_code(holder: Holder) -> char {
    match holder {
        Holder::Client(Policy::Deny) => 'd',
        Holder::Client(Policy::LoopbackOnly) => 'l',
        Holder::Client(_) => 'a',
        Holder::ProxyUrl => 'o',
    }
}

fn holder_from_code(code: &str) -> Option<Holder> {
    match code {
        "a" => Some(Holder::Client(Policy::PassThrough)),
        "d" => Some(Holder::Client(Policy::Deny)),
        "l" => Some(Holder::Client(Policy::LoopbackOnly)),
        "o" => Some(Holder::ProxyUrl),
        _ => None,
    }
}

/// The proxy credentials (user, password) for `holder`, a client of `registry` that
/// sees `lookup`.
pub(crate) fn credentials(
    registry: &Registry,
    lookup: &Lookup,
    holder: Holder,
) -> (String, &'static str) {
    let mut known = registries().lock().unwrap_or_else(PoisonError::into_inner);
    known.retain(|(_, weak)| weak.upgrade().is_some());
    if !known.iter().any(|(id, _)| *id == registry.id()) {
        known.push((registry.id(), registry.downgrade()));
    }
    let user = format!(
        "registry-{}-{}-{}",
        registry.id(),
        holder_code(holder),
        lookup.encode()
    );
    (user, secret(holder))
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
    let (id, rest) = user.strip_prefix("registry-")?.split_once('-')?;
    let (holder, lookup) = rest.split_once('-')?;
    let holder = holder_from_code(holder)?;
    // The holder's own password: the other one does not make a holder of this kind.
    if !constant_time_eq(password.as_bytes(), secret(holder).as_bytes()) {
        return None;
    }
    let id: u64 = id.parse().ok()?;
    let lookup = Lookup::decode(lookup)?;
    let known = registries().lock().unwrap_or_else(PoisonError::into_inner);
    let registry = known
        .iter()
        .find(|(known_id, _)| *known_id == id)
        .and_then(|(_, weak)| weak.upgrade())?;
    Some(View {
        registry,
        lookup,
        holder,
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
    /// What the first request with credentials saw: whose connection this is.
    view: OnceLock<View>,
    /// The last `Proxy-Authorization` accepted here, and what it sees: a client sends
    /// the same one with each request.
    last_auth: Mutex<Option<(HeaderValue, View)>>,
    /// The last absolute-form authority, as written and as the registry keys it.
    last_target: Mutex<Option<(Authority, String)>>,
    /// Whether a removal waits for this connection to act on it (HTTP/2: send a
    /// GOAWAY). Not on a current-thread runtime, which the removing thread may be the
    /// only one to drive.
    pub(super) acking: bool,
    /// The `http://` authorities the clients of this connection's listener send direct.
    direct: Option<Arc<Mutex<HashSet<String>>>>,
    /// Served on a test's runtime (a runtime's listener, or a tunnel opened there), whose
    /// clock may be paused: the gateway's deadlines run on real time.
    pub(super) on_test_runtime: bool,
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
            view: OnceLock::new(),
            last_auth: Mutex::default(),
            last_target: Mutex::default(),
            acking: true,
            direct: None,
            on_test_runtime: false,
            activity: Arc::default(),
            served: Mutex::default(),
            stale: Mutex::default(),
            shutdown: Notify::new(),
        }
    }

    /// `host:port` of an absolute-form `http://` request target, as the registry keys
    /// it.
    fn target(&self, uri: &Uri) -> Option<String> {
        if uri.scheme() != Some(&http::uri::Scheme::HTTP) {
            return None;
        }
        let written = uri.authority()?;
        let mut last = self
            .last_target
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, key)) = last.as_ref().filter(|(known, _)| known == written) {
            return Some(key.clone());
        }
        let key = absolute_http_authority(uri)?;
        *last = Some((written.clone(), key.clone()));
        Some(key)
    }

    /// Whether removals wait for this connection to act on them (see `acking`).
    pub(super) fn acking(mut self, acking: bool) -> ConnState {
        self.acking = acking;
        self
    }

    /// What the clients whose credentials `headers` carry see, if those are this
    /// process's; records that such a request came.
    fn authorized(&self, headers: &HeaderMap) -> Option<View> {
        let value = headers.get(header::PROXY_AUTHORIZATION)?;
        let mut last = self
            .last_auth
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((_, view)) = last.as_ref().filter(|(known, _)| known == value) {
            return Some(view.clone());
        }
        let view = authorized(headers)?;
        *last = Some((value.clone(), view.clone()));
        drop(last);
        self.authorized.store(true, Ordering::Release);
        let _ = self.view.set(view.clone());
        Some(view)
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
            .then(|| view.registry.watch(&view.lookup, authority, self.acking))
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
            crate::background::sleep_real(AUTH_DEADLINE).await;
            if state.authorized.load(Ordering::Acquire) {
                state.activity.idle().await;
            }
        }
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // Every local process can connect: one that sends a head too slowly is dropped. Not
    // on a test's runtime, whose clock may be paused and jump past hyper's timer: there
    // the watchdog (real time) bounds a connection that never authorizes.
    if !state.on_test_runtime {
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(HEADER_READ_TIMEOUT);
    }
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
            let target = state.target(req.uri());
            let Some(view) = state.authorized(req.headers()) else {
                return uncredentialed(req, target.as_deref(), &state).await;
            };
            if req.method() == Method::CONNECT {
                let keep = state.keep.clone();
                return Ok(match tunnel::connect(req, view, keep.clone(), &state) {
                    Connect::Answered(res) => res,
                    Connect::RealHost(req, authority) => {
                        tunnel::pass_through(req, &authority, keep).await
                    }
                });
            }
            let Some(authority) = target else {
                return Ok(forward::text(
                    StatusCode::BAD_REQUEST,
                    "expected an absolute-form http:// proxy request",
                ));
            };
            let Some(host) = view.host(&authority) else {
                return match view.miss(&authority) {
                    Miss::Denied => Ok(forward::denied(&authority, Scheme::Http)),
                    Miss::Forward => Ok(forward::to_real_host(req, &authority, real).await),
                    Miss::Forbidden if state.served(&authority) => {
                        forward::late(req, &authority, Scheme::Http, real).await
                    }
                    Miss::Forbidden => Ok(forward::not_intercepted(&authority)),
                };
            };
            state.watch(&view, &authority, req.version());
            forward::forward(req, host, &view, &authority, Scheme::Http, real).await
        }
        Leg::Tunnel { view, authority } => {
            // Every request in the tunnel is for the authority it was opened for,
            // whatever `Host` says; no proxy credentials travel inside.
            let Some(host) = view.host(authority) else {
                if view.refuses(authority) {
                    return Ok(forward::denied(authority, Scheme::Https));
                }
                return forward::late(req, authority, Scheme::Https, real).await;
            };
            state.watch(view, authority, req.version());
            forward::forward(req, host, view, authority, Scheme::Https, real).await
        }
    }
}

/// A proxy request without this process's credentials.
///
/// On a connection that a client built by this crate opened, that is a request the
/// client decided to send direct (its target was not registered, or stays direct for
/// it), sent down the connection it pooled for that target: reqwest keys its pool by
/// target, not by proxy. It goes to the real host, as the client meant, and over
/// HTTP/1.1 the connection closes after it, so the client's next request connects
/// afresh. The connection is known to be such a client's when a request with
/// credentials came down it before, or when a client of its listener (that runtime's,
/// or the shared one's) decided to send this target direct (hyper-util also pools connections it
/// opened in the background and never used, so no request with credentials ever came
/// down them). Anything else gets a 407: registered services are never reached
/// without credentials.
async fn uncredentialed(
    req: Request<Incoming>,
    target: Option<&str>,
    state: &ConnState,
) -> Result<Response<Body>, h2::Error> {
    let real = &gateway().real;
    let Some(authority) = target else {
        return Ok(forward::proxy_auth_required());
    };
    let sent_direct = state.direct.as_ref().is_some_and(|direct| {
        direct
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(authority)
    });
    match state.view.get().map(|view| view.holder) {
        Some(Holder::Client(_)) => Ok(forward::to_real_host(req, authority, real).await),
        None if sent_direct => Ok(forward::to_real_host(req, authority, real).await),
        // A proxy URL's holder always sends its credentials: after a removal, the
        // answer a fresh client would get.
        Some(Holder::ProxyUrl) if state.served(authority) => {
            forward::late(req, authority, Scheme::Http, real).await
        }
        _ => Ok(forward::proxy_auth_required()),
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
