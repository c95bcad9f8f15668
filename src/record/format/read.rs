//! Reading a cassette, strictly: every key is known (an unknown one is an error naming
//! it, its line and column, and the keys allowed there), every value checked.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{json, time, B64, VERSION};
use crate::record::error::{Error, Kind};
use crate::record::interaction::{Failure, FailureKind, Interaction, Outcome};

/// Reads the cassette at `path`. `Ok(None)` if there is no such file.
pub(crate) fn load(path: &Path) -> Result<Option<Vec<Interaction>>, Error> {
    match crate::record::save::read(path)? {
        Some(bytes) => parse(path, &bytes).map(Some),
        None => Ok(None),
    }
}

/// Parses the bytes of a cassette file; `path` names it in errors.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<Interaction>, Error> {
    match serde_json::from_slice::<FileIn>(bytes) {
        Ok(file) if (1..=VERSION).contains(&file.version) => Ok(file.interactions),
        Ok(file) => Err(version_error(path, file.version)),
        Err(err) => {
            // A newer version may have another shape: say so rather than where it broke.
            if let Ok(v) = serde_json::from_slice::<VersionOnly>(bytes) {
                if v.version > VERSION || v.version == 0 {
                    return Err(version_error(path, v.version));
                }
            }
            Err(Error::new(Kind::Malformed {
                path: path.to_owned(),
                line: err.line(),
                column: err.column(),
                message: message(&err.to_string()),
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

/// serde_json's message in the words of the format: keys, not fields, and without the
/// " at line L column C" the error says already.
fn message(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    let message = message
        .replacen("unknown field", "unknown key", 1)
        .replacen("missing field", "missing key", 1);
    // serde lists the keys as "expected `a`", "expected `a` or `b`" or "expected one
    // of `a`, `b`, `c`": say "allowed here: `a`, `b`" for all of them.
    match (
        message.starts_with("unknown key"),
        message.find(", expected "),
    ) {
        (true, Some(i)) => {
            let keys = message[i + ", expected ".len()..]
                .trim_start_matches("one of ")
                .replace("` or `", "`, `");
            format!("{}, allowed here: {keys}", &message[..i])
        }
        _ => message,
    }
}

#[derive(Deserialize)]
struct VersionOnly {
    version: u64,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a cassette: an object with `version` and `interactions`"
)]
struct FileIn {
    version: u64,
    interactions: Vec<Interaction>,
}

impl<'de> Deserialize<'de> for Interaction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(
            deny_unknown_fields,
            expecting = "an interaction: an object with `request` and `response` or `failure`"
        )]
        struct Raw<'a> {
            request: RequestIn,
            response: Option<ResponseIn>,
            failure: Option<FailureIn>,
            #[serde(borrow)]
            recorded_at: Option<Cow<'a, str>>,
        }
        let raw = Raw::deserialize(d)?;
        let (outcome, chunks, trailers) = match (raw.response, raw.failure) {
            (Some(res), None) => {
                let mut response = Response::new(res.body.data);
                *response.status_mut() = res.status;
                *response.headers_mut() = res.headers.0;
                let trailers = res.trailers.map(|t| t.0).filter(|t| !t.is_empty());
                (Outcome::Response(response), res.body.chunks, trailers)
            }
            (None, Some(f)) => (
                Outcome::Failure(Failure::new(f.kind, f.message)),
                Vec::new(),
                None,
            ),
            (Some(_), Some(_)) => {
                return Err(de::Error::custom(
                    "an interaction has either a `response` or a `failure`, not both",
                ))
            }
            (None, None) => {
                return Err(de::Error::custom(
                    "an interaction needs a `response` or a `failure`",
                ))
            }
        };
        let recorded_at = match raw.recorded_at {
            Some(s) => Some(time::parse(&s).ok_or_else(|| {
                de::Error::custom(format_args!(
                    "invalid `recorded_at` {s:?}: expected a UTC time such as \
                     \"2026-12-01T12:00:00Z\""
                ))
            })?),
            None => None,
        };
        let mut request = Request::new(raw.request.body.data);
        *request.method_mut() = raw.request.method.0;
        *request.uri_mut() = raw.request.uri.0;
        *request.headers_mut() = raw.request.headers.0;
        let mut interaction = Interaction {
            request,
            outcome,
            chunks,
            trailers,
            recorded_at,
        };
        if !interaction.chunks.is_empty() {
            let len = interaction.response().map_or(0, |r| r.body().len());
            if crate::record::interaction::checked_total(&interaction.chunks) != Some(len) {
                return Err(de::Error::custom(
                    "the `chunks` lengths do not add up to the response body's length",
                ));
            }
            interaction.normalize_chunks();
        }
        Ok(interaction)
    }
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a request: an object with `method` and `uri`"
)]
struct RequestIn {
    method: MethodIn,
    uri: UriIn,
    #[serde(default)]
    headers: HeadersIn,
    #[serde(default)]
    body: BodyIn,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "a response: an object with `status`")]
struct ResponseIn {
    #[serde(deserialize_with = "status")]
    status: StatusCode,
    #[serde(default)]
    headers: HeadersIn,
    #[serde(default)]
    body: BodyIn,
    trailers: Option<HeadersIn>,
}

#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a failure: an object with `kind` and `message`"
)]
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
    let s = <Cow<'de, str>>::deserialize(d)?;
    FailureKind::parse(&s).ok_or_else(|| {
        de::Error::custom(format_args!(
            "unknown failure kind {s:?}, expected connect, dns, timeout or other"
        ))
    })
}

struct MethodIn(Method);

impl<'de> Deserialize<'de> for MethodIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <Cow<'de, str>>::deserialize(d)?;
        Method::from_bytes(s.as_bytes())
            .map(MethodIn)
            .map_err(|_| de::Error::custom(format_args!("invalid method {s:?}")))
    }
}

struct UriIn(Uri);

impl<'de> Deserialize<'de> for UriIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <Cow<'de, str>>::deserialize(d)?;
        let uri = Uri::try_from(&*s)
            .map_err(|e| de::Error::custom(format_args!("invalid uri {s:?}: {e}")))?;
        if uri.scheme().is_none() || uri.authority().is_none() {
            return Err(de::Error::custom(format_args!(
                "relative uri {s:?}: a recorded uri is absolute, with scheme and host \
                 (https://api.test/users)"
            )));
        }
        Ok(UriIn(uri))
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
        f.write_str("headers: an object of header names to a value or an array of values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeadersIn, A::Error> {
        let mut headers = HeaderMap::new();
        while let Some(name) = map.next_key::<Cow<'de, str>>()? {
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
        while let Some(v) = seq.next_element::<Cow<'de, str>>()? {
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

const BODY_KEYS: &[&str] = &["text", "json", "base64", "encoding", "chunks"];

impl<'de> Deserialize<'de> for BodyIn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(BodyVisitor)
    }
}

struct BodyVisitor;

impl<'de> Visitor<'de> for BodyVisitor {
    type Value = BodyIn;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a body: an object with one of `text`, `json` or `base64`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BodyIn, A::Error> {
        let mut data: Option<Bytes> = None;
        let mut chunks = Vec::new();
        let mut seen_encoding = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let value = match &*key {
                "text" => Bytes::from(map.next_value::<String>()?),
                "json" => {
                    let raw = map.next_value::<&'de RawValue>()?;
                    Bytes::from(json::minify(raw.get().as_bytes()))
                }
                "base64" => {
                    let b64 = map.next_value::<Cow<'de, str>>()?;
                    B64.decode(b64.as_bytes())
                        .map(Bytes::from)
                        .map_err(|e| de::Error::custom(format_args!("invalid base64 body: {e}")))?
                }
                "encoding" if !seen_encoding => {
                    seen_encoding = true;
                    // Informational: the content-encoding header is what replays.
                    map.next_value::<Cow<'de, str>>()?;
                    continue;
                }
                "chunks" if chunks.is_empty() => {
                    chunks = map.next_value::<Vec<usize>>()?;
                    continue;
                }
                "encoding" | "chunks" => {
                    return Err(de::Error::custom(format_args!("duplicate key `{key}`")))
                }
                other => return Err(de::Error::unknown_field(other, BODY_KEYS)),
            };
            if data.is_some() {
                return Err(de::Error::custom(
                    "a body has one of `text`, `json` or `base64`, not several",
                ));
            }
            data = Some(value);
        }
        let data = data
            .ok_or_else(|| de::Error::custom("a body needs one of `text`, `json` or `base64`"))?;
        Ok(BodyIn { data, chunks })
    }
}
