//! Responses the test server makes up: errors that say what went wrong, and the
//! placeholder returned after a response was written raw.

use http::{header, HeaderValue, StatusCode};

use crate::server::body::{Body, Response};
use crate::service::ERROR_HEADER;

/// A plain-text response saying what went wrong, marked with
/// [`ERROR_HEADER`](crate::ERROR_HEADER)`: server`.
pub(crate) fn error(status: StatusCode, message: String) -> Response {
    let mut res = Response::new(Body::from(message));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res.headers_mut()
        .insert(ERROR_HEADER, HeaderValue::from_static("server"));
    res
}

/// What a service returns after writing its response raw: hyper's rendering of it is
/// swallowed by the connection.
pub(crate) fn swallowed() -> Response {
    Response::new(Body::empty())
}
