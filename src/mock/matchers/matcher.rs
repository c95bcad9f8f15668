//! What a matcher is: the [`Match`] trait, its blanket implementation for closures,
//! and [`any`].

use super::super::Request;

/// A condition on a request. A mock answers a request when all of its matchers match.
///
/// Implemented by every matcher of [`matchers`](super) and by closures
/// `Fn(&Request) -> bool` (as wiremock's `Match`), so a one-off condition needs no
/// type. Implement it for a type of your own to have it explained in reports: the
/// unmatched-request report and the drop report show, for each matcher that failed,
/// [`name`](Match::name), [`expected`](Match::expected) and [`got`](Match::got).
///
/// `matches` is called on the hot path: for each mounted mock of higher priority until
/// one matches. The built-in matchers compare borrowed data and do not allocate.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{Match, Mock, Request, ResponseTemplate};
///
/// struct HasRequestId;
///
/// impl Match for HasRequestId {
///     fn matches(&self, request: &Request) -> bool {
///         request.headers().contains_key("x-request-id")
///     }
///     fn name(&self) -> String {
///         "has x-request-id".into()
///     }
/// }
///
/// let mock = Mock::given(HasRequestId)
///     .and(|req: &Request| req.path().starts_with("/v2/"))
///     .respond_with(ResponseTemplate::new(204));
/// # drop(mock);
/// ```
pub trait Match: Send + Sync + 'static {
    /// Whether `request` satisfies this matcher.
    fn matches(&self, request: &Request) -> bool;

    /// What this matcher looks at, for reports (`path`, `header authorization`).
    /// Default: the type's name (for a closure, where it was written).
    fn name(&self) -> String {
        std::any::type_name::<Self>().to_owned()
    }

    /// What this matcher expects, for reports (`"/users"`). Default: `None` (reports
    /// then say only that the matcher rejected the request).
    fn expected(&self) -> Option<String> {
        None
    }

    /// What `request` has where this matcher looks, for reports. Default: `None`.
    fn got(&self, request: &Request) -> Option<String> {
        let _ = request;
        None
    }

    /// The path this matcher requires exactly, if it does: lets the mocks skip, without
    /// running its matchers, a mock whose path cannot match. Only [`path`](super::path)
    /// says so; leave the default.
    #[doc(hidden)]
    fn exact_path(&self) -> Option<&str> {
        None
    }
}

impl<F> Match for F
where
    F: Fn(&Request) -> bool + Send + Sync + 'static,
{
    fn matches(&self, request: &Request) -> bool {
        self(request)
    }

    fn name(&self) -> String {
        format!("closure {}", std::any::type_name::<F>())
    }
}

impl Match for Box<dyn Match> {
    fn matches(&self, request: &Request) -> bool {
        (**self).matches(request)
    }

    fn name(&self) -> String {
        (**self).name()
    }

    fn expected(&self) -> Option<String> {
        (**self).expected()
    }

    fn got(&self, request: &Request) -> Option<String> {
        (**self).got(request)
    }

    fn exact_path(&self) -> Option<&str> {
        (**self).exact_path()
    }
}

/// Matches every request; see [`any`].
#[derive(Clone, Copy, Debug, Default)]
pub struct AnyMatcher;

/// Matches every request: a catch-all mock.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::matchers::any;
/// use http_intercept::mock::{Mock, ResponseTemplate};
///
/// let fallback = Mock::given(any()).respond_with(ResponseTemplate::new(503)).with_priority(10);
/// # drop(fallback);
/// ```
pub fn any() -> AnyMatcher {
    AnyMatcher
}

impl Match for AnyMatcher {
    fn matches(&self, _request: &Request) -> bool {
        true
    }

    fn name(&self) -> String {
        "any".into()
    }
}

/// A quoted string for a report line.
pub(super) fn q(s: &str) -> String {
    crate::report::quoted(s, 200)
}
