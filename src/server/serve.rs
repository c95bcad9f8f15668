//! Real sockets: serving a service on `127.0.0.1` for clients that cannot be
//! intercepted (a browser, a subprocess, a client of another runtime).

use std::fmt;
use std::future::poll_fn;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::task::Poll;
use std::thread::JoinHandle;

use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use crate::registry::Registry;
use crate::service::InterceptService;
use crate::target::Scheme;

/// Serves `service` over plain HTTP (HTTP/1.1 and HTTP/2 with prior knowledge) on
/// `127.0.0.1` with an ephemeral port, until the returned guard is dropped.
///
/// The server runs on its own thread with its own tokio runtime, so it answers while
/// the test thread blocks (a `reqwest::blocking` call, waiting for a subprocess) and
/// whatever runtime the client uses; paused time in the test does not reach it.
/// Connections are served by the same pipeline as intercepted ones: a panicking
/// service answers a 500 that names the panic, `.asis` files and fault pipes write raw
/// bytes. Call it several times for several origins.
///
/// # Errors
///
/// Returns the error of binding the socket or of starting the server's thread.
///
/// # Examples
///
/// ```
/// use std::io::{Read, Write};
/// use http_intercept::server::{serve, Files};
///
/// let server = serve(Files::new("tests/www"))?;
/// let mut stream = std::net::TcpStream::connect(server.addr())?;
/// stream.write_all(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
/// let mut reply = String::new();
/// stream.read_to_string(&mut reply)?;
/// assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"));
/// assert!(reply.ends_with("hello, world\n"));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn serve<S, M>(service: S) -> io::Result<Server>
where
    S: InterceptService<M>,
{
    serve_listener(TcpListener::bind(("127.0.0.1", 0))?, service)
}

/// Serves `service` on a listener the caller bound: to know the port before the
/// service is built (for [`Files::with_port`](crate::server::Files::with_port)), or to
/// pick the address.
///
/// # Errors
///
/// Returns the error of reading the listener's address, of making it non-blocking, or
/// of starting the server's runtime or thread.
pub fn serve_listener<S, M>(listener: TcpListener, service: S) -> io::Result<Server>
where
    S: InterceptService<M>,
{
    start(listener, service, None)
}

/// Serves `service` over HTTPS (HTTP/1.1 and HTTP/2 by ALPN) on `127.0.0.1` with an
/// ephemeral port, until the returned guard is dropped, with a certificate for
/// `127.0.0.1` and `localhost` signed by the crate's in-memory CA: give
/// [`ca_certificate_pem`](crate::ca_certificate_pem) to the client (a browser, a
/// subprocess); reqwest clients built with `.intercept()` trust it already.
///
/// Otherwise as [`serve`].
///
/// # Errors
///
/// Returns the error of binding the socket, of making the certificate, or of starting
/// the server's thread.
///
/// # Examples
///
/// ```
/// use http_intercept::server::{serve_tls, Files};
///
/// let server = serve_tls(Files::new("tests/www"))?;
/// assert!(server.url().starts_with("https://127.0.0.1:"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub fn serve_tls<S, M>(service: S) -> io::Result<Server>
where
    S: InterceptService<M>,
{
    let config =
        crate::tls::server_config_for(&["127.0.0.1", "localhost"]).map_err(io::Error::other)?;
    start(TcpListener::bind(("127.0.0.1", 0))?, service, Some(config))
}

#[cfg(feature = "tls")]
type TlsConfig = std::sync::Arc<rustls::ServerConfig>;
#[cfg(not(feature = "tls"))]
type TlsConfig = std::convert::Infallible;

fn start<S, M>(listener: TcpListener, service: S, tls: Option<TlsConfig>) -> io::Result<Server>
where
    S: InterceptService<M>,
{
    let addr = listener.local_addr()?;
    listener.set_nonblocking(true)?;
    let scheme = if tls.is_some() {
        Scheme::Https
    } else {
        Scheme::Http
    };
    let registry = Registry::new();
    let guard = registry
        .add(format!("{}://{addr}", scheme.as_str()), service)
        .map_err(io::Error::other)?;
    let host = registry
        .host(
            &crate::scope::Lookup::process(),
            &guard.target().authority(),
        )
        .ok_or_else(|| io::Error::other("http-intercept: the server's registration vanished"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (shutdown, mut stop) = oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name(format!("http-intercept server {addr}"))
        .spawn(move || {
            runtime.block_on(async move {
                let _guard = guard;
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                loop {
                    let accepted = poll_fn(|cx| {
                        if Pin::new(&mut stop).poll(cx).is_ready() {
                            return Poll::Ready(None);
                        }
                        listener.poll_accept(cx).map(Some)
                    })
                    .await;
                    match accepted {
                        None => return,
                        Some(Ok((stream, _))) => {
                            let _ = stream.set_nodelay(true);
                            // An `Arc` with feature "tls", uninhabited without.
                            #[allow(clippy::clone_on_copy)]
                            let tls = tls.clone();
                            tokio::spawn(serve_stream(stream, host.clone(), tls));
                        }
                        // Out of file descriptors and the like: try again later.
                        Some(Err(_)) => tokio::task::yield_now().await,
                    }
                }
            });
            // Dropping the runtime ends every connection task.
        })?;
    Ok(Server {
        addr,
        scheme,
        shutdown: Some(shutdown),
        thread: Some(thread),
    })
}

/// Serves one accepted connection, after the TLS handshake when there is one.
async fn serve_stream(
    stream: tokio::net::TcpStream,
    host: std::sync::Arc<crate::registry::Host>,
    tls: Option<TlsConfig>,
) {
    match tls {
        None => crate::transport::serve(TokioIo::new(stream), host, Scheme::Http, None, None).await,
        #[cfg(feature = "tls")]
        Some(config) => {
            // A failed handshake (a client that does not trust the CA) ends the
            // connection; there is nobody else to tell.
            if let Ok(stream) = tokio_rustls::TlsAcceptor::from(config).accept(stream).await {
                crate::transport::serve(TokioIo::new(stream), host, Scheme::Https, None, None)
                    .await;
            }
        }
        #[cfg(not(feature = "tls"))]
        Some(never) => match never {},
    }
}

/// A server started by [`serve`]: dropping it (or [`shutdown`](Server::shutdown))
/// closes the listener and every connection before it returns.
#[must_use = "dropping the server shuts it down at once"]
pub struct Server {
    addr: SocketAddr,
    scheme: Scheme,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// The address it listens on (`127.0.0.1:<ephemeral port>`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Its base URL, without a trailing slash: `http://127.0.0.1:<port>`, or
    /// `https://` from [`serve_tls`](crate::server::serve_tls).
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme.as_str(), self.addr)
    }

    /// Stops the server and waits until its socket and connections are closed; the
    /// same as dropping it.
    pub fn shutdown(self) {}
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}
