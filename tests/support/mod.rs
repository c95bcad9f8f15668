//! Shared helpers for the behaviour tests: clients, services and a real loopback server.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use http_intercept::{BoxError, Connector};
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

pub type Body = BoxBody<Bytes, BoxError>;
pub type TestClient = Client<Connector<HttpConnector>, Body>;

/// An HTTP/1.1 hyper-util client through the default connector.
pub fn client() -> TestClient {
    client_with(Connector::new())
}

/// An HTTP/2-only (prior knowledge) hyper-util client through the default connector.
pub fn h2_client() -> TestClient {
    Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build(Connector::new())
}

pub fn client_with(connector: Connector) -> TestClient {
    Client::builder(TokioExecutor::new()).build(connector)
}

pub fn empty() -> Body {
    Empty::new().map_err(|e| match e {}).boxed()
}

pub fn full(data: impl Into<Bytes>) -> Body {
    Full::new(data.into()).map_err(|e| match e {}).boxed()
}

pub fn get(url: &str) -> Request<Body> {
    Request::get(url).body(empty()).unwrap()
}

pub async fn text(res: Response<Incoming>) -> String {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A service that answers with what it saw: method, URI, Host header, the path prefix
/// extension and the request body, one per line.
pub fn echo() -> impl tower::Service<
    Request<Incoming>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(|req: Request<Incoming>| async move {
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let host = parts
            .headers
            .get(http::header::HOST)
            .map(|h| h.to_str().unwrap().to_owned())
            .unwrap_or_else(|| "-".into());
        let prefix = parts
            .extensions
            .get::<http_intercept::PathPrefix>()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "-".into());
        let text = format!(
            "{} {}\nhost={}\nprefix={}\n{}",
            parts.method,
            parts.uri,
            host,
            prefix,
            String::from_utf8_lossy(&body)
        );
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(text))))
    })
}

/// A service that answers `text` to everything.
pub fn fixed(
    text: &'static str,
) -> impl tower::Service<
    Request<Incoming>,
    Response = Response<String>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(move |_req: Request<Incoming>| async move {
        Ok::<_, Infallible>(Response::new(text.to_owned()))
    })
}

/// A real hyper server on 127.0.0.1, answering `real server` and recording the Host
/// header of every request, the number of connections it accepted, and the number of
/// requests that carried a proxy's header (`Proxy-Authorization`, `Proxy-Connection`),
/// which no client of this crate may send it.
pub struct LoopbackServer {
    pub addr: SocketAddr,
    pub connections: Arc<AtomicUsize>,
    pub hosts: Arc<Mutex<Vec<String>>>,
    pub proxy_headers: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl LoopbackServer {
    pub async fn start() -> LoopbackServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let hosts = Arc::new(Mutex::new(Vec::new()));
        let proxy_headers = Arc::new(AtomicUsize::new(0));
        let (c, h, p) = (connections.clone(), hosts.clone(), proxy_headers.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                c.fetch_add(1, Ordering::SeqCst);
                let hosts = h.clone();
                let proxied = p.clone();
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    if req
                        .headers()
                        .contains_key(http::header::PROXY_AUTHORIZATION)
                        || req.headers().contains_key("proxy-connection")
                    {
                        proxied.fetch_add(1, Ordering::SeqCst);
                    }
                    let host = req
                        .headers()
                        .get(http::header::HOST)
                        .map(|v| v.to_str().unwrap().to_owned())
                        .unwrap_or_default();
                    hosts.lock().unwrap().push(host);
                    async {
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("real server"))))
                    }
                });
                tokio::spawn(async move {
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        LoopbackServer {
            addr,
            connections,
            hosts,
            proxy_headers,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> usize {
        self.hosts.lock().unwrap().len()
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Finds an `http_intercept::Error` in an error's source chain.
pub fn find_intercept_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a http_intercept::Error> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<http_intercept::Error>() {
            return Some(found);
        }
        current = e.source();
    }
    None
}
