//! How a request is matched with a recorded one: the indexed matchers ([`Match`]) and
//! custom matcher closures applied after them.

use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
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

/// The normalised values of the configured matchers for one request, and their hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fields {
    values: Box<[Field]>,
    key: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Field {
    Text(Box<str>),
    Port(u16),
    Bytes(Bytes),
}

impl Fields {
    pub(crate) fn key(&self) -> u64 {
        self.key
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
    /// The fields of `req` for the configured matchers.
    pub(crate) fn fields(&self, req: &Request<Bytes>) -> Fields {
        let values: Box<[Field]> = self.on.iter().map(|m| field(m, req)).collect();
        let mut hasher = DefaultHasher::new();
        values.hash(&mut hasher);
        Fields {
            key: hasher.finish(),
            values,
        }
    }

    /// Whether the custom matchers all accept `recorded` for `req`.
    pub(crate) fn custom_match(&self, req: &Request<Bytes>, recorded: &Request<Bytes>) -> bool {
        self.custom.iter().all(|(_, f)| f(req, recorded))
    }

    /// How many matchers differ between a request and a recorded one.
    pub(crate) fn distance(
        &self,
        req: &Request<Bytes>,
        fields: &Fields,
        recorded: &Request<Bytes>,
        recorded_fields: &Fields,
    ) -> usize {
        let indexed = fields
            .values
            .iter()
            .zip(recorded_fields.values.iter())
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
        recorded_fields: &Fields,
    ) -> Vec<Difference> {
        let mut out = Vec::new();
        for ((m, a), b) in self
            .on
            .iter()
            .zip(fields.values.iter())
            .zip(recorded_fields.values.iter())
        {
            if a != b {
                out.push(Difference {
                    matcher: m.to_string(),
                    requested: show(a),
                    recorded: show(b),
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

fn field(m: &Match, req: &Request<Bytes>) -> Field {
    let uri = req.uri();
    match m {
        Match::Method => Field::Text(req.method().as_str().into()),
        Match::Scheme => Field::Text(uri.scheme_str().unwrap_or("").to_ascii_lowercase().into()),
        Match::Host => {
            let host = uri.host().map(str::to_owned).or_else(|| {
                let h = req.headers().get(http::header::HOST)?.to_str().ok()?;
                let h = h.parse::<http::uri::Authority>().ok()?;
                Some(h.host().to_owned())
            });
            Field::Text(host.unwrap_or_default().to_ascii_lowercase().into())
        }
        Match::Port => Field::Port(uri.port_u16().unwrap_or(match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("https") => 443,
            Some(s) if s.eq_ignore_ascii_case("http") => 80,
            _ => 0,
        })),
        Match::Path => Field::Text(match uri.path() {
            "" => "/".into(),
            p => p.into(),
        }),
        Match::Query => Field::Text(sorted_query(uri.query().unwrap_or(""))),
        Match::Header(name) => {
            let mut v = Vec::new();
            for (i, value) in req.headers().get_all(name).iter().enumerate() {
                if i > 0 {
                    v.push(b'\n');
                }
                v.extend_from_slice(value.as_bytes());
            }
            Field::Bytes(Bytes::from(v))
        }
        Match::Body => Field::Bytes(req.body().clone()),
        Match::JsonBody => match serde_json::from_slice::<serde_json::Value>(req.body()) {
            Ok(value) => {
                let mut s = String::new();
                canonical_json(&value, &mut s);
                Field::Text(s.into())
            }
            Err(_) => Field::Bytes(req.body().clone()),
        },
    }
}

fn sorted_query(query: &str) -> Box<str> {
    let mut pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    pairs.sort_unstable();
    pairs.join("&").into()
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

/// A field's value as a report shows it.
fn show(f: &Field) -> String {
    match f {
        Field::Text(t) => format!("{:?}", truncate(t)),
        Field::Port(p) => p.to_string(),
        Field::Bytes(b) => match std::str::from_utf8(b) {
            Ok(t) => format!("{:?}", truncate(t)),
            Err(_) => format!("<{} bytes of binary data>", b.len()),
        },
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
        let d = m.differences(&r, &a, &r, &m.fields(&req("/", r#"{"a":2}"#)));
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].matcher, "json body");
    }
}
