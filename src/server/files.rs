//! `Files`: the test server as one tower service: handlers first, then static files
//! with their `.headers`, `.asis` files and pipes.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::request::Parts;
use http::{header, Method, StatusCode};
use http_body_util::{BodyExt, Empty};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use crate::error::BoxError;
use crate::server::asis;
use crate::server::body::{Body, Response, Unsized};
use crate::server::handler::{FnHandler, IntoReply, Mounted, Request, ResponseBuilder};
use crate::server::headers::Overrides;
use crate::server::path::{self, Refused};
use crate::server::pipes::{self, Piped, Pipeline};
use crate::server::query;
use crate::server::raw::RawWriter;
use crate::server::respond;
use crate::server::stash::Stash;
use crate::server::sub::RequestInfo;
use crate::service::error_chain;

/// The scriptable test server, as a tower service: wptserve's static files, `.headers`,
/// `.asis` files, pipes, handlers and stash.
///
/// A request goes to the first [handler](Files::handler) mounted at its path, or else
/// to the file it names under the root:
///
/// - **Static files** are served by tower-http's `ServeDir`: `Content-Type` from the
///   extension, `HEAD`, `ETag`/`Last-Modified` with `If-None-Match`/`If-Modified-Since`
///   (304), `Range` (206), `index.html` for directories (and a redirect to add the
///   trailing slash). Paths that could escape the root (`..` or `.` segments in any
///   percent-encoding, `//`, NUL, backslashes, drive letters, symlinks resolving
///   outside the root) get a 403 naming the reason, before anything is read; missing
///   files a 404.
/// - **`NAME.headers`** beside a file and **`__dir__.headers`** in its directory set
///   (`Header-Name: value`) or remove (`-Header-Name`) headers of its responses; the
///   file's own win. Removing `Content-Length` sends the body chunked. A malformed line
///   gives a 500 naming the file and line. hyper adds `Date` to every HTTP/1.1
///   response and it cannot be removed: use an `.asis` file for that.
/// - **`NAME.asis`** files are literal HTTP responses, sent byte for byte on HTTP/1.1
///   (a 500 explaining why on HTTP/2).
/// - **Pipes** (`?pipe=status(404)|header(Content-Type,text/plain)|trickle(d1:100:d1)`)
///   rewrite the response of a file or a handler: `status(code)`,
///   `header(name,value[,append])`, `slice(start[,end])`, `trickle(spec)`, `gzip`,
///   `sub[(none)]`, `delay(seconds)`, and the faults `close(bytes)`, `stall`,
///   `malformed_chunk` and `reset`. Files named `*.sub.*` get `sub` first. With pipes,
///   `Range` and conditional headers are ignored (the pipes see the whole file) and a
///   `HEAD` gets the headers of the piped `GET`. A bad pipe string gives a 500 naming
///   the pipe and what is wrong.
///
/// The same value serves in memory ([`add`](crate::add)) and on a socket
/// ([`serve`](crate::server::serve)); clones share handlers and the [`Stash`].
///
/// # Examples
///
/// ```
/// use http_intercept::server::Files;
/// use http_body_util::{BodyExt, Empty};
/// use hyper_util::client::legacy::Client;
/// use hyper_util::rt::TokioExecutor;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// let _site = http_intercept::add("http://files-doc.test", Files::new("tests/www"))?;
/// let client = Client::builder(TokioExecutor::new())
///     .build::<_, Empty<bytes::Bytes>>(http_intercept::Connector::new());
///
/// let url = "http://files-doc.test/hello.txt?pipe=status(404)|header(X-Test,1)";
/// let res = client.get(url.parse()?).await?;
/// assert_eq!(res.status(), 404);
/// assert_eq!(res.headers()["x-test"], "1");
/// assert_eq!(res.into_body().collect().await?.to_bytes(), "hello, world\n");
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Files {
    inner: Arc<Config>,
}

#[derive(Clone)]
struct Config {
    root: PathBuf,
    serve_dir: ServeDir,
    handlers: Vec<Mounted>,
    stash: Stash,
    ports: BTreeMap<String, Vec<u16>>,
}

impl Files {
    /// Serves the files under `root` (relative paths are resolved against the current
    /// directory at each request; `cargo test` runs in the crate's directory).
    pub fn new(root: impl Into<PathBuf>) -> Files {
        let root = root.into();
        Files {
            inner: Arc::new(Config {
                serve_dir: ServeDir::new(&root),
                root,
                handlers: Vec::new(),
                stash: Stash::new(),
                ports: BTreeMap::new(),
            }),
        }
    }

    /// Mounts `handler` at `path`: an exact path (`"/echo"`), or every path under a
    /// prefix when it ends with `*` (`"/api/*"`). Handlers come before files; the
    /// first one mounted that matches wins.
    ///
    /// The handler is given the [`Request`] (whole body read) and a
    /// [`ResponseBuilder`], and returns anything [`IntoReply`]. Pipes in the query apply
    /// to its response too. An error it returns is answered with a 500 naming it; a
    /// panic, when served by http-intercept, with a 500 naming the panic.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::server::{Files, Request, ResponseBuilder};
    ///
    /// let files = Files::new("tests/www").handler("/count", |req: Request, res: ResponseBuilder| async move {
    ///     let n = req.stash().take("count").map_or(0, |v| v[0]) + 1;
    ///     req.stash().put("count", vec![n])?;
    ///     res.header("content-type", "text/plain").body(n.to_string())
    /// });
    /// # drop(files);
    /// ```
    pub fn handler<F, Fut, R>(mut self, path: &str, handler: F) -> Files
    where
        F: Fn(Request, ResponseBuilder) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = R> + Send + 'static,
        R: IntoReply,
    {
        Arc::make_mut(&mut self.inner)
            .handlers
            .push(Mounted::new(path, Arc::new(FnHandler(handler))));
        self
    }

    /// Shares `stash` with this server's handlers (for example between two servers).
    ///
    /// Default: a fresh [`Stash`] per `Files::new`.
    pub fn with_stash(mut self, stash: Stash) -> Files {
        Arc::make_mut(&mut self.inner).stash = stash;
        self
    }

    /// Adds `port` to the ports of `scheme` that `{{ports[scheme][i]}}` substitutes, in
    /// the order added.
    ///
    /// Default: none; then `{{ports[s][0]}}` for the request's own scheme `s` is the
    /// request's port, and other schemes and indexes are an error.
    pub fn with_port(mut self, scheme: &str, port: u16) -> Files {
        Arc::make_mut(&mut self.inner)
            .ports
            .entry(scheme.to_ascii_lowercase())
            .or_default()
            .push(port);
        self
    }

    /// The stash this server's handlers share.
    pub fn stash(&self) -> &Stash {
        &self.inner.stash
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }
}

impl fmt::Debug for Files {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let handlers: Vec<&str> = self.inner.handlers.iter().map(Mounted::pattern).collect();
        f.debug_struct("Files")
            .field("root", &self.inner.root)
            .field("handlers", &handlers)
            .field("ports", &self.inner.ports)
            .finish()
    }
}

impl<B> tower_service::Service<http::Request<B>> for Files
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> ResponseFuture {
        let config = self.inner.clone();
        ResponseFuture {
            inner: Box::pin(async move { Ok(respond(config, req).await) }),
        }
    }
}

/// The future of a [`Files`] response.
pub struct ResponseFuture {
    inner: Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>,
}

impl Future for ResponseFuture {
    type Output = Result<Response, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl fmt::Debug for ResponseFuture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseFuture")
    }
}

fn server_error(message: String) -> Response {
    respond::error(StatusCode::INTERNAL_SERVER_ERROR, message)
}

async fn respond<B>(config: Arc<Config>, req: http::Request<B>) -> Response
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (parts, body) = req.into_parts();
    let raw = parts.extensions.get::<RawWriter>().cloned();
    let pipe_string = parts
        .uri
        .query()
        .map(|q| {
            query::pairs(q)
                .into_iter()
                .filter(|(name, _)| name == "pipe")
                .map(|(_, value)| value)
                .collect::<Vec<_>>()
                .join("|")
        })
        .unwrap_or_default();
    let pipeline = match Pipeline::parse(&pipe_string) {
        Ok(pipeline) => pipeline,
        Err(e) => {
            return server_error(format!(
                "http-intercept: bad pipe string {pipe_string:?} in {}: {e}",
                parts.uri
            ))
        }
    };
    let info = RequestInfo::new(&parts, &config.ports);
    let path = parts.uri.path().to_owned();

    if let Some(mounted) = config.handlers.iter().find(|m| m.matches(&path)) {
        let body = match body.collect().await {
            Ok(body) => body.to_bytes(),
            Err(e) => {
                let e: BoxError = e.into();
                return respond::error(
                    StatusCode::BAD_REQUEST,
                    format!("http-intercept: cannot read the request body: {e}"),
                );
            }
        };
        let request = Request::new(parts, body, config.stash.clone(), raw.clone());
        let res = match mounted.handler.call(request, ResponseBuilder::new()).await {
            Ok(res) => res,
            Err(e) => {
                return server_error(format!(
                    "http-intercept: the handler at {} failed: {}",
                    mounted.pattern(),
                    error_chain(&*e)
                ))
            }
        };
        if raw.as_ref().is_some_and(RawWriter::is_taken) {
            return respond::swallowed();
        }
        if pipeline.is_empty() {
            return res;
        }
        return pipe(res, &pipeline, &info, &path, raw, false).await;
    }
    drop(body);
    file(&config, parts, pipeline, &info, raw).await
}

async fn file(
    config: &Config,
    parts: Parts,
    pipeline: Pipeline,
    info: &RequestInfo,
    raw: Option<RawWriter>,
) -> Response {
    let path = parts.uri.path();
    let root = match std::fs::canonicalize(&config.root) {
        Ok(root) => root,
        Err(e) => {
            return server_error(format!(
                "http-intercept: cannot serve files from {}: {e}",
                config.root.display()
            ))
        }
    };
    let resolved = match path::resolve(&root, path) {
        Ok(resolved) => resolved,
        Err(Refused(why)) => {
            return respond::error(StatusCode::FORBIDDEN, format!("http-intercept: {why}"))
        }
    };
    let file = if resolved.full.is_dir() {
        resolved.full.join("index.html")
    } else {
        resolved.full
    };
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name.ends_with(".asis") && file.is_file() {
        return asis::send(&file, path, info, raw, parts.version).await;
    }
    let overrides = match Overrides::load(&file) {
        Ok(overrides) => overrides,
        Err(e) => return server_error(format!("http-intercept: {e}")),
    };
    let pipeline = if name.contains(".sub.") {
        pipeline.with_sub_first()
    } else {
        pipeline
    };

    let head_only = parts.method == Method::HEAD;
    let mut inner = http::Request::new(Empty::<Bytes>::new());
    *inner.method_mut() = if head_only && !pipeline.is_empty() {
        Method::GET
    } else {
        parts.method.clone()
    };
    *inner.uri_mut() = path.parse().unwrap_or_default();
    *inner.version_mut() = parts.version;
    *inner.headers_mut() = parts.headers.clone();
    if !pipeline.is_empty() {
        for name in [
            header::RANGE,
            header::IF_RANGE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            header::IF_MODIFIED_SINCE,
            header::IF_UNMODIFIED_SINCE,
        ] {
            inner.headers_mut().remove(name);
        }
    }
    let res = match config.serve_dir.clone().oneshot(inner).await {
        Ok(res) => res,
        Err(never) => match never {},
    };
    if res.status() == StatusCode::NOT_FOUND {
        return respond::error(
            StatusCode::NOT_FOUND,
            format!(
                "http-intercept: no file at {path} under {}",
                config.root.display()
            ),
        );
    }
    let mut res = res.map(Body::new);
    let status = res.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        overrides.apply(res.headers_mut());
        if !overrides.is_empty() && overrides.removes(&header::CONTENT_LENGTH) {
            res = res.map(|body| Body::new(Unsized(body)));
        }
    }
    if pipeline.is_empty() {
        return res;
    }
    pipe(res, &pipeline, info, path, raw, head_only).await
}

/// Runs the pipes on `res` and sends the result.
async fn pipe(
    res: Response,
    pipeline: &Pipeline,
    info: &RequestInfo,
    label: &str,
    raw: Option<RawWriter>,
    head_only: bool,
) -> Response {
    let (parts, body) = res.into_parts();
    let content = match pipes::collect(body).await {
        Ok(content) => content,
        Err(e) => {
            return server_error(format!(
                "http-intercept: cannot read the response of {label} for its pipes: {e}"
            ))
        }
    };
    let mut piped = Piped::new(parts.status, parts.headers, content);
    if let Err(e) = pipeline.apply(&mut piped, info, label) {
        return server_error(format!("http-intercept: {e}"));
    }
    pipes::deliver(piped, raw, head_only).await
}
