//! How a request is matched with a recorded one: the indexed matchers ([`Match`]) and
//! custom matcher closures applied after them.

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use bytes::Bytes;
use http::header::HeaderName;
use http::Request;

/// A part of a request that must be equal for a recorded interaction to match.
///
/// The default set, [`Match::defaults`], is method, scheme, host, port, path and query;
/// configure another with
/// [`CassetteBuilder::match_on`](crate::record::CassetteBuilder::match_on). All of them
/// go into the key of the cassette's index, so a lookup costs the same whatever the
/// size of the cassette.
///
/// # Examples
///
/// ```
/// use http_intercept::record::Match;
///
/// let mut on = Match::defaults();
/// on.push(Match::header("x-api-version"));
/// on.push(Match::JsonBody);
/// assert_eq!(on.len(), 8);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Match {
    /// The method, `GET`.
    Method,
    /// The scheme, `https`.
    Scheme,
    /// The host, case-insensitively (from the URI, else the `Host` header).
    Host,
    /// The port, explicit or the scheme's default (80, 443).
    Port,
    /// The path, `/users/7`.
    Path,
    /// The query's `name=value` pairs in any order (`b=2&a=1` matches `a=1&b=2`),
    /// compared as sent (percent-encoded).
    Query,
    /// All values of one header, in order.
    Header(HeaderName),
    /// The body, byte for byte.
    Body,
    /// The body as JSON: equal values match whatever their key order and whitespace.
    /// Bodies that are not JSON are compared byte for byte.
    JsonBody,
}

impl Match {
    /// Method, scheme, host, port, path and query: the default.
    pub fn defaults() -> Vec<Match> {
        vec![
            Match::Method,
            Match::Scheme,
            Match::Host,
            Match::Port,
            Match::Path,
            Match::Query,
        ]
    }

    /// Matches on the header `name`.
    ///
    /// # Panics
    ///
    /// If `name` is not a valid header name.
    pub fn header(name: &str) -> Match {
        match HeaderName::from_bytes(name.as_bytes()) {
            Ok(name) => Match::Header(name),
            Err(_) => panic!("Match::header: invalid header name {name:?}"),
        }
    }
}

impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Match::Method => f.write_str("method"),
            Match::Scheme => f.write_str("scheme"),
            Match::Host => f.write_str("host"),
            Match::Port => f.write_str("port"),
            Match::Path => f.write_str("path"),
            Match::Query => f.write_str("query"),
            Match::Header(name) => write!(f, "header {name}"),
            Match::Body => f.write_str("body"),
            Match::JsonBody => f.write_str("json body"),
        }
    }
}

/// A custom matcher: `(request, recorded request) -> matches`.
pub(crate) type CustomMatcher = Arc<dyn Fn(&Request<Bytes>, &Request<Bytes>) -> bool + Send + Sync>;

/// The configured matchers.
#[derive(Clone)]
pub(crate) struct Matchers {
    pub(crate) on: Vec<Match>,
    pub(crate) custom: Vec<(String, CustomMatcher)>,
}

impl Default for Matchers {
    fn default() -> Self {
        Matchers {
            on: Match::defaults(),
            custom: Vec::new(),
        }
    }
}

impl fmt::Debug for Matchers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Matchers")
            .field("on", &self.on)
            .field(
                "custom",
                &self.custom.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// One hash per configured matcher of a request, and the index key they make: what a
/// recorded interaction keeps, computed without building the values (and, for up to
/// eight matchers, without allocating). Equal hashes are only a hint: a lookup
/// compares the values themselves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Hashes {
    each: Each,
    key: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Each {
    Inline { len: u8, hashes: [u64; 8] },
    Heap(Box<[u64]>),
}

impl Each {
    fn collect(hashes: impl ExactSizeIterator<Item = u64>) -> Each {
        let len = hashes.len();
        match u8::try_from(len) {
            Ok(n) if len <= 8 => {
                let mut inline = [0; 8];
                for (slot, h) in inline.iter_mut().zip(hashes) {
                    *slot = h;
                }
                Each::Inline {
                    len: n,
                    hashes: inline,
                }
            }
            _ => Each::Heap(hashes.collect()),
        }
    }

    fn as_slice(&self) -> &[u64] {
        match self {
            Each::Inline { len, hashes } => &hashes[..usize::from(*len)],
            Each::Heap(hashes) => hashes,
        }
    }
}

impl Hashes {
    pub(crate) fn key(&self) -> u64 {
        self.key
    }
}

/// The normalised values of the configured matchers for a request being looked up,
/// and their hashes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fields {
    values: Box<[Box<[u8]>]>,
    hashes: Hashes,
}

impl Fields {
    pub(crate) fn key(&self) -> u64 {
        self.hashes.key
    }
}

/// One matcher that differed, for the unmatched report.
#[derive(Clone, Debug)]
pub(crate) struct Difference {
    pub(crate) matcher: String,
    pub(crate) requested: String,
    pub(crate) recorded: String,
}

impl Matchers {
    /// The hashes of `req`'s fields for the configured matchers.
    pub(crate) fn hashes(&self, req: &Request<Bytes>) -> Hashes {
        let each = Each::collect(self.on.iter().map(|m| {
            let mut sink = HashSink::default();
            parts(m, req, &mut sink);
            sink.finish()
        }));
        let mut key = HashSink::default();
        for &h in each.as_slice() {
            key.word(h);
        }
        Hashes {
            key: key.finish(),
            each,
        }
    }

    /// The fields of `req` for the configured matchers, values and hashes.
    pub(crate) fn fields(&self, req: &Request<Bytes>) -> Fields {
        Fields {
            values: self.on.iter().map(|m| field(m, req)).collect(),
            hashes: self.hashes(req),
        }
    }

    /// Whether every configured matcher finds `recorded` equal to the request whose
    /// `fields` these are, value by value (custom matchers aside).
    pub(crate) fn matches(&self, fields: &Fields, recorded: &Request<Bytes>) -> bool {
        self.on.iter().zip(fields.values.iter()).all(|(m, value)| {
            let mut sink = EqSink {
                rest: value,
                equal: true,
            };
            parts(m, recorded, &mut sink);
            sink.equal && sink.rest.is_empty()
        })
    }

    /// Whether the custom matchers all accept `recorded` for `req`.
    pub(crate) fn custom_match(&self, req: &Request<Bytes>, recorded: &Request<Bytes>) -> bool {
        self.custom.iter().all(|(_, f)| f(req, recorded))
    }

    /// How many matchers differ between a request and a recorded one (by their
    /// hashes: a guide to the nearest candidate, not a match).
    pub(crate) fn distance(
        &self,
        req: &Request<Bytes>,
        fields: &Fields,
        recorded: &Request<Bytes>,
        recorded_hashes: &Hashes,
    ) -> usize {
        let indexed = fields
            .hashes
            .each
            .as_slice()
            .iter()
            .zip(recorded_hashes.each.as_slice())
            .filter(|(a, b)| a != b)
            .count();
        let custom = self
            .custom
            .iter()
            .filter(|(_, f)| !f(req, recorded))
            .count();
        indexed + custom
    }

    /// Every matcher that differs between a request and a recorded one.
    pub(crate) fn differences(
        &self,
        req: &Request<Bytes>,
        fields: &Fields,
        recorded: &Request<Bytes>,
    ) -> Vec<Difference> {
        let mut out = Vec::new();
        for (m, a) in self.on.iter().zip(fields.values.iter()) {
            let b = field(m, recorded);
            if *a != b {
                out.push(Difference {
                    matcher: m.to_string(),
                    requested: show(m, a),
                    recorded: show(m, &b),
                });
            }
        }
        for (name, f) in &self.custom {
            if !f(req, recorded) {
                out.push(Difference {
                    matcher: format!("custom matcher {name:?}"),
                    requested: String::new(),
                    recorded: String::new(),
                });
            }
        }
        out
    }
}

/// Where the parts of a field's value go: a buffer, a hasher or a comparison. A value
/// is the concatenation of its parts, however they are split.
trait Sink {
    fn put(&mut self, part: &[u8]);
}

impl Sink for Vec<u8> {
    fn put(&mut self, part: &[u8]) {
        self.extend_from_slice(part);
    }
}

/// A fast hash of a stream of bytes, read eight at a time whatever the split into
/// parts (so the split does not change it), finished with MurmurHash3's mixer. Not
/// for untrusted keys: a collision only costs a comparison of the values.
#[derive(Default)]
struct HashSink {
    hash: u64,
    /// Bytes of the next word not yet mixed in, low byte first.
    tail: u64,
    tail_len: u32,
    len: u64,
}

impl HashSink {
    fn word(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(0x517c_c1b7_2722_0a95);
    }

    fn finish(mut self) -> u64 {
        let len = self.len;
        self.word(self.tail ^ len.rotate_left(32));
        let mut h = self.hash;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

impl Sink for HashSink {
    fn put(&mut self, mut part: &[u8]) {
        self.len += part.len() as u64;
        while self.tail_len > 0 {
            let Some((&b, rest)) = part.split_first() else {
                return;
            };
            self.tail |= u64::from(b) << (8 * self.tail_len);
            self.tail_len = (self.tail_len + 1) % 8;
            part = rest;
            if self.tail_len == 0 {
                let tail = std::mem::take(&mut self.tail);
                self.word(tail);
            }
        }
        let mut words = part.chunks_exact(8);
        for w in &mut words {
            self.word(u64::from_le_bytes(w.try_into().expect("8 bytes")));
        }
        for (i, &b) in words.remainder().iter().enumerate() {
            self.tail |= u64::from(b) << (8 * i);
        }
        self.tail_len = words.remainder().len() as u32;
    }
}

/// Compares the parts, as they come, with an expected value.
struct EqSink<'a> {
    rest: &'a [u8],
    equal: bool,
}

impl Sink for EqSink<'_> {
    fn put(&mut self, part: &[u8]) {
        match self.rest.strip_prefix(part) {
            Some(rest) if self.equal => self.rest = rest,
            _ => self.equal = false,
        }
    }
}

/// `s` lowercased (ASCII), without allocating.
fn lowercase(s: &str, out: &mut impl Sink) {
    if !s.bytes().any(|b| b.is_ascii_uppercase()) {
        return out.put(s.as_bytes());
    }
    let mut buf = [0u8; 64];
    for chunk in s.as_bytes().chunks(buf.len()) {
        let buf = &mut buf[..chunk.len()];
        buf.copy_from_slice(chunk);
        buf.make_ascii_lowercase();
        out.put(buf);
    }
}

/// The value of matcher `m` for `req`, normalised.
fn field(m: &Match, req: &Request<Bytes>) -> Box<[u8]> {
    let mut value = Vec::new();
    parts(m, req, &mut value);
    value.into_boxed_slice()
}

/// Writes the value of matcher `m` for `req`, normalised, into `out`: the one
/// definition of each matcher, for values, hashes and comparisons alike.
fn parts(m: &Match, req: &Request<Bytes>, out: &mut impl Sink) {
    let uri = req.uri();
    match m {
        Match::Method => out.put(req.method().as_str().as_bytes()),
        Match::Scheme => lowercase(uri.scheme_str().unwrap_or(""), out),
        Match::Host => {
            let from_header = || {
                let h = req.headers().get(http::header::HOST)?.to_str().ok()?;
                h.parse::<http::uri::Authority>().ok()
            };
            match uri.host() {
                Some(host) => lowercase(host, out),
                None => {
                    if let Some(authority) = from_header() {
                        lowercase(authority.host(), out);
                    }
                }
            }
        }
        Match::Port => {
            let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
                Some(s) if s.eq_ignore_ascii_case("https") => 443,
                Some(s) if s.eq_ignore_ascii_case("http") => 80,
                _ => 0,
            });
            out.put(&port.to_be_bytes());
        }
        Match::Path => out.put(match uri.path() {
            "" => b"/",
            p => p.as_bytes(),
        }),
        Match::Query => {
            let mut pairs: Vec<&str> = match uri.query() {
                Some(q) => q.split('&').filter(|p| !p.is_empty()).collect(),
                None => Vec::new(),
            };
            pairs.sort_unstable();
            for (i, pair) in pairs.iter().enumerate() {
                if i > 0 {
                    out.put(b"&");
                }
                out.put(pair.as_bytes());
            }
        }
        Match::Header(name) => {
            for (i, value) in req.headers().get_all(name).iter().enumerate() {
                if i > 0 {
                    out.put(b"\n");
                }
                out.put(value.as_bytes());
            }
        }
        Match::Body => out.put(req.body()),
        // A body that is not JSON compares as its bytes: those never equal the
        // canonical text of a JSON value, which is JSON.
        Match::JsonBody => match serde_json::from_slice::<serde_json::Value>(req.body()) {
            Ok(value) => {
                let mut s = String::new();
                canonical_json(&value, &mut s);
                out.put(s.as_bytes());
            }
            Err(_) => out.put(req.body()),
        },
    }
}

/// JSON with object keys sorted, whatever serde_json's map type.
fn canonical_json(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical_json(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A field's value as a report shows it: a port as a number, text quoted, binary as
/// its length.
fn show(m: &Match, value: &[u8]) -> String {
    if let (Match::Port, Ok(port)) = (m, <[u8; 2]>::try_from(value)) {
        return u16::from_be_bytes(port).to_string();
    }
    match std::str::from_utf8(value) {
        Ok(t) => format!("{:?}", truncate(t)),
        Err(_) => format!("<{} bytes of binary data>", value.len()),
    }
}

fn truncate(s: &str) -> String {
    const MAX: usize = 120;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &s[..end], s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(uri: &str, body: &str) -> Request<Bytes> {
        Request::post(uri)
            .body(Bytes::from(body.to_owned()))
            .unwrap()
    }

    #[test]
    fn default_fields_ignore_query_order_and_host_case() {
        let m = Matchers::default();
        let a = m.fields(&req("http://API.test/x?b=2&a=1", ""));
        let b = m.fields(&req("http://api.test:80/x?a=1&b=2", ""));
        assert_eq!(a, b);
        let c = m.fields(&req("https://api.test/x?a=1&b=2", ""));
        assert_ne!(a.key(), c.key());
    }

    #[test]
    fn json_body_ignores_key_order() {
        let m = Matchers {
            on: vec![Match::JsonBody],
            custom: Vec::new(),
        };
        let a = m.fields(&req("/", r#"{"a":1,"b":[1,{"y":2,"x":1}]}"#));
        let b = m.fields(&req("/", r#"{ "b": [1, {"x":1,"y":2}], "a": 1 }"#));
        assert_eq!(a, b);
        let r = req("/", "");
        let d = m.differences(&r, &a, &req("/", r#"{"a":2}"#));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].matcher, "json body");
        assert_eq!(d[0].requested, r#""{\"a\":1,\"b\":[1,{\"x\":1,\"y\":2}]}""#);
    }

    #[test]
    fn a_hash_does_not_depend_on_the_split_into_parts() {
        let text = b"https://api.test/a/long/path?with=a&query=string";
        let whole = {
            let mut h = HashSink::default();
            h.put(text);
            h.finish()
        };
        for split in [[1, 2], [7, 8], [8, 16], [3, 30], [0, 48]] {
            let mut h = HashSink::default();
            h.put(&text[..split[0]]);
            h.put(&text[split[0]..split[1]]);
            h.put(&text[split[1]..]);
            assert_eq!(h.finish(), whole, "{split:?}");
        }
        let mut other = HashSink::default();
        other.put(&text[..text.len() - 1]);
        assert_ne!(other.finish(), whole);
        let (mut a, mut b) = (HashSink::default(), HashSink::default());
        a.put(b"ab\0");
        b.put(b"ab");
        assert_ne!(a.finish(), b.finish(), "lengths count");
    }

    #[test]
    fn hashes_and_comparisons_agree_with_the_values() {
        let long = "A".repeat(70) + ".test";
        let mut host_header = Request::get("/x").body(Bytes::new()).unwrap();
        host_header
            .headers_mut()
            .insert(http::header::HOST, "Api.Test:8080".parse().unwrap());
        let requests = [
            req("http://API.test/x?b=2&a=1", ""),
            req("http://api.test:80/x?a=1&b=2&", ""),
            req("http://api.test/x?a=1", ""),
            req("https://api.test/x?a=1&b=2", ""),
            req(&format!("http://{long}/x"), ""),
            req(&format!("http://{}/x", long.to_lowercase()), ""),
            req("http://api.test:8080/x", ""),
            host_header,
            req("http://api.test/x", "a"),
        ];
        let mut on = Match::defaults();
        on.push(Match::Body);
        on.push(Match::header("x-v"));
        on.push(Match::header("x-w"));
        let m = Matchers {
            on,
            custom: Vec::new(),
        };
        for a in &requests {
            let fa = m.fields(a);
            assert_eq!(fa.hashes, m.hashes(a));
            for b in &requests {
                let fb = m.fields(b);
                let same = fa.values == fb.values;
                assert_eq!(same, m.matches(&fa, b), "{} / {}", a.uri(), b.uri());
                assert_eq!(same, fa.hashes == fb.hashes, "{} / {}", a.uri(), b.uri());
                let differ = m.differences(a, &fa, b).len();
                assert_eq!(differ, m.distance(a, &fa, b, &fb.hashes));
            }
        }
        let d = m.differences(&requests[0], &m.fields(&requests[0]), &requests[6]);
        let port = d.iter().find(|d| d.matcher == "port").unwrap();
        assert_eq!(
            (port.requested.as_str(), port.recorded.as_str()),
            ("80", "8080")
        );
    }
}
