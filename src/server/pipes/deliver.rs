//! Turning a piped response into what is sent: the length, a trickled or stalled
//! body, or a fault played raw on the connection.

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};

use super::faults::{self, Cut, Fault, Stall};
use super::pipe::Piped;
use crate::server::body::{Body, Response};
use crate::server::respond;
use crate::transport::RawWriter;

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
    // 1xx, 204 and 304 carry no body: no length either (wptserve sends none).
    let bodiless = status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    if bodiless {
        if !length_set {
            headers.remove(header::CONTENT_LENGTH);
        }
        return build(status, headers, Body::empty());
    }
    let mut content = content;
    if length_set && fault.is_none() && trickle.is_none() && !head_only {
        let announced = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if announced != Some(content.len() as u64) {
            // `header(Content-Length,N)` that does not match the body: wptserve sends
            // both as they are. On HTTP/1.1 so do we, raw; elsewhere the body is cut to
            // a shorter length (a longer one ends the stream early, as a lying
            // server's would), and a length that is no number is dropped.
            if let Some(raw) = &raw {
                let mut bytes = faults::head(status, &headers);
                bytes.extend_from_slice(&content);
                if raw.write(bytes).await.is_ok() {
                    let _ = raw.close().await;
                }
                return respond::swallowed();
            }
            match announced {
                Some(n) if n < content.len() as u64 => {
                    content = content.slice(..usize::try_from(n).unwrap_or(0));
                }
                Some(_) => {}
                None => {
                    headers.remove(header::CONTENT_LENGTH);
                }
            }
        }
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
