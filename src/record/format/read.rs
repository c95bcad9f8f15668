//! Reading a cassette, strictly: every key is known (an unknown one is an error naming
//! it, its line and column, and the keys allowed there), every value checked.
//!
//! One pass over the file's bytes, with no intermediate tree: strings without escapes
//! are borrowed from the file, and what an interaction keeps of them (its URI, header
//! values, text bodies) shares the file's buffer instead of copying it. A loaded
//! cassette therefore holds its file's bytes for as long as one of its interactions
//! lives.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{json, time, B64, VERSION};
use crate::record::error::{Error, Kind};
use crate::record::interaction::{Failure, FailureKind, Interaction, Outcome};

/// Reads the cassette at `path`. `Ok(None)` if there is no such file.
pub(crate) fn load(path: &Path) -> Result<Option<Vec<Interaction>>, Error> {
    match crate::record::save::read(path)? {
        Some(bytes) => parse(path, Bytes::from(bytes)).map(Some),
        None => Ok(None),
    }
}

/// Parses the bytes of a cassette file; `path` names it in errors. The interactions
/// share `bytes`.
pub(crate) fn parse(path: &Path, bytes: Bytes) -> Result<Vec<Interaction>, Error> {
    // A guess that pretty cassettes never exceed (an interaction takes 150 bytes or
    // more), trimmed after: growing a vector of 100 000 interactions copies them.
    let mut out = Vec::with_capacity(bytes.len() / 128);
    parse_each(path, bytes, |i| out.push(i))?;
    out.shrink_to_fit();
    Ok(out)
}

/// Parses the bytes of a cassette file and hands each interaction to `each`, in
/// order; `path` names the file in errors. The interactions share `bytes`.
pub(crate) fn parse_each(
    path: &Path,
    bytes: Bytes,
    mut each: impl FnMut(Interaction),
) -> Result<(), Error> {
    let seed = FileSeed {
        source: Source(&bytes),
        each: &mut each,
    };
    let version = match std::str::from_utf8(&bytes) {
        // Checked whole, once: serde_json then checks no string again.
        Ok(text) => read(seed, serde_json::Deserializer::from_str(text)),
        // serde_json names the line and column where it stops being UTF-8.
        Err(_) => read(seed, serde_json::Deserializer::from_slice(&bytes)),
    };
    match version {
        Ok(version) if (1..=VERSION).contains(&version) => Ok(()),
        Ok(version) => Err(version_error(path, version)),
        Err(err) => {
            // A newer version may have another shape: say so rather than where it broke.
            if let Ok(v) = serde_json::from_slice::<VersionOnly>(&bytes) {
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

/// Reads the whole file with `de`: its version, once `seed` handed on its interactions.
fn read<'de, R, F>(
    seed: FileSeed<'_, F>,
    mut de: serde_json::Deserializer<R>,
) -> Result<u64, serde_json::Error>
where
    R: serde_json::de::Read<'de>,
    F: FnMut(Interaction),
{
    let version = seed.deserialize(&mut de)?;
    de.end()?;
    Ok(version)
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

/// The file being read: strings borrowed from it become slices of its buffer.
#[derive(Clone, Copy)]
struct Source<'a>(&'a Bytes);

impl Source<'_> {
    /// `s` as bytes: a slice of the file when `s` was borrowed from it, else `s`'s
    /// own buffer.
    fn share(self, s: Str<'_>) -> Bytes {
        match s.0 {
            Cow::Owned(s) => Bytes::from(s),
            Cow::Borrowed(b) => self.share_ref(b),
        }
    }

    /// `s` as bytes: a slice of the file when `s` is in it, else a copy.
    fn share_ref(self, s: &str) -> Bytes {
        match self.holds(s) {
            true => self.0.slice_ref(s.as_bytes()),
            false => Bytes::copy_from_slice(s.as_bytes()),
        }
    }

    fn holds(self, s: &str) -> bool {
        let file = self.0.as_ptr_range();
        let s = s.as_bytes().as_ptr_range();
        file.start <= s.start && s.end <= file.end
    }
}

/// A string of the file: borrowed when it has no escapes, else unescaped into a copy.
struct Str<'de>(Cow<'de, str>);

impl std::ops::Deref for Str<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct StrVisitor;

        impl<'de> Visitor<'de> for StrVisitor {
            type Value = Str<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(v)))
            }
        }

        d.deserialize_str(StrVisitor)
    }
}

/// `null` or what `S` reads (an optional key given as `null` is absent).
struct Nullable<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Nullable<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for Nullable<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("option")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(d).map(Some)
    }
}

/// Sets `slot` from the next value, or fails on a key given twice.
fn once<'de, A: MapAccess<'de>, S: DeserializeSeed<'de>>(
    map: &mut A,
    slot: &mut Option<S::Value>,
    key: &'static str,
    seed: S,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(key));
    }
    *slot = Some(map.next_value_seed(seed)?);
    Ok(())
}

/// The seed of a value that needs no access to the file.
fn plain<T>() -> std::marker::PhantomData<T> {
    std::marker::PhantomData
}

const FILE_KEYS: &[&str] = &["version", "interactions"];

/// The file: its version, once the interactions went to `each`.
struct FileSeed<'a, F> {
    source: Source<'a>,
    each: &'a mut F,
}

impl<'de, F: FnMut(Interaction)> DeserializeSeed<'de> for FileSeed<'_, F> {
    type Value = u64;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F: FnMut(Interaction)> Visitor<'de> for FileSeed<'_, F> {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a cassette: an object with `version` and `interactions`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        let (mut version, mut interactions) = (None, None);
        while let Some(key) = map.next_key::<Str<'de>>()? {
            match &*key {
                "version" => once(&mut map, &mut version, "version", plain::<u64>())?,
                "interactions" => once(
                    &mut map,
                    &mut interactions,
                    "interactions",
                    InteractionsSeed {
                        source: self.source,
                        each: &mut *self.each,
                    },
                )?,
                other => return Err(de::Error::unknown_field(other, FILE_KEYS)),
            }
        }
        let version = version.ok_or_else(|| de::Error::missing_field("version"))?;
        interactions.ok_or_else(|| de::Error::missing_field("interactions"))?;
        Ok(version)
    }
}

/// The interactions, each handed to `each` as soon as it is read.
struct InteractionsSeed<'a, F> {
    source: Source<'a>,
    each: &'a mut F,
}

impl<'de, F: FnMut(Interaction)> DeserializeSeed<'de> for InteractionsSeed<'_, F> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(Interaction)> Visitor<'de> for InteractionsSeed<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(interaction) = seq.next_element_seed(InteractionSeed(self.source))? {
            (self.each)(interaction);
        }
        Ok(())
    }
}

/// An interaction's keys as read, checked together once its object is read.
struct RawInteraction {
    request: Request<Bytes>,
    response: Option<ResponseIn>,
    failure: Option<FailureIn>,
    recorded_at: Option<std::time::SystemTime>,
}

const INTERACTION_KEYS: &[&str] = &["request", "response", "failure", "recorded_at"];

struct InteractionSeed<'a>(Source<'a>);

impl<'de> DeserializeSeed<'de> for InteractionSeed<'_> {
    type Value = Interaction;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Interaction, D::Error> {
        let raw = d.deserialize_map(self)?;
        let (outcome, chunks, trailers) = match (raw.response, raw.failure) {
            (Some(res), None) => {
                let trailers = res.trailers.filter(|t| !t.is_empty());
                (Outcome::Response(res.response), res.chunks, trailers)
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
        let mut interaction = Interaction {
            request: raw.request,
            outcome,
            chunks,
            trailers,
            recorded_at: raw.recorded_at,
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

impl<'de> Visitor<'de> for InteractionSeed<'_> {
    type Value = RawInteraction;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an interaction: an object with `request` and `response` or `failure`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawInteraction, A::Error> {
        let (mut request, mut response, mut failure, mut recorded_at) = (None, None, None, None);
        while let Some(key) = map.next_key::<Str<'de>>()? {
            match &*key {
                "request" => once(&mut map, &mut request, "request", RequestSeed(self.0))?,
                "response" => once(
                    &mut map,
                    &mut response,
                    "response",
                    Nullable(ResponseSeed(self.0)),
                )?,
                "failure" => once(
                    &mut map,
                    &mut failure,
                    "failure",
                    plain::<Option<FailureIn>>(),
                )?,
                "recorded_at" => once(
                    &mut map,
                    &mut recorded_at,
                    "recorded_at",
                    Nullable(TimeSeed),
                )?,
                other => return Err(de::Error::unknown_field(other, INTERACTION_KEYS)),
            }
        }
        Ok(RawInteraction {
            request: request.ok_or_else(|| de::Error::missing_field("request"))?,
            response: response.flatten(),
            failure: failure.flatten(),
            recorded_at: recorded_at.flatten(),
        })
    }
}

struct TimeSeed;

impl<'de> DeserializeSeed<'de> for TimeSeed {
    type Value = std::time::SystemTime;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let s = Str::deserialize(d)?;
        time::parse(&s).ok_or_else(|| {
            de::Error::custom(format_args!(
                "invalid `recorded_at` {:?}: expected a UTC time such as \
                 \"2026-12-01T12:00:00Z\"",
                &*s
            ))
        })
    }
}

const REQUEST_KEYS: &[&str] = &["method", "uri", "headers", "body"];

struct RequestSeed<'a>(Source<'a>);

impl<'de> DeserializeSeed<'de> for RequestSeed<'_> {
    type Value = Request<Bytes>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RequestSeed<'_> {
    type Value = Request<Bytes>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a request: an object with `method` and `uri`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut method, mut uri, mut headers, mut body) = (None, None, None, None);
        while let Some(key) = map.next_key::<Str<'de>>()? {
            match &*key {
                "method" => once(&mut map, &mut method, "method", MethodSeed)?,
                "uri" => once(&mut map, &mut uri, "uri", UriSeed(self.0))?,
                "headers" => once(&mut map, &mut headers, "headers", HeadersSeed(self.0))?,
                "body" => once(&mut map, &mut body, "body", BodySeed(self.0))?,
                other => return Err(de::Error::unknown_field(other, REQUEST_KEYS)),
            }
        }
        let method = method.ok_or_else(|| de::Error::missing_field("method"))?;
        let uri = uri.ok_or_else(|| de::Error::missing_field("uri"))?;
        let body = body.unwrap_or_default();
        let mut request = Request::new(body.data);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers.unwrap_or_default();
        Ok(request)
    }
}

/// A response's keys as read: the body's chunks and the trailers live beside the
/// response in an [`Interaction`].
struct ResponseIn {
    response: Response<Bytes>,
    chunks: Vec<usize>,
    trailers: Option<HeaderMap>,
}

const RESPONSE_KEYS: &[&str] = &["status", "headers", "body", "trailers"];

struct ResponseSeed<'a>(Source<'a>);

impl<'de> DeserializeSeed<'de> for ResponseSeed<'_> {
    type Value = ResponseIn;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResponseSeed<'_> {
    type Value = ResponseIn;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a response: an object with `status`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut status, mut headers, mut body, mut trailers) = (None, None, None, None);
        while let Some(key) = map.next_key::<Str<'de>>()? {
            match &*key {
                "status" => once(&mut map, &mut status, "status", StatusSeed)?,
                "headers" => once(&mut map, &mut headers, "headers", HeadersSeed(self.0))?,
                "body" => once(&mut map, &mut body, "body", BodySeed(self.0))?,
                "trailers" => once(
                    &mut map,
                    &mut trailers,
                    "trailers",
                    Nullable(HeadersSeed(self.0)),
                )?,
                other => return Err(de::Error::unknown_field(other, RESPONSE_KEYS)),
            }
        }
        let status = status.ok_or_else(|| de::Error::missing_field("status"))?;
        let body = body.unwrap_or_default();
        let mut response = Response::new(body.data);
        *response.status_mut() = status;
        *response.headers_mut() = headers.unwrap_or_default();
        Ok(ResponseIn {
            response,
            chunks: body.chunks,
            trailers: trailers.flatten(),
        })
    }
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

fn failure_kind<'de, D: Deserializer<'de>>(d: D) -> Result<FailureKind, D::Error> {
    let s = Str::deserialize(d)?;
    FailureKind::parse(&s).ok_or_else(|| {
        de::Error::custom(format_args!(
            "unknown failure kind {:?}, expected connect, dns, timeout or other",
            &*s
        ))
    })
}

struct StatusSeed;

impl<'de> DeserializeSeed<'de> for StatusSeed {
    type Value = StatusCode;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<StatusCode, D::Error> {
        let code = u16::deserialize(d)?;
        StatusCode::from_u16(code)
            .map_err(|_| de::Error::custom(format_args!("invalid status code {code}")))
    }
}

struct MethodSeed;

impl<'de> DeserializeSeed<'de> for MethodSeed {
    type Value = Method;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Method, D::Error> {
        let s = Str::deserialize(d)?;
        Method::from_bytes(s.as_bytes())
            .map_err(|_| de::Error::custom(format_args!("invalid method {:?}", &*s)))
    }
}

struct UriSeed<'a>(Source<'a>);

impl<'de> DeserializeSeed<'de> for UriSeed<'_> {
    type Value = Uri;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Uri, D::Error> {
        let s = Str::deserialize(d)?;
        let uri = Uri::from_maybe_shared(self.0.share_ref(&s))
            .map_err(|e| de::Error::custom(format_args!("invalid uri {:?}: {e}", &*s)))?;
        if uri.scheme().is_none() || uri.authority().is_none() {
            return Err(de::Error::custom(format_args!(
                "relative uri {:?}: a recorded uri is absolute, with scheme and host \
                 (https://api.test/users)",
                &*s
            )));
        }
        Ok(uri)
    }
}

struct HeadersSeed<'a>(Source<'a>);

impl<'de> DeserializeSeed<'de> for HeadersSeed<'_> {
    type Value = HeaderMap;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<HeaderMap, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for HeadersSeed<'_> {
    type Value = HeaderMap;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("headers: an object of header names to a value or an array of values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderMap, A::Error> {
        let mut pairs = Pairs::default();
        while let Some(name) = map.next_key::<Str<'de>>()? {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| de::Error::custom(format_args!("invalid header name {:?}", &*name)))?;
            map.next_value_seed(ValuesSeed {
                source: self.0,
                name,
                pairs: &mut pairs,
            })?;
        }
        pairs.into_map()
    }
}

/// Header pairs as read, kept until the map can be sized to them: a map grown one
/// header at a time reserves room for six, ten times what one header needs.
#[derive(Default)]
struct Pairs {
    first: [Option<(HeaderName, HeaderValue)>; 4],
    len: usize,
    more: Vec<(HeaderName, HeaderValue)>,
}

impl Pairs {
    fn push(&mut self, name: HeaderName, value: HeaderValue) {
        match self.first.get_mut(self.len) {
            Some(slot) => *slot = Some((name, value)),
            None => self.more.push((name, value)),
        }
        self.len += 1;
    }

    fn into_map<E: de::Error>(self) -> Result<HeaderMap, E> {
        let too_many = |_| E::custom(format_args!("too many headers: {}", self.len));
        let mut headers = HeaderMap::try_with_capacity(self.len).map_err(too_many)?;
        for (name, value) in self.first.into_iter().flatten().chain(self.more) {
            headers.try_append(name, value).map_err(too_many)?;
        }
        Ok(headers)
    }
}

/// One header's value or array of values, added to `pairs` as they are read.
struct ValuesSeed<'a, 'p> {
    source: Source<'a>,
    name: HeaderName,
    pairs: &'p mut Pairs,
}

impl ValuesSeed<'_, '_> {
    fn append<E: de::Error>(&mut self, s: &str) -> Result<(), E> {
        let value = HeaderValue::from_maybe_shared(self.source.share_ref(s))
            .map_err(|_| E::custom(format_args!("invalid header value {s:?}")))?;
        self.pairs.push(self.name.clone(), value);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for ValuesSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValuesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a header value or an array of header values")
    }

    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<(), E> {
        self.append(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Str<'de>>()? {
            self.append(&v)?;
        }
        Ok(())
    }
}

#[derive(Default)]
struct BodyIn {
    data: Bytes,
    chunks: Vec<usize>,
}

const BODY_KEYS: &[&str] = &["text", "json", "base64", "encoding", "chunks"];

struct BodySeed<'a>(Source<'a>);

impl<'de> DeserializeSeed<'de> for BodySeed<'_> {
    type Value = BodyIn;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<BodyIn, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for BodySeed<'_> {
    type Value = BodyIn;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a body: an object with one of `text`, `json` or `base64`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BodyIn, A::Error> {
        let mut data: Option<Bytes> = None;
        let mut chunks = Vec::new();
        let mut seen_encoding = false;
        while let Some(key) = map.next_key::<Str<'de>>()? {
            let value = match &*key {
                "text" => self.0.share(map.next_value::<Str<'de>>()?),
                "json" => {
                    let raw = map.next_value::<&'de RawValue>()?;
                    Bytes::from(json::minify(raw.get().as_bytes()))
                }
                "base64" => {
                    let b64 = map.next_value::<Str<'de>>()?;
                    B64.decode(b64.as_bytes())
                        .map(Bytes::from)
                        .map_err(|e| de::Error::custom(format_args!("invalid base64 body: {e}")))?
                }
                "encoding" if !seen_encoding => {
                    seen_encoding = true;
                    // Informational: the content-encoding header is what replays.
                    map.next_value::<Str<'de>>()?;
                    continue;
                }
                "chunks" if chunks.is_empty() => {
                    chunks = map.next_value::<Vec<usize>>()?;
                    continue;
                }
                "encoding" | "chunks" => {
                    return Err(de::Error::custom(format_args!("duplicate key `{}`", &*key)))
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
