//! A mock: its matchers, its responder and its rules ([`Mock`], [`MockBuilder`]), and
//! the guard of a scoped mount ([`MockGuard`]).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::matchers::Match;
use super::template::{Respond, ResponseTemplate, Sequence};
use super::{MockHost, Mocks, Request};
use crate::times::Times;

/// The default priority of a mock: 5, as wiremock's.
pub(crate) const DEFAULT_PRIORITY: u8 = 5;

/// A mock being built: its matchers so far. Finish it with
/// [`respond_with`](MockBuilder::respond_with).
///
/// # Examples
///
/// ```
/// use http_intercept::mock::matchers::{method, path};
/// use http_intercept::mock::{Mock, ResponseTemplate};
///
/// let mock = Mock::given(method("GET"))
///     .and(path("/health"))
///     .respond_with(ResponseTemplate::new(200));
/// # drop(mock);
/// ```
#[must_use = "a mock builder does nothing until it is given a response and mounted"]
pub struct MockBuilder {
    matchers: Vec<Box<dyn Match>>,
}

impl MockBuilder {
    /// Adds a matcher: the mock answers only requests that every matcher matches.
    pub fn and<M: Match>(mut self, matcher: M) -> MockBuilder {
        self.matchers.push(Box::new(matcher));
        self
    }

    /// Finishes the mock with what it answers: a [`ResponseTemplate`], or a closure
    /// `Fn(&Request) -> ResponseTemplate`.
    pub fn respond_with<R: Respond>(self, responder: R) -> Mock {
        Mock {
            spec: Spec {
                matchers: self.matchers,
                responder: Box::new(responder),
                name: None,
                priority: DEFAULT_PRIORITY,
                max: None,
                expected: None,
            },
        }
    }

    /// Finishes the mock with a sequence of responses: the first request it matches gets
    /// the first template, the second the second, and so on; once the sequence is
    /// used up, the last template answers every further request (add
    /// [`up_to_n_times`](Mock::up_to_n_times) to stop there instead). For retry tests:
    /// "503, 503, then 200".
    ///
    /// # Panics
    ///
    /// If `templates` is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::mock::{matchers::any, Mock, ResponseTemplate};
    ///
    /// let flaky = Mock::given(any()).respond_with_sequence([
    ///     ResponseTemplate::new(503),
    ///     ResponseTemplate::new(503),
    ///     ResponseTemplate::new(200).set_body_string("finally"),
    /// ]);
    /// # drop(flaky);
    /// ```
    pub fn respond_with_sequence<I>(self, templates: I) -> Mock
    where
        I: IntoIterator<Item = ResponseTemplate>,
    {
        self.respond_with(Sequence::new(templates.into_iter().collect()))
    }
}

impl fmt::Debug for MockBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockBuilder")
            .field("matchers", &describe(&self.matchers))
            .finish()
    }
}

/// A mock: matchers, a responder, and the rules of when it answers. Mount it on a
/// [`MockHost`] (or a [`Mocks`] service) to have it answer requests.
///
/// Semantics, as wiremock's:
///
/// - A request is answered by the first mock, in priority order
///   ([`with_priority`](Mock::with_priority): lower first; ties in mount order), whose
///   matchers all match and which has not used up its
///   [`up_to_n_times`](Mock::up_to_n_times).
/// - [`expect`](Mock::expect) counts only the requests this mock answered.
/// - A request no mock answers gets a 404 (see [`MockHost`] for what it says).
///
/// # Examples
///
/// ```
/// use http_intercept::mock::matchers::{method, path};
/// use http_intercept::mock::{Mock, MockHost, ResponseTemplate};
///
/// let api = MockHost::unique();
/// Mock::given(method("GET"))
///     .and(path("/health"))
///     .respond_with(ResponseTemplate::new(200))
///     .named("health check")
///     .expect(0..)
///     .mount(&api);
/// ```
#[must_use = "a mock does nothing until it is mounted"]
pub struct Mock {
    pub(crate) spec: Spec,
}

/// Everything a mock was built with.
pub(crate) struct Spec {
    pub(crate) matchers: Vec<Box<dyn Match>>,
    pub(crate) responder: Box<dyn Respond>,
    pub(crate) name: Option<String>,
    pub(crate) priority: u8,
    pub(crate) max: Option<u64>,
    pub(crate) expected: Option<Times>,
}

impl Mock {
    /// Starts a mock with its first matcher; add more with
    /// [`and`](MockBuilder::and).
    pub fn given<M: Match>(matcher: M) -> MockBuilder {
        MockBuilder {
            matchers: vec![Box::new(matcher)],
        }
    }

    /// Answers at most `n` requests; after that the mock no longer matches and the
    /// next mock in priority order gets the request. Default: no limit.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::mock::{matchers::any, Mock, ResponseTemplate};
    /// let once = Mock::given(any()).respond_with(ResponseTemplate::new(500)).up_to_n_times(1);
    /// # drop(once);
    /// ```
    pub fn up_to_n_times(mut self, n: u64) -> Mock {
        assert!(n > 0, "up_to_n_times: n must be at least 1");
        self.spec.max = Some(n);
        self
    }

    /// Sets the priority: mocks of lower priority are tried first; among equal ones,
    /// the one mounted first. 1 is the highest priority. Default: 5.
    ///
    /// # Panics
    ///
    /// If `priority` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::mock::{matchers::any, Mock, ResponseTemplate};
    /// let fallback = Mock::given(any()).respond_with(ResponseTemplate::new(404)).with_priority(9);
    /// # drop(fallback);
    /// ```
    pub fn with_priority(mut self, priority: u8) -> Mock {
        assert!(
            priority > 0,
            "with_priority: 0 is not a priority; 1 is the highest"
        );
        self.spec.priority = priority;
        self
    }

    /// Expects this mock to answer `times` requests: an exact number or a range
    /// (`1`, `1..=3`, `2..`). Checked when its host is dropped (or its
    /// [`MockGuard`]), or by [`MockHost::verify`]; an unmet expectation panics with a
    /// report of what the mock and the host received. Requests answered by other mocks
    /// do not count. Default: no expectation.
    ///
    /// # Examples
    ///
    /// ```should_panic
    /// use http_intercept::mock::{matchers::any, Mock, MockHost, ResponseTemplate};
    /// let api = MockHost::unique();
    /// Mock::given(any()).respond_with(ResponseTemplate::new(200)).expect(1).mount(&api);
    /// drop(api); // panics: expected exactly 1 request, got 0
    /// ```
    pub fn expect<T: Into<Times>>(mut self, times: T) -> Mock {
        self.spec.expected = Some(times.into());
        self
    }

    /// Names the mock in reports. Default: its number in mount order.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::mock::{matchers::any, Mock, ResponseTemplate};
    /// let m = Mock::given(any()).respond_with(ResponseTemplate::new(200)).named("catch-all");
    /// # drop(m);
    /// ```
    pub fn named<T: Into<String>>(mut self, name: T) -> Mock {
        self.spec.name = Some(name.into());
        self
    }

    /// Mounts the mock on `host` for the host's life (until it is dropped or
    /// [`reset`](MockHost::reset)). Takes effect at once, also for requests in flight
    /// on other threads.
    pub fn mount(self, host: &MockHost) {
        host.register(self);
    }

    /// Mounts the mock on `host` until the returned guard is dropped; the drop
    /// verifies this mock's [`expect`](Mock::expect)ation and unmounts it.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::mock::{matchers::any, Mock, MockHost, ResponseTemplate};
    /// let api = MockHost::unique();
    /// {
    ///     let _scoped = Mock::given(any())
    ///         .respond_with(ResponseTemplate::new(200))
    ///         .expect(0)
    ///         .mount_as_scoped(&api);
    /// } // verified and unmounted here
    /// ```
    pub fn mount_as_scoped(self, host: &MockHost) -> MockGuard {
        host.register_as_scoped(self)
    }
}

impl fmt::Debug for Mock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mock")
            .field("name", &self.spec.name)
            .field("matchers", &describe(&self.spec.matchers))
            .field("priority", &self.spec.priority)
            .field("up_to_n_times", &self.spec.max)
            .field("expected", &self.spec.expected)
            .finish_non_exhaustive()
    }
}

/// `method "GET", path "/x"`: what the matchers expect, for reports.
pub(crate) fn describe(matchers: &[Box<dyn Match>]) -> String {
    let parts: Vec<String> = matchers
        .iter()
        .map(|m| match m.expected() {
            Some(e) => format!("{} {e}", m.name()),
            None => m.name(),
        })
        .collect();
    parts.join(", ")
}

/// A mounted mock: its spec, and what it answered.
pub(crate) struct MountedMock {
    /// The mock's number on its host, in mount order, from 1.
    pub(crate) number: u64,
    pub(crate) spec: Spec,
    hits: AtomicU64,
    matched: Mutex<Vec<Request>>,
}

impl MountedMock {
    pub(crate) fn new(number: u64, spec: Spec) -> MountedMock {
        MountedMock {
            number,
            spec,
            hits: AtomicU64::new(0),
            matched: Mutex::new(Vec::new()),
        }
    }

    /// Whether every matcher matches `request`.
    pub(crate) fn matches(&self, request: &Request) -> bool {
        self.spec.matchers.iter().all(|m| m.matches(request))
    }

    /// Counts one answer, unless the mock has used up its `up_to_n_times`.
    pub(crate) fn take(&self) -> bool {
        match self.spec.max {
            None => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                true
            }
            Some(max) => self
                .hits
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |h| {
                    (h < max).then_some(h + 1)
                })
                .is_ok(),
        }
    }

    /// Whether the mock has answered as many requests as `up_to_n_times` allows.
    pub(crate) fn used_up(&self) -> bool {
        self.spec.max.is_some_and(|max| self.hits() >= max)
    }

    pub(crate) fn record(&self, request: Request) {
        self.matched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request);
    }

    pub(crate) fn hits(&self) -> u64 {
        self.hits.load(Ordering::Acquire)
    }

    pub(crate) fn requests(&self) -> Vec<Request> {
        self.matched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `mock #2 "create issue" (method "POST", path "/issues")`.
    pub(crate) fn title(&self) -> String {
        let name = match &self.spec.name {
            Some(name) => format!(" {name:?}"),
            None => String::new(),
        };
        format!(
            "mock #{}{name} ({})",
            self.number,
            describe(&self.spec.matchers)
        )
    }
}

/// The guard of a mock mounted with [`Mock::mount_as_scoped`]: dropping it unmounts
/// the mock and checks its expectation, panicking with a report if it is unmet (unless
/// the thread is already panicking).
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::any, Mock, MockHost, ResponseTemplate};
/// let api = MockHost::unique();
/// let guard = Mock::given(any()).respond_with(ResponseTemplate::new(200)).mount_as_scoped(&api);
/// assert_eq!(guard.hits(), 0);
/// assert!(guard.received_requests().is_empty());
/// ```
#[must_use = "dropping the guard unmounts the mock at once"]
pub struct MockGuard {
    pub(crate) mocks: Mocks,
    pub(crate) mounted: Arc<MountedMock>,
}

impl MockGuard {
    /// The requests this mock answered so far, oldest first.
    pub fn received_requests(&self) -> Vec<Request> {
        self.mounted.requests()
    }

    /// The number of requests this mock answered so far.
    pub fn hits(&self) -> u64 {
        self.mounted.hits()
    }

    /// Waits until this mock's expectation is met (at once if it has none), checking
    /// every 5 ms of tokio time: for code under test that sends its requests from a
    /// background task. Wrap it in `tokio::time::timeout` to bound the wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::mock::{matchers::any, Mock, MockHost, ResponseTemplate};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let api = MockHost::unique();
    /// let guard = Mock::given(any()).respond_with(ResponseTemplate::new(200)).expect(0..).mount_as_scoped(&api);
    /// guard.wait_until_satisfied().await; // 0.. is met at once
    /// # }
    /// ```
    pub async fn wait_until_satisfied(&self) {
        let Some(expected) = self.mounted.spec.expected else {
            return;
        };
        while !expected.contains(self.mounted.hits()) {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    /// Checks this mock's expectation now.
    ///
    /// # Panics
    ///
    /// If the expectation is unmet, with a report.
    pub fn verify(&self) {
        if let Some(report) = super::verify::scoped_report(&self.mounted) {
            panic!("{report}");
        }
    }
}

impl Drop for MockGuard {
    fn drop(&mut self) {
        self.mocks.unmount(self.mounted.number);
        if !std::thread::panicking() {
            self.verify();
        }
    }
}

impl fmt::Debug for MockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockGuard")
            .field("mock", &self.mounted.title())
            .field("hits", &self.hits())
            .finish()
    }
}
