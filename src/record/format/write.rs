//! Writing a cassette: the layout of serde_json's pretty printer (two spaces, one key
//! per line), in a fixed key order, straight into one buffer.

use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_ENCODING};
use http::HeaderMap;

use super::json::{newline, storable, write_indented};
use super::time;
use crate::record::interaction::{Interaction, Outcome};

/// The newest format version this crate reads, and the one it writes.
pub(crate) const VERSION: u64 = 2;

pub(crate) const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The file's bytes: pretty JSON with a trailing newline.
pub(crate) fn to_bytes<'a, I>(interactions: I) -> Vec<u8>
where
    I: IntoIterator<Item = &'a Interaction>,
    I::IntoIter: Clone,
{
    let interactions = interactions.into_iter();
    let estimate: usize = interactions
        .clone()
        .map(|i| 256 + i.request.body().len() + i.response().map_or(64, |r| r.body().len()) * 4 / 3)
        .sum();
    let mut w = Writer {
        out: Vec::with_capacity(estimate + 64),
        scratch: String::new(),
    };
    w.out.extend_from_slice(b"{\n  \"version\": ");
    w.out.extend_from_slice(VERSION.to_string().as_bytes());
    w.out.extend_from_slice(b",\n  \"interactions\": ");
    let mut empty = true;
    for i in interactions {
        w.out.push(if empty { b'[' } else { b',' });
        empty = false;
        newline(&mut w.out, 2);
        w.interaction(i);
    }
    match empty {
        true => w.out.extend_from_slice(b"[]"),
        false => {
            newline(&mut w.out, 1);
            w.out.push(b']');
        }
    }
    w.out.extend_from_slice(b"\n}\n");
    w.out
}

struct Writer {
    out: Vec<u8>,
    /// Reused for the values that are formatted before they are escaped (URIs).
    scratch: String,
}

/// An object being written at `depth`: its keys go one level deeper.
struct Obj {
    depth: usize,
    first: bool,
}

impl Writer {
    fn open(&mut self, depth: usize) -> Obj {
        self.out.push(b'{');
        Obj { depth, first: true }
    }

    fn key(&mut self, obj: &mut Obj, key: &str) {
        if !obj.first {
            self.out.push(b',');
        }
        obj.first = false;
        newline(&mut self.out, obj.depth + 1);
        // The format's keys and header names are tokens: nothing in them is escaped.
        debug_assert!(!needs_escape(key.as_bytes()), "{key:?}");
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\": ");
    }

    fn close(&mut self, obj: Obj) {
        if !obj.first {
            newline(&mut self.out, obj.depth);
        }
        self.out.push(b'}');
    }

    fn string(&mut self, s: &str) {
        if needs_escape(s.as_bytes()) {
            // serde_json's escaping (quotes, backslashes, control characters).
            serde_json::to_writer(&mut self.out, s).expect("writing to a Vec cannot fail");
        } else {
            // What serde_json writes for it too.
            self.out.push(b'"');
            self.out.extend_from_slice(s.as_bytes());
            self.out.push(b'"');
        }
    }

    fn interaction(&mut self, i: &Interaction) {
        let mut obj = self.open(2);
        self.key(&mut obj, "request");
        let req = &i.request;
        let mut r = self.open(3);
        self.key(&mut r, "method");
        self.string(req.method().as_str());
        self.key(&mut r, "uri");
        let mut uri = std::mem::take(&mut self.scratch);
        uri_text(req.uri(), &mut uri);
        self.string(&uri);
        self.scratch = uri;
        self.message(&mut r, req.headers(), req.body(), &[]);
        self.close(r);
        match &i.outcome {
            Outcome::Response(res) => {
                self.key(&mut obj, "response");
                let mut r = self.open(3);
                self.key(&mut r, "status");
                self.out.extend_from_slice(res.status().as_str().as_bytes());
                self.message(&mut r, res.headers(), res.body(), &i.chunks);
                if let Some(trailers) = &i.trailers {
                    self.key(&mut r, "trailers");
                    self.headers(trailers, 4);
                }
                self.close(r);
            }
            Outcome::Failure(f) => {
                self.key(&mut obj, "failure");
                let mut r = self.open(3);
                self.key(&mut r, "kind");
                self.string(f.kind().as_str());
                self.key(&mut r, "message");
                self.string(f.message());
                self.close(r);
            }
        }
        if let Some(at) = i.recorded_at {
            self.key(&mut obj, "recorded_at");
            self.string(&time::format(at));
        }
        self.close(obj);
    }

    /// The headers and body keys of a request or response object at depth 3.
    fn message(&mut self, obj: &mut Obj, headers: &HeaderMap, body: &Bytes, chunks: &[usize]) {
        if !headers.is_empty() {
            self.key(obj, "headers");
            self.headers(headers, 4);
        }
        if body.is_empty() {
            return;
        }
        self.key(obj, "body");
        let mut b = self.open(4);
        let encoding = headers
            .get(CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.eq_ignore_ascii_case("identity"));
        if let Some(enc) = encoding {
            self.key(&mut b, "encoding");
            self.string(enc);
        }
        let text = match encoding {
            Some(_) => None,
            None => std::str::from_utf8(body).ok(),
        };
        match text {
            Some(_) if storable(headers, body) => {
                self.key(&mut b, "json");
                write_indented(&mut self.out, body, 5);
            }
            Some(text) => {
                self.key(&mut b, "text");
                self.string(text);
            }
            None => {
                self.key(&mut b, "base64");
                self.out.push(b'"');
                let start = self.out.len();
                let len = base64::encoded_len(body.len(), true).unwrap_or(0);
                self.out.resize(start + len, 0);
                let written = B64
                    .encode_slice(body, &mut self.out[start..])
                    .expect("the buffer has the encoded length");
                self.out.truncate(start + written);
                self.out.push(b'"');
            }
        }
        if chunks.len() > 1 {
            self.key(&mut b, "chunks");
            self.out.push(b'[');
            for (n, c) in chunks.iter().enumerate() {
                if n > 0 {
                    self.out.push(b',');
                }
                newline(&mut self.out, 6);
                self.out.extend_from_slice(c.to_string().as_bytes());
            }
            newline(&mut self.out, 5);
            self.out.push(b']');
        }
        self.close(b);
    }

    /// Header names sorted; one value as a string, several as an array in order.
    fn headers(&mut self, headers: &HeaderMap, depth: usize) {
        let mut obj = self.open(depth);
        let mut names = headers.keys();
        if headers.keys_len() == 1 {
            let name = names.next().expect("one name");
            self.header(&mut obj, headers, name, depth);
        } else {
            let mut names: Vec<&HeaderName> = names.collect();
            names.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
            for name in names {
                self.header(&mut obj, headers, name, depth);
            }
        }
        self.close(obj);
    }

    /// One header of an object of headers at `depth`.
    fn header(&mut self, obj: &mut Obj, headers: &HeaderMap, name: &HeaderName, depth: usize) {
        self.key(obj, name.as_str());
        let mut values = headers.get_all(name).iter();
        let first = values.next();
        match (first, values.next()) {
            (Some(v), None) => self.value(v),
            (first, second) => {
                self.out.push(b'[');
                for (n, v) in first.into_iter().chain(second).chain(values).enumerate() {
                    if n > 0 {
                        self.out.push(b',');
                    }
                    newline(&mut self.out, depth + 2);
                    self.value(v);
                }
                newline(&mut self.out, depth + 1);
                self.out.push(b']');
            }
        }
    }

    /// A header value; values that are not UTF-8 are stored lossily.
    fn value(&mut self, v: &HeaderValue) {
        match v.to_str() {
            Ok(s) => self.string(s),
            Err(_) => self.string(&String::from_utf8_lossy(v.as_bytes())),
        }
    }
}

/// Whether serde_json escapes something in `s`: a quote, a backslash or a control
/// character.
fn needs_escape(s: &[u8]) -> bool {
    s.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// The text of `uri`, as its `Display` writes it, into `out` (cleared first) without
/// the formatting machinery.
fn uri_text(uri: &http::Uri, out: &mut String) {
    out.clear();
    if let Some(scheme) = uri.scheme_str() {
        out.push_str(scheme);
        out.push_str("://");
    }
    if let Some(authority) = uri.authority() {
        out.push_str(authority.as_str());
    }
    out.push_str(uri.path());
    if let Some(query) = uri.query() {
        out.push('?');
        out.push_str(query);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_text_is_the_display() {
        let mut out = String::from("left over");
        for uri in [
            "https://api.test/a/b?x=1&y=%20",
            "http://[::1]:8080/",
            "http://u:p@h.test",
            "https://h.test/{q}?a=%22b%22&c",
            "/relative?q",
            "*",
        ] {
            let uri: http::Uri = uri.parse().expect(uri);
            uri_text(&uri, &mut out);
            assert_eq!(out, uri.to_string());
        }
    }
}
