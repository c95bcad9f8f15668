//! Answering a request with a file: `Content-Type` (wptserve's table unless a
//! `.headers` file sets it), `Last-Modified` and `ETag` with `If-None-Match` /
//! `If-Modified-Since` (304), `Range` (206, `multipart/byteranges` for several ranges,
//! 416), `HEAD`; small files from memory, large ones streamed.

use std::io::SeekFrom;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::UNIX_EPOCH;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use http_body::Frame;
use tokio::io::{AsyncRead, AsyncSeekExt, ReadBuf};

use crate::error::BoxError;
use crate::server::body::{Body, Response};
use crate::server::lookup::FileEntry;
use crate::server::{mime, ranges, respond};

/// The validators of a file: its `ETag` and `Last-Modified` values.
struct Validators {
    etag: Option<HeaderValue>,
    last_modified: Option<HeaderValue>,
    modified_secs: Option<u64>,
}

fn validators(entry: &FileEntry) -> Validators {
    let since_epoch = entry
        .modified
        .and_then(|m| m.duration_since(UNIX_EPOCH).ok());
    Validators {
        etag: since_epoch.and_then(|d| {
            HeaderValue::try_from(format!("W/\"{:x}-{:x}\"", entry.len, d.as_nanos())).ok()
        }),
        last_modified: entry
            .modified
            .and_then(|m| HeaderValue::try_from(httpdate::fmt_http_date(m)).ok()),
        modified_secs: since_epoch.map(|d| d.as_secs()),
    }
}

/// Whether the request's conditional headers say the client's copy is current.
fn not_modified(req: &HeaderMap, v: &Validators) -> bool {
    if let Some(inm) = req.get(header::IF_NONE_MATCH) {
        let Some(etag) = &v.etag else { return false };
        let weak = |t: &[u8]| t.strip_prefix(b"W/").unwrap_or(t).to_vec();
        let ours = weak(etag.as_bytes());
        return inm
            .as_bytes()
            .split(|&b| b == b',')
            .map(|t| t.trim_ascii())
            .any(|t| t == b"*" || weak(t) == ours);
    }
    let Some(ims) = req
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| httpdate::parse_http_date(s).ok())
    else {
        return false;
    };
    let Some(modified) = v.modified_secs else {
        return false;
    };
    ims.duration_since(UNIX_EPOCH)
        .is_ok_and(|ims| modified <= ims.as_secs())
}

/// The response for `entry`. With `piped`, conditional and `Range` headers are
/// ignored and the whole file is answered (pipes see all of it); `method` decides
/// whether a body is sent.
pub(crate) async fn respond(
    entry: &FileEntry,
    method: &Method,
    req: &HeaderMap,
    piped: bool,
    label: &str,
) -> Response {
    let v = validators(entry);
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(mime::guess(&entry.name)),
    );
    if let Some(lm) = &v.last_modified {
        headers.insert(header::LAST_MODIFIED, lm.clone());
    }
    if let Some(etag) = &v.etag {
        headers.insert(header::ETAG, etag.clone());
    }
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let head = *method == Method::HEAD;
    let conditional = !piped && (*method == Method::GET || head);
    if conditional && not_modified(req, &v) {
        return build(StatusCode::NOT_MODIFIED, headers, Body::empty());
    }
    let range = req
        .get(header::RANGE)
        .filter(|_| conditional && if_range_holds(req, &v));
    if let Some(range) = range {
        let Some(ranges) = ranges::parse(range.as_bytes(), entry.len) else {
            let mut res = respond::error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!(
                    "http-intercept: the range {:?} cannot be satisfied by {label}, which has {} bytes",
                    String::from_utf8_lossy(range.as_bytes()),
                    entry.len
                ),
            );
            if let Ok(v) = HeaderValue::try_from(format!("bytes */{}", entry.len)) {
                res.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return res;
        };
        if let [one] = &ranges[..] {
            if let Ok(v) = HeaderValue::try_from(ranges::content_range(one, entry.len)) {
                headers.insert(header::CONTENT_RANGE, v);
            }
            headers.insert(
                header::CONTENT_LENGTH,
                HeaderValue::from(one.end - one.start),
            );
            let body = if head {
                Body::empty()
            } else {
                match content(entry, one.start, one.end - one.start).await {
                    Ok(body) => body,
                    Err(e) => return read_error(label, &e),
                }
            };
            return build(StatusCode::PARTIAL_CONTENT, headers, body);
        }
        let whole = match whole(entry).await {
            Ok(whole) => whole,
            Err(e) => return read_error(label, &e),
        };
        let boundary = uuid::Uuid::new_v4().simple().to_string();
        let part_type = headers
            .get(header::CONTENT_TYPE)
            .map(|v| v.as_bytes().to_vec());
        let body = ranges::multipart(&whole, &ranges, part_type.as_deref(), &boundary);
        if let Ok(v) = HeaderValue::try_from(format!("multipart/byteranges; boundary={boundary}")) {
            headers.insert(header::CONTENT_TYPE, v);
        }
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        let body = if head {
            Body::empty()
        } else {
            Body::from(body)
        };
        return build(StatusCode::PARTIAL_CONTENT, headers, body);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(entry.len));
    let body = if head {
        Body::empty()
    } else {
        match content(entry, 0, entry.len).await {
            Ok(body) => body,
            Err(e) => return read_error(label, &e),
        }
    };
    build(StatusCode::OK, headers, body)
}

/// Whether an `If-Range` (if any) matches, so that the `Range` applies.
fn if_range_holds(req: &HeaderMap, v: &Validators) -> bool {
    match req.get(header::IF_RANGE) {
        None => true,
        Some(given) => v.etag.as_ref() == Some(given) || v.last_modified.as_ref() == Some(given),
    }
}

fn read_error(label: &str, e: &std::io::Error) -> Response {
    respond::error(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("http-intercept: cannot read the file {label}: {e}"),
    )
}

fn build(status: StatusCode, headers: HeaderMap, body: Body) -> Response {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    res
}

/// The whole content of `entry`, from memory or read asynchronously.
pub(crate) async fn whole(entry: &FileEntry) -> std::io::Result<Bytes> {
    match &entry.content {
        Some(content) => Ok(content.clone()),
        None => tokio::fs::read(&entry.path).await.map(Bytes::from),
    }
}

/// `len` bytes of `entry` from `start`: a slice of what is in memory, or the file
/// streamed.
async fn content(entry: &FileEntry, start: u64, len: u64) -> std::io::Result<Body> {
    if let Some(content) = &entry.content {
        let (a, b) = (start as usize, (start + len) as usize);
        return Ok(Body::from(
            content.slice(a.min(content.len())..b.min(content.len())),
        ));
    }
    let mut file = tokio::fs::File::open(&entry.path).await?;
    if start > 0 {
        file.seek(SeekFrom::Start(start)).await?;
    }
    Ok(Body::new(FileBody {
        file,
        left: len,
        buf: Vec::new(),
    }))
}

/// How much of a large file one frame carries.
const CHUNK: usize = 64 * 1024;

/// A file streamed from disk, `left` bytes more.
struct FileBody {
    file: tokio::fs::File,
    left: u64,
    buf: Vec<u8>,
}

impl http_body::Body for FileBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let want = usize::try_from(self.left).unwrap_or(CHUNK).min(CHUNK);
        let this = &mut *self;
        this.buf.resize(want, 0);
        let mut read = ReadBuf::new(&mut this.buf[..]);
        match Pin::new(&mut this.file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(Ok(())) => {
                let n = read.filled().len();
                if n == 0 {
                    return Poll::Ready(Some(Err(
                        "http-intercept: the file got shorter while it was sent".into(),
                    )));
                }
                let chunk = Bytes::copy_from_slice(read.filled());
                this.left -= n as u64;
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.left)
    }
}
