//! `.asis` files: a literal HTTP response, sent byte for byte.
//!
//! The file holds the whole response: status line, headers, blank line, body, written
//! exactly as the client must receive it, malformed or not (that is the point: a
//! status line without a reason, a lying `Content-Length`, a bare `\n`). It is sent
//! through the connection's [`RawWriter`] and the connection closes after it.
//! A `NAME.sub.asis` file gets substitutions first, unescaped (as wptserve
//! substitutes files that are not markup).
//!
//! Only an HTTP/1.x connection served by http-intercept can carry it. Elsewhere (an
//! HTTP/2 request, or `Files` called directly) the answer is a 500 that says why and
//! quotes the file's first line. An `.asis` file that cannot be read is a 500 naming it.

use bytes::Bytes;
use http::StatusCode;

use crate::server::body::Response;
use crate::server::lookup::FileEntry;
use crate::server::respond;
use crate::server::serve_file;
use crate::server::sub::{self, Escape, RequestInfo};
use crate::transport::RawWriter;

/// Sends the `.asis` file `entry` (`label` is its request path).
pub(crate) async fn send(
    entry: &FileEntry,
    label: &str,
    info: &RequestInfo,
    raw: Option<RawWriter>,
    version: http::Version,
) -> Response {
    let content = match serve_file::whole(entry).await {
        Ok(content) => content,
        Err(e) => {
            return respond::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("http-intercept: cannot read the .asis file {label}: {e}"),
            )
        }
    };
    let content: Bytes = if entry.name.ends_with(".sub.asis") {
        match sub::substitute(&content, info, Escape::None, label) {
            Ok(c) => c.into(),
            Err(e) => return respond::error(StatusCode::INTERNAL_SERVER_ERROR, e),
        }
    } else {
        content
    };
    let Some(raw) = raw else {
        let first = content
            .split(|&b| b == b'\n')
            .next()
            .map(|l| String::from_utf8_lossy(l).trim_end().to_owned())
            .unwrap_or_default();
        let over = if version == http::Version::HTTP_2 {
            "this request came over HTTP/2, whose multiplexed streams cannot carry raw bytes"
        } else {
            "this request has no raw connection (the service was called outside \
             http-intercept's transport)"
        };
        return respond::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "http-intercept: {label} is an .asis file, a literal HTTP/1.1 response sent \
                 byte for byte, which needs an HTTP/1.1 connection; {over}. \
                 Its first line is {first:?}"
            ),
        );
    };
    // A client that went away needs no answer.
    if raw.write(&content).await.is_ok() {
        let _ = raw.close().await;
    }
    respond::swallowed()
}
