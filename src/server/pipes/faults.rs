//! The fault pipes: what no socket-based mock can script.
//!
//! - `close(N)`: the headers and the first N bytes of the body, then the connection
//!   closes (HTTP/1.1: written raw, so exactly those bytes reach the client; HTTP/2:
//!   the stream is reset after N bytes).
//! - `stall`: the headers, then nothing, ever: the client's timeout fires.
//! - `malformed_chunk`: HTTP/1.1 only: the headers announce a chunked body whose first
//!   chunk size is not hexadecimal, then the connection closes.
//! - `reset`: no answer: the connection is reset (over TCP an RST); on HTTP/2 the
//!   stream is reset right after its headers.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use http_body::Frame;

use crate::error::BoxError;
use crate::transport::RawWriter;

/// A fault a pipe asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    Close(usize),
    Stall,
    MalformedChunk,
    Reset,
}

impl Fault {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Fault::Close(_) => "close",
            Fault::Stall => "stall",
            Fault::MalformedChunk => "malformed_chunk",
            Fault::Reset => "reset",
        }
    }
}

/// The status line and headers of a response, as HTTP/1.1 writes them.
pub(crate) fn head(status: StatusCode, headers: &HeaderMap) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Unknown")
    )
    .into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Plays a fault raw on an HTTP/1.1 connection. `Stall` needs no raw access and is
/// not played here.
pub(crate) async fn play_raw(
    fault: Fault,
    raw: &RawWriter,
    status: StatusCode,
    headers: &HeaderMap,
    content: &Bytes,
) -> std::io::Result<()> {
    match fault {
        Fault::Close(n) => {
            let mut bytes = head(status, headers);
            bytes.extend_from_slice(&content[..n.min(content.len())]);
            raw.write(bytes).await?;
            raw.close().await
        }
        Fault::MalformedChunk => {
            let mut headers = headers.clone();
            headers.remove(http::header::CONTENT_LENGTH);
            headers.insert(
                http::header::TRANSFER_ENCODING,
                http::HeaderValue::from_static("chunked"),
            );
            let mut bytes = head(status, &headers);
            bytes.extend_from_slice(b"zz\r\n");
            bytes.extend_from_slice(content);
            bytes.extend_from_slice(b"\r\n");
            raw.write(bytes).await?;
            raw.close().await
        }
        Fault::Reset => {
            raw.reset();
            Ok(())
        }
        Fault::Stall => Ok(()),
    }
}

/// A body that never yields: the headers went out, the rest never comes.
pub(crate) struct Stall;

impl http_body::Body for Stall {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Poll::Pending
    }
}

/// A body that sends `data` and then fails: without raw access, how `close(N)` and
/// `reset` end a response (HTTP/2 resets the stream).
pub(crate) struct Cut {
    pub(crate) data: Option<Bytes>,
    pub(crate) fault: Fault,
}

impl http_body::Body for Cut {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if let Some(data) = self.data.take().filter(|d| !d.is_empty()) {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        let message = format!(
            "http-intercept: the {} pipe ended this response on purpose",
            self.fault.name()
        );
        Poll::Ready(Some(Err(message.into())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_head() {
        let mut headers = HeaderMap::new();
        headers.insert("content-length", "3".parse().unwrap());
        assert_eq!(
            head(StatusCode::NOT_FOUND, &headers),
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 3\r\n\r\n"
        );
    }
}
