//! The one way this crate describes requests in its reports: mocks that were not
//! satisfied, requests that matched nothing (mocks and cassettes alike), and the
//! `Debug` output of logged requests. Always built (the log uses the redaction);
//! JSON bodies are pretty-printed with the `mock` or `record` feature.
//!
//! - A request: method and URI, then one header per line, then the body. Secrets are
//!   redacted: the headers in [`SECRET_HEADERS`] and the query parameters in
//!   [`SECRET_PARAMS`] show as `[redacted]`.
//! - A body: JSON pretty-printed, text as text, anything else as its size and a short
//!   hex excerpt; all of them bounded ([`TEXT_LIMIT`]).
//! - The nearest candidate: a headline, then each matcher that differed with its two
//!   sides (`expected …, got …`, or a cassette's `requested …, recorded …`).
//! - A numbered list: `1. line`, its detail indented under it.

use std::borrow::Cow;
use std::fmt::Write as _;

use http::{HeaderMap, HeaderValue, Method, Uri};

/// Headers whose values never appear in a report.
pub(crate) const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-auth-token",
    "x-amz-security-token",
];

/// Query parameters whose values never appear in a report (compared
/// case-insensitively).
pub(crate) const SECRET_PARAMS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "api_key",
    "apikey",
    "api-key",
    "token",
    "key",
    "secret",
    "client_secret",
    "password",
    "signature",
    "sig",
    "x-amz-signature",
    "x-amz-security-token",
];

/// What replaces a secret.
pub(crate) const REDACTED: &str = "[redacted]";

/// How much of a text body (or of a pretty-printed JSON body) a report shows.
pub(crate) const TEXT_LIMIT: usize = 2048;

/// How many bytes of a binary body a report shows, in hex.
const HEX_LIMIT: usize = 32;

/// Whether the header `name` (lowercase, as hyper gives it) holds a secret.
pub(crate) fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// Whether the query parameter `name` holds a secret.
pub(crate) fn is_secret_param(name: &str) -> bool {
    SECRET_PARAMS.iter().any(|s| s.eq_ignore_ascii_case(name))
}

/// A header value as a report shows it: redacted if the header holds a secret, else
/// as text (bytes that are not UTF-8 replaced).
pub(crate) fn header_value<'a>(name: &str, value: &'a HeaderValue) -> Cow<'a, str> {
    if is_secret_header(name) {
        Cow::Borrowed(REDACTED)
    } else {
        String::from_utf8_lossy(value.as_bytes())
    }
}

/// A URI as a report shows it: the values of secret query parameters redacted.
pub(crate) fn uri(uri: &Uri) -> Cow<'_, str> {
    let Some(query) = uri.query() else {
        return Cow::Owned(uri.to_string());
    };
    let secret = query
        .split('&')
        .any(|pair| is_secret_param(pair.split('=').next().unwrap_or_default()));
    if !secret {
        return Cow::Owned(uri.to_string());
    }
    let full = uri.to_string();
    let base = full.split('?').next().unwrap_or_default();
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            if is_secret_param(name) {
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    Cow::Owned(format!("{base}?{}", pairs.join("&")))
}

/// `POST https://api.test/users?token=[redacted]`, then the headers and the body, each
/// line indented by `indent`.
pub(crate) fn write_request(
    out: &mut String,
    indent: &str,
    method: &Method,
    target: &Uri,
    headers: &HeaderMap,
    body: Option<&[u8]>,
) {
    let _ = write!(out, "{method} {}", uri(target));
    write_headers(out, indent, headers);
    if let Some(body) = body {
        write_body(out, indent, headers, body);
    }
}

/// The headers, one per line, secrets redacted.
pub(crate) fn write_headers(out: &mut String, indent: &str, headers: &HeaderMap) {
    for (name, value) in headers {
        let _ = write!(
            out,
            "\n{indent}{name}: {}",
            header_value(name.as_str(), value)
        );
    }
}

/// The body on the lines that follow: nothing if empty; JSON pretty-printed; text as
/// text; binary as its size and a hex excerpt. Bounded by [`TEXT_LIMIT`].
pub(crate) fn write_body(out: &mut String, indent: &str, headers: &HeaderMap, body: &[u8]) {
    if body.is_empty() {
        return;
    }
    let n = body.len();
    let bytes = if n == 1 { "byte" } else { "bytes" };
    let looks_json = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.contains("json"))
        || matches!(
            body.iter().find(|b| !b.is_ascii_whitespace()),
            Some(b'{' | b'[')
        );
    // Without serde_json (no `mock`, no `record`), JSON shows as text.
    #[cfg(not(any(feature = "mock", feature = "record")))]
    let _ = looks_json;
    #[cfg(any(feature = "mock", feature = "record"))]
    if looks_json {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
            let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
            let _ = write!(out, "\n{indent}body ({n} {bytes}, JSON):");
            write_text(out, indent, &pretty);
            return;
        }
    }
    match std::str::from_utf8(body) {
        Ok(text) if !text.chars().any(|c| c.is_control() && !c.is_whitespace()) => {
            let _ = write!(out, "\n{indent}body ({n} {bytes}, text):");
            write_text(out, indent, text);
        }
        _ => {
            let hex: Vec<String> = body
                .iter()
                .take(HEX_LIMIT)
                .map(|b| format!("{b:02x}"))
                .collect();
            let more = if n > HEX_LIMIT { " …" } else { "" };
            let _ = write!(
                out,
                "\n{indent}body ({n} {bytes}, binary): {}{more}",
                hex.join(" ")
            );
        }
    }
}

/// `text` on indented lines, cut after [`TEXT_LIMIT`] bytes (on a character boundary).
fn write_text(out: &mut String, indent: &str, text: &str) {
    let mut end = text.len().min(TEXT_LIMIT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    for line in text[..end].lines() {
        let _ = write!(out, "\n{indent}  {line}");
    }
    if end < text.len() {
        let _ = write!(out, "\n{indent}  … ({} more bytes)", text.len() - end);
    }
}

/// A text excerpt for one line of a report: quoted, cut after `limit` characters.
pub(crate) fn quoted(text: &str, limit: usize) -> String {
    let mut chars = text.chars();
    let head: String = chars.by_ref().take(limit).collect();
    if chars.next().is_some() {
        format!("{head:?}…")
    } else {
        format!("{head:?}")
    }
}

/// One matcher that rejected the nearest candidate: its name and the two sides, each
/// with its label (`expected`, `got`), or no sides when it cannot say more.
#[derive(Clone, Debug)]
pub(crate) struct Difference {
    pub(crate) matcher: String,
    pub(crate) sides: Option<[(&'static str, String); 2]>,
}

/// The nearest-candidate block: `headline`, then under `title` each matcher that
/// differed, or a line saying every matcher agreed.
pub(crate) fn write_nearest(
    out: &mut String,
    headline: &str,
    title: &str,
    differences: &[Difference],
) {
    out.push_str(headline);
    if differences.is_empty() {
        out.push_str("\n   every matcher agrees with it");
        return;
    }
    let _ = write!(out, "\n   {title}:");
    for d in differences {
        match &d.sides {
            Some([(a, x), (b, y)]) => {
                let _ = write!(out, "\n     - {}: {a} {x}, {b} {y}", d.matcher);
            }
            None => {
                let _ = write!(out, "\n     - {}: rejected it", d.matcher);
            }
        }
    }
}

/// One item of a numbered list: `n. line`, then `detail` (already indented by three
/// spaces on its continuation lines) on the next line, indented.
pub(crate) fn write_numbered(out: &mut String, n: usize, line: &str, detail: &str) {
    let _ = write!(out, "\n{n}. {line}");
    if !detail.is_empty() {
        let _ = write!(out, "\n   {detail}");
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_secrets() {
        let u: Uri = "https://a.test/x?page=2&access_token=abc&KEY=k"
            .parse()
            .unwrap();
        assert_eq!(
            uri(&u),
            "https://a.test/x?page=2&access_token=[redacted]&KEY=[redacted]"
        );
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Bearer s3cret"));
        headers.insert("accept", HeaderValue::from_static("*/*"));
        let mut out = String::new();
        write_request(&mut out, "  ", &Method::GET, &u, &headers, None);
        assert!(!out.contains("s3cret") && !out.contains("abc"), "{out}");
        assert!(out.contains("authorization: [redacted]"), "{out}");
        assert!(out.contains("accept: */*"), "{out}");
    }

    #[test]
    #[cfg(any(feature = "mock", feature = "record"))]
    fn bodies() {
        let headers = HeaderMap::new();
        let mut out = String::new();
        write_body(&mut out, "", &headers, br#"{"a":1}"#);
        assert!(out.contains("JSON") && out.contains("\"a\": 1"), "{out}");
        let mut out = String::new();
        write_body(&mut out, "", &headers, b"hello");
        assert!(out.contains("text") && out.contains("hello"), "{out}");
        let mut out = String::new();
        write_body(&mut out, "", &headers, &[0, 1, 2, 255]);
        assert!(out.contains("4 bytes, binary): 00 01 02 ff"), "{out}");
        let mut out = String::new();
        write_body(&mut out, "", &headers, "x".repeat(5000).as_bytes());
        assert!(
            out.contains("more bytes") && out.len() < 2200,
            "{}",
            out.len()
        );
    }
}
