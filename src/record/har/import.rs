//! Reading a HAR 1.2 file into interactions, as browsers export them.

use std::borrow::Cow;
use std::path::Path;

use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Method, Request, Response, StatusCode, Uri};
use serde::Deserialize;

use crate::record::error::{Error, Kind};
use crate::record::format::B64;
use crate::record::interaction::{Failure, FailureKind, Interaction};

// Lenient on purpose: browsers add their own keys (`_initiator`, `_priority`,
// `_resourceType`, `_transferSize`, ...) and leave out optional ones.

#[derive(Deserialize)]
struct HarFile<'a> {
    #[serde(borrow)]
    log: Log<'a>,
}

#[derive(Deserialize)]
struct Log<'a> {
    #[serde(borrow, default)]
    entries: Vec<Entry<'a>>,
}

#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow)]
    request: HarRequest<'a>,
    #[serde(borrow)]
    response: Option<HarResponse<'a>>,
    #[serde(borrow, rename = "startedDateTime")]
    started: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "_error")]
    error: Option<Cow<'a, str>>,
    /// http-intercept's export: the recorded failure's kind.
    #[serde(borrow, rename = "_failure")]
    failure: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
pub(crate) struct NameValue<'a> {
    #[serde(borrow)]
    pub(crate) name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) value: Cow<'a, str>,
}

#[derive(Deserialize)]
struct HarRequest<'a> {
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(borrow)]
    url: Cow<'a, str>,
    #[serde(borrow, default)]
    headers: Vec<NameValue<'a>>,
    #[serde(borrow, rename = "postData")]
    post_data: Option<PostData<'a>>,
}

#[derive(Deserialize)]
struct PostData<'a> {
    #[serde(borrow, rename = "mimeType")]
    mime_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Vec<NameValue<'a>>,
    #[serde(borrow)]
    encoding: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct HarResponse<'a> {
    #[serde(default)]
    status: i64,
    #[serde(borrow, default)]
    headers: Vec<NameValue<'a>>,
    #[serde(borrow)]
    content: Option<Content<'a>>,
    #[serde(borrow, rename = "_error")]
    error: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Content<'a> {
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    encoding: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "mimeType")]
    mime_type: Option<Cow<'a, str>>,
    /// http-intercept's export: the text is the body as it was on the wire, still
    /// content-encoded.
    #[serde(rename = "_wire", default)]
    wire: bool,
}

/// Reads the HAR file at `path`.
pub(crate) fn load(path: &Path) -> Result<Option<Vec<Interaction>>, Error> {
    match crate::record::save::read(path)? {
        Some(bytes) => parse(path, Bytes::from(bytes)).map(Some),
        None => Ok(None),
    }
}

/// The interactions of a HAR file's entries, in order. URLs, header values and text
/// bodies share `bytes` rather than copy it.
pub(crate) fn parse(path: &Path, bytes: Bytes) -> Result<Vec<Interaction>, Error> {
    let file: Result<HarFile<'_>, _> = match std::str::from_utf8(&bytes) {
        // Checked whole, once: serde_json then checks no string again.
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(&bytes),
    };
    let file = file.map_err(|err| {
        Error::new(Kind::Malformed {
            path: path.to_owned(),
            line: err.line(),
            column: err.column(),
            message: format!("not a HAR file: {}", strip_position(&err.to_string())),
        })
    })?;
    let mut out = Vec::with_capacity(file.log.entries.len());
    for (n, entry) in file.log.entries.into_iter().enumerate() {
        let interaction = entry_to_interaction(File(&bytes), entry).map_err(|message| {
            Error::new(Kind::Har {
                path: path.to_owned(),
                entry: n + 1,
                message,
            })
        })?;
        out.push(interaction);
    }
    Ok(out)
}

fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

/// The HAR file's bytes, which what is read from it shares.
#[derive(Clone, Copy)]
struct File<'a>(&'a Bytes);

impl File<'_> {
    /// `s` as bytes: a slice of the file when `s` is in it (strings without escapes
    /// are), else a copy.
    fn share(self, s: &str) -> Bytes {
        let file = self.0.as_ptr_range();
        let range = s.as_bytes().as_ptr_range();
        match file.start <= range.start && range.end <= file.end {
            true => self.0.slice_ref(s.as_bytes()),
            false => Bytes::copy_from_slice(s.as_bytes()),
        }
    }
}

fn entry_to_interaction(file: File<'_>, entry: Entry<'_>) -> Result<Interaction, String> {
    let req = entry.request;
    let method = Method::from_bytes(req.method.as_bytes())
        .map_err(|_| format!("invalid method {:?}", req.method))?;
    let uri = Uri::from_maybe_shared(file.share(&req.url))
        .map_err(|e| format!("invalid url {:?}: {e}", req.url))?;
    if uri.scheme().is_none() || uri.authority().is_none() {
        return Err(format!("relative url {:?}", req.url));
    }
    let mut headers = header_map(file, &req.headers);
    let body = match req.post_data {
        Some(post) => {
            if let Some(mime) = post.mime_type.as_deref().filter(|m| !m.is_empty()) {
                if !headers.contains_key(CONTENT_TYPE) {
                    if let Ok(v) = HeaderValue::from_str(mime) {
                        headers.insert(CONTENT_TYPE, v);
                    }
                }
            }
            match (post.text, post.params.is_empty()) {
                (Some(text), _) if !text.is_empty() => {
                    decode(file, &text, post.encoding.as_deref())?
                }
                (_, false) => {
                    // Firefox and older Chromium give form posts as `params` only.
                    let pairs: Vec<String> = post
                        .params
                        .iter()
                        .map(|p| format!("{}={}", p.name, p.value))
                        .collect();
                    Bytes::from(pairs.join("&"))
                }
                _ => Bytes::new(),
            }
        }
        None => Bytes::new(),
    };
    let mut request = Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;

    let error = entry
        .error
        .or_else(|| entry.response.as_ref().and_then(|r| r.error.clone()));
    let response = entry.response.filter(|r| r.status > 0);
    let mut interaction = match (response, error) {
        (Some(res), _) => {
            let status = u16::try_from(res.status)
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .ok_or_else(|| format!("invalid status {}", res.status))?;
            let mut headers = header_map(file, &res.headers);
            let (text, encoding, mime, wire) = match res.content {
                Some(c) => (c.text, c.encoding, c.mime_type, c.wire),
                None => (None, None, None, false),
            };
            let body = match text {
                Some(text) => decode(file, &text, encoding.as_deref())?,
                None => Bytes::new(),
            };
            if let Some(mime) = mime.as_deref().filter(|m| !m.is_empty()) {
                if !headers.contains_key(CONTENT_TYPE) {
                    if let Ok(v) = HeaderValue::from_str(mime) {
                        headers.insert(CONTENT_TYPE, v);
                    }
                }
            }
            if !wire {
                decoded_body_headers(&mut headers, &body);
            }
            let mut response = Response::new(body);
            *response.status_mut() = status;
            *response.headers_mut() = headers;
            Interaction::new(request, response)
        }
        (None, error) => {
            let message = error.unwrap_or(Cow::Borrowed("no response (status 0)"));
            let kind = entry
                .failure
                .as_deref()
                .and_then(FailureKind::parse)
                .unwrap_or_else(|| failure_kind(&message));
            Interaction::failed(request, Failure::new(kind, message))
        }
    };
    if let Some(at) = entry
        .started
        .as_deref()
        .and_then(crate::record::format::parse_time)
    {
        interaction = interaction.with_recorded_at(at);
    }
    Ok(interaction)
}

/// `text` as bytes: base64 when `encoding` says so, else its UTF-8.
fn decode(file: File<'_>, text: &str, encoding: Option<&str>) -> Result<Bytes, String> {
    match encoding {
        Some(e) if e.eq_ignore_ascii_case("base64") => B64
            .decode(text.as_bytes())
            .map(Bytes::from)
            .map_err(|e| format!("invalid base64 content: {e}")),
        _ => Ok(file.share(text)),
    }
}

/// Headers from HAR name/value pairs: HTTP/2 pseudo-headers (`:authority`) and
/// invalid names or values are left out; names are lowercased.
fn header_map(file: File<'_>, pairs: &[NameValue<'_>]) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(pairs.len());
    for p in pairs {
        if p.name.starts_with(':') {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(p.name.as_bytes()),
            HeaderValue::from_maybe_shared(file.share(&p.value)),
        ) {
            headers.append(name, value);
        }
    }
    headers
}

/// Browsers store bodies decoded but keep the `content-encoding` header they came
/// with: drop the header unless the body really is encoded (gzip's magic bytes), and
/// keep `content-length` true to the body.
fn decoded_body_headers(headers: &mut HeaderMap, body: &[u8]) {
    let encoded = match headers.get(CONTENT_ENCODING).and_then(|v| v.to_str().ok()) {
        None => return fix_length(headers, body.len()),
        Some(e) if e.eq_ignore_ascii_case("identity") => true,
        Some(e) if e.eq_ignore_ascii_case("gzip") || e.eq_ignore_ascii_case("x-gzip") => {
            body.starts_with(&[0x1f, 0x8b])
        }
        Some(_) => false,
    };
    if !encoded {
        headers.remove(CONTENT_ENCODING);
    }
    fix_length(headers, body.len());
}

fn fix_length(headers: &mut HeaderMap, len: usize) {
    if headers.contains_key(CONTENT_LENGTH) {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    }
}

/// The kind of a browser's network error (`net::ERR_NAME_NOT_RESOLVED`, Firefox's
/// `NS_ERROR_UNKNOWN_HOST`).
fn failure_kind(message: &str) -> FailureKind {
    let m = message.to_ascii_uppercase();
    if m.contains("NAME_NOT_RESOLVED") || m.contains("UNKNOWN_HOST") || m.contains("DNS") {
        FailureKind::Dns
    } else if m.contains("TIMED_OUT") || m.contains("TIMEOUT") {
        FailureKind::Timeout
    } else if m.contains("CONNECTION") || m.contains("REFUSED") || m.contains("SSL") {
        FailureKind::Connect
    } else {
        FailureKind::Other
    }
}

/// Whether `path` names a HAR file (extension `.har`, any case).
pub(crate) fn is_har(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("har"))
}
