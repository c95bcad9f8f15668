//! The request a matcher and a responder see: [`Request`].

use std::fmt;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{HeaderMap, Method, Uri, Version};

/// A request as the mocks see it: method, URI, version, headers and the whole body.
///
/// The URI is in absolute form (`https://api.test/users?page=2`) with a mount's path
/// prefix stripped, as every service of this crate sees it. The query is parsed once
/// per request (`application/x-www-form-urlencoded`: `+` is a space, `%XX` decoded), so
/// the query matchers compare borrowed strings. Cloning is cheap.
///
/// Its `Debug` output redacts secrets (the `authorization`, `cookie`, `x-api-key`
/// headers and the like, token-like query parameters); the accessors give the values as
/// sent.
///
/// # Examples
///
/// ```
/// use http_intercept::mock::Request;
///
/// let req = Request::from_http(
///     http::Request::post("https://api.test/users?page=2&q=a+b")
///         .header("content-type", "application/json")
///         .body(bytes::Bytes::from(r#"{"name":"ada"}"#))?,
/// );
/// assert_eq!(req.method(), "POST");
/// assert_eq!(req.path(), "/users");
/// assert_eq!(req.query_param("q"), Some("a b"));
/// assert_eq!(req.body_json::<serde_json::Value>()?["name"], "ada");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Request(Arc<Inner>);

struct Inner {
    method: Method,
    uri: Uri,
    version: Version,
    headers: HeaderMap,
    body: Bytes,
    query: Vec<(String, String)>,
    json: OnceLock<Option<serde_json::Value>>,
}

impl Request {
    /// Makes the mocks' view of an `http::Request` whose body was read.
    pub fn from_http(req: http::Request<Bytes>) -> Request {
        let (parts, body) = req.into_parts();
        let query = parts.uri.query().map(parse_query).unwrap_or_default();
        Request(Arc::new(Inner {
            method: parts.method,
            uri: parts.uri,
            version: parts.version,
            headers: parts.headers,
            body,
            query,
            json: OnceLock::new(),
        }))
    }

    /// The method.
    pub fn method(&self) -> &Method {
        &self.0.method
    }

    /// The URI, in absolute form.
    pub fn uri(&self) -> &Uri {
        &self.0.uri
    }

    /// The path, `/users/7`.
    pub fn path(&self) -> &str {
        self.0.uri.path()
    }

    /// The HTTP version the client spoke.
    pub fn version(&self) -> Version {
        self.0.version
    }

    /// The headers (names are lowercase).
    pub fn headers(&self) -> &HeaderMap {
        &self.0.headers
    }

    /// The whole body.
    pub fn body(&self) -> &Bytes {
        &self.0.body
    }

    /// The body parsed as JSON into `T`.
    ///
    /// # Errors
    ///
    /// If the body is not JSON of that shape.
    pub fn body_json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(&self.0.body)
    }

    /// The body as a JSON value, parsed once and shared by every JSON matcher; `None`
    /// if it is not JSON.
    pub(crate) fn json(&self) -> Option<&serde_json::Value> {
        self.0
            .json
            .get_or_init(|| serde_json::from_slice(&self.0.body).ok())
            .as_ref()
    }

    /// The query's `(name, value)` pairs, decoded, in order.
    pub fn query_pairs(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.0.query.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The first value of the query parameter `name`, decoded.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query_pairs().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    /// The request in a report: its line, headers and body, secrets redacted.
    pub(crate) fn render(&self, indent: &str) -> String {
        let mut out = String::new();
        crate::report::write_request(
            &mut out,
            indent,
            self.method(),
            self.uri(),
            self.headers(),
            Some(self.body()),
        );
        out
    }

    /// `GET https://api.test/users`, secrets redacted.
    pub(crate) fn line(&self) -> String {
        format!("{} {}", self.method(), crate::report::uri(self.uri()))
    }
}

impl fmt::Debug for Request {
    /// The method and URI; with `{:#?}` also the headers and the body. Secrets are
    /// redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            f.write_str(&self.render("    "))
        } else {
            f.write_str(&self.line())
        }
    }
}

/// Splits and decodes an `application/x-www-form-urlencoded` query.
fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    if !s.contains(['%', '+']) {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let byte = bytes
                    .get(i + 1..i + 3)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match byte {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_queries() {
        assert_eq!(decode("a+b%20c"), "a b c");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%4"), "%4");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("%C3%A9"), "é");
        assert_eq!(
            parse_query("a=1&b&c=x%3Dy"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), String::new()),
                ("c".into(), "x=y".into())
            ]
        );
    }
}
