//! The registry: which services stand in for which hosts (`host:port` to its mounts),
//! and how connections are resolved against it.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock, Weak};

use crate::error::{Error, Kind};
use crate::guard::Intercept;
use crate::log::{LoggedRequest, RequestLog};
use crate::route::{self, Route, RouteState};
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
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    /// Tells registries apart where a handle cannot travel (the reqwest gateway's
    /// proxy credentials).
    id: u64,
    /// Registered hosts, by `host:port`.
    hosts: RwLock<HashMap<String, Arc<Host>>>,
    /// Routes of open pass-through connections, by `host:port`: registering that
    /// authority makes them stale so that clients reconnect into the service.
    passthrough: Mutex<HashMap<String, Vec<Weak<RouteState>>>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Counts pass-through resolutions, to prune the pass-through map now and then.
static PRUNE: AtomicU64 = AtomicU64::new(0);

impl Registry {
    /// Creates an empty, isolated registry.
    pub fn new() -> Registry {
        Registry {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                hosts: RwLock::default(),
                passthrough: Mutex::default(),
            }),
        }
    }

    /// A number no other registry of this process has.
    #[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
    pub(crate) fn id(&self) -> u64 {
        self.inner.id
    }

    /// A handle that does not keep the registry alive.
    #[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
    pub(crate) fn downgrade(&self) -> WeakRegistry {
        WeakRegistry(Arc::downgrade(&self.inner))
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
        self.insert(target, crate::service::boxed(service))
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
        self.insert(target, crate::service::boxed(service))
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
        Ok(Intercept::new(self.clone(), mount))
    }

    /// Removes the mount `id` from `key`; when the host has no mount left, removes it
    /// and closes the connections opened to it.
    pub(crate) fn remove_id(&self, key: &str, id: u64) -> bool {
        let (removed, acking) = {
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
            let mut acking = Vec::new();
            if mounts.is_empty() {
                hosts.remove(key);
                acking = host.close();
            }
            (removed, acking)
        };
        // Outside the locks: connections that must act on the removal (the reqwest
        // gateway's, which tell their client to reconnect) do so before this returns.
        route::wait_acked(&acking);
        removed
    }

    /// A route for a connection that carries requests to `authority` from outside the
    /// registry's own transport (the reqwest gateway): it turns stale when the
    /// authority's last registration is removed, and the removal waits, briefly, for the
    /// connection to [acknowledge](Route::ack) it. `None` if nothing is registered.
    #[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
    pub(crate) fn watch(&self, authority: &str) -> Option<Route> {
        let host = self.host(authority)?;
        Some(host.attach(Route::acknowledging()))
    }

    /// Where a connection to `authority` goes: into a registered host, or through to
    /// the real network. The returned route turns stale when that changes.
    pub(crate) fn resolve(&self, authority: &str) -> Resolved {
        let hosts = self.hosts_read();
        if let Some(host) = hosts.get(authority) {
            let route = host.attach(Route::new());
            return Resolved::InMemory(host.clone(), route);
        }
        // Still under the hosts lock, so that a concurrent `add` either sees this route
        // or happened before the lookup.
        let route = Route::new();
        let mut passthrough = self.passthrough();
        // Now and then, forget the authorities whose connections are all gone.
        if PRUNE.fetch_add(1, Ordering::Relaxed) % 256 == 255 {
            passthrough.retain(|_, routes| {
                routes.retain(|r| r.strong_count() > 0);
                !routes.is_empty()
            });
        }
        let routes = passthrough.entry(authority.to_owned()).or_default();
        routes.retain(|r| r.strong_count() > 0);
        routes.push(route.downgrade());
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

impl Default for Registry {
    fn default() -> Registry {
        Registry::new()
    }
}

/// A [`Registry`] handle that does not keep it alive.
#[derive(Clone)]
#[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
pub(crate) struct WeakRegistry(Weak<Inner>);

#[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
impl WeakRegistry {
    pub(crate) fn upgrade(&self) -> Option<Registry> {
        self.0.upgrade().map(|inner| Registry { inner })
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

    /// A route that turns stale when this host's last registration is removed (at once
    /// if it already was).
    pub(crate) fn route(&self) -> Route {
        self.attach(Route::new())
    }

    /// Attaches `route` to this host; stale at once if the host is gone.
    fn attach(&self, route: Route) -> Route {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        if routes.closed {
            route.mark_stale();
        } else {
            routes.open.retain(|r| r.strong_count() > 0);
            routes.open.push(route.downgrade());
        }
        route
    }

    /// Marks every route to this host stale; returns those whose connections must
    /// acknowledge it.
    fn close(&self) -> Vec<Arc<RouteState>> {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        routes.closed = true;
        let mut acking = Vec::new();
        for route in routes.open.drain(..).filter_map(|r| r.upgrade()) {
            route.mark_stale();
            if route.needs_ack() {
                acking.push(route);
            }
        }
        acking
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
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn target(&self) -> &Target {
        &self.target
    }

    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    pub(crate) fn requests(&self) -> Vec<LoggedRequest> {
        self.log.snapshot()
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
