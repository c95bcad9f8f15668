//! Scopes: which registrations of the global registry a caller sees ([`Scope`]), and
//! the ordered list of scopes a connection looks its target up in ([`Lookup`]).

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};

/// A set of registrations that parallel tests do not share: a test's tokio runtime, a
/// thread, or the whole process.
///
/// `cargo test` runs tests on parallel threads of one process, and each
/// `#[tokio::test]` builds its own runtime. A registration made through the global
/// registry ([`add`](crate::add), [`add_unique`](crate::add_unique),
/// [`intercept!`](crate::intercept!), `cassette!`, `MockHost::start`) belongs to the
/// scope it was made in, so two tests can each intercept `https://api.example.com` with
/// their own service and never see each other's.
///
/// # Which scope
///
/// - Inside a tokio runtime (every `#[tokio::test]`, either flavor, and the tasks and
///   `spawn_blocking` threads of that runtime), the scope is that runtime.
/// - Outside any runtime (a plain `#[test]` using `reqwest::blocking` or ureq), it is
///   the current thread.
/// - On the process's main thread outside any runtime (a `main` function, a bench), it
///   is the process: such registrations are seen everywhere, as before scopes existed.
///
/// # What a connection sees
///
/// A connection looks its target up in a short list of scopes, first match wins:
///
/// 1. the current scope ([`Scope::current`]);
/// 2. the caller's thread, when the current scope is a runtime (a plain `#[test]` that
///    registers, then builds a runtime and makes its requests inside `block_on`);
/// 3. the process-wide scope ([`Scope::process`]), which every caller sees.
///
/// The hyper-util [`Connector`](crate::Connector) (and tonic through it) takes that
/// list each time it opens a connection, on the task that asked for it. reqwest's
/// `.intercept()` and `http_intercept::ureq`'s agents take it once, when the client or
/// agent is built: their requests are served elsewhere (the client's runtime, or a
/// thread of the crate's), where the scope cannot be read.
/// Registries from [`Registry::new`](crate::Registry::new) have no scopes: everything
/// registered there is seen by every client given that registry.
///
/// # What is not in a test's scope, and the way in
///
///
/// - a `std::thread::spawn` inside a test (with or without its own runtime) has a scope
///   of its own: take `let scope = Scope::current();` in the test and call
///   `scope.enter()` in the thread before registering or building clients there;
/// - a client built in one test and used in another (a `static` client): a hyper-util
///   [`Connector`](crate::Connector) looks up the scope of whoever dials, but may reuse
///   a pooled connection opened for the other test; a reqwest or ureq client keeps the
///   scope it was built in. Build one client per test, or give the shared client a
///   fixed scope ([`Connector::with_scope`](crate::Connector::with_scope), or build it
///   inside `Scope::process().enter()`) and register process-wide;
/// - a registration meant for every test: make it inside `Scope::process().enter()`.
///
/// # Examples
///
/// ```
/// use http_intercept::Scope;
///
/// let svc = tower::service_fn(|_req| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hi")))
/// });
/// let scope = Scope::current();
/// let guard = std::thread::spawn(move || {
///     // Registered in the spawning test's scope, not this thread's.
///     let _in = scope.enter();
///     http_intercept::add("api.scope-example.test:80", svc)
/// })
/// .join()
/// .unwrap()?;
/// assert!(http_intercept::Registry::global().contains("http://api.scope-example.test"));
/// # drop(guard);
/// # Ok::<(), http_intercept::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scope(Key);

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Key {
    Process,
    Runtime(u64),
    Thread(u64),
}

thread_local! {
    /// Scopes entered on this thread, innermost last.
    static ENTERED: RefCell<Vec<Scope>> = const { RefCell::new(Vec::new()) };
    /// This thread's own scope: a number no other thread of the process has.
    static THREAD: Key = thread_key();
}

fn thread_key() -> Key {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    if std::thread::current().name() == Some("main") {
        Key::Process
    } else {
        Key::Thread(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// The number of a tokio runtime id, without allocating (`Id` only offers `Display`).
fn runtime_number(id: tokio::runtime::Id) -> u64 {
    struct Digits(u64);
    impl fmt::Write for Digits {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            for b in s.bytes() {
                let digit = b.checked_sub(b'0').filter(|d| *d < 10).ok_or(fmt::Error)?;
                self.0 = self.0.wrapping_mul(10).wrapping_add(u64::from(digit));
            }
            Ok(())
        }
    }
    let mut digits = Digits(0);
    let _ = fmt::write(&mut digits, format_args!("{id}"));
    digits.0
}

/// The number of the runtime the caller runs on, if it is a current-thread one.
pub(crate) fn current_thread_runtime() -> Option<u64> {
    let handle = tokio::runtime::Handle::try_current().ok()?;
    (handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread)
        .then(|| runtime_number(handle.id()))
}

impl Scope {
    /// The scope of the caller: the scope [entered](Scope::enter) on this thread, else
    /// the tokio runtime the caller runs on, else the current thread (the process on
    /// the main thread).
    pub fn current() -> Scope {
        if let Some(entered) = ENTERED.with(|e| e.borrow().last().copied()) {
            return entered;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => Scope(Key::Runtime(runtime_number(handle.id()))),
            Err(_) => Scope::thread(),
        }
    }

    /// The process-wide scope: what is registered there is seen by every scope, after
    /// the caller's own registrations.
    pub fn process() -> Scope {
        Scope(Key::Process)
    }

    /// The current thread's own scope (the process on the main thread).
    fn thread() -> Scope {
        Scope(THREAD.with(|k| *k))
    }

    /// Whether this is the process-wide scope.
    pub fn is_process(&self) -> bool {
        self.0 == Key::Process
    }

    /// Makes this scope the current one on this thread until the returned guard drops:
    /// registrations made and clients built meanwhile belong to it. Scopes nest.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::Scope;
    ///
    /// // A registration every test sees.
    /// let everywhere = {
    ///     let _in = Scope::process().enter();
    ///     http_intercept::add("shared.scope-enter-example.test:80", tower::service_fn(|_req| async {
    ///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    ///     }))?
    /// };
    /// std::thread::spawn(|| {
    ///     assert!(http_intercept::Registry::global().contains("shared.scope-enter-example.test:80"));
    /// })
    /// .join()
    /// .unwrap();
    /// # drop(everywhere);
    /// # Ok::<(), http_intercept::Error>(())
    /// ```
    pub fn enter(&self) -> EnteredScope {
        ENTERED.with(|e| e.borrow_mut().push(*self));
        EnteredScope {
            scope: *self,
            _not_send: PhantomData,
        }
    }

    /// This scope as text, for the reqwest gateway's credentials.
    #[cfg_attr(not(feature = "gateway"), allow(dead_code))]
    pub(crate) fn encode(&self, out: &mut String) {
        use fmt::Write as _;
        let _ = match self.0 {
            Key::Process => write!(out, "p"),
            Key::Runtime(n) => write!(out, "r{n}"),
            Key::Thread(n) => write!(out, "t{n}"),
        };
    }

    #[cfg_attr(not(feature = "gateway"), allow(dead_code))]
    fn decode(text: &str) -> Option<Scope> {
        let key = match text.as_bytes().first()? {
            b'p' if text.len() == 1 => Key::Process,
            b'r' => Key::Runtime(text[1..].parse().ok()?),
            b't' => Key::Thread(text[1..].parse().ok()?),
            _ => return None,
        };
        Some(Scope(key))
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Key::Process => f.write_str("Scope(process)"),
            Key::Runtime(n) => write!(f, "Scope(tokio runtime {n})"),
            Key::Thread(n) => write!(f, "Scope(thread {n})"),
        }
    }
}

impl fmt::Display for Scope {
    /// `the process`, `tokio runtime 7`, `thread 12`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Key::Process => f.write_str("the process"),
            Key::Runtime(n) => write!(f, "tokio runtime {n}"),
            Key::Thread(n) => write!(f, "thread {n}"),
        }
    }
}

/// The guard of [`Scope::enter`]: the scope stays current on this thread until it
/// drops. It cannot be sent to another thread.
#[must_use = "the scope is current only while the guard lives"]
pub struct EnteredScope {
    scope: Scope,
    _not_send: PhantomData<*const ()>,
}

impl Drop for EnteredScope {
    fn drop(&mut self) {
        ENTERED.with(|e| {
            let mut entered = e.borrow_mut();
            if let Some(at) = entered.iter().rposition(|s| *s == self.scope) {
                entered.remove(at);
            }
        });
    }
}

impl fmt::Debug for EnteredScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnteredScope")
            .field("scope", &self.scope)
            .finish()
    }
}

/// The scopes a caller sees, in order; the process-wide scope is always last.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Lookup {
    scopes: [Scope; 3],
    len: u8,
}

impl Lookup {
    /// What the caller sees here and now: the current scope, the current thread's when
    /// that differs, and the process.
    pub(crate) fn here() -> Lookup {
        let mut lookup = Lookup::process();
        lookup.push_front(Scope::thread());
        lookup.push_front(Scope::current());
        lookup
    }

    /// What a client pinned to `scope` sees.
    pub(crate) fn pinned(scope: Scope) -> Lookup {
        let mut lookup = Lookup::process();
        lookup.push_front(scope);
        lookup
    }

    /// Only the process-wide scope.
    pub(crate) fn process() -> Lookup {
        Lookup {
            scopes: [Scope::process(); 3],
            len: 1,
        }
    }

    fn push_front(&mut self, scope: Scope) {
        if self.scopes().contains(&scope) || usize::from(self.len) == self.scopes.len() {
            return;
        }
        self.scopes.copy_within(0..usize::from(self.len), 1);
        self.scopes[0] = scope;
        self.len += 1;
    }

    /// The scopes, first match wins.
    pub(crate) fn scopes(&self) -> &[Scope] {
        &self.scopes[..usize::from(self.len)]
    }

    /// Where `scope` stands in this lookup, if it is in it.
    pub(crate) fn rank(&self, scope: Scope) -> Option<usize> {
        self.scopes().iter().position(|s| *s == scope)
    }

    /// This lookup as text (`r3.t9.p`), for the reqwest gateway's credentials.
    #[cfg_attr(not(feature = "gateway"), allow(dead_code))]
    pub(crate) fn encode(&self) -> String {
        let mut out = String::new();
        for (i, scope) in self.scopes().iter().enumerate() {
            if i > 0 {
                out.push('.');
            }
            scope.encode(&mut out);
        }
        out
    }

    /// The inverse of [`Lookup::encode`].
    #[cfg_attr(not(feature = "gateway"), allow(dead_code))]
    pub(crate) fn decode(text: &str) -> Option<Lookup> {
        let mut scopes = Vec::new();
        for part in text.split('.') {
            scopes.push(Scope::decode(part)?);
        }
        if scopes.len() > 3 || scopes.last() != Some(&Scope::process()) {
            return None;
        }
        let mut lookup = Lookup::process();
        for scope in scopes.into_iter().rev() {
            lookup.push_front(scope);
        }
        Some(lookup)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_thread_has_its_own_scope_then_the_process() {
        let lookup = std::thread::spawn(Lookup::here).join().unwrap();
        assert_eq!(lookup.scopes().len(), 2);
        assert!(!lookup.scopes()[0].is_process());
        assert!(lookup.scopes()[1].is_process());
        assert_ne!(lookup, Lookup::here());
    }

    #[test]
    fn a_runtime_is_a_scope_of_its_own() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let inside = rt.block_on(async { Lookup::here() });
        let outside = Lookup::here();
        assert_eq!(inside.scopes().len(), 3);
        // The thread's own scope stays visible inside the runtime it blocks on.
        assert_eq!(inside.scopes()[1], outside.scopes()[0]);
        let other = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert_ne!(
            other.block_on(async { Scope::current() }),
            inside.scopes()[0]
        );
    }

    #[test]
    fn entered_scopes_nest_and_end() {
        let outer = Scope::current();
        let remote = std::thread::spawn(Scope::current).join().unwrap();
        {
            let _a = remote.enter();
            assert_eq!(Scope::current(), remote);
            {
                let _b = Scope::process().enter();
                assert!(Scope::current().is_process());
            }
            assert_eq!(Scope::current(), remote);
        }
        assert_eq!(Scope::current(), outer);
    }

    #[test]
    fn lookups_round_trip_as_text() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for lookup in [
            Lookup::here(),
            rt.block_on(async { Lookup::here() }),
            Lookup::process(),
            Lookup::pinned(Scope::process()),
        ] {
            assert_eq!(Lookup::decode(&lookup.encode()), Some(lookup), "{lookup:?}");
        }
        for bad in ["", "x", "r", "r1", "p.p.p.p", "t1.r2.t3.p", "rx.p"] {
            assert_eq!(Lookup::decode(bad), None, "{bad}");
        }
    }
}
