//! Keeping secrets out of cassettes: redacted headers, query parameters and token
//! keys of JSON and form bodies, the `before_record_*` hooks, and configured secret
//! values (raw or percent-encoded) that make a save fail.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use http::{HeaderMap, Request, Response, Uri};

use super::interaction::{Interaction, Outcome};

/// The value that replaces a redacted header or query parameter value.
pub const REDACTED: &str = "REDACTED";

/// The headers redacted unless the user opts out: `authorization`,
/// `proxy-authorization`, `cookie`, `set-cookie` and `x-api-key`.
pub(crate) fn default_headers() -> Vec<HeaderName> {
    vec![
        http::header::AUTHORIZATION,
        http::header::PROXY_AUTHORIZATION,
        http::header::COOKIE,
        http::header::SET_COOKIE,
        HeaderName::from_static("x-api-key"),
    ]
}

/// The query parameters redacted unless the user opts out.
pub(crate) const DEFAULT_QUERY: &[&str] = &["access_token", "api_key", "token"];

/// The keys of JSON and form bodies whose string values are redacted unless the user
/// opts out: what OAuth token endpoints answer (RFC 6749 section 5.1, OpenID's
/// `id_token`) and the client secret a token request sends.
pub(crate) const DEFAULT_BODY_KEYS: &[&str] =
    &["access_token", "refresh_token", "id_token", "client_secret"];

pub(crate) type RequestHook = Arc<dyn Fn(Request<Bytes>) -> Option<Request<Bytes>> + Send + Sync>;
pub(crate) type ResponseHook =
    Arc<dyn Fn(Response<Bytes>) -> Option<Response<Bytes>> + Send + Sync>;

/// What is removed from requests and responses before they are recorded (and from
/// requests before they are matched, so that both sides look the same).
#[derive(Clone)]
pub(crate) struct Redaction {
    pub(crate) headers: Vec<HeaderName>,
    pub(crate) query: Vec<String>,
    pub(crate) body_keys: Vec<String>,
    pub(crate) secrets: Vec<String>,
    pub(crate) before_request: Option<RequestHook>,
    pub(crate) before_response: Option<ResponseHook>,
}

impl Default for Redaction {
    fn default() -> Self {
        Redaction {
            headers: default_headers(),
            query: DEFAULT_QUERY.iter().map(|s| s.to_string()).collect(),
            body_keys: DEFAULT_BODY_KEYS.iter().map(|s| s.to_string()).collect(),
            secrets: Vec::new(),
            before_request: None,
            before_response: None,
        }
    }
}

impl fmt::Debug for Redaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redaction")
            .field("headers", &self.headers)
            .field("query", &self.query)
            .field("body_keys", &self.body_keys)
            .field("secrets", &self.secrets.len())
            .field("before_request", &self.before_request.is_some())
            .field("before_response", &self.before_response.is_some())
            .finish()
    }
}

impl Redaction {
    /// The request as it is recorded and matched; `None` if the hook drops it.
    pub(crate) fn request(&self, mut req: Request<Bytes>) -> Option<Request<Bytes>> {
        redact_headers(req.headers_mut(), &self.headers);
        if !self.query.is_empty() {
            if let Some(uri) = redact_query(req.uri(), &self.query) {
                *req.uri_mut() = uri;
            }
        }
        if let Some(body) = redact_body(req.headers(), req.body(), &self.body_keys) {
            fix_content_length(req.headers_mut(), body.len());
            *req.body_mut() = body;
        }
        match &self.before_request {
            Some(hook) => hook(req),
            None => Some(req),
        }
    }

    /// The response as it is recorded; `None` if the hook drops it.
    pub(crate) fn response(&self, mut res: Response<Bytes>) -> Option<Response<Bytes>> {
        redact_headers(res.headers_mut(), &self.headers);
        if let Some(body) = redact_body(res.headers(), res.body(), &self.body_keys) {
            fix_content_length(res.headers_mut(), body.len());
            *res.body_mut() = body;
        }
        match &self.before_response {
            Some(hook) => hook(res),
            None => Some(res),
        }
    }

    /// Where the first configured secret occurs in `interactions`, as it is or
    /// percent-encoded (as it appears in URIs and form bodies): `(secret number,
    /// location)`, numbered from 1.
    pub(crate) fn find_secret(&self, interactions: &[Interaction]) -> Option<(usize, String)> {
        for (s, secret) in self.secrets.iter().enumerate() {
            let needles = encodings(secret);
            for (i, interaction) in interactions.iter().enumerate() {
                let place = needles.iter().find_map(|n| find_in(interaction, n));
                if let Some(place) = place {
                    let location = format!(
                        "interaction {} of {} ({}), {place}",
                        i + 1,
                        interactions.len(),
                        interaction.request_line()
                    );
                    return Some((s + 1, location));
                }
            }
        }
        None
    }
}

fn find_in(i: &Interaction, needle: &[u8]) -> Option<String> {
    let req = i.request();
    if contains(req.uri().to_string().as_bytes(), needle) {
        return Some("the request uri".into());
    }
    if let Some(name) = header_with(req.headers(), needle) {
        return Some(format!("request header {name}"));
    }
    if contains(req.body(), needle) {
        return Some("the request body".into());
    }
    match i.outcome() {
        Outcome::Response(res) => {
            if let Some(name) = header_with(res.headers(), needle) {
                return Some(format!("response header {name}"));
            }
            if contains(res.body(), needle) {
                return Some("the response body".into());
            }
        }
        Outcome::Failure(f) => {
            if contains(f.message().as_bytes(), needle) {
                return Some("the failure message".into());
            }
        }
    }
    None
}

fn header_with<'a>(headers: &'a HeaderMap, needle: &[u8]) -> Option<&'a HeaderName> {
    headers
        .iter()
        .find(|(_, v)| contains(v.as_bytes(), needle))
        .map(|(n, _)| n)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack.len() >= needle.len()
        && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Replaces the values of `names` in `headers` with [`REDACTED`].
pub(crate) fn redact_headers(headers: &mut HeaderMap, names: &[HeaderName]) {
    for name in names {
        if let http::header::Entry::Occupied(mut entry) = headers.entry(name) {
            for value in entry.iter_mut() {
                *value = HeaderValue::from_static(REDACTED);
            }
        }
    }
}

/// The URI with the values of the query parameters `names` replaced by [`REDACTED`];
/// `None` if none of them occurs.
pub(crate) fn redact_query(uri: &Uri, names: &[String]) -> Option<Uri> {
    let query = redact_pairs(uri.query()?, names)?;
    let path_and_query = format!("{}?{query}", uri.path());
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = PathAndQuery::try_from(path_and_query).ok();
    Uri::from_parts(parts).ok()
}

/// `a=1&b=2` with the values of `names` (compared case-insensitively, percent-decoded)
/// replaced by [`REDACTED`]; `None` if none of them occurs.
fn redact_pairs(pairs: &str, names: &[String]) -> Option<String> {
    let mut changed = false;
    let out: Vec<String> = pairs
        .split('&')
        .map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(n, _)| n);
            let decoded = percent_decode(name);
            if names.iter().any(|n| n.eq_ignore_ascii_case(&decoded)) {
                changed = true;
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    changed.then(|| out.join("&"))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The forms a secret takes in a cassette: as given, percent-encoded with upper and
/// lowercase hex digits, and form-encoded (a space as `+`).
fn encodings(secret: &str) -> Vec<Vec<u8>> {
    let encode = |upper: bool, plus: bool| {
        let mut out = String::new();
        for &c in secret.as_bytes() {
            match c {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    out.push(c as char)
                }
                b' ' if plus => out.push('+'),
                _ if upper => out.push_str(&format!("%{c:02X}")),
                _ => out.push_str(&format!("%{c:02x}")),
            }
        }
        out.into_bytes()
    };
    let mut all = vec![secret.as_bytes().to_vec()];
    for form in [
        encode(true, false),
        encode(false, false),
        encode(true, true),
    ] {
        if !all.contains(&form) {
            all.push(form);
        }
    }
    all
}

/// The body with the string values of `keys` replaced by [`REDACTED`], for JSON and
/// form bodies that are not content-encoded; `None` if nothing changed.
fn redact_body(headers: &HeaderMap, body: &Bytes, keys: &[String]) -> Option<Bytes> {
    if body.is_empty() || keys.is_empty() || headers.contains_key(http::header::CONTENT_ENCODING) {
        return None;
    }
    let ty = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if ty.ends_with("/json") || ty.ends_with("+json") {
        redact_json(body, keys).map(Bytes::from)
    } else if ty == "application/x-www-form-urlencoded" {
        let text = std::str::from_utf8(body).ok()?;
        redact_pairs(text, keys).map(Bytes::from)
    } else {
        None
    }
}

/// JSON text with the string values of object keys named in `keys` replaced, at any
/// depth; everything else byte for byte as it was.
fn redact_json(body: &[u8], keys: &[String]) -> Option<Vec<u8>> {
    /// The end (exclusive) of the string starting at `start` (a quote).
    fn string_end(b: &[u8], start: usize) -> Option<usize> {
        let mut i = start + 1;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'"' => return Some(i + 1),
                _ => i += 1,
            }
        }
        None
    }
    fn skip_ws(b: &[u8], mut i: usize) -> usize {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        i
    }
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < body.len() {
        if body[i] != b'"' {
            i += 1;
            continue;
        }
        let end = string_end(body, i)?;
        let colon = skip_ws(body, end);
        if body.get(colon) != Some(&b':') {
            i = end;
            continue;
        }
        let key = &body[i + 1..end - 1];
        let value = skip_ws(body, colon + 1);
        if body.get(value) == Some(&b'"') && keys.iter().any(|k| k.as_bytes() == key) {
            let value_end = string_end(body, value)?;
            let buf = out.get_or_insert_with(|| Vec::with_capacity(body.len()));
            buf.extend_from_slice(&body[copied..value]);
            buf.push(b'"');
            buf.extend_from_slice(REDACTED.as_bytes());
            buf.push(b'"');
            copied = value_end;
            i = value_end;
        } else {
            i = value;
        }
    }
    let mut buf = out?;
    buf.extend_from_slice(&body[copied..]);
    Some(buf)
}

/// Keeps `content-length` true to a body a redaction changed.
fn fix_content_length(headers: &mut HeaderMap, len: usize) {
    if headers.contains_key(http::header::CONTENT_LENGTH) {
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from(len));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_redacted_in_place() {
        let uri: Uri = "https://api.test/x?a=1&api_key=s3cret&b".parse().unwrap();
        let out = redact_query(&uri, &["api_key".into()]).unwrap();
        assert_eq!(out.to_string(), "https://api.test/x?a=1&api_key=REDACTED&b");
        assert!(redact_query(&uri, &["token".into()]).is_none());
        let uri: Uri = "https://api.test/x?Access%5Ftoken=s".parse().unwrap();
        let out = redact_query(&uri, &["access_token".into()]).unwrap();
        assert_eq!(
            out.to_string(),
            "https://api.test/x?Access%5Ftoken=REDACTED"
        );
    }

    #[test]
    fn json_token_values_are_redacted_in_place() {
        let keys = vec!["access_token".to_owned(), "refresh_token".to_owned()];
        let body = br#"{"access_token": "a\"b", "n": {"refresh_token":"r"}, "token_type":"bearer", "x": ["access_token"], "access_token_n": 1}"#;
        let out = redact_json(body, &keys).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"access_token": "REDACTED", "n": {"refresh_token":"REDACTED"}, "token_type":"bearer", "x": ["access_token"], "access_token_n": 1}"#
        );
        assert!(redact_json(br#"{"a":"access_token"}"#, &keys).is_none());
        assert!(redact_json(br#"{"access_token":"#, &keys).is_none());
    }

    #[test]
    fn secrets_are_searched_percent_encoded_too() {
        let forms = encodings("s3 cr/t+");
        let forms: Vec<String> = forms
            .into_iter()
            .map(|f| String::from_utf8(f).unwrap())
            .collect();
        assert_eq!(
            forms,
            [
                "s3 cr/t+",
                "s3%20cr%2Ft%2B",
                "s3%20cr%2ft%2b",
                "s3+cr%2Ft%2B"
            ]
        );
    }
}
