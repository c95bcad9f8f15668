//! The registry: which services stand in for which hosts, the guards that keep them
//! there, and the routes that tell open connections when that changes.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock, Weak};
use std::task::Context;

use futures_util::task::AtomicWaker;

use crate::error::{Error, Kind};
use crate::log::{LoggedRequest, RequestLog};
use crate::service::{BoxedService, InterceptService};
use crate::target::{IntoTarget, Target};

/// A set of intercepts: `host:port` to the service that stands in for it.
///
/// The free functions ([`add`](crate::add), [`remove`](crate::remove),
/// [`add_unique`](crate::add_unique)) use [`Registry::global`], which every
/// [`Connector`](crate::Connector) consults unless it is given another one. Tests that
/// hand their own client in can use an isolated registry from [`Registry::new`], which
/// no other test can see.
///
/// A `Registry` is a cheap handle: clones share the same intercepts.
///
/// # Examples
///
/// ```
/// use http_intercept::{Connector, Registry};
///
/// let registry = Registry::new();
/// let guard = registry.add("api.test:80", tower::service_fn(|_req| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hi")))
/// }))?;
/// assert!(registry.contains("http://api.test"));
/// assert!(!http_intercept::Registry::global().contains("api.test:80"));
/// let connector = Connector::new().with_registry(&registry);
/// # drop((guard, connector));
/// # Ok::<(), http_intercept::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Registry {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Registered hosts, by `host:port`.
    hosts: RwLock<HashMap<String, Arc<Host>>>,
    /// Routes of open pass-through connections, by `host:port`: registering that
    /// authority makes them stale so that clients reconnect into the service.
    passthrough: Mutex<HashMap<String, Vec<Weak<RouteState>>>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Registry {
    /// Creates an empty, isolated registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// The process-wide registry used by the free functions and by connectors that
    /// were not given another one.
    pub fn global() -> &'static Registry {
        static GLOBAL: OnceLock<Registry> = OnceLock::new();
        GLOBAL.get_or_init(Registry::new)
    }

    /// Registers `service` for `target` and returns the guard that keeps it there.
    ///
    /// Connections to the target's `host:port` then go to `service` through an
    /// in-memory stream, whatever the scheme (`https://` needs no TLS). A target with a
    /// path prefix (`"http://api.test/v1"`) serves only requests under that prefix,
    /// with the prefix stripped; other paths on that host get a 404. Several prefixes
    /// can be registered on one host; the longest match wins.
    ///
    /// The registration takes effect at once: a client holding a pooled connection to
    /// that host reconnects, into the service, before its next request.
    ///
    /// # Errors
    ///
    /// Returns an error naming the target if it cannot be parsed, or if the same target
    /// (host, port and path prefix) is already registered here: tests run in parallel,
    /// and silently replacing another test's service would make them flaky.
    pub fn add<T, S, M>(&self, target: T, service: S) -> Result<Intercept, Error>
    where
        T: IntoTarget,
        S: InterceptService<M>,
    {
        let target = target.into_target()?;
        self.insert(target, service.into_boxed())
    }

    /// Registers `service` under a fresh host name that can never resolve (under
    /// `.invalid`), for tests that just need a host. Parallel tests never collide.
    ///
    /// # Examples
    ///
    /// ```
    /// let svc = tower::service_fn(|_req| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// });
    /// let guard = http_intercept::add_unique(svc);
    /// assert!(guard.url().starts_with("http://"));
    /// assert!(guard.url().ends_with(".invalid"));
    /// ```
    pub fn add_unique<S, M>(&self, service: S) -> Intercept
    where
        S: InterceptService<M>,
    {
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let target = Target::from_parts(format!("u{n}.http-intercept.invalid"), 80, None);
        self.insert(target, service.into_boxed())
            .expect("a unique host is never registered twice")
    }

    /// Removes the registration for `target` (host, port and path prefix). Returns
    /// whether there was one. Its guard's drop then does nothing.
    ///
    /// Targets that cannot be parsed were never registered: this returns false.
    pub fn remove<T: IntoTarget>(&self, target: T) -> bool {
        let Ok(target) = target.into_target() else {
            return false;
        };
        let key = target.authority();
        let id = self.host(&key).and_then(|host| {
            host.mounts_read()
                .iter()
                .find(|m| m.target.path_prefix() == target.path_prefix())
                .map(|m| m.id)
        });
        id.is_some_and(|id| self.remove_id(&key, id))
    }

    /// Returns whether anything is registered for the target's `host:port`.
    pub fn contains<T: IntoTarget>(&self, target: T) -> bool {
        target
            .into_target()
            .is_ok_and(|t| self.host(&t.authority()).is_some())
    }

    /// The registered targets, sorted.
    pub fn targets(&self) -> Vec<Target> {
        let hosts = self.hosts_read();
        let mut targets: Vec<Target> = hosts
            .values()
            .flat_map(|h| {
                h.mounts_read()
                    .iter()
                    .map(|m| m.target.clone())
                    .collect::<Vec<_>>()
            })
            .collect();
        targets.sort_by_key(|t| (t.authority(), t.path_prefix().map(str::to_owned)));
        targets
    }

    fn insert(&self, target: Target, service: BoxedService) -> Result<Intercept, Error> {
        let key = target.authority();
        let mount = Arc::new(Mount {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            label: target.to_string().into(),
            target,
            service,
            hits: AtomicU64::new(0),
            log: RequestLog::default(),
        });
        let mut hosts = self
            .inner
            .hosts
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let host = match hosts.get(&key) {
            Some(host) => host.clone(),
            None => {
                let host = Arc::new(Host::new(key.clone()));
                hosts.insert(key.clone(), host.clone());
                // Pass-through connections to this authority must not carry another
                // request: their clients reconnect, into the service.
                if let Some(routes) = self.passthrough().remove(&key) {
                    routes
                        .iter()
                        .filter_map(Weak::upgrade)
                        .for_each(|r| r.mark_stale());
                }
                host
            }
        };
        let mut mounts = host.mounts.write().unwrap_or_else(PoisonError::into_inner);
        if mounts
            .iter()
            .any(|m| m.target.path_prefix() == mount.target.path_prefix())
        {
            return Err(Error::new(Kind::AlreadyRegistered {
                target: mount.target.to_string(),
            }));
        }
        mounts.push(mount.clone());
        // Longest prefix first; the host-wide mount (no prefix) last.
        mounts.sort_by_key(|m| std::cmp::Reverse(m.target.path_prefix().map_or(0, str::len)));
        Ok(Intercept {
            registry: self.clone(),
            mount,
        })
    }

    /// Removes the mount `id` from `key`; when the host has no mount left, removes it
    /// and closes the connections opened to it.
    fn remove_id(&self, key: &str, id: u64) -> bool {
        let mut hosts = self
            .inner
            .hosts
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(host) = hosts.get(key).cloned() else {
            return false;
        };
        let mut mounts = host.mounts.write().unwrap_or_else(PoisonError::into_inner);
        let before = mounts.len();
        mounts.retain(|m| m.id != id);
        let removed = mounts.len() != before;
        if mounts.is_empty() {
            hosts.remove(key);
            host.close();
        }
        removed
    }

    /// Where a connection to `authority` goes: into a registered host, or through to
    /// the real network. The returned route turns stale when that changes.
    pub(crate) fn resolve(&self, authority: &str) -> Resolved {
        let hosts = self.hosts_read();
        if let Some(host) = hosts.get(authority) {
            let route = host.attach();
            return Resolved::InMemory(host.clone(), route);
        }
        // Still under the hosts lock, so that a concurrent `add` either sees this route
        // or happened before the lookup.
        let route = Route::new();
        let mut passthrough = self.passthrough();
        let routes = passthrough.entry(authority.to_owned()).or_default();
        routes.retain(|r| r.strong_count() > 0);
        routes.push(Arc::downgrade(&route.0));
        Resolved::PassThrough(route)
    }

    /// The host registered for `authority`, if any.
    pub(crate) fn host(&self, authority: &str) -> Option<Arc<Host>> {
        self.hosts_read().get(authority).cloned()
    }

    fn hosts_read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Host>>> {
        self.inner
            .hosts
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn passthrough(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Weak<RouteState>>>> {
        self.inner
            .passthrough
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let targets: Vec<String> = self.targets().iter().map(Target::to_string).collect();
        f.debug_struct("Registry")
            .field("targets", &targets)
            .finish()
    }
}

/// Where [`Registry::resolve`] sends a connection.
pub(crate) enum Resolved {
    InMemory(Arc<Host>, Route),
    PassThrough(Route),
}

/// A registered `host:port`: its mounts, and the routes of the in-memory connections
/// opened to it.
pub(crate) struct Host {
    authority: String,
    /// Sorted longest path prefix first.
    mounts: RwLock<Vec<Arc<Mount>>>,
    routes: Mutex<HostRoutes>,
}

#[derive(Default)]
struct HostRoutes {
    closed: bool,
    open: Vec<Weak<RouteState>>,
}

impl Host {
    fn new(authority: String) -> Host {
        Host {
            authority,
            mounts: RwLock::new(Vec::new()),
            routes: Mutex::new(HostRoutes::default()),
        }
    }

    /// `host:port`.
    pub(crate) fn authority(&self) -> &str {
        &self.authority
    }

    /// The mount that serves `path` (longest prefix first), if any.
    pub(crate) fn mount_for(&self, path: &str) -> Option<Arc<Mount>> {
        self.mounts_read()
            .iter()
            .find(|m| match m.target.path_prefix() {
                None => true,
                Some(prefix) => strip_prefix(path, prefix).is_some(),
            })
            .cloned()
    }

    /// The path prefixes mounted here, for a 404's explanation.
    pub(crate) fn prefixes(&self) -> Vec<String> {
        self.mounts_read()
            .iter()
            .map(|m| m.target.path_prefix().unwrap_or("/").to_owned())
            .collect()
    }

    fn mounts_read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<Mount>>> {
        self.mounts.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// A route for a new connection to this host; stale at once if the host is gone.
    fn attach(&self) -> Route {
        let route = Route::new();
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        if routes.closed {
            route.0.mark_stale();
        } else {
            routes.open.retain(|r| r.strong_count() > 0);
            routes.open.push(Arc::downgrade(&route.0));
        }
        route
    }

    fn close(&self) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        routes.closed = true;
        for route in routes.open.drain(..).filter_map(|r| r.upgrade()) {
            route.mark_stale();
        }
    }
}

/// `path` with `prefix` removed, if `path` is `prefix` or lies under it.
pub(crate) fn strip_prefix<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(prefix)?;
    if rest.is_empty() {
        Some("/")
    } else if rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}

/// One registration: a target and its service.
pub(crate) struct Mount {
    id: u64,
    target: Target,
    /// `target` as text, shared with every response future that names it.
    label: Arc<str>,
    service: BoxedService,
    hits: AtomicU64,
    log: RequestLog,
}

impl Mount {
    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    pub(crate) fn label(&self) -> &Arc<str> {
        &self.label
    }

    pub(crate) fn service(&self) -> &BoxedService {
        &self.service
    }

    /// Counts a request and logs what the service is about to see of it.
    pub(crate) fn hit(&self, entry: LoggedRequest) {
        self.hits.fetch_add(1, Ordering::Relaxed);
        self.log.push(entry);
    }
}

/// The guard of a registration: dropping it removes the registration and closes the
/// in-memory connections opened to it.
///
/// After the drop, a client holding a pooled connection to the target behaves as a
/// fresh client would: its next request passes through to the real host, or is
/// refused, per its connector's [`Policy`](crate::Policy).
///
/// # Examples
///
/// ```
/// let svc = tower::service_fn(|_req| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// });
/// let guard = http_intercept::add("https://guard-example.test/v2", svc)?;
/// assert_eq!(guard.url(), "https://guard-example.test/v2");
/// assert_eq!(guard.hits(), 0);
/// drop(guard);
/// assert!(!http_intercept::Registry::global().contains("guard-example.test:443"));
/// # Ok::<(), http_intercept::Error>(())
/// ```
#[must_use = "dropping the guard removes the intercept at once"]
pub struct Intercept {
    registry: Registry,
    mount: Arc<Mount>,
}

impl Intercept {
    /// A base URL for the target, without a trailing slash (`"https://api.test"`,
    /// `"http://127.0.0.1:8080/prefix"`): append a path to make a request URL.
    pub fn url(&self) -> String {
        self.mount.target.url()
    }

    /// The target this guard keeps registered.
    pub fn target(&self) -> &Target {
        &self.mount.target
    }

    /// The number of requests the service has been given so far.
    pub fn hits(&self) -> u64 {
        self.mount.hits.load(Ordering::Relaxed)
    }

    /// The requests the service has been given, oldest first (the last 1024), with the
    /// status it answered: print them with `{:#?}` when a test fails.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # let guard = http_intercept::add_unique(tower::service_fn(|_req| async {
    /// #     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// # }));
    /// // ... after the code under test ran:
    /// let seen = guard.requests();
    /// assert_eq!(seen.len(), 1, "{seen:#?}");
    /// assert_eq!(seen[0].method(), "POST");
    /// assert_eq!(seen[0].uri().path(), "/users");
    /// ```
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.mount.log.snapshot()
    }

    /// The registry this guard belongs to.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

impl Drop for Intercept {
    fn drop(&mut self) {
        self.registry
            .remove_id(&self.mount.target.authority(), self.mount.id);
    }
}

impl fmt::Debug for Intercept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Intercept")
            .field("target", &self.mount.target.to_string())
            .field("hits", &self.hits())
            .finish()
    }
}

/// Several guards held as one, as [`intercept!`](crate::intercept!) returns them.
/// Dropping it removes every registration.
#[must_use = "dropping the guards removes the intercepts at once"]
#[derive(Debug, Default)]
pub struct Intercepts {
    guards: Vec<Intercept>,
}

impl Intercepts {
    /// An empty set.
    pub fn new() -> Intercepts {
        Intercepts::default()
    }

    /// Adds a guard to the set.
    pub fn push(&mut self, guard: Intercept) {
        self.guards.push(guard);
    }

    /// The guards, in the order they were added.
    pub fn iter(&self) -> std::slice::Iter<'_, Intercept> {
        self.guards.iter()
    }

    /// The number of guards.
    pub fn len(&self) -> usize {
        self.guards.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.guards.is_empty()
    }
}

impl std::ops::Index<usize> for Intercepts {
    type Output = Intercept;

    fn index(&self, index: usize) -> &Intercept {
        &self.guards[index]
    }
}

impl<'a> IntoIterator for &'a Intercepts {
    type Item = &'a Intercept;
    type IntoIter = std::slice::Iter<'a, Intercept>;

    fn into_iter(self) -> Self::IntoIter {
        self.guards.iter()
    }
}

/// A connection's route: it turns stale when the registry no longer sends that
/// connection's authority where it went when the connection opened.
#[derive(Clone)]
pub(crate) struct Route(Arc<RouteState>);

pub(crate) struct RouteState {
    stale: AtomicBool,
    waker: AtomicWaker,
}

impl RouteState {
    fn mark_stale(&self) {
        self.stale.store(true, Ordering::Release);
        self.waker.wake();
    }
}

impl Route {
    /// A route that only a registry can make stale; one no registry knows never is.
    pub(crate) fn detached() -> Route {
        Route::new()
    }

    fn new() -> Route {
        Route(Arc::new(RouteState {
            stale: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        }))
    }

    /// Whether the route is stale; if not, `cx` is woken when it turns stale.
    pub(crate) fn poll_stale(&self, cx: &mut Context<'_>) -> bool {
        if self.0.stale.load(Ordering::Acquire) {
            return true;
        }
        self.0.waker.register(cx.waker());
        self.0.stale.load(Ordering::Acquire)
    }

    /// Whether the route is stale.
    pub(crate) fn is_stale(&self) -> bool {
        self.0.stale.load(Ordering::Acquire)
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("stale", &self.is_stale())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_segments() {
        assert_eq!(strip_prefix("/api", "/api"), Some("/"));
        assert_eq!(strip_prefix("/api/users", "/api"), Some("/users"));
        assert_eq!(strip_prefix("/apis", "/api"), None);
        assert_eq!(strip_prefix("/other", "/api"), None);
    }
}
