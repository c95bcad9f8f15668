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
use crate::scope::{Lookup, Scope};
use crate::service::{BoxedService, InterceptService, PanicSlot};
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
/// # Scopes
///
/// The global registry keeps each registration in the [`Scope`] it was made in (the
/// test's tokio runtime, or its thread), so parallel tests can intercept the same host
/// with their own services; [`contains`](Registry::contains),
/// [`targets`](Registry::targets) and [`remove`](Registry::remove) answer for the
/// caller's scope. Registries from [`Registry::new`] have no scopes: every client given
/// one sees all it holds. [`Scope`] says what a scope holds and how a client finds its
/// own.
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
    /// Whether registrations belong to the scope they are made in (the global
    /// registry), or all to the process (isolated registries).
    scoped: bool,
    /// Registered hosts, by `host:port`: one per scope that registered it.
    hosts: RwLock<HashMap<String, Vec<Arc<Host>>>>,
    /// Bumped, under the `hosts` write lock, at each change of `hosts`: what was looked
    /// up at one generation holds while the generation is the same.
    generation: AtomicU64,
    /// Routes of open connections, by `host:port`, with what they looked up: a
    /// registration in a scope they see before the one they went to makes them stale,
    /// so that their clients reconnect into the new service.
    watched: Mutex<HashMap<String, Vec<Watched>>>,
}

/// An open connection's route and how it was resolved.
struct Watched {
    route: Weak<RouteState>,
    lookup: Lookup,
    /// Where in `lookup` the connection found its host; past the end for pass-through.
    rank: usize,
    /// The current-thread runtime the connection's task runs on, if it was dialed from
    /// one: a registration made on that runtime's thread cannot wait for it to close.
    local: Option<u64>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Counts resolutions, to prune the map of watched routes now and then.
static PRUNE: AtomicU64 = AtomicU64::new(0);

impl Registry {
    /// Creates an empty, isolated registry, without scopes.
    pub fn new() -> Registry {
        Registry::with_scopes(false)
    }

    fn with_scopes(scoped: bool) -> Registry {
        Registry {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                scoped,
                hosts: RwLock::default(),
                generation: AtomicU64::new(0),
                watched: Mutex::default(),
            }),
        }
    }

    /// Changes whenever a registration is added or removed (see `Inner::generation`).
    #[cfg_attr(
        not(any(feature = "reqwest", feature = "reqwest012")),
        allow(dead_code)
    )]
    pub(crate) fn generation(&self) -> u64 {
        self.inner.generation.load(Ordering::Acquire)
    }

    /// A number no other registry of this process has.
    #[cfg_attr(not(feature = "gateway"), allow(dead_code))]
    pub(crate) fn id(&self) -> u64 {
        self.inner.id
    }

    /// A handle that does not keep the registry alive.
    #[cfg_attr(not(feature = "gateway"), allow(dead_code))]
    pub(crate) fn downgrade(&self) -> WeakRegistry {
        WeakRegistry(Arc::downgrade(&self.inner))
    }

    /// The process-wide registry used by the free functions and by connectors that
    /// were not given another one. Its registrations are scoped (see
    /// [Scopes](Registry#scopes)).
    pub fn global() -> &'static Registry {
        static GLOBAL: OnceLock<Registry> = OnceLock::new();
        GLOBAL.get_or_init(|| Registry::with_scopes(true))
    }

    /// The scope a registration made here and now belongs to.
    fn scope_here(&self) -> Scope {
        if self.inner.scoped {
            Scope::current()
        } else {
            Scope::process()
        }
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
    /// In the global registry the registration belongs to the caller's [`Scope`]: other
    /// tests do not see it, and may register the same target for themselves.
    ///
    /// # Errors
    ///
    /// Returns an error naming the target if it cannot be parsed, or if the same target
    /// (host, port and path prefix) is already registered in the same scope: silently
    /// replacing a service would make tests flaky.
    pub fn add<T, S, M>(&self, target: T, service: S) -> Result<Intercept, Error>
    where
        T: IntoTarget,
        S: InterceptService<M>,
    {
        let target = target.into_target()?;
        self.insert(self.scope_here(), target, crate::service::boxed(service))
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
        self.insert(self.scope_here(), target, crate::service::boxed(service))
            .expect("a unique host is never registered twice")
    }

    /// Removes the registration for `target` (host, port and path prefix) made in the
    /// caller's scope. Returns whether there was one. Its guard's drop then does
    /// nothing.
    ///
    /// Targets that cannot be parsed were never registered: this returns false.
    pub fn remove<T: IntoTarget>(&self, target: T) -> bool {
        let Ok(target) = target.into_target() else {
            return false;
        };
        let key = target.authority();
        let scope = self.scope_here();
        let id = self
            .hosts_read()
            .get(&key)
            .and_then(|hosts| hosts.iter().find(|h| h.scope == scope).cloned())
            .and_then(|host| {
                host.mounts_read()
                    .iter()
                    .find(|m| m.target.path_prefix() == target.path_prefix())
                    .map(|m| m.id)
            });
        id.is_some_and(|id| self.remove_id(scope, &key, id))
    }

    /// Returns whether a connection made here and now to the target's `host:port`
    /// would go to a registered service (in the global registry: one registered in the
    /// caller's scope or process-wide). `target` may be a full URL: its path, query,
    /// fragment and user info are ignored.
    ///
    /// # Examples
    ///
    /// ```
    /// let _api = http_intercept::add("https://contains-example.test", tower::service_fn(|_req| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// }))?;
    /// let registry = http_intercept::Registry::global();
    /// assert!(registry.contains("https://contains-example.test/search?q=1#top"));
    /// assert!(!registry.contains("http://contains-example.test"));
    /// # Ok::<(), http_intercept::Error>(())
    /// ```
    pub fn contains<T: IntoTarget>(&self, target: T) -> bool {
        target
            .into_authority()
            .is_some_and(|authority| self.host(&Lookup::here(), &authority).is_some())
    }

    /// The targets a connection made here and now would find, sorted (in the global
    /// registry: those of the caller's scope, and the process-wide ones it does not
    /// shadow).
    pub fn targets(&self) -> Vec<Target> {
        let lookup = Lookup::here();
        let hosts = self.hosts_read();
        let mut targets: Vec<Target> = hosts
            .values()
            .filter_map(|scoped| find(scoped, &lookup))
            .flat_map(|(_, h)| {
                h.mounts_read()
                    .iter()
                    .map(|m| m.target.clone())
                    .collect::<Vec<_>>()
            })
            .collect();
        targets.sort_by_key(|t| (t.authority(), t.path_prefix().map(str::to_owned)));
        targets
    }

    fn insert(
        &self,
        scope: Scope,
        target: Target,
        service: BoxedService,
    ) -> Result<Intercept, Error> {
        let key = target.authority();
        let mount = Arc::new(Mount {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            scope,
            label: target.to_string().into(),
            target,
            service,
            hits: AtomicU64::new(0),
            log: RequestLog::default(),
            panic: PanicSlot::default(),
        });
        let mut diverted = Vec::new();
        let registered = self.insert_mount(scope, &key, mount, &mut diverted);
        // Outside the locks: the next request made after this returns must not find a
        // diverted connection still in its client's pool.
        route::wait_acked(&diverted);
        registered
    }

    fn insert_mount(
        &self,
        scope: Scope,
        key: &str,
        mount: Arc<Mount>,
        diverted: &mut Vec<Arc<RouteState>>,
    ) -> Result<Intercept, Error> {
        let mut hosts = self
            .inner
            .hosts
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        self.inner.generation.fetch_add(1, Ordering::AcqRel);
        let scoped = hosts.entry(key.to_owned()).or_default();
        let host = match scoped.iter().find(|h| h.scope == scope) {
            Some(host) => host.clone(),
            None => {
                let host = Arc::new(Host::new(key.to_owned(), scope));
                scoped.push(host.clone());
                // Connections that see this scope before the one they went to (through
                // to the real host, or to a registration this one shadows) must not
                // carry another request: their clients reconnect, into this service.
                *diverted = self.divert(key, scope);
                host
            }
        };
        let mut mounts = host.mounts.write().unwrap_or_else(PoisonError::into_inner);
        if mounts
            .iter()
            .any(|m| m.target.path_prefix() == mount.target.path_prefix())
        {
            let in_scope = self.inner.scoped.then(|| scope.to_string());
            return Err(Error::new(Kind::AlreadyRegistered {
                target: mount.target.to_string(),
                scope: in_scope,
            }));
        }
        mounts.push(mount.clone());
        // Longest prefix first; the host-wide mount (no prefix) last.
        mounts.sort_by_key(|m| std::cmp::Reverse(m.target.path_prefix().map_or(0, str::len)));
        Ok(Intercept::new(self.clone(), mount))
    }

    /// Marks stale the watched routes to `authority` that would now find `scope` first;
    /// returns those the caller can wait for (their connections acknowledge closing, on
    /// a runtime that is not the caller's current-thread one).
    fn divert(&self, authority: &str, scope: Scope) -> Vec<Arc<RouteState>> {
        let mut watched = self.watched();
        let Some(routes) = watched.get_mut(authority) else {
            return Vec::new();
        };
        let here = crate::scope::current_thread_runtime();
        let mut waiting = Vec::new();
        routes.retain(|w| {
            let Some(route) = w.route.upgrade() else {
                return false;
            };
            if w.lookup.rank(scope).is_some_and(|rank| rank < w.rank) {
                route.mark_stale();
                if route.needs_ack() && (w.local.is_none() || w.local != here) {
                    waiting.push(route);
                }
                return false;
            }
            true
        });
        waiting
    }

    /// Removes the mount `id` from `key` in `scope`; when the host has no mount left,
    /// removes it and closes the connections opened to it.
    pub(crate) fn remove_id(&self, scope: Scope, key: &str, id: u64) -> bool {
        let (removed, acking) = {
            let mut hosts = self
                .inner
                .hosts
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            self.inner.generation.fetch_add(1, Ordering::AcqRel);
            let Some(scoped) = hosts.get_mut(key) else {
                return false;
            };
            let Some(at) = scoped.iter().position(|h| h.scope == scope) else {
                return false;
            };
            let host = scoped[at].clone();
            let mut mounts = host.mounts.write().unwrap_or_else(PoisonError::into_inner);
            let before = mounts.len();
            mounts.retain(|m| m.id != id);
            let removed = mounts.len() != before;
            let mut acking = Vec::new();
            if mounts.is_empty() {
                scoped.remove(at);
                if scoped.is_empty() {
                    hosts.remove(key);
                }
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
    /// registry's own transport (the reqwest gateway): it turns stale when the host it
    /// finds through `lookup` loses its last registration, and the removal waits,
    /// briefly, for the connection to [acknowledge](Route::ack) it, if `acking`.
    /// `None` if nothing is registered.
    #[cfg_attr(not(feature = "gateway"), allow(dead_code))]
    pub(crate) fn watch(&self, lookup: &Lookup, authority: &str, acking: bool) -> Option<Route> {
        let host = self.host(lookup, authority)?;
        let route = if acking {
            Route::acknowledging()
        } else {
            Route::new()
        };
        Some(host.attach(route))
    }

    /// Where a connection to `authority` goes, for a caller that sees `lookup`: into a
    /// registered host, or through to the real network. The returned route turns stale
    /// when that changes. With `acking`, a pass-through route is one the connection
    /// [acknowledges](Route::ack) when it is gone, and a registration that diverts it
    /// waits for that, briefly.
    pub(crate) fn resolve(&self, lookup: &Lookup, authority: &str, acking: bool) -> Resolved {
        let hosts = self.hosts_read();
        let found = hosts.get(authority).and_then(|scoped| find(scoped, lookup));
        // Still under the hosts lock, so that a concurrent `add` either sees this route
        // or happened before the lookup.
        let route = if acking && found.is_none() {
            Route::acknowledging()
        } else {
            Route::new()
        };
        let rank = found.map_or(lookup.scopes().len(), |(rank, _)| rank);
        let mut watched = self.watched();
        // Now and then, forget the authorities whose connections are all gone.
        if PRUNE.fetch_add(1, Ordering::Relaxed) % 256 == 255 {
            watched.retain(|_, routes| {
                routes.retain(|w| w.route.strong_count() > 0);
                !routes.is_empty()
            });
        }
        let routes = watched.entry(authority.to_owned()).or_default();
        routes.retain(|w| w.route.strong_count() > 0);
        routes.push(Watched {
            route: route.downgrade(),
            lookup: *lookup,
            rank,
            local: crate::scope::current_thread_runtime(),
        });
        drop(watched);
        match found {
            Some((_, host)) => Resolved::InMemory(host.clone(), host.attach(route)),
            None => Resolved::PassThrough(route),
        }
    }

    /// The host a caller that sees `lookup` finds for `authority`, if any.
    pub(crate) fn host(&self, lookup: &Lookup, authority: &str) -> Option<Arc<Host>> {
        let hosts = self.hosts_read();
        let scoped = hosts.get(authority)?;
        find(scoped, lookup).map(|(_, host)| host.clone())
    }

    fn hosts_read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Vec<Arc<Host>>>> {
        self.inner
            .hosts
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn watched(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Watched>>> {
        self.inner
            .watched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The first host of `scoped` that `lookup` sees, and where in the lookup it stands.
fn find<'a>(scoped: &'a [Arc<Host>], lookup: &Lookup) -> Option<(usize, &'a Arc<Host>)> {
    lookup
        .scopes()
        .iter()
        .enumerate()
        .find_map(|(rank, scope)| scoped.iter().find(|h| h.scope == *scope).map(|h| (rank, h)))
}

impl Default for Registry {
    fn default() -> Registry {
        Registry::new()
    }
}

/// A [`Registry`] handle that does not keep it alive.
#[derive(Clone)]
#[cfg_attr(not(feature = "gateway"), allow(dead_code))]
pub(crate) struct WeakRegistry(Weak<Inner>);

#[cfg_attr(not(feature = "gateway"), allow(dead_code))]
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
    /// The scope that registered it.
    scope: Scope,
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
    fn new(authority: String, scope: Scope) -> Host {
        Host {
            authority,
            scope,
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

    /// Whether the host lost its last registration.
    pub(crate) fn is_closed(&self) -> bool {
        self.routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .closed
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
    /// The scope of its host.
    scope: Scope,
    target: Target,
    /// `target` as text, shared with every response future that names it.
    label: Arc<str>,
    service: BoxedService,
    hits: AtomicU64,
    log: RequestLog,
    /// The first panic of its service, for the guard to raise again.
    panic: PanicSlot,
}

impl Mount {
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    pub(crate) fn scope(&self) -> Scope {
        self.scope
    }

    pub(crate) fn panic(&self) -> &PanicSlot {
        &self.panic
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
