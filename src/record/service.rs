//! The service a cassette gives: replay what matches, record what does not (per the
//! mode), refuse the rest.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response};
use http_body::Body;
use http_body_util::BodyExt;

use super::body::ReplayBody;
use super::cassette::{Entry, Shared};
use super::error::{Error, Kind};
use super::future::CassetteFuture;
use super::interaction::{request_line, Failure, Interaction, Outcome};
use super::not_found::NotFound;
use super::upstream::Collected;
use crate::error::BoxError;

/// The tower service of a [`Cassette`](crate::record::Cassette): register it with
/// [`add`](crate::add). Generic over the request body, so it can also be called
/// directly (`tower::ServiceExt::oneshot`).
///
/// For each request it reads the whole body, then:
///
/// - replays the first unplayed recorded interaction that matches (when the mode
///   replays), in the chunks it was recorded in; a recorded failure makes the client's
///   request fail (see [`ReplayBody`]);
/// - otherwise, when the mode records, forwards the request to the upstream (the real
///   host, through [`Proxy`](crate::record::Proxy)), records the response (or the
///   connection failure) and answers with it;
/// - otherwise fails with an error naming the request, its nearest recorded candidate
///   and which matchers differed; registered with [`add`](crate::add), the client gets
///   a 500 response with that message and the [`ERROR_HEADER`](crate::ERROR_HEADER)
///   header. The request also goes into the cassette's end-of-test report.
#[derive(Clone)]
pub struct CassetteService {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CassetteService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CassetteService")
            .field("path", &self.shared.path)
            .finish()
    }
}

impl CassetteService {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        CassetteService { shared }
    }
}

impl<B> tower_service::Service<Request<B>> for CassetteService
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<ReplayBody>;
    type Error = Error;
    type Future = CassetteFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> CassetteFuture {
        CassetteFuture::new(handle(self.shared.clone(), req))
    }
}

/// `uri` with `prefix` put back in front of its path.
fn with_prefix(uri: &http::Uri, prefix: &str) -> http::Uri {
    let path = match uri.path() {
        "/" => prefix.to_owned(),
        path => format!("{prefix}{path}"),
    };
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut parts = uri.clone().into_parts();
    match http::uri::PathAndQuery::try_from(path_and_query) {
        Ok(pq) => parts.path_and_query = Some(pq),
        Err(_) => return uri.clone(),
    }
    http::Uri::from_parts(parts).unwrap_or_else(|_| uri.clone())
}

async fn handle<B>(shared: Arc<Shared>, req: Request<B>) -> Result<Response<ReplayBody>, Error>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map_err(|e| {
        let e: BoxError = e.into();
        Error::new(Kind::Body {
            what: "request",
            message: crate::service::error_chain(&*e),
        })
    })?;
    // Without the extensions: only what goes on the wire is recorded, under the URI the
    // client asked for (a mount's path prefix put back).
    let uri = match parts.extensions.get::<crate::PathPrefix>() {
        Some(prefix) => with_prefix(&parts.uri, prefix.as_str()),
        None => parts.uri,
    };
    let mut live = Request::new(body.to_bytes());
    *live.method_mut() = parts.method;
    *live.uri_mut() = uri;
    *live.version_mut() = parts.version;
    *live.headers_mut() = parts.headers;
    let view = shared.redaction.request(live.clone());

    if shared.replay {
        let miss = match &view {
            Some(view) => match shared.lookup(view) {
                Ok(entry) => return Ok(replay(&entry)),
                Err(detail) => detail,
            },
            None => "before_record_request dropped it, so it cannot match".to_owned(),
        };
        if !shared.record {
            let line = request_line(&live);
            match shared.not_found {
                NotFound::Report => {
                    shared.miss(line.clone(), miss.clone());
                    return Err(Error::new(Kind::Unmatched {
                        path: shared.path.clone(),
                        description: format!("{line}; {miss}"),
                    }));
                }
                NotFound::Abort => {
                    let message = format!("no recorded interaction matches {line}; {miss}");
                    let failure = Failure::new(super::interaction::FailureKind::Other, &message);
                    return Ok(failed_response(live.uri().to_string(), message, failure));
                }
                NotFound::Fallback => {
                    let uri = live.uri().to_string();
                    return Ok(match shared.upstream.call(live).await {
                        Ok(collected) => live_response(collected),
                        Err(failure) => failed_response(uri, failure.to_string(), failure),
                    });
                }
            }
        }
    }

    let uri = live.uri().to_string();
    match shared.upstream.call(live).await {
        Ok(collected) => {
            if let Some(req) = view {
                if let Some(interaction) = recorded_response(&shared, req, &collected) {
                    shared.push(interaction);
                }
            }
            Ok(live_response(collected))
        }
        Err(failure) => {
            let message = failure.to_string();
            if let Some(req) = view {
                shared.push(Interaction::failed(req, failure.clone()));
            }
            Ok(failed_response(uri, message, failure))
        }
    }
}

/// The interaction to record for a live response, after redaction and the hook.
fn recorded_response(
    shared: &Shared,
    req: Request<Bytes>,
    collected: &Collected,
) -> Option<Interaction> {
    let body = collected.body();
    let chunks: Vec<usize> = body.chunks.iter().map(Bytes::len).collect();
    let mut res = Response::new(concat(&body.chunks));
    *res.status_mut() = collected.status();
    *res.headers_mut() = collected.headers().clone();
    let mut res = shared.redaction.response(res)?;
    fix_content_length(&mut res);
    let trailers = body.trailers.clone().unwrap_or_default();
    Some(
        Interaction::new(req, res)
            .with_chunks(chunks)
            .with_trailers(trailers),
    )
}

fn concat(chunks: &[Bytes]) -> Bytes {
    match chunks {
        [] => Bytes::new(),
        [one] => one.clone(),
        many => {
            let mut all = Vec::with_capacity(many.iter().map(Bytes::len).sum());
            for c in many {
                all.extend_from_slice(c);
            }
            Bytes::from(all)
        }
    }
}

/// A hook may have changed the body: keep `content-length` true to it.
fn fix_content_length(res: &mut Response<Bytes>) {
    let len = res.body().len();
    if let Some(v) = res.headers().get(header::CONTENT_LENGTH) {
        if v.to_str().ok().and_then(|v| v.parse::<usize>().ok()) != Some(len) {
            res.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        }
    }
}

fn live_response(collected: Collected) -> Response<ReplayBody> {
    let (parts, body) = collected.into_parts();
    let lengths: Vec<usize> = body.chunks.iter().map(Bytes::len).collect();
    let replay = ReplayBody::chunked(concat(&body.chunks), &lengths).with_trailers(body.trailers);
    Response::from_parts(parts, replay)
}

fn failed_response(uri: String, message: String, failure: Failure) -> Response<ReplayBody> {
    let mut res = Response::new(ReplayBody::failure(uri, message));
    res.extensions_mut().insert(failure);
    // Served through the crate's transport, the client sees a connection failure.
    res.extensions_mut().insert(crate::Abort);
    res
}

/// The response of a recorded interaction: cheap clones of the recorded parts.
fn replay(entry: &Entry) -> Response<ReplayBody> {
    let interaction = &entry.interaction;
    match interaction.outcome() {
        Outcome::Response(recorded) => {
            let mut res = Response::new(
                ReplayBody::chunked(recorded.body().clone(), interaction.chunks())
                    .with_trailers(interaction.trailers().cloned()),
            );
            *res.status_mut() = recorded.status();
            *res.headers_mut() = recorded.headers().clone();
            res
        }
        Outcome::Failure(failure) => failed_response(
            interaction.request().uri().to_string(),
            failure.to_string(),
            failure.clone(),
        ),
    }
}
