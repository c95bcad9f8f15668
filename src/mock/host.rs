//! A mocked host: [`MockHost`], the test-facing guard.

use std::fmt;

use super::mock::{Mock, MockGuard};
use super::{verify, Mocks, Request};
use crate::error::Error;
use crate::guard::Intercept;
use crate::registry::Registry;
use crate::target::{IntoTarget, Target};

/// A host whose answers are declared with [`Mock`]s, registered at once in place of the
/// real host; the guard of that registration.
///
/// The client under test keeps its real base URL: `MockHost::start("https://api.github.com")`
/// intercepts that host for every client path of the crate (hyper-util
/// [`Connector`](crate::Connector), reqwest `.intercept()`, ureq). Underneath it is a
/// [`Mocks`] service registered like any other.
///
/// A request no mock matches gets a 404 (see [`with_unmatched_status`](Self::with_unmatched_status))
/// with the header `x-http-intercept-error: unmatched` and a body that shows the
/// request (secrets redacted), the nearest mock (most matchers satisfied) and each of
/// its matchers that failed, with what it expected and what it got.
///
/// Dropping the host unregisters it, then verifies, unless the thread is already
/// panicking, and panics with a numbered report of:
///
/// - every mock whose [`expect`](Mock::expect)ation is unmet, with the requests it
///   answered;
/// - every request that matched no mock (unless
///   [`fail_on_unmatched(false)`](Self::fail_on_unmatched));
/// - every panic of a responder (the report's first line is the first panic's message,
///   so a test whose client retried or swallowed the 500 still fails with it);
///
/// followed by every request the host received: method, URI, headers and body (JSON
/// pretty-printed, text as text, binary as size and hex excerpt), secrets redacted.
///
/// # Examples
///
/// ```
/// use http_body_util::{BodyExt, Full};
/// use http_intercept::mock::matchers::{method, path};
/// use http_intercept::mock::{Mock, MockHost, ResponseTemplate};
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let api = MockHost::start("https://api.host-example.test")?;
/// Mock::given(method("GET"))
///     .and(path("/users/7"))
///     .respond_with(ResponseTemplate::new(200).set_body_string("ada"))
///     .expect(1)
///     .mount(&api);
///
/// let client = Client::builder(TokioExecutor::new())
///     .build::<_, Full<bytes::Bytes>>(http_intercept::Connector::new());
/// let res = client.get("https://api.host-example.test/users/7".parse()?).await?;
/// assert_eq!(res.into_body().collect().await?.to_bytes(), "ada");
/// # Ok(())
/// # } // dropping `api` verifies: exactly 1 request, met
/// ```
#[must_use = "dropping the host unregisters it and verifies its mocks at once"]
pub struct MockHost {
    mocks: Mocks,
    intercept: Option<Intercept>,
    fail_on_unmatched: bool,
}

impl MockHost {
    /// Registers a new mock host for `target` in the global registry (through
    /// [`Registry::add`], so it follows the same rules as [`add`](crate::add)).
    ///
    /// # Errors
    ///
    /// If `target` cannot be parsed or is already registered.
    pub fn start<T: IntoTarget>(target: T) -> Result<MockHost, Error> {
        MockHost::start_in(Registry::global(), target)
    }

    /// Registers a new mock host for `target` in `registry`.
    ///
    /// # Errors
    ///
    /// If `target` cannot be parsed or is already registered there.
    ///
    /// # Examples
    ///
    /// ```
    /// let registry = http_intercept::Registry::new();
    /// let api = http_intercept::mock::MockHost::start_in(&registry, "https://api.test")?;
    /// assert!(registry.contains("api.test:443"));
    /// # drop(api);
    /// # Ok::<(), http_intercept::Error>(())
    /// ```
    pub fn start_in<T: IntoTarget>(registry: &Registry, target: T) -> Result<MockHost, Error> {
        let mocks = Mocks::new();
        let intercept = registry.add(target, mocks.clone())?;
        Ok(MockHost::with(mocks, intercept))
    }

    /// Registers a new mock host under a fresh host name that never resolves (under
    /// `.invalid`, like [`add_unique`](crate::add_unique)) in the global registry.
    ///
    /// # Examples
    ///
    /// ```
    /// let api = http_intercept::mock::MockHost::unique();
    /// assert!(api.url().ends_with(".invalid"));
    /// ```
    pub fn unique() -> MockHost {
        MockHost::unique_in(Registry::global())
    }

    /// [`unique`](Self::unique) in `registry`.
    pub fn unique_in(registry: &Registry) -> MockHost {
        let mocks = Mocks::new();
        let intercept = registry.add_unique(mocks.clone());
        MockHost::with(mocks, intercept)
    }

    fn with(mocks: Mocks, intercept: Intercept) -> MockHost {
        MockHost {
            mocks,
            intercept: Some(intercept),
            fail_on_unmatched: true,
        }
    }

    /// Sets the status of the answer to a request no mock matched. Default: 404.
    ///
    /// # Panics
    ///
    /// If `status` is not a valid status code.
    pub fn with_unmatched_status(self, status: u16) -> MockHost {
        let _ = self.mocks.clone().with_unmatched_status(status);
        self
    }

    /// Whether a request that matched no mock fails the test when the host is
    /// dropped (MSW's `onUnhandledRequest: "error"`). Default: true. Set it to false
    /// for tests that check how the code under test handles a 404.
    ///
    /// # Examples
    ///
    /// ```
    /// let api = http_intercept::mock::MockHost::unique().fail_on_unmatched(false);
    /// # drop(api);
    /// ```
    pub fn fail_on_unmatched(mut self, fail: bool) -> MockHost {
        self.fail_on_unmatched = fail;
        self
    }

    /// Mounts `mock` for the host's life; the same as [`Mock::mount`].
    pub fn register(&self, mock: Mock) {
        self.mocks.register(mock);
    }

    /// Mounts `mock` until the returned guard is dropped; the same as
    /// [`Mock::mount_as_scoped`].
    pub fn register_as_scoped(&self, mock: Mock) -> MockGuard {
        self.mocks.register_as_scoped(mock)
    }

    /// A base URL for the host, without a trailing slash (`"https://api.github.com"`).
    pub fn url(&self) -> String {
        self.intercept().url()
    }

    /// The same as [`url`](Self::url), under wiremock's name.
    pub fn uri(&self) -> String {
        self.url()
    }

    /// The target the host is registered for.
    pub fn target(&self) -> &Target {
        self.intercept().target()
    }

    /// The service of this host's mocks.
    pub fn mocks(&self) -> &Mocks {
        &self.mocks
    }

    /// The registration's guard: its [`requests`](Intercept::requests) log, for one.
    pub fn intercept(&self) -> &Intercept {
        self.intercept
            .as_ref()
            .expect("the intercept is only taken by drop")
    }

    /// Every request the host received, matched or not, oldest first.
    pub fn received_requests(&self) -> Vec<Request> {
        self.mocks.received_requests()
    }

    /// Unmounts every mock and forgets every request, unmatched request and responder
    /// panic.
    pub fn reset(&self) {
        self.mocks.reset();
    }

    /// Verifies now what the drop verifies (see the type's docs).
    ///
    /// # Panics
    ///
    /// If there is anything to report, with the report.
    pub fn verify(&self) {
        if let Some(report) = self.report() {
            panic!("{report}");
        }
    }

    fn report(&self) -> Option<String> {
        let label = match &self.intercept {
            Some(i) => i.url(),
            None => String::from("(dropped)"),
        };
        verify::host_report(
            &label,
            &self.mocks.state,
            &self.mocks.snapshot().mocks,
            self.fail_on_unmatched,
        )
    }
}

impl Drop for MockHost {
    fn drop(&mut self) {
        let label = self.intercept.as_ref().map(Intercept::url);
        drop(self.intercept.take());
        if std::thread::panicking() {
            return;
        }
        let report = verify::host_report(
            label.as_deref().unwrap_or("(dropped)"),
            &self.mocks.state,
            &self.mocks.snapshot().mocks,
            self.fail_on_unmatched,
        );
        if let Some(report) = report {
            panic!("{report}");
        }
    }
}

impl fmt::Debug for MockHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockHost")
            .field("target", &self.intercept.as_ref().map(|i| i.url()))
            .field("mocks", &self.mocks)
            .finish()
    }
}
