//! `Files`: the test server as one tower service: handlers first, then static files
//! with their `.headers`, `.asis` files and pipes.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::request::Parts;
use http::{header, HeaderValue, Method, StatusCode};
use http_body_util::BodyExt;

use crate::error::BoxError;
use crate::server::asis;
use crate::server::body::{Body, Response, Unsized};
use crate::server::cache::Cache;
use crate::server::handler::{FnHandler, IntoReply, Mounted, Request, ResponseBuilder};
use crate::server::headers::Overrides;
use crate::server::lookup::Found;
use crate::server::pipes::{self, Piped, Pipeline};
use crate::server::query;
use crate::server::site::{RequestInfo, Site};
use crate::server::stash::Stash;
use crate::server::sub::Escape;
use crate::server::{mime, respond, serve_file};
use crate::service::error_chain;
use crate::transport::RawWriter;

/// The scriptable test server, as a tower service: wptserve's static files, `.headers`,
/// `.asis` files, pipes, handlers and stash.
///
/// A request goes to the first [handler](Files::handler) mounted at its path, or else
/// to the file it names under the root:
///
/// - **Static files**: `Content-Type` from wptserve's table of extensions
///   (`application/octet-stream` for others), `HEAD`, `ETag`/`Last-Modified` with
///   `If-None-Match`/`If-Modified-Since` (304), `Range` (206; several ranges a
///   `multipart/byteranges`; 416), `index.html` for directories, a listing page for a
///   directory without one, and a redirect to add a directory's trailing slash; a file
///   asked for with a trailing slash (`/hello.txt/`) is a 404. Paths that could escape
///   the root (`..` or `.` segments in any percent-encoding, `//`, NUL, backslashes,
///   drive letters) get a 403 naming the reason before anything is read, and every
///   file the server opens (the file, its `.headers` files, `index.html`, `.asis`
///   files, files named in substitutions) is refused with a 403 when it resolves
///   outside the root through a symlink; missing files get a 404.
/// - **`NAME.headers`** beside a file and **`__dir__.headers`** in its directory add
///   (`Header-Name: value`) headers to its responses, replacing the server's own (a
///   `Content-Type` line replaces the guessed type); when both files set a header,
///   both values are sent, directory's first, as wptserve sends them.
///   `NAME.sub.headers` and `__dir__.sub.headers` take their place with substitutions
///   (unescaped). Ours alone: `-Header-Name` removes a header; removing
///   `Content-Length` sends the body chunked. A malformed line gives a 500 naming the
///   file and line. hyper adds `Date` to every HTTP/1.1 response and it cannot be
///   removed: use an `.asis` file for that.
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
    handlers: Vec<Mounted>,
    stash: Stash,
    site: Arc<Site>,
    cache: Arc<Cache>,
}

impl Files {
    /// Serves the files under `root` (relative paths are resolved against the current
    /// directory at each request; `cargo test` runs in the crate's directory).
    pub fn new(root: impl Into<PathBuf>) -> Files {
        let root = root.into();
        Files {
            inner: Arc::new(Config {
                handlers: Vec::new(),
                stash: Stash::new(),
                cache: Arc::new(Cache::new()),
                site: Arc::new(Site {
                    root,
                    ..Site::default()
                }),
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
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::server::Files;
    ///
    /// let files = Files::new("tests/www").with_port("http", 8000).with_port("https", 8443);
    /// # drop(files);
    /// ```
    pub fn with_port(mut self, scheme: &str, port: u16) -> Files {
        self.site()
            .ports
            .entry(scheme.to_ascii_lowercase())
            .or_default()
            .push(port);
        self
    }

    /// Sets the primary host that `{{host}}`, `{{domains[..]}}` and `{{hosts[][..]}}`
    /// substitute (wptserve's `browser_host`).
    ///
    /// Default: the host of each request, so that a test's own intercepted host name
    /// comes back in its pages (wptserve's default is the fixed `localhost`, which an
    /// in-memory server has no use for).
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::server::Files;
    ///
    /// let files = Files::new("tests/www")
    ///     .with_host("web-platform.test")
    ///     .with_subdomain("www")
    ///     .with_alternate_host("alt", "not-web-platform.test");
    /// // {{domains[www]}} is www.web-platform.test, {{hosts[alt][www]}} is
    /// // www.not-web-platform.test.
    /// # drop(files);
    /// ```
    pub fn with_host(mut self, host: &str) -> Files {
        self.site().host = Some(host.to_ascii_lowercase());
        self
    }

    /// Adds `subdomain` to those `{{domains[subdomain]}}` and
    /// `{{hosts[..][subdomain]}}` know (wptserve's `subdomains`).
    ///
    /// Default: none configured, and then any subdomain is accepted
    /// (`{{domains[x]}}` is `x.` and the host); once one is configured, others are an
    /// error, as in wptserve.
    pub fn with_subdomain(mut self, subdomain: &str) -> Files {
        self.site().subdomains.push(subdomain.to_ascii_lowercase());
        self
    }

    /// Adds an alternate host `{{hosts[name][..]}}` substitutes (wptserve's
    /// `alternate_hosts`).
    ///
    /// Default: none; `{{hosts[][..]}}` is the primary host.
    pub fn with_alternate_host(mut self, name: &str, host: &str) -> Files {
        self.site()
            .alternate_hosts
            .insert(name.to_owned(), host.to_ascii_lowercase());
        self
    }

    /// Makes `{{key}}` substitute `value`, as wptserve substitutes its configuration
    /// keys. `host`, `browser_host`, `server_host`, `doc_root` and `ports` are
    /// built in and keep their meaning.
    ///
    /// Default: no other keys.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::server::Files;
    ///
    /// let files = Files::new("tests/www").with_config("flavor", "strict");
    /// # drop(files);
    /// ```
    pub fn with_config(mut self, key: &str, value: &str) -> Files {
        self.site().values.insert(key.to_owned(), value.to_owned());
        self
    }

    fn site(&mut self) -> &mut Site {
        Arc::make_mut(&mut Arc::make_mut(&mut self.inner).site)
    }

    /// The stash this server's handlers share.
    pub fn stash(&self) -> &Stash {
        &self.inner.stash
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.inner.site.root
    }
}

impl fmt::Debug for Files {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let handlers: Vec<&str> = self.inner.handlers.iter().map(Mounted::pattern).collect();
        f.debug_struct("Files")
            .field("root", &self.inner.site.root)
            .field("handlers", &handlers)
            .field("site", &self.inner.site)
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

/// The pipe string of a query: its last non-empty `pipe` parameter, as wptserve reads
/// it.
fn pipe_string(query: Option<&str>) -> String {
    query
        .map(|q| {
            query::pairs(q)
                .into_iter()
                .rfind(|(name, value)| name == "pipe" && !value.is_empty())
                .map(|(_, value)| value)
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

async fn respond<B>(config: Arc<Config>, req: http::Request<B>) -> Response
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (parts, body) = req.into_parts();
    let raw = parts.extensions.get::<RawWriter>().cloned();
    let pipe_string = pipe_string(parts.uri.query());
    let pipeline = match Pipeline::parse(&pipe_string) {
        Ok(pipeline) => pipeline,
        Err(e) => {
            return server_error(format!(
                "http-intercept: bad pipe string {pipe_string:?} in {}: {e}",
                parts.uri
            ))
        }
    };
    let info = RequestInfo::new(&parts, &config.site);
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
    let entry = match config.cache.find(&config.site.root, path).await {
        Found::File(entry) => entry,
        Found::Listing(html) => {
            let mut res = Response::new(Body::from(html));
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            if parts.method == Method::HEAD {
                *res.body_mut() = Body::empty();
            }
            return if pipeline.is_empty() {
                res
            } else {
                pipe(
                    res,
                    &pipeline,
                    info,
                    path,
                    raw,
                    parts.method == Method::HEAD,
                )
                .await
            };
        }
        Found::AddSlash => {
            let mut location = format!("{path}/");
            if let Some(query) = parts.uri.query() {
                location.push('?');
                location.push_str(query);
            }
            let mut res = respond::error(
                StatusCode::MOVED_PERMANENTLY,
                format!("http-intercept: {path} is a directory: {location}"),
            );
            if let Ok(value) = HeaderValue::try_from(location) {
                res.headers_mut().insert(header::LOCATION, value);
            }
            res.headers_mut().remove(crate::ERROR_HEADER);
            return res;
        }
        Found::Missing => {
            return respond::error(
                StatusCode::NOT_FOUND,
                format!(
                    "http-intercept: no file at {path} under {}",
                    config.site.root.display()
                ),
            )
        }
        Found::Refused(why) => return respond::error(StatusCode::FORBIDDEN, why),
        Found::Failed(why) => return server_error(why),
    };
    if entry.is_asis() {
        return asis::send(&entry, path, info, raw, parts.version).await;
    }
    let overrides = match entry.headers.as_ref().map_err(Clone::clone) {
        Ok(files) if Overrides::reads_files(files) => {
            // A `.sub.headers` calling `{{file_hash(..)}}` reads a file: off the
            // runtime thread.
            let (entry, info) = (entry.clone(), info.clone());
            tokio::task::spawn_blocking(move || {
                Overrides::new(entry.headers.as_deref().unwrap_or_default(), &info)
            })
            .await
            .unwrap_or_else(|e| Err(format!("the headers files failed: {e}")))
        }
        Ok(files) => Overrides::new(files, info),
        Err(e) => Err(e),
    };
    let overrides = match overrides {
        Ok(overrides) => overrides,
        Err(e) => return server_error(format!("http-intercept: {e}")),
    };
    let pipeline = if entry.name.contains(".sub.") {
        // wptserve: `sub(html)` for markup, `sub(none)` for the rest, before the
        // query's pipes (a `?pipe=sub` then substitutes a second time).
        let escape = if mime::is_markup(&entry.name) {
            Escape::Html
        } else {
            Escape::None
        };
        pipeline.with_sub_first(escape)
    } else {
        pipeline
    };
    let head_only = parts.method == Method::HEAD;
    let method = if head_only && !pipeline.is_empty() {
        Method::GET
    } else {
        parts.method.clone()
    };
    let mut res =
        serve_file::respond(&entry, &method, &parts.headers, !pipeline.is_empty(), path).await;
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
    let applied = if pipeline.reads_files(&piped.content) {
        // `{{file_hash(..)}}` reads a file: off the runtime thread.
        let (pipeline, info, label) = (pipeline.clone(), info.clone(), label.to_owned());
        tokio::task::spawn_blocking(move || {
            pipeline.apply(&mut piped, &info, &label).map(|()| piped)
        })
        .await
        .unwrap_or_else(|e| Err(format!("the pipes failed: {e}")))
    } else {
        pipeline.apply(&mut piped, info, label).map(|()| piped)
    };
    match applied {
        Ok(piped) => pipes::deliver(piped, raw, head_only).await,
        Err(e) => server_error(format!("http-intercept: {e}")),
    }
}
