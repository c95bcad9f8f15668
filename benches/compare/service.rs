//! The trivial service every row serves, and a loopback hyper server that serves it.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::net::SocketAddr;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{header, HeaderValue, Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower::Service as _;

/// The body of every response, from every server in the comparison.
pub(crate) const BODY: &str = "hello, world";

/// Answers every request with `200 OK`, `content-type: text/plain` and [`BODY`], the
/// same response the peers' mock servers are set up to give. Generic over the request
/// body, so the floor can call it without hyper.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Hello;

impl Hello {
    fn respond() -> Response<Full<Bytes>> {
        let mut res = Response::new(Full::new(Bytes::from_static(BODY.as_bytes())));
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        res
    }
}

impl<B> tower::Service<Request<B>> for Hello {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _req: Request<B>) -> Self::Future {
        ready(Ok(Hello::respond()))
    }
}

/// A hyper server (HTTP/1.1 and h2c, detected from the preface) serving [`Hello`] on
/// `127.0.0.1`, spawned on the current runtime as a test would spawn it. Dropping it
/// stops accepting; open connections end when their clients close them.
#[derive(Debug)]
pub(crate) struct LoopbackServer {
    addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl LoopbackServer {
    pub(crate) async fn start() -> LoopbackServer {
        let (listener, addr) = bind().await;
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_hello(stream));
            }
        });
        LoopbackServer { addr, accept }
    }

    /// The same server behind TLS (HTTP/2 and HTTP/1.1 by ALPN, as the gateway offers),
    /// with a self-signed certificate for `127.0.0.1`: the certificate, DER, for the
    /// client to trust.
    #[cfg(feature = "tls")]
    pub(crate) async fn start_tls() -> (LoopbackServer, Vec<u8>) {
        let key = rcgen::generate_simple_self_signed(vec![String::from("127.0.0.1")])
            .expect("a self-signed certificate");
        let cert = key.cert.der().clone();
        let private =
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.signing_key.serialize_der().into());
        let mut config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], private)
            .expect("a TLS server config");
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
        let (listener, addr) = bind().await;
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        serve_hello(tls).await;
                    }
                });
            }
        });
        (LoopbackServer { addr, accept }, cert.to_vec())
    }

    /// Its `https://` URL, for a server from [`LoopbackServer::start_tls`].
    #[cfg(feature = "tls")]
    pub(crate) fn tls_url(&self) -> String {
        format!("https://{}/", self.addr)
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

/// A listener on a free loopback port, and its address.
async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding a loopback port");
    let addr = listener.local_addr().expect("the bound loopback address");
    (listener, addr)
}

/// Serves [`Hello`] on one connection (HTTP/1.1 or HTTP/2, detected), until it closes.
async fn serve_hello<I>(io: I)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    // The tower service, as hyper's server takes it.
    let svc = service_fn(|req: Request<Incoming>| Hello.call(req));
    let _ = auto::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(io), svc)
        .await;
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}
