//! The guards that keep registrations in place: [`Intercept`] and [`Intercepts`].

use std::fmt;
use std::sync::Arc;

use crate::log::LoggedRequest;
use crate::registry::{Mount, Registry};
use crate::scope::Scope;
use crate::target::Target;
use crate::times::Times;

/// The guard of a registration: dropping it removes the registration. When it was the
/// host's last one, the in-memory connections opened to the host finish the exchanges
/// in progress (a response body still streaming is not cut), then close.
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
    expected: Option<Times>,
}

impl Intercept {
    pub(crate) fn new(registry: Registry, mount: Arc<Mount>) -> Intercept {
        Intercept {
            registry,
            mount,
            expected: None,
        }
    }

    /// Expects the service to have been given `times` requests when the guard is
    /// dropped: an exact number or a range (`1`, `1..=3`, `2..`). If it was not, the
    /// drop panics with a report that lists the requests it was given, unless the
    /// thread is already panicking.
    ///
    /// Default: no expectation.
    ///
    /// # Examples
    ///
    /// ```should_panic
    /// let svc = tower::service_fn(|_req| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// });
    /// let guard = http_intercept::add("expect-example.test:80", svc)?.expect(1);
    /// drop(guard); // panics: expected exactly 1 request, got 0
    /// # Ok::<(), http_intercept::Error>(())
    /// ```
    pub fn expect(mut self, times: impl Into<Times>) -> Intercept {
        self.expected = Some(times.into());
        self
    }

    /// Checks the expectation set with [`expect`](Intercept::expect) now, instead of on
    /// drop.
    ///
    /// # Panics
    ///
    /// If the service was not given the expected number of requests; the message lists
    /// those it was given.
    pub fn verify(&self) {
        if let Some(report) = self.unmet() {
            panic!("{report}");
        }
    }

    /// The report of an unmet expectation, if any.
    fn unmet(&self) -> Option<String> {
        let expected = self.expected?;
        let hits = self.hits();
        if expected.contains(hits) {
            return None;
        }
        let mut report = format!(
            "http-intercept: the service for {} expected {expected}, got {hits}",
            self.mount.target()
        );
        let seen = self.requests();
        if seen.is_empty() {
            report.push_str("; it was given none");
        } else {
            report.push_str("; it was given:");
            for (i, request) in seen.iter().enumerate() {
                report.push_str(&format!("\n{}. {request:?}", i + 1));
            }
        }
        Some(report)
    }

    /// A base URL for the target, without a trailing slash (`"https://api.test"`,
    /// `"http://127.0.0.1:8080/prefix"`): append a path to make a request URL.
    pub fn url(&self) -> String {
        self.mount.target().url()
    }

    /// The target this guard keeps registered.
    pub fn target(&self) -> &Target {
        self.mount.target()
    }

    /// The number of requests the service has been given so far.
    pub fn hits(&self) -> u64 {
        self.mount.hits()
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
        self.mount.requests()
    }

    /// The registry this guard belongs to.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The scope the registration belongs to (see [`Scope`]).
    pub fn scope(&self) -> Scope {
        self.mount.scope()
    }

    /// Takes the message of the first panic of the service (while it was called, or
    /// while its response body streamed), if it panicked since the last call.
    ///
    /// When the guard drops, a panic that was not taken is raised again, unless the
    /// thread is already panicking: the client only saw a 500 (and may have retried it,
    /// or swallowed it), so the test fails with the service's own message. A test that
    /// expects its service to panic takes the panic to check it.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_body_util::{BodyExt, Empty};
    /// use hyper_util::client::legacy::Client;
    /// use hyper_util::rt::TokioExecutor;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// let svc = tower::service_fn(|_req: http::Request<hyper::body::Incoming>| async move {
    ///     if true {
    ///         panic!("no such user");
    ///     }
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// });
    /// let api = http_intercept::add("http://take-panic-example.test", svc)?;
    /// let client = Client::builder(TokioExecutor::new())
    ///     .build::<_, Empty<bytes::Bytes>>(http_intercept::Connector::new());
    /// let res = client.get("http://take-panic-example.test/".parse()?).await?;
    /// assert_eq!(res.status(), 500);
    /// assert_eq!(api.take_panic().as_deref(), Some("no such user"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn take_panic(&self) -> Option<String> {
        self.mount.panic().take()
    }
}

impl Drop for Intercept {
    fn drop(&mut self) {
        self.registry.remove_id(
            self.mount.scope(),
            &self.mount.target().authority(),
            self.mount.id(),
        );
        if std::thread::panicking() {
            return;
        }
        let panic = self.take_panic().map(|message| {
            format!(
                "http-intercept: the service for {} panicked while serving a request \
                 (the client was answered a 500): {message}",
                self.mount.target()
            )
        });
        let report = [panic, self.unmet()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("\n");
        if !report.is_empty() {
            panic!("{report}");
        }
    }
}

impl fmt::Debug for Intercept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Intercept")
            .field("target", &self.mount.target().to_string())
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
