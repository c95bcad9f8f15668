//! Matchers on the request line: method, path and query.

use http::Method;
use regex::Regex;

use super::matcher::{q, Match};
use crate::mock::Request;

/// Matches the method exactly; see [`method`].
#[derive(Clone, Debug)]
pub struct MethodExactMatcher(Method);

/// Matches requests whose method is `method` (case-insensitive for the standard
/// methods: `"post"` is `POST`).
///
/// # Panics
///
/// If `method` is not a valid method token.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::method, Match, Request};
/// # let req = |m: &str| Request::from_http(http::Request::builder().method(m).uri("http://a.test/").body(bytes::Bytes::new()).unwrap());
/// assert!(method("POST").matches(&req("POST")));
/// assert!(!method("POST").matches(&req("GET")));
/// ```
pub fn method<T: AsRef<str>>(method: T) -> MethodExactMatcher {
    let text = method.as_ref();
    let upper = text.to_ascii_uppercase();
    let known = Method::from_bytes(upper.as_bytes())
        .ok()
        .filter(|m| m.as_str() == upper && is_standard(m));
    let parsed = known.or_else(|| Method::from_bytes(text.as_bytes()).ok());
    match parsed {
        Some(m) => MethodExactMatcher(m),
        None => panic!("method: {text:?} is not a valid HTTP method"),
    }
}

fn is_standard(m: &Method) -> bool {
    [
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::CONNECT,
        Method::PATCH,
        Method::TRACE,
    ]
    .contains(m)
}

impl Match for MethodExactMatcher {
    fn matches(&self, request: &Request) -> bool {
        *request.method() == self.0
    }
    fn name(&self) -> String {
        "method".into()
    }
    fn expected(&self) -> Option<String> {
        Some(self.0.to_string())
    }
    fn got(&self, request: &Request) -> Option<String> {
        Some(request.method().to_string())
    }
}

/// Matches the path exactly; see [`path`].
#[derive(Clone, Debug)]
pub struct PathExactMatcher(String);

/// Matches requests whose path is `path` exactly (a missing leading `/` is added). The
/// query is not part of the path: match it with [`query_param`]. Under a path-prefix
/// mount the path is the one the service sees, prefix stripped.
///
/// # Panics
///
/// If `path` contains a `?` or is a full URL.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::path, Match, Request};
/// # let req = |u: &str| Request::from_http(http::Request::get(u).body(bytes::Bytes::new()).unwrap());
/// assert!(path("/users").matches(&req("https://a.test/users?page=2")));
/// assert!(!path("/users").matches(&req("https://a.test/users/7")));
/// ```
pub fn path<T: Into<String>>(path: T) -> PathExactMatcher {
    let path = path.into();
    if path.contains('?') {
        panic!("path: {path:?} contains a query; match the query with query_param");
    }
    if path.contains("://") {
        panic!("path: {path:?} is a URL; give the path only, the host is the MockHost's");
    }
    if path.starts_with('/') {
        PathExactMatcher(path)
    } else {
        PathExactMatcher(format!("/{path}"))
    }
}

impl Match for PathExactMatcher {
    fn matches(&self, request: &Request) -> bool {
        request.path() == self.0
    }
    fn name(&self) -> String {
        "path".into()
    }
    fn expected(&self) -> Option<String> {
        Some(q(&self.0))
    }
    fn got(&self, request: &Request) -> Option<String> {
        Some(q(request.path()))
    }
    fn exact_path(&self) -> Option<&str> {
        Some(&self.0)
    }
}

/// Matches the path against a regular expression; see [`path_regex`].
#[derive(Clone, Debug)]
pub struct PathRegexMatcher(Regex);

/// Matches requests whose path matches the regular expression `pattern` (anchor it
/// with `^…$` to match the whole path).
///
/// # Panics
///
/// If `pattern` is not a valid regular expression.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::path_regex, Match, Request};
/// # let req = |u: &str| Request::from_http(http::Request::get(u).body(bytes::Bytes::new()).unwrap());
/// let m = path_regex(r"^/users/\d+$");
/// assert!(m.matches(&req("https://a.test/users/42")));
/// assert!(!m.matches(&req("https://a.test/users/ada")));
/// ```
pub fn path_regex<T: AsRef<str>>(pattern: T) -> PathRegexMatcher {
    let pattern = pattern.as_ref();
    match Regex::new(pattern) {
        Ok(re) => PathRegexMatcher(re),
        Err(e) => panic!("path_regex: {pattern:?} is not a valid regular expression: {e}"),
    }
}

impl Match for PathRegexMatcher {
    fn matches(&self, request: &Request) -> bool {
        self.0.is_match(request.path())
    }
    fn name(&self) -> String {
        "path_regex".into()
    }
    fn expected(&self) -> Option<String> {
        Some(format!("a match of /{}/", self.0.as_str()))
    }
    fn got(&self, request: &Request) -> Option<String> {
        Some(q(request.path()))
    }
}

/// The values of the query parameter `name`, quoted, for reports.
fn query_values(request: &Request, name: &str) -> String {
    let values: Vec<String> = request
        .query_pairs()
        .filter(|(k, _)| *k == name)
        .map(|(k, v)| {
            if crate::report::is_secret_param(k) {
                crate::report::REDACTED.to_owned()
            } else {
                q(v)
            }
        })
        .collect();
    if values.is_empty() {
        "no such parameter".into()
    } else {
        values.join(", ")
    }
}

/// A value in a report, redacted if the parameter holds a secret.
fn shown(name: &str, value: &str) -> String {
    if crate::report::is_secret_param(name) {
        crate::report::REDACTED.to_owned()
    } else {
        q(value)
    }
}

/// Matches one query parameter's value exactly; see [`query_param`].
#[derive(Clone, Debug)]
pub struct QueryParamExactMatcher(String, String);

/// Matches requests that have the query parameter `name` with the value `value`
/// (decoded: `q=a+b` and `q=a%20b` both have the value `a b`). Other parameters are
/// allowed.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::query_param, Match, Request};
/// # let req = |u: &str| Request::from_http(http::Request::get(u).body(bytes::Bytes::new()).unwrap());
/// assert!(query_param("page", "2").matches(&req("https://a.test/?sort=asc&page=2")));
/// assert!(!query_param("page", "2").matches(&req("https://a.test/?page=3")));
/// ```
pub fn query_param<K: Into<String>, V: Into<String>>(name: K, value: V) -> QueryParamExactMatcher {
    QueryParamExactMatcher(name.into(), value.into())
}

impl Match for QueryParamExactMatcher {
    fn matches(&self, request: &Request) -> bool {
        request
            .query_pairs()
            .any(|(k, v)| k == self.0 && v == self.1)
    }
    fn name(&self) -> String {
        format!("query_param {}", self.0)
    }
    fn expected(&self) -> Option<String> {
        Some(shown(&self.0, &self.1))
    }
    fn got(&self, request: &Request) -> Option<String> {
        Some(query_values(request, &self.0))
    }
}

/// Matches one query parameter's value by substring; see [`query_param_contains`].
#[derive(Clone, Debug)]
pub struct QueryParamContainsMatcher(String, String);

/// Matches requests that have the query parameter `name` with a value that contains
/// `part`.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::query_param_contains, Match, Request};
/// # let req = |u: &str| Request::from_http(http::Request::get(u).body(bytes::Bytes::new()).unwrap());
/// assert!(query_param_contains("q", "rust").matches(&req("https://a.test/?q=rust+lang")));
/// ```
pub fn query_param_contains<K: Into<String>, V: Into<String>>(
    name: K,
    part: V,
) -> QueryParamContainsMatcher {
    QueryParamContainsMatcher(name.into(), part.into())
}

impl Match for QueryParamContainsMatcher {
    fn matches(&self, request: &Request) -> bool {
        request
            .query_pairs()
            .any(|(k, v)| k == self.0 && v.contains(self.1.as_str()))
    }
    fn name(&self) -> String {
        format!("query_param_contains {}", self.0)
    }
    fn expected(&self) -> Option<String> {
        Some(format!("a value containing {}", shown(&self.0, &self.1)))
    }
    fn got(&self, request: &Request) -> Option<String> {
        Some(query_values(request, &self.0))
    }
}

/// Matches requests without a query parameter; see [`query_param_is_missing`].
#[derive(Clone, Debug)]
pub struct QueryParamIsMissingMatcher(String);

/// Matches requests that do not have the query parameter `name`.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::query_param_is_missing, Match, Request};
/// # let req = |u: &str| Request::from_http(http::Request::get(u).body(bytes::Bytes::new()).unwrap());
/// assert!(query_param_is_missing("debug").matches(&req("https://a.test/?page=1")));
/// assert!(!query_param_is_missing("debug").matches(&req("https://a.test/?debug=1")));
/// ```
pub fn query_param_is_missing<K: Into<String>>(name: K) -> QueryParamIsMissingMatcher {
    QueryParamIsMissingMatcher(name.into())
}

impl Match for QueryParamIsMissingMatcher {
    fn matches(&self, request: &Request) -> bool {
        !request.query_pairs().any(|(k, _)| k == self.0)
    }
    fn name(&self) -> String {
        format!("query_param_is_missing {}", self.0)
    }
    fn expected(&self) -> Option<String> {
        Some("no such parameter".into())
    }
    fn got(&self, request: &Request) -> Option<String> {
        Some(query_values(request, &self.0))
    }
}
