//! The body of a replayed response: the recorded chunks, or a recorded failure.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::HeaderMap;
use http_body::{Body, Frame, SizeHint};

use super::error::{Error, Kind};

/// The body of a response served by a cassette.
///
/// It streams the recorded body in the chunks it was recorded in, then the recorded
/// trailers, if any (gRPC's `grpc-status`). For a recorded
/// failure it fails before its first frame: hyper's server then aborts the exchange,
/// and the client sees a failed request (over HTTP/1.1 the connection closes before a
/// response, `IncompleteMessage`; over HTTP/2 the stream is reset), not a response.
/// Such a response also carries the [`Failure`](crate::record::Failure) as an
/// extension, for code that calls the service directly.
#[derive(Debug)]
pub struct ReplayBody {
    chunks: VecDeque<Bytes>,
    trailers: Option<HeaderMap>,
    failure: Option<Error>,
}

impl ReplayBody {
    /// A body of `body`, split into chunks of `lengths` (one chunk when empty).
    pub(crate) fn chunked(body: Bytes, lengths: &[usize]) -> ReplayBody {
        let mut chunks = VecDeque::with_capacity(lengths.len().max(1));
        let total = super::interaction::checked_total(lengths);
        if lengths.len() > 1 && total == Some(body.len()) {
            let mut at = 0;
            for &len in lengths {
                if len > 0 {
                    chunks.push_back(body.slice(at..at + len));
                }
                at += len;
            }
        } else if !body.is_empty() {
            chunks.push_back(body);
        }
        ReplayBody {
            chunks,
            trailers: None,
            failure: None,
        }
    }

    /// The body ends with `trailers`.
    pub(crate) fn with_trailers(mut self, trailers: Option<HeaderMap>) -> ReplayBody {
        self.trailers = trailers.filter(|t| !t.is_empty());
        self
    }

    /// A body that fails at once with a replayed failure for `uri`.
    pub(crate) fn failure(uri: String, message: String) -> ReplayBody {
        ReplayBody {
            chunks: VecDeque::new(),
            trailers: None,
            failure: Some(Error::new(Kind::Replayed { uri, message })),
        }
    }
}

impl Body for ReplayBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        if let Some(err) = self.failure.take() {
            return Poll::Ready(Some(Err(err)));
        }
        if let Some(chunk) = self.chunks.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        Poll::Ready(self.trailers.take().map(|t| Ok(Frame::trailers(t))))
    }

    fn is_end_stream(&self) -> bool {
        self.failure.is_none() && self.chunks.is_empty() && self.trailers.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        if self.failure.is_some() {
            return SizeHint::default();
        }
        SizeHint::with_exact(self.chunks.iter().map(|c| c.len() as u64).sum())
    }
}
