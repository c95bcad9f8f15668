//! Reading vcrpy and Ruby VCR cassettes into interactions: every key known (an unknown
//! one is an error naming it and the keys allowed there), every value checked, each
//! error at the line and column of the node at fault.

use std::borrow::Cow;
use std::path::Path;

use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_LENGTH, TRANSFER_ENCODING};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};

use super::tree::{self, Bad, Node, Pos, Value};
use crate::record::error::{Error, Kind};
use crate::record::format::B64;
use crate::record::interaction::Interaction;

/// Which tool wrote the file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// vcrpy: `interactions`, `version: 1`.
    Vcrpy,
    /// Ruby VCR: `http_interactions`, `recorded_with`.
    Vcr,
}

/// Reads the YAML cassette at `path`; `Ok(None)` if there is no such file.
pub(crate) fn load(path: &Path) -> Result<Option<Vec<Interaction>>, Error> {
    match crate::record::save::read(path)? {
        Some(bytes) => parse(path, &bytes).map(Some),
        None => Ok(None),
    }
}

/// The interactions of a vcrpy or Ruby VCR cassette, in recorded order.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<Interaction>, Error> {
    let malformed = |bad: Bad| {
        Error::new(Kind::Malformed {
            path: path.to_owned(),
            line: bad.pos.line,
            column: bad.pos.column,
            message: bad.message,
        })
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let before = &bytes[..e.valid_up_to()];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
        malformed(Bad::new(
            Pos { line, column },
            "not UTF-8: a YAML cassette is UTF-8 text",
        ))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = tree::parse(text).map_err(malformed)?.ok_or_else(|| {
        malformed(Bad::new(
            Pos { line: 1, column: 1 },
            "empty file: expected a vcrpy cassette (`interactions`, `version`) or a Ruby \
             VCR cassette (`http_interactions`, `recorded_with`)",
        ))
    })?;
    interactions(&root).map_err(malformed)
}

const TOP_EXPECTED: &str = "expected a vcrpy cassette (a mapping with `interactions` and \
     `version`) or a Ruby VCR cassette (a mapping with `http_interactions` and `recorded_with`)";

fn interactions(root: &Node<'_>) -> Result<Vec<Interaction>, Bad> {
    let Value::Map(entries) = &root.value else {
        if let Value::Seq(items) = &root.value {
            if items
                .first()
                .is_some_and(|i| matches!(&i.value, Value::Map(e) if e.iter().any(|(k, _)| key_is(k, "request"))))
            {
                return Err(Bad::new(
                    root.pos,
                    "a vcrpy cassette from before vcrpy 1.0 (a list of interactions): \
                     migrate it first with `python -m vcr.migration PATH`",
                ));
            }
        }
        return Err(Bad::new(
            root.pos,
            format!("{TOP_EXPECTED}, found {}", root.shape()),
        ));
    };
    let dialect = if entries.iter().any(|(k, _)| key_is(k, "http_interactions")) {
        Dialect::Vcr
    } else if entries.iter().any(|(k, _)| key_is(k, "interactions")) {
        Dialect::Vcrpy
    } else {
        return Err(Bad::new(root.pos, TOP_EXPECTED));
    };
    let list = match dialect {
        Dialect::Vcrpy => {
            let file = Fields::of(
                root,
                "the cassette",
                &["interactions", "version", "metadata"],
            )?;
            if let Some(v) = file.get("version") {
                let version = int(v, "`version`")?;
                if version != 1 {
                    return Err(Bad::new(
                        v.pos,
                        format!(
                            "vcrpy cassette version {version}: this http-intercept reads \
                             version 1"
                        ),
                    ));
                }
            }
            file.required("interactions")?
        }
        Dialect::Vcr => {
            let file = Fields::of(
                root,
                "the cassette",
                &["http_interactions", "recorded_with"],
            )?;
            file.required("http_interactions")?
        }
    };
    if list.is_null() {
        return Ok(Vec::new());
    }
    let Value::Seq(items) = &list.value else {
        return Err(expected(list, "the interactions (a sequence)"));
    };
    items
        .iter()
        .map(|item| interaction(item, dialect))
        .collect()
}

fn interaction(node: &Node<'_>, dialect: Dialect) -> Result<Interaction, Bad> {
    let allowed: &[&str] = match dialect {
        Dialect::Vcrpy => &["request", "response"],
        Dialect::Vcr => &["request", "response", "recorded_at"],
    };
    let fields = Fields::of(node, "an interaction", allowed)?;
    let request = request(fields.required("request")?, dialect)?;
    let response = response(fields.required("response")?, dialect, &request)?;
    let mut interaction = Interaction::new(request, response);
    if let Some(at) = fields.get("recorded_at").filter(|n| !n.is_null()) {
        let text = text(at, "`recorded_at`")?;
        let time = http_date(&text).ok_or_else(|| {
            Bad::new(
                at.pos,
                format!(
                    "`recorded_at` {text:?} is not a date like \
                     \"Tue, 01 Dec 2026 12:00:00 GMT\""
                ),
            )
        })?;
        interaction = interaction.with_recorded_at(time);
    }
    Ok(interaction)
}

fn request(node: &Node<'_>, dialect: Dialect) -> Result<Request<Bytes>, Bad> {
    let fields = Fields::of(node, "a request", &["method", "uri", "body", "headers"])?;
    let method_node = fields.required("method")?;
    let method = text(method_node, "`method`")?;
    let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
        .map_err(|_| Bad::new(method_node.pos, format!("invalid method {method:?}")))?;
    let uri_node = fields.required("uri")?;
    let uri_text = text(uri_node, "`uri`")?;
    let uri = Uri::try_from(&*uri_text)
        .map_err(|e| Bad::new(uri_node.pos, format!("invalid uri {uri_text:?}: {e}")))?;
    if uri.scheme().is_none() || uri.authority().is_none() {
        return Err(Bad::new(
            uri_node.pos,
            format!("relative uri {uri_text:?}: expected an absolute uri with scheme and host"),
        ));
    }
    let body = match (fields.get("body"), dialect) {
        (None, _) => Bytes::new(),
        (Some(b), Dialect::Vcrpy) => vcrpy_request_body(b)?,
        (Some(b), Dialect::Vcr) => vcr_body(b, "the request body")?,
    };
    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    if let Some(h) = fields.get("headers") {
        *request.headers_mut() = headers(h)?;
    }
    Ok(request)
}

fn response(
    node: &Node<'_>,
    dialect: Dialect,
    request: &Request<Bytes>,
) -> Result<Response<Bytes>, Bad> {
    let allowed: &[&str] = match dialect {
        // `url`: vcrpy's tornado and aiohttp stubs; `status_code`, `content`,
        // `http_version`: its httpx stubs before vcrpy 4.3.
        Dialect::Vcrpy => &[
            "status",
            "headers",
            "body",
            "url",
            "status_code",
            "content",
            "http_version",
        ],
        Dialect::Vcr => &[
            "status",
            "headers",
            "body",
            "http_version",
            "adapter_metadata",
        ],
    };
    let fields = Fields::of(node, "a response", allowed)?;
    let status = match (fields.get("status"), fields.get("status_code")) {
        (Some(s), _) => {
            let status = Fields::of(s, "a status", &["code", "message"])?;
            status_code(status.required("code")?)?
        }
        (None, Some(code)) => status_code(code)?,
        (None, None) => return Err(fields.missing("status")),
    };
    let body = match (fields.get("body"), fields.get("content"), dialect) {
        (Some(b), _, Dialect::Vcrpy) => vcrpy_response_body(b)?,
        (Some(b), _, Dialect::Vcr) => vcr_body(b, "the response body")?,
        (None, Some(c), _) => body_bytes(c, "`content`")?,
        (None, None, _) => Bytes::new(),
    };
    let mut headers = match fields.get("headers") {
        Some(h) => headers(h)?,
        None => HeaderMap::new(),
    };
    replayable_headers(&mut headers, &body, request, status);
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

fn status_code(node: &Node<'_>) -> Result<StatusCode, Bad> {
    let code = int(node, "the status `code`")?;
    u16::try_from(code)
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok())
        .ok_or_else(|| {
            Bad::new(
                node.pos,
                format!("invalid status code {code}: expected 100 to 999"),
            )
        })
}

/// vcrpy's request body: null, a string, `!!binary`, or the `BytesIO` / iterator
/// bodies older vcrpy versions pickled.
fn vcrpy_request_body(node: &Node<'_>) -> Result<Bytes, Bad> {
    match node.tag.as_deref() {
        Some("!!python/object/new:_io.BytesIO") => {
            // `state: !!python/tuple [content, position, dict]`.
            let fields = Fields::of(node, "a pickled BytesIO body", &["state"])?;
            match fields.get("state").map(|s| &s.value) {
                None => Ok(Bytes::new()),
                Some(Value::Seq(items)) => match items.first() {
                    Some(first) => body_bytes(first, "the BytesIO content"),
                    None => Ok(Bytes::new()),
                },
                Some(_) => body_bytes(fields.required("state")?, "the BytesIO state"),
            }
        }
        Some("!!python/object/apply:builtins.iter") => {
            // `args: [[chunk, ...]]`, or the same as a tagged sequence.
            let args = match &node.value {
                Value::Map(_) => {
                    Fields::of(node, "a pickled iterator body", &["args", "state"])?.get("args")
                }
                Value::Seq(_) => Some(node),
                Value::Scalar(..) => return Err(expected(node, "an iterator's `args`")),
            };
            let chunks: &[Node<'_>] = match args {
                None => &[],
                Some(args) => match &args.value {
                    Value::Seq(list) => match list.first() {
                        None => &[],
                        Some(first) => match &first.value {
                            Value::Seq(chunks) => chunks,
                            _ => return Err(expected(first, "the iterator's chunks (a sequence)")),
                        },
                    },
                    _ => return Err(expected(args, "`args` (a sequence)")),
                },
            };
            let mut all = Vec::new();
            for chunk in chunks {
                all.extend_from_slice(&body_bytes(chunk, "a body chunk")?);
            }
            Ok(Bytes::from(all))
        }
        _ => body_bytes(node, "the request body"),
    }
}

/// vcrpy's response body: `{string: ...}` (`{}` when aiohttp saw none).
fn vcrpy_response_body(node: &Node<'_>) -> Result<Bytes, Bad> {
    if node.is_null() {
        return Ok(Bytes::new());
    }
    let fields = Fields::of(node, "a response body", &["string"])?;
    match fields.get("string") {
        Some(s) => body_bytes(s, "the body `string`"),
        None => Ok(Bytes::new()),
    }
}

/// VCR's body: `{encoding, string}` or `{encoding, base64_string}`; a bare string in
/// cassettes from before VCR 2.
fn vcr_body(node: &Node<'_>, what: &'static str) -> Result<Bytes, Bad> {
    match &node.value {
        Value::Map(_) => {
            let fields = Fields::of(node, what, &["encoding", "string", "base64_string"])?;
            if let Some(e) = fields.get("encoding").filter(|e| !e.is_null()) {
                text(e, "the body `encoding`")?;
            }
            match (fields.get("string"), fields.get("base64_string")) {
                (Some(s), None) => body_bytes(s, "the body `string`"),
                (None, Some(b)) if b.is_null() => Ok(Bytes::new()),
                (None, Some(b)) => base64(b, &text(b, "`base64_string`")?),
                (None, None) => Ok(Bytes::new()),
                (Some(_), Some(b)) => Err(Bad::new(
                    b.pos,
                    "a body with both `string` and `base64_string`: expected one",
                )),
            }
        }
        _ => body_bytes(node, what),
    }
}

/// A body's bytes: null is empty, a string its UTF-8, `!!binary` (PyYAML) and
/// `!binary` (Ruby's Psych) base64.
fn body_bytes(node: &Node<'_>, what: &str) -> Result<Bytes, Bad> {
    if node.is_null() {
        return Ok(Bytes::new());
    }
    match bytes(node, what)? {
        Cow::Borrowed(s) => Ok(Bytes::copy_from_slice(s)),
        Cow::Owned(v) => Ok(Bytes::from(v)),
    }
}

fn bytes<'n>(node: &'n Node<'_>, what: &str) -> Result<Cow<'n, [u8]>, Bad> {
    let binary = match node.tag.as_deref() {
        // A plain scalar that YAML reads as a number or a boolean is still its text.
        None
        | Some(
            "!!str" | "!!python/unicode" | "!!python/str" | "!" | "!!int" | "!!float" | "!!bool",
        ) => false,
        Some("!!binary" | "!binary" | "!!python/bytes") => true,
        Some(tag) => {
            return Err(Bad::new(
                node.pos,
                format!("unsupported tag `{tag}` in {what}: expected a string, `!!binary` or null"),
            ))
        }
    };
    let Value::Scalar(s, _) = &node.value else {
        return Err(expected(node, &format!("{what} (a string)")));
    };
    match binary {
        false => Ok(Cow::Borrowed(s.as_bytes())),
        true => base64(node, s).map(|b| Cow::Owned(b.to_vec())),
    }
}

fn base64(node: &Node<'_>, text: &str) -> Result<Bytes, Bad> {
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    B64.decode(&compact)
        .map(Bytes::from)
        .map_err(|e| Bad::new(node.pos, format!("invalid base64: {e}")))
}

/// A scalar's text (`!!binary` decoded as UTF-8).
fn text<'n>(node: &'n Node<'_>, what: &str) -> Result<Cow<'n, str>, Bad> {
    match bytes(node, what)? {
        Cow::Borrowed(b) => Ok(Cow::Borrowed(
            std::str::from_utf8(b).expect("scalars are UTF-8"),
        )),
        Cow::Owned(v) => String::from_utf8(v)
            .map(Cow::Owned)
            .map_err(|_| Bad::new(node.pos, format!("{what} is not UTF-8"))),
    }
}

fn int(node: &Node<'_>, what: &str) -> Result<i64, Bad> {
    let t = text(node, what)?;
    t.trim()
        .parse()
        .map_err(|_| Bad::new(node.pos, format!("{what} {t:?} is not an integer")))
}

/// Headers: a mapping from names to a list of values (both tools), or to one value
/// (hand-written cassettes, older versions).
fn headers(node: &Node<'_>) -> Result<HeaderMap, Bad> {
    if node.is_null() {
        return Ok(HeaderMap::new());
    }
    let Value::Map(entries) = &node.value else {
        return Err(expected(
            node,
            "headers (a mapping from names to lists of values)",
        ));
    };
    let mut map = HeaderMap::with_capacity(entries.len());
    for (k, v) in entries {
        let name_text = text(k, "a header name")?;
        let name = HeaderName::from_bytes(name_text.as_bytes())
            .map_err(|_| Bad::new(k.pos, format!("invalid header name {name_text:?}")))?;
        let mut add = |v: &Node<'_>| -> Result<(), Bad> {
            let value = bytes(v, "a header value")?;
            let value = HeaderValue::from_bytes(&value).map_err(|_| {
                Bad::new(
                    v.pos,
                    format!(
                        "invalid value {:?} for header {name_text}",
                        String::from_utf8_lossy(&value)
                    ),
                )
            })?;
            map.append(name.clone(), value);
            Ok(())
        };
        match &v.value {
            Value::Seq(values) => values.iter().try_for_each(&mut add)?,
            Value::Scalar(..) if v.is_null() => {}
            Value::Scalar(..) => add(v)?,
            Value::Map(_) => return Err(expected(v, "a header's values (a sequence of strings)")),
        }
    }
    Ok(map)
}

/// The recorded response's headers, made true to the recorded body it replays:
///
/// - `transfer-encoding` is dropped: the body is whole (vcrpy drops it on replay too);
/// - a `content-encoding` of gzip, deflate or zstd over a body that is not so encoded
///   is dropped: vcrpy on urllib3 2 and `decode_compressed_response` store the body
///   decoded, the first keeping the header;
/// - `content-length` is set to the body's length, except for responses that have no
///   body by definition (HEAD, 1xx, 204, 304).
fn replayable_headers(
    headers: &mut HeaderMap,
    body: &[u8],
    req: &Request<Bytes>,
    status: StatusCode,
) {
    headers.remove(TRANSFER_ENCODING);
    if let Some(encoding) = headers.get(CONTENT_ENCODING).and_then(|v| v.to_str().ok()) {
        let e = encoding.trim().to_ascii_lowercase();
        let encoded = match e.as_str() {
            "gzip" | "x-gzip" => body.starts_with(&[0x1f, 0x8b]),
            // zlib's header: CMF 0x?8, and (CMF * 256 + FLG) a multiple of 31.
            "deflate" => {
                body.len() >= 2
                    && body[0] & 0x0f == 8
                    && (u16::from(body[0]) * 256 + u16::from(body[1])) % 31 == 0
            }
            "zstd" => body.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]),
            // br has no magic bytes; anything else is kept as recorded.
            _ => true,
        };
        if !encoded && !body.is_empty() {
            headers.remove(CONTENT_ENCODING);
        }
    }
    let bodiless = req.method() == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    if !bodiless && headers.contains_key(CONTENT_LENGTH) {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
}

/// `Tue, 01 Dec 2026 12:00:00 GMT` (Ruby's `Time#httpdate`), via the cassette
/// format's RFC 3339 reader.
fn http_date(s: &str) -> Option<std::time::SystemTime> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let rest = s.trim().split_once(", ").map_or(s.trim(), |(_, r)| r);
    let parts: Vec<&str> = rest.split_ascii_whitespace().collect();
    let [day, month, year, time, zone] = parts[..] else {
        return None;
    };
    if !matches!(zone, "GMT" | "UTC" | "+0000") {
        return None;
    }
    let month = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(month))? + 1;
    let day: u32 = day.parse().ok()?;
    let year: u32 = year.parse().ok()?;
    crate::record::format::parse_time(&format!("{year:04}-{month:02}-{day:02}T{time}Z"))
}

fn key_is(node: &Node<'_>, key: &str) -> bool {
    matches!(&node.value, Value::Scalar(s, _) if s == key)
}

fn expected(node: &Node<'_>, what: &str) -> Bad {
    Bad::new(node.pos, format!("expected {what}, found {}", node.shape()))
}

/// A mapping's entries, checked against the keys allowed there.
struct Fields<'n, 'a> {
    node: &'n Node<'a>,
    what: &'static str,
    entries: &'n [(Node<'a>, Node<'a>)],
}

impl<'n, 'a> Fields<'n, 'a> {
    fn of(node: &'n Node<'a>, what: &'static str, allowed: &[&str]) -> Result<Fields<'n, 'a>, Bad> {
        let Value::Map(entries) = &node.value else {
            return Err(expected(node, &format!("{what} (a mapping)")));
        };
        for (i, (k, _)) in entries.iter().enumerate() {
            let Value::Scalar(key, _) = &k.value else {
                return Err(expected(k, &format!("a key of {what}")));
            };
            if !allowed.contains(&&**key) {
                let list: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
                return Err(Bad::new(
                    k.pos,
                    format!(
                        "unknown key `{key}` in {what}, allowed here: {}",
                        list.join(", ")
                    ),
                ));
            }
            if entries[..i].iter().any(|(other, _)| key_is(other, key)) {
                return Err(Bad::new(k.pos, format!("duplicate key `{key}` in {what}")));
            }
        }
        Ok(Fields {
            node,
            what,
            entries,
        })
    }

    fn get(&self, key: &str) -> Option<&'n Node<'a>> {
        self.entries
            .iter()
            .find(|(k, _)| key_is(k, key))
            .map(|(_, v)| v)
    }

    fn required(&self, key: &str) -> Result<&'n Node<'a>, Bad> {
        self.get(key).ok_or_else(|| self.missing(key))
    }

    fn missing(&self, key: &str) -> Bad {
        Bad::new(
            self.node.pos,
            format!("missing key `{key}` in {}", self.what),
        )
    }
}

/// Whether `path` names a YAML file (extension `.yaml` or `.yml`, any case).
pub(crate) fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replayed(encoding: &str, body: &[u8], method: Method, status: u16) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_ENCODING, HeaderValue::from_str(encoding).unwrap());
        headers.insert(CONTENT_LENGTH, HeaderValue::from(3));
        headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        let mut req = Request::new(Bytes::new());
        *req.method_mut() = method;
        let status = StatusCode::from_u16(status).unwrap();
        replayable_headers(&mut headers, body, &req, status);
        assert!(!headers.contains_key(TRANSFER_ENCODING));
        headers
    }

    #[test]
    fn headers_are_made_true_to_the_recorded_body() {
        // zlib's header (78 9c): still compressed, the header stays.
        let h = replayed("deflate", &[0x78, 0x9c, 3, 0], Method::GET, 200);
        assert_eq!(h[CONTENT_ENCODING], "deflate");
        assert_eq!(h[CONTENT_LENGTH], "4");
        // Decoded text under a deflate, gzip or zstd header: the header goes.
        for encoding in ["deflate", "gzip", "x-gzip", "zstd"] {
            let h = replayed(encoding, b"plain text", Method::GET, 200);
            assert!(!h.contains_key(CONTENT_ENCODING), "{encoding}");
            assert_eq!(h[CONTENT_LENGTH], "10");
        }
        let h = replayed("zstd", &[0x28, 0xb5, 0x2f, 0xfd, 0], Method::GET, 200);
        assert_eq!(h[CONTENT_ENCODING], "zstd");
        // br cannot be told from its bytes: kept as recorded.
        let h = replayed("br", b"plain text", Method::GET, 200);
        assert_eq!(h[CONTENT_ENCODING], "br");
        // No body by definition: the recorded length stays.
        for (method, status) in [(Method::HEAD, 200), (Method::GET, 304), (Method::GET, 204)] {
            let h = replayed("gzip", b"", method, status);
            assert_eq!(h[CONTENT_LENGTH], "3");
            assert_eq!(h[CONTENT_ENCODING], "gzip");
        }
    }

    #[test]
    fn http_dates() {
        let t = http_date("Tue, 01 Dec 2026 12:00:00 GMT").unwrap();
        assert_eq!(
            crate::record::format::format_time(t),
            "2026-12-01T12:00:00Z"
        );
        assert!(http_date("Tue, 01 Foo 2026 12:00:00 GMT").is_none());
        assert!(http_date("Tue, 01 Dec 2026 12:00:00 CET").is_none());
        assert!(http_date("").is_none());
    }
}
