//! Turning a piped response into what is sent: the length, a trickled or stalled
//! body, or a fault played raw on the connection.

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};

use super::faults::{self, Cut, Fault, Stall};
use super::pipe::Piped;
use crate::server::body::{Body, Response};
use crate::server::raw::RawWriter;
use crate::server::respond;

/// Sends `piped`: waits for its `delay`, sets `Content-Length` (unless a pipe set it),
/// and plays its trickle or fault. `head_only` answers a `HEAD` request: the headers
/// of the full response, no body. A fault that needs raw access on a request that has
/// none (HTTP/2) answers what `faults` documents.
pub(crate) async fn deliver(piped: Piped, raw: Option<RawWriter>, head_only: bool) -> Response {
    let Piped {
        status,
        mut headers,
        content,
        length_set,
        trickle,
        delay,
        fault,
    } = piped;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if !length_set {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(content.len()));
    }
    if let Some(fault) = fault.filter(|f| *f != Fault::Stall) {
        if let Some(raw) = raw {
            if let Err(e) = faults::play_raw(fault, &raw, status, &headers, &content).await {
                // The client went away: nothing is left to tell it.
                let _ = e;
            }
            return respond::swallowed();
        }
        return match fault {
            Fault::Close(n) => {
                let data = content.slice(..n.min(content.len()));
                build(
                    status,
                    headers,
                    Body::new(Cut {
                        data: Some(data),
                        fault,
                    }),
                )
            }
            Fault::Reset => build(status, headers, Body::new(Cut { data: None, fault })),
            _ => respond::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!(
                    "http-intercept: the {} pipe writes a malformed HTTP/1.1 message, which \
                     needs an HTTP/1.1 connection served by http-intercept; this request \
                     has none (it came over HTTP/2, or the service was called directly)",
                    fault.name()
                ),
            ),
        };
    }
    let body = if fault == Some(Fault::Stall) {
        Body::new(Stall)
    } else if head_only {
        Body::empty()
    } else if let Some(schedule) = trickle {
        Body::new(schedule.body(content))
    } else {
        Body::from(content)
    };
    build(status, headers, body)
}

fn build(status: StatusCode, headers: http::HeaderMap, body: Body) -> Response {
    let mut res = Response::new(body);
    *res.status_mut() = status;
    *res.headers_mut() = headers;
    res
}

/// The content of a response body, in memory (pipes need all of it).
pub(crate) async fn collect(body: Body) -> Result<Bytes, crate::BoxError> {
    use http_body_util::BodyExt;
    Ok(body.collect().await?.to_bytes())
}
