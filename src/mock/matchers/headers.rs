//! Matchers on headers, credentials included.

use base64::Engine as _;
use http::header::{HeaderName, AUTHORIZATION};
use regex::Regex;

use super::matcher::{q, Match};
use crate::mock::Request;

fn name_of(caller: &str, name: &str) -> HeaderName {
    match HeaderName::from_bytes(name.as_bytes()) {
        Ok(name) => name,
        Err(_) => panic!("{caller}: {name:?} is not a valid header name"),
    }
}

/// The values of header `name` in a report: quoted, or redacted for secrets.
fn shown_values(request: &Request, name: &HeaderName) -> String {
    let values: Vec<String> = request
        .headers()
        .get_all(name)
        .iter()
        .map(|v| {
            if crate::report::is_secret_header(name.as_str()) {
                format!("{} ({} bytes)", crate::report::REDACTED, v.len())
            } else {
                q(&String::from_utf8_lossy(v.as_bytes()))
            }
        })
        .collect();
    if values.is_empty() {
        "no such header".into()
    } else {
        values.join(", ")
    }
}

fn shown_expected(name: &HeaderName, values: &[String]) -> String {
    if crate::report::is_secret_header(name.as_str()) {
        return crate::report::REDACTED.to_owned();
    }
    let values: Vec<String> = values.iter().map(|v| q(v)).collect();
    values.join(", ")
}

/// Matches a header's values exactly; see [`header`] and [`headers`].
#[derive(Clone, Debug)]
pub struct HeaderExactMatcher(HeaderName, Vec<String>);

/// Matches requests whose header `name` (case-insensitive) has exactly the value
/// `value`: the header appears once with that value, or its values split on commas are
/// exactly `[value]` (wiremock's reading). A second, different value fails the match.
///
/// # Panics
///
/// If `name` is not a valid header name.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::header, Match, Request};
/// # let req = |v: &str| Request::from_http(http::Request::get("http://a.test/").header("accept", v).body(bytes::Bytes::new()).unwrap());
/// assert!(header("Accept", "application/json").matches(&req("application/json")));
/// assert!(!header("accept", "application/json").matches(&req("text/html")));
/// ```
pub fn header<K: AsRef<str>, V: AsRef<str>>(name: K, value: V) -> HeaderExactMatcher {
    HeaderExactMatcher(
        name_of("header", name.as_ref()),
        vec![value.as_ref().to_owned()],
    )
}

/// Matches requests whose header `name` has exactly the values `values`, in order:
/// the header's occurrences, or its values split on commas (`accept: a, b` has the
/// values `["a", "b"]`).
///
/// # Panics
///
/// If `name` is not a valid header name.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::headers, Match, Request};
/// # let req = |v: &str| Request::from_http(http::Request::get("http://a.test/").header("cache-control", v).body(bytes::Bytes::new()).unwrap());
/// assert!(headers("cache-control", vec!["no-cache", "no-store"]).matches(&req("no-cache, no-store")));
/// assert!(!headers("cache-control", vec!["no-cache", "no-store"]).matches(&req("no-cache")));
/// ```
pub fn headers<K: AsRef<str>, V: AsRef<str>>(name: K, values: Vec<V>) -> HeaderExactMatcher {
    HeaderExactMatcher(
        name_of("headers", name.as_ref()),
        values.iter().map(|v| v.as_ref().to_owned()).collect(),
    )
}

impl Match for HeaderExactMatcher {
    fn matches(&self, request: &Request) -> bool {
        let all = request.headers().get_all(&self.0);
        let whole = all
            .iter()
            .map(|v| v.as_bytes())
            .eq(self.1.iter().map(|v| v.as_bytes()));
        whole
            || all
                .iter()
                .flat_map(|v| v.to_str().unwrap_or_default().split(','))
                .map(str::trim)
                .eq(self.1.iter().map(String::as_str))
    }
    fn name(&self) -> String {
        format!("header {}", self.0)
    }
    fn expected(&self) -> Option<String> {
        Some(shown_expected(&self.0, &self.1))
    }
    fn got(&self, request: &Request) -> Option<String> {
        Some(shown_values(request, &self.0))
    }
}

/// Matches requests that have a header; see [`header_exists`].
#[derive(Clone, Debug)]
pub struct HeaderExistsMatcher(HeaderName);

/// Matches requests that have the header `name`, whatever its value.
///
/// # Panics
///
/// If `name` is not a valid header name.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::header_exists, Match, Request};
/// # let req = Request::from_http(http::Request::get("http://a.test/").header("x-trace", "1").body(bytes::Bytes::new()).unwrap());
/// assert!(header_exists("X-Trace").matches(&req));
/// assert!(!header_exists("x-other").matches(&req));
/// ```
pub fn header_exists<K: AsRef<str>>(name: K) -> HeaderExistsMatcher {
    HeaderExistsMatcher(name_of("header_exists", name.as_ref()))
}

impl Match for HeaderExistsMatcher {
    fn matches(&self, request: &Request) -> bool {
        request.headers().contains_key(&self.0)
    }
    fn name(&self) -> String {
        format!("header_exists {}", self.0)
    }
    fn expected(&self) -> Option<String> {
        Some("the header".into())
    }
    fn got(&self, _request: &Request) -> Option<String> {
        Some("no such header".into())
    }
}

/// Matches requests without a header; see [`header_missing`].
#[derive(Clone, Debug)]
pub struct HeaderMissingMatcher(HeaderName);

/// Matches requests that do not have the header `name`.
///
/// # Panics
///
/// If `name` is not a valid header name.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::header_missing, Match, Request};
/// # let req = Request::from_http(http::Request::get("http://a.test/").header("cookie", "a=1").body(bytes::Bytes::new()).unwrap());
/// assert!(header_missing("authorization").matches(&req));
/// assert!(!header_missing("cookie").matches(&req));
/// ```
pub fn header_missing<K: AsRef<str>>(name: K) -> HeaderMissingMatcher {
    HeaderMissingMatcher(name_of("header_missing", name.as_ref()))
}

impl Match for HeaderMissingMatcher {
    fn matches(&self, request: &Request) -> bool {
        !request.headers().contains_key(&self.0)
    }
    fn name(&self) -> String {
        format!("header_missing {}", self.0)
    }
    fn expected(&self) -> Option<String> {
        Some("no such header".into())
    }
    fn got(&self, request: &Request) -> Option<String> {
        Some(shown_values(request, &self.0))
    }
}

/// Matches a header's values against a regular expression; see [`header_regex`].
#[derive(Clone, Debug)]
pub struct HeaderRegexMatcher(HeaderName, Regex);

/// Matches requests that have the header `name` and whose every value of it matches
/// the regular expression `pattern`.
///
/// # Panics
///
/// If `name` is not a valid header name or `pattern` not a valid regular expression.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::header_regex, Match, Request};
/// # let req = |v: &str| Request::from_http(http::Request::get("http://a.test/").header("user-agent", v).body(bytes::Bytes::new()).unwrap());
/// assert!(header_regex("user-agent", r"^my-sdk/\d+").matches(&req("my-sdk/3.1")));
/// assert!(!header_regex("user-agent", r"^my-sdk/\d+").matches(&req("curl/8")));
/// ```
pub fn header_regex<K: AsRef<str>>(name: K, pattern: &str) -> HeaderRegexMatcher {
    let re = match Regex::new(pattern) {
        Ok(re) => re,
        Err(e) => panic!("header_regex: {pattern:?} is not a valid regular expression: {e}"),
    };
    HeaderRegexMatcher(name_of("header_regex", name.as_ref()), re)
}

impl Match for HeaderRegexMatcher {
    fn matches(&self, request: &Request) -> bool {
        let mut values = request.headers().get_all(&self.0).iter().peekable();
        values.peek().is_some() && values.all(|v| v.to_str().is_ok_and(|v| self.1.is_match(v)))
    }
    fn name(&self) -> String {
        format!("header_regex {}", self.0)
    }
    fn expected(&self) -> Option<String> {
        Some(format!("a match of /{}/", self.1.as_str()))
    }
    fn got(&self, request: &Request) -> Option<String> {
        Some(shown_values(request, &self.0))
    }
}

/// Matches an `Authorization` header; see [`bearer_token`] and [`basic_auth`].
#[derive(Clone, Debug)]
pub struct AuthorizationMatcher {
    scheme: &'static str,
    value: String,
}

/// Matches requests with `Authorization: Bearer <token>` (RFC 6750).
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::bearer_token, Match, Request};
/// # let req = |v: &str| Request::from_http(http::Request::get("http://a.test/").header("authorization", v).body(bytes::Bytes::new()).unwrap());
/// assert!(bearer_token("t0k").matches(&req("Bearer t0k")));
/// assert!(!bearer_token("t0k").matches(&req("Bearer other")));
/// ```
pub fn bearer_token<T: AsRef<str>>(token: T) -> AuthorizationMatcher {
    AuthorizationMatcher {
        scheme: "bearer_token",
        value: format!("Bearer {}", token.as_ref()),
    }
}

/// Matches requests with `Authorization: Basic <base64(username:password)>` (RFC 7617).
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::basic_auth, Match, Request};
/// # let req = |v: &str| Request::from_http(http::Request::get("http://a.test/").header("authorization", v).body(bytes::Bytes::new()).unwrap());
/// // "ada:secret" in base64
/// assert!(basic_auth("ada", "secret").matches(&req("Basic YWRhOnNlY3JldA==")));
/// assert!(!basic_auth("ada", "wrong").matches(&req("Basic YWRhOnNlY3JldA==")));
/// ```
pub fn basic_auth<U: AsRef<str>, P: AsRef<str>>(username: U, password: P) -> AuthorizationMatcher {
    let credentials = format!("{}:{}", username.as_ref(), password.as_ref());
    AuthorizationMatcher {
        scheme: "basic_auth",
        value: format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        ),
    }
}

impl Match for AuthorizationMatcher {
    fn matches(&self, request: &Request) -> bool {
        let mut values = request.headers().get_all(AUTHORIZATION).iter();
        values
            .next()
            .is_some_and(|v| v.as_bytes() == self.value.as_bytes())
            && values.next().is_none()
    }
    fn name(&self) -> String {
        self.scheme.into()
    }
    fn expected(&self) -> Option<String> {
        let scheme = if self.scheme == "basic_auth" {
            "Basic"
        } else {
            "Bearer"
        };
        Some(format!(
            "authorization: {scheme} {}",
            crate::report::REDACTED
        ))
    }
    fn got(&self, request: &Request) -> Option<String> {
        let got = request.headers().get_all(AUTHORIZATION).iter().map(|v| {
            let scheme = v
                .to_str()
                .ok()
                .and_then(|v| v.split(' ').next())
                .unwrap_or("?");
            format!("{scheme} {} ({} bytes)", crate::report::REDACTED, v.len())
        });
        let got: Vec<String> = got.collect();
        Some(if got.is_empty() {
            "no authorization header".into()
        } else {
            format!("authorization: {}", got.join(", "))
        })
    }
}
