//! The cassette file: JSON, pretty-printed with a stable key order, so that cassettes
//! read and diff well in review.
//!
//! ```text
//! {
//!   "version": 1,
//!   "interactions": [
//!     {
//!       "request": {
//!         "method": "GET",
//!         "uri": "https://api.test/users?page=2",
//!         "headers": { "accept": "application/json", "host": "api.test" },
//!         "body": { "text": "..." }
//!       },
//!       "response": {
//!         "status": 200,
//!         "headers": { "content-encoding": "gzip", "set-cookie": ["a=1", "b=2"] },
//!         "body": { "encoding": "gzip", "base64": "H4sI...", "chunks": [512, 88] }
//!       }
//!     },
//!     { "request": { ... }, "failure": { "kind": "connect", "message": "..." } }
//!   ]
//! }
//! ```
//!
//! Header names are sorted; a header with one value is a string, with several an array
//! (in the order they were sent). A body is `text` when it is UTF-8 and not
//! content-encoded, `base64` otherwise, always byte-exact; `encoding` notes the
//! `content-encoding` of a compressed body; `chunks` keeps the lengths of the chunks the
//! body streamed in, when there was more than one. Unknown keys are ignored on load (and not kept when the cassette is saved again). Header
//! values that are not UTF-8 are stored lossily.

use std::fmt;
use std::path::Path;

use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_ENCODING};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::error::{Error, Kind};
use super::interaction::{Failure, FailureKind, Interaction, Outcome};

/// The newest format version this crate reads, and the one it writes.
pub(crate) const VERSION: u64 = 1;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Reads the cassette at `path`. `Ok(None)` if there is no such file.
pub(crate) fn load(path: &Path) -> Result<Option<Vec<Interaction>>, Error> {
    match super::save::read(path)? {
        Some(bytes) => parse(path, &bytes).map(Some),
        None => Ok(None),
    }
}

/// Parses the bytes of a cassette file; `path` names it in errors.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<Interaction>, Error> {
    match serde_json::from_slice::<FileIn>(bytes) {
        Ok(file) if file.version <= VERSION => Ok(file.interactions),
        Ok(file) => Err(version_error(path, file.version)),
        Err(err) => {
            // A newer version may have another shape: say so rather than where it broke.
            if let Ok(v) = serde_json::from_slice::<VersionOnly>(bytes) {
                if v.version > VERSION {
                    return Err(version_error(path, v.version));
                }
            }
            Err(Error::new(Kind::Malformed {
                path: path.to_owned(),
                line: err.line(),
                column: err.column(),
                message: strip_position(&err.to_string()),
            }))
        }
    }
}

fn version_error(path: &Path, found: u64) -> Error {
    Error::new(Kind::Version {
        path: path.to_owned(),
        found,
        supported: VERSION,
    })
}

/// serde_json appends " at line L column C"; the error says it already.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// The file's bytes: pretty JSON with a trailing newline.
pub(crate) fn to_bytes(interactions: &[Interaction]) -> Vec<u8> {
    let file = FileOut {
        version: VERSION,
        interactions: interactions.iter().map(InteractionOut).collect(),
    };
    let mut out = serde_json::to_vec_pretty(&file).expect("a cassette always serializes");
    out.push(b'\n');
    out
}

/// Whether a body is stored as text: UTF-8 and not content-encoded.
fn as_text<'a>(headers: &HeaderMap, body: &'a [u8]) -> Option<&'a str> {
    if encoding(headers).is_some() {
        return None;
    }
    std::str::from_utf8(body).ok()
}

fn encoding(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.eq_ignore_ascii_case("identity"))
}

// ---- reading -------------------------------------------------------------------

#[derive(Deserialize)]
struct VersionOnly {
    version: u64,
}

#[derive(Deserialize)]
struct FileIn {
    version: u64,
    interactions: Vec<Interaction>,
}

impl<'de> Deserialize<'de> for Interaction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            request: RequestIn,
            response: Option<ResponseIn>,
            failure: Option<FailureIn>,
        }
        let raw = Raw::deserialize(d)?;
        let outcome_and_chunks = match (raw.response, raw.failure) {
            (Some(res), None) => {
                let mut response = Response::new(res.body.data);
                *response.status_mut() = res.status;
                *response.headers_mut() = res.headers.0;
                (Outcome::Response(response), res.body.chunks)
            }
            (None, Some(f)) => (
                Outcome::Failure(Failure::new(f.kind, f.message)),
                Vec::new(),
            ),
            (Some(_), Some(_)) => {
                return Err(de::Error::custom(
                    "an interaction has either a response or a failure, not both",
                ))
            }
            (None, None) => {
                return Err(de::Error::custom(
                    "an interaction needs a response or a failure",
                ))
            }
        };
        let mut request = Request::new(raw.request.body.data);
        *request.method_mut() = raw.request.method.0;
        *request.uri_mut() = raw.request.uri.0;
        *request.headers_mut() = raw.request.headers.0;
        let mut interaction = Interaction {
            request,
            outcome: outcome_and_chunks.0,
            chunks: outcome_and_chunks.1,
        };
        if !interaction.chunks.is_empty() {
            let before = interaction.chunks.len();
            interaction.normalize_chunks();
            if interaction.chunks.len() != before {
                return Err(de::Error::custom(
                    "the chunk lengths do not add up to the response body's length",
                ));
            }
        }
        Ok(interaction)
    }
}

#[derive(Deserialize)]
struct RequestIn {
    method: MethodIn,
    uri: UriIn,
    #[serde(default)]
    headers: HeadersIn,
    #[serde(default)]
    body: BodyIn,
}

#[derive(Deserialize)]
struct ResponseIn {
    #[serde(deserialize_with = "status")]
    status: StatusCode,
    #[serde(default)]
    headers: HeadersIn,
    #[serde(default)]
    body: BodyIn,
}

#[derive(Deserialize)]
struct FailureIn {
    #[serde(deserialize_with = "failure_kind")]
    kind: FailureKind,
    #[serde(default)]
    message: String,
}

fn status<'de, D: Deserializer<'de>>(d: D) -> Result<StatusCode, D::Error> {
    let code = u16::deserialize(d)?;
    StatusCode::from_u16(code)
        .map_err(|_| de::Error::custom(format_args!("invalid status code {code}")))
}

fn failure_kind<'de, D: Deserializer<'de>>(d: D) -> Result<FailureKind, D::Error> {
    let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    FailureKind::parse(&s).ok_or_else(|| {
        de::Error::custom(format_args!(
            "unknown failure kind {s:?}, expected connect, dns, timeout or other"
        ))
    })
}

struct MethodIn(Method);

impl<'de> Deserialize<'de> for MethodIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Method::from_bytes(s.as_bytes())
            .map(MethodIn)
            .map_err(|_| de::Error::custom(format_args!("invalid method {s:?}")))
    }
}

struct UriIn(Uri);

impl<'de> Deserialize<'de> for UriIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Uri::try_from(s.as_str())
            .map(UriIn)
            .map_err(|e| de::Error::custom(format_args!("invalid uri {s:?}: {e}")))
    }
}

#[derive(Default)]
struct HeadersIn(HeaderMap);

impl<'de> Deserialize<'de> for HeadersIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(HeadersVisitor)
    }
}

struct HeadersVisitor;

impl<'de> Visitor<'de> for HeadersVisitor {
    type Value = HeadersIn;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of header names to a value or an array of values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeadersIn, A::Error> {
        let mut headers = HeaderMap::with_capacity(map.size_hint().unwrap_or(8));
        while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| de::Error::custom(format_args!("invalid header name {name:?}")))?;
            let values = map.next_value::<ValuesIn>()?;
            for value in values.0 {
                headers.append(name.clone(), value);
            }
        }
        Ok(HeadersIn(headers))
    }
}

struct ValuesIn(Vec<HeaderValue>);

impl<'de> Deserialize<'de> for ValuesIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValuesVisitor)
    }
}

struct ValuesVisitor;

fn header_value<E: de::Error>(s: &str) -> Result<HeaderValue, E> {
    HeaderValue::from_str(s).map_err(|_| E::custom(format_args!("invalid header value {s:?}")))
}

impl<'de> Visitor<'de> for ValuesVisitor {
    type Value = ValuesIn;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a header value or an array of header values")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<ValuesIn, E> {
        Ok(ValuesIn(vec![header_value(v)?]))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ValuesIn, A::Error> {
        let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(2));
        while let Some(v) = seq.next_element::<std::borrow::Cow<'de, str>>()? {
            values.push(header_value(&v)?);
        }
        Ok(ValuesIn(values))
    }
}

#[derive(Default)]
struct BodyIn {
    data: Bytes,
    chunks: Vec<usize>,
}

impl<'de> Deserialize<'de> for BodyIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            text: Option<String>,
            base64: Option<String>,
            #[serde(default)]
            chunks: Vec<usize>,
        }
        let raw = Raw::deserialize(d)?;
        let data = match (raw.text, raw.base64) {
            (Some(text), None) => Bytes::from(text),
            (None, Some(b64)) => B64
                .decode(b64.as_bytes())
                .map(Bytes::from)
                .map_err(|e| de::Error::custom(format_args!("invalid base64 body: {e}")))?,
            (None, None) => Bytes::new(),
            (Some(_), Some(_)) => {
                return Err(de::Error::custom(
                    "a body has either \"text\" or \"base64\", not both",
                ))
            }
        };
        Ok(BodyIn {
            data,
            chunks: raw.chunks,
        })
    }
}

// ---- writing -------------------------------------------------------------------

#[derive(Serialize)]
struct FileOut<'a> {
    version: u64,
    interactions: Vec<InteractionOut<'a>>,
}

struct InteractionOut<'a>(&'a Interaction);

impl Serialize for InteractionOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let i = self.0;
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry(
            "request",
            &MessageOut {
                first: First::Request(i.request.method(), i.request.uri()),
                headers: i.request.headers(),
                body: i.request.body(),
                chunks: &[],
            },
        )?;
        match &i.outcome {
            Outcome::Response(res) => map.serialize_entry(
                "response",
                &MessageOut {
                    first: First::Status(res.status()),
                    headers: res.headers(),
                    body: res.body(),
                    chunks: &i.chunks,
                },
            )?,
            Outcome::Failure(f) => map.serialize_entry(
                "failure",
                &FailureOut {
                    kind: f.kind().as_str(),
                    message: f.message(),
                },
            )?,
        }
        map.end()
    }
}

#[derive(Serialize)]
struct FailureOut<'a> {
    kind: &'a str,
    message: &'a str,
}

enum First<'a> {
    Request(&'a Method, &'a Uri),
    Status(StatusCode),
}

struct MessageOut<'a> {
    first: First<'a>,
    headers: &'a HeaderMap,
    body: &'a Bytes,
    chunks: &'a [usize],
}

impl Serialize for MessageOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        match self.first {
            First::Request(method, uri) => {
                map.serialize_entry("method", method.as_str())?;
                map.serialize_entry("uri", &uri.to_string())?;
            }
            First::Status(status) => map.serialize_entry("status", &status.as_u16())?,
        }
        if !self.headers.is_empty() {
            map.serialize_entry("headers", &HeadersOut(self.headers))?;
        }
        if !self.body.is_empty() {
            map.serialize_entry(
                "body",
                &BodyOut {
                    headers: self.headers,
                    body: self.body,
                    chunks: self.chunks,
                },
            )?;
        }
        map.end()
    }
}

struct HeadersOut<'a>(&'a HeaderMap);

impl Serialize for HeadersOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut names: Vec<&HeaderName> = self.0.keys().collect();
        names.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        let mut map = s.serialize_map(Some(names.len()))?;
        for name in names {
            let mut values = self.0.get_all(name).iter();
            let first = values.next().map(lossy);
            match values.next() {
                None => map.serialize_entry(name.as_str(), &first)?,
                Some(second) => {
                    let mut all: Vec<String> = Vec::with_capacity(2);
                    all.extend(first);
                    all.push(lossy(second));
                    all.extend(values.map(lossy));
                    map.serialize_entry(name.as_str(), &all)?;
                }
            }
        }
        map.end()
    }
}

fn lossy(v: &HeaderValue) -> String {
    String::from_utf8_lossy(v.as_bytes()).into_owned()
}

struct BodyOut<'a> {
    headers: &'a HeaderMap,
    body: &'a Bytes,
    chunks: &'a [usize],
}

impl Serialize for BodyOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if let Some(enc) = encoding(self.headers) {
            map.serialize_entry("encoding", enc)?;
        }
        match as_text(self.headers, self.body) {
            Some(text) => map.serialize_entry("text", text)?,
            None => map.serialize_entry("base64", &B64.encode(self.body))?,
        }
        if self.chunks.len() > 1 {
            map.serialize_entry("chunks", self.chunks)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Interaction> {
        let req = Request::post("https://api.test/x?b=2&a=1")
            .header("host", "api.test")
            .header("accept", "application/json")
            .body(Bytes::from_static(b"{\"k\":1}"))
            .unwrap();
        let res = Response::builder()
            .status(201)
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .header("content-encoding", "gzip")
            .body(Bytes::from_static(&[0x1f, 0x8b, 0, 0xff]))
            .unwrap();
        let failed = Interaction::failed(
            Request::get("http://down.test/")
                .body(Bytes::new())
                .unwrap(),
            Failure::new(FailureKind::Connect, "connection refused"),
        );
        vec![Interaction::new(req, res).with_chunks(vec![1, 3]), failed]
    }

    #[test]
    fn round_trips_byte_exact_with_stable_output() {
        let bytes = to_bytes(&sample());
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.starts_with("{\n  \"version\": 1,\n"), "{text}");
        assert!(text.contains("\"set-cookie\": [\n"), "{text}");
        assert!(text.contains("\"encoding\": \"gzip\""), "{text}");
        assert!(text.contains("\"text\": \"{\\\"k\\\":1}\""), "{text}");
        let back = parse(Path::new("x.json"), &bytes).unwrap();
        assert_eq!(
            back[0].response().unwrap().body()[..],
            [0x1f, 0x8b, 0, 0xff]
        );
        assert_eq!(back[0].chunks(), [1, 3]);
        assert_eq!(back[1].failure().unwrap().kind(), FailureKind::Connect);
        assert_eq!(to_bytes(&back), bytes);
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let bad = b"{\n  \"version\": 1,\n  \"interactions\": [\n    {\"request\": {\"method\": \"G T\", \"uri\": \"/\"}}\n  ]\n}";
        let err = parse(Path::new("c.json"), bad).unwrap_err();
        assert!(err.is_malformed());
        let msg = err.to_string();
        assert!(
            msg.starts_with("malformed cassette c.json: line 4, column"),
            "{msg}"
        );
        assert!(msg.contains("invalid method \"G T\""), "{msg}");
        let err = parse(
            Path::new("c.json"),
            b"{\"version\": 7, \"interactions\": 3}",
        )
        .unwrap_err();
        assert!(err.is_version(), "{err}");
    }
}
