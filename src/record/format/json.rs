//! JSON bodies stored as JSON values: which bodies qualify, how their text is indented
//! into the cassette, and how it is read back byte for byte.
//!
//! A body qualifies when its `content-type` is JSON (`application/json`, `*/*+json`),
//! it is not content-encoded, it is valid JSON and it has no whitespace outside its
//! strings (what servers send). Indenting adds whitespace only outside strings and
//! [`minify`] removes exactly that, so the body reads back byte-exact, with its key
//! order, duplicate keys and number spellings.

use http::header::CONTENT_TYPE;
use http::HeaderMap;

/// Whether `body` is stored as a JSON value.
pub(crate) fn storable(headers: &HeaderMap, body: &[u8]) -> bool {
    let json_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            let essence = v.split(';').next().unwrap_or("").trim().as_bytes();
            let suffix = essence.len().saturating_sub(5);
            essence.len() >= 5
                && matches!(essence[suffix], b'/' | b'+')
                && essence[suffix + 1..].eq_ignore_ascii_case(b"json")
        })
        .unwrap_or(false);
    json_type
        && !body.is_empty()
        && compact(body)
        && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok()
}

/// Whether the text has no whitespace outside strings.
fn compact(body: &[u8]) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b' ' | b'\t' | b'\n' | b'\r' => return false,
                _ => {}
            }
        }
    }
    true
}

/// `text` without whitespace outside strings: a stored JSON value back to the body.
pub(crate) fn minify(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, &b) in text.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b' ' | b'\t' | b'\n' | b'\r' => {
                    out.extend_from_slice(&text[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
    }
    out.extend_from_slice(&text[start..]);
    out
}

/// Appends compact JSON `body`, indented two spaces per level, its first line at the
/// current position and its nested lines at `depth` levels and deeper (serde_json's
/// pretty layout: `{}` and `[]` when empty).
pub(crate) fn write_indented(out: &mut Vec<u8>, body: &[u8], depth: usize) {
    let mut depth = depth;
    let mut in_string = false;
    let mut escaped = false;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                out.push(b);
            }
            b'{' | b'[' => {
                let close = if b == b'{' { b'}' } else { b']' };
                if body.get(i + 1) == Some(&close) {
                    out.push(b);
                    out.push(close);
                    i += 2;
                    continue;
                }
                depth += 1;
                out.push(b);
                newline(out, depth);
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(out, depth);
                out.push(b);
            }
            b',' => {
                out.push(b',');
                newline(out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            _ => out.push(b),
        }
        i += 1;
    }
}

pub(crate) fn newline(out: &mut Vec<u8>, depth: usize) {
    /// A newline and 16 levels of indentation, written as a slice of it.
    const INDENT: &[u8; 33] = b"\n                                ";
    match INDENT.get(..1 + 2 * depth) {
        Some(line) => out.extend_from_slice(line),
        None => {
            out.extend_from_slice(INDENT);
            out.resize(out.len() + 2 * depth - 32, b' ');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indenting_then_minifying_is_byte_exact() {
        let body = br#"{"b":[1,2.50,{}],"a":{"x":"a, b: {c}","y":[]},"e":"\"q\" \\"}"#;
        let mut out = Vec::new();
        write_indented(&mut out, body, 1);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.contains("\n      \"x\": \"a, b: {c}\",\n"), "{text}");
        assert_eq!(minify(&out), body);
        let value: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["b"][1].as_f64(), Some(2.5));
    }

    #[test]
    fn only_compact_json_typed_bodies_qualify() {
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_TYPE,
            "application/vnd.api+json; charset=utf-8".parse().unwrap(),
        );
        assert!(storable(&h, br#"{"a":1}"#));
        assert!(!storable(&h, br#"{"a": 1}"#));
        assert!(!storable(&h, br#"{"a":1"#));
        h.insert(CONTENT_TYPE, "text/plain".parse().unwrap());
        assert!(!storable(&h, br#"{"a":1}"#));
    }
}
