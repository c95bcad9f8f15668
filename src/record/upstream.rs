//! Where a cassette records from: the [`Proxy`](super::Proxy) by default, or any tower
//! service. The response is read whole, chunk by chunk, so that it can be recorded.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;

use super::error::Error;
use super::interaction::{Failure, FailureKind};
use crate::error::BoxError;

/// A response read whole: its parts, its body's chunks and its trailers.
pub(crate) type Collected = Response<CollectedBody>;

/// A response body read whole.
#[derive(Debug, Default)]
pub(crate) struct CollectedBody {
    pub(crate) chunks: Vec<Bytes>,
    pub(crate) trailers: Option<http::HeaderMap>,
}

type UpstreamFuture = Pin<Box<dyn Future<Output = Result<Collected, Failure>> + Send>>;

/// A type-erased upstream.
#[derive(Clone)]
pub(crate) struct Upstream(Arc<dyn Fn(Request<Bytes>) -> UpstreamFuture + Send + Sync>);

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Upstream")
    }
}

impl Upstream {
    pub(crate) fn new<S, B>(service: S) -> Upstream
    where
        S: tower_service::Service<Request<Full<Bytes>>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Upstream(Arc::new(move |req: Request<Bytes>| {
            let svc = service.clone();
            Box::pin(async move {
                let res = svc
                    .oneshot(req.map(Full::new))
                    .await
                    .map_err(|e| failure(e.into()))?;
                let (parts, body) = res.into_parts();
                let mut body = std::pin::pin!(body);
                let mut chunks = Vec::new();
                let mut trailers: Option<http::HeaderMap> = None;
                while let Some(frame) = body.frame().await {
                    let frame = frame.map_err(|e| {
                        let e: BoxError = e.into();
                        Failure::new(
                            FailureKind::Other,
                            format!(
                                "the response body failed: {}",
                                crate::service::error_chain(&*e)
                            ),
                        )
                    })?;
                    match frame.into_data() {
                        Ok(data) if !data.is_empty() => chunks.push(data),
                        Ok(_) => {}
                        Err(frame) => {
                            if let Ok(t) = frame.into_trailers() {
                                trailers.get_or_insert_with(Default::default).extend(t);
                            }
                        }
                    }
                }
                Ok(Response::from_parts(
                    parts,
                    CollectedBody { chunks, trailers },
                ))
            })
        }))
    }

    pub(crate) fn call(&self, req: Request<Bytes>) -> UpstreamFuture {
        (self.0)(req)
    }
}

/// A failure from an upstream error: its kind if it is the proxy's, else `other`.
fn failure(err: BoxError) -> Failure {
    let kind = err
        .downcast_ref::<Error>()
        .and_then(Error::failure_kind)
        .unwrap_or(FailureKind::Other);
    Failure::new(kind, crate::service::error_chain(&*err))
}
