//! Matchers on the request body: bytes, text and JSON.

use bytes::Bytes;
use serde::Serialize;
use serde_json::Value;

use super::matcher::{q, Match};
use crate::mock::Request;

/// How much of a body a matcher's report line shows.
const EXCERPT: usize = 120;

fn excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return "an empty body".into();
    }
    match std::str::from_utf8(body) {
        Ok(text) => q_limited(text),
        Err(_) => format!("{} bytes of binary", body.len()),
    }
}

fn q_limited(text: &str) -> String {
    crate::report::quoted(text, EXCERPT)
}

/// Compact JSON, cut after [`EXCERPT`] characters.
fn json_excerpt(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(EXCERPT) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// Matches the body exactly; see [`body_string`], [`body_bytes`] and [`body_json`].
#[derive(Clone, Debug)]
pub struct BodyExactMatcher(Body);

#[derive(Clone, Debug)]
enum Body {
    Bytes(Bytes),
    Json(Value),
}

/// Matches requests whose body is `body`, byte for byte.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::body_string, Match, Request};
/// # let req = |b: &'static str| Request::from_http(http::Request::post("http://a.test/").body(bytes::Bytes::from(b)).unwrap());
/// assert!(body_string("hello").matches(&req("hello")));
/// assert!(!body_string("hello").matches(&req("hello!")));
/// ```
pub fn body_string<T: Into<String>>(body: T) -> BodyExactMatcher {
    BodyExactMatcher(Body::Bytes(Bytes::from(body.into())))
}

/// Matches requests whose body is `body`, byte for byte.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::body_bytes, Match, Request};
/// # let req = |b: &'static [u8]| Request::from_http(http::Request::post("http://a.test/").body(bytes::Bytes::from(b)).unwrap());
/// assert!(body_bytes(vec![0u8, 159]).matches(&req(&[0, 159])));
/// ```
pub fn body_bytes<T: Into<Vec<u8>>>(body: T) -> BodyExactMatcher {
    BodyExactMatcher(Body::Bytes(Bytes::from(body.into())))
}

/// Matches requests whose body is JSON equal to `body` (key order and whitespace do not
/// matter; numbers compare by value).
///
/// # Panics
///
/// If `body` cannot be serialized to JSON.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::body_json, Match, Request};
/// use serde_json::json;
/// # let req = |b: &'static str| Request::from_http(http::Request::post("http://a.test/").body(bytes::Bytes::from(b)).unwrap());
/// assert!(body_json(json!({"a": 1, "b": [true]})).matches(&req(r#"{ "b": [true], "a": 1 }"#)));
/// assert!(!body_json(json!({"a": 1})).matches(&req(r#"{"a": 1, "b": 2}"#)));
/// ```
pub fn body_json<T: Serialize>(body: T) -> BodyExactMatcher {
    match serde_json::to_value(body) {
        Ok(value) => BodyExactMatcher(Body::Json(value)),
        Err(e) => panic!("body_json: the expected body cannot be serialized to JSON: {e}"),
    }
}

/// [`body_json`] with the expected JSON given as text.
///
/// # Panics
///
/// If `body` is not valid JSON.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::body_json_string, Match, Request};
/// # let req = |b: &'static str| Request::from_http(http::Request::post("http://a.test/").body(bytes::Bytes::from(b)).unwrap());
/// assert!(body_json_string(r#"{"a":1}"#).matches(&req(r#"{ "a": 1 }"#)));
/// ```
pub fn body_json_string<T: AsRef<str>>(body: T) -> BodyExactMatcher {
    match serde_json::from_str(body.as_ref()) {
        Ok(value) => BodyExactMatcher(Body::Json(value)),
        Err(e) => panic!("body_json_string: the expected body is not valid JSON: {e}"),
    }
}

impl Match for BodyExactMatcher {
    fn matches(&self, request: &Request) -> bool {
        match &self.0 {
            Body::Bytes(b) => request.body() == b,
            Body::Json(v) => request.json() == Some(v),
        }
    }
    fn name(&self) -> String {
        match &self.0 {
            Body::Bytes(_) => "body".into(),
            Body::Json(_) => "body_json".into(),
        }
    }
    fn expected(&self) -> Option<String> {
        Some(match &self.0 {
            Body::Bytes(b) => excerpt(b),
            Body::Json(v) => json_excerpt(v),
        })
    }
    fn got(&self, request: &Request) -> Option<String> {
        Some(match (&self.0, request.json()) {
            (Body::Json(_), Some(v)) => json_excerpt(v),
            (Body::Json(_), None) if !request.body().is_empty() => {
                format!("a body that is not JSON: {}", excerpt(request.body()))
            }
            _ => excerpt(request.body()),
        })
    }
}

/// Matches a body that contains a string; see [`body_string_contains`].
#[derive(Clone, Debug)]
pub struct BodyContainsMatcher(String);

/// Matches requests whose body, as UTF-8 text, contains `part`.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::body_string_contains, Match, Request};
/// # let req = |b: &'static str| Request::from_http(http::Request::post("http://a.test/").body(bytes::Bytes::from(b)).unwrap());
/// assert!(body_string_contains("world").matches(&req("hello world")));
/// assert!(!body_string_contains("moon").matches(&req("hello world")));
/// ```
pub fn body_string_contains<T: Into<String>>(part: T) -> BodyContainsMatcher {
    BodyContainsMatcher(part.into())
}

impl Match for BodyContainsMatcher {
    fn matches(&self, request: &Request) -> bool {
        std::str::from_utf8(request.body()).is_ok_and(|body| body.contains(self.0.as_str()))
    }
    fn name(&self) -> String {
        "body_string_contains".into()
    }
    fn expected(&self) -> Option<String> {
        Some(format!("a body containing {}", q(&self.0)))
    }
    fn got(&self, request: &Request) -> Option<String> {
        Some(excerpt(request.body()))
    }
}

/// Matches a JSON body that includes a JSON value; see [`body_partial_json`].
#[derive(Clone, Debug)]
pub struct BodyPartialJsonMatcher(Value);

/// Matches requests whose body is JSON that includes `part`: every key of an object in
/// `part` is in the body's object at the same place, with an including value; an array
/// in `part` includes the body's array element by element, at the same indices (the
/// body's may be longer); other values are equal. Wiremock's semantics.
///
/// # Panics
///
/// If `part` cannot be serialized to JSON.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::body_partial_json, Match, Request};
/// use serde_json::json;
/// # let req = |b: &'static str| Request::from_http(http::Request::post("http://a.test/").body(bytes::Bytes::from(b)).unwrap());
/// let m = body_partial_json(json!({"user": {"name": "ada"}}));
/// assert!(m.matches(&req(r#"{"user": {"name": "ada", "id": 7}, "x": 1}"#)));
/// assert!(!m.matches(&req(r#"{"user": {"name": "bob"}}"#)));
/// ```
pub fn body_partial_json<T: Serialize>(part: T) -> BodyPartialJsonMatcher {
    match serde_json::to_value(part) {
        Ok(value) => BodyPartialJsonMatcher(value),
        Err(e) => panic!("body_partial_json: the expected part cannot be serialized to JSON: {e}"),
    }
}

/// [`body_partial_json`] with the expected part given as JSON text.
///
/// # Panics
///
/// If `part` is not valid JSON.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::{matchers::body_partial_json_string, Match, Request};
/// # let req = |b: &'static str| Request::from_http(http::Request::post("http://a.test/").body(bytes::Bytes::from(b)).unwrap());
/// assert!(body_partial_json_string(r#"{"a":1}"#).matches(&req(r#"{"a":1,"b":2}"#)));
/// ```
pub fn body_partial_json_string<T: AsRef<str>>(part: T) -> BodyPartialJsonMatcher {
    match serde_json::from_str(part.as_ref()) {
        Ok(value) => BodyPartialJsonMatcher(value),
        Err(e) => panic!("body_partial_json_string: the expected part is not valid JSON: {e}"),
    }
}

/// Whether `actual` includes `part`.
fn includes(actual: &Value, part: &Value) -> bool {
    match (actual, part) {
        (Value::Object(a), Value::Object(p)) => p
            .iter()
            .all(|(k, pv)| a.get(k).is_some_and(|av| includes(av, pv))),
        (Value::Array(a), Value::Array(p)) => {
            a.len() >= p.len() && a.iter().zip(p).all(|(av, pv)| includes(av, pv))
        }
        (a, p) => a == p,
    }
}

impl Match for BodyPartialJsonMatcher {
    fn matches(&self, request: &Request) -> bool {
        request.json().is_some_and(|v| includes(v, &self.0))
    }
    fn name(&self) -> String {
        "body_partial_json".into()
    }
    fn expected(&self) -> Option<String> {
        Some(format!("JSON including {}", json_excerpt(&self.0)))
    }
    fn got(&self, request: &Request) -> Option<String> {
        Some(match request.json() {
            Some(v) => json_excerpt(v),
            None if request.body().is_empty() => "an empty body".into(),
            None => format!("a body that is not JSON: {}", excerpt(request.body())),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::includes;

    #[test]
    fn inclusion() {
        assert!(includes(&json!({"a": 1, "b": 2}), &json!({"a": 1})));
        assert!(!includes(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        assert!(includes(&json!([1, 2, 3]), &json!([1, 2])));
        assert!(!includes(&json!([2, 1]), &json!([1, 2])));
        assert!(includes(
            &json!({"a": [{"x": 1, "y": 2}]}),
            &json!({"a": [{"x": 1}]})
        ));
        assert!(includes(&json!(1.0), &json!(1.0)));
        assert!(!includes(&json!("1"), &json!(1)));
    }
}
