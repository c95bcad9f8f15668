//! The forwarding proxy: a tower service that sends a request to the real host its
//! absolute URI names, over real TCP and TLS.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderMap};
use http::uri::{Authority, Scheme};
use http::{Request, Response, Uri};
use http_body::Body;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::error::{Error, Kind};
use super::future::ProxyFuture;
use super::interaction::FailureKind;
use crate::error::BoxError;
use crate::hop::strip_hop_by_hop;

type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;
type HttpClient = Client<HttpsConnector<HttpConnector>, ProxyBody>;

/// How long [`Proxy`] waits for a response head by default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A tower service that forwards each request to the real host named by its absolute
/// URI (`https://api.github.com/users/7`), over real TCP and TLS, like scotch's
/// ProxyApp. Cassettes record through it.
///
/// It never goes through http-intercept's [`Registry`](crate::Registry): it can
/// forward to a host whose intercept is the very service that calls it. Requests in
/// origin form take their authority from the `Host` header, and `http`. Hop-by-hop
/// headers (`connection`, `transfer-encoding`, ...) and `host` are dropped; the client
/// sets `host` again from the URI. HTTPS trusts the webpki roots and the system's
/// roots, and negotiates HTTP/2 or HTTP/1.1 by ALPN; plain HTTP uses HTTP/1.1.
///
/// The client is built on first use and reused by clones. As with any hyper client,
/// use a `Proxy` from one tokio runtime (one per test).
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// use http_intercept::record::Proxy;
/// use tower::ServiceExt;
///
/// let req = http::Request::get("https://www.rust-lang.org/").body(String::new())?;
/// let res = Proxy::new().oneshot(req).await?;
/// assert!(res.status().is_success());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Proxy {
    timeout: Option<Duration>,
    tls: Option<Arc<rustls::ClientConfig>>,
    client: Arc<OnceLock<HttpClient>>,
}

impl Default for Proxy {
    fn default() -> Self {
        Proxy::new()
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("timeout", &self.timeout)
            .field("custom_tls", &self.tls.is_some())
            .finish()
    }
}

impl Proxy {
    /// A proxy with a 30 s timeout and the default TLS roots.
    pub fn new() -> Proxy {
        Proxy {
            timeout: Some(DEFAULT_TIMEOUT),
            tls: None,
            client: Arc::new(OnceLock::new()),
        }
    }

    /// Sets how long to wait for the response head (connecting included); `None`
    /// waits for ever. A request that times out fails with an error for which
    /// [`Error::is_timeout`] is true, and a cassette records it as a timeout.
    ///
    /// Default: 30 seconds.
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Proxy {
        self.timeout = timeout;
        self
    }

    /// Uses this rustls configuration for HTTPS instead of the default one (webpki
    /// and system roots, the aws-lc-rs provider): to trust a test's own certificate
    /// authority, for example. ALPN is set to HTTP/2 and HTTP/1.1.
    ///
    /// Default: webpki roots plus the system's roots.
    pub fn with_tls_config(mut self, config: rustls::ClientConfig) -> Proxy {
        self.tls = Some(Arc::new(config));
        self.client = Arc::new(OnceLock::new());
        self
    }

    fn client(&self) -> &HttpClient {
        self.client.get_or_init(|| {
            let tls = match &self.tls {
                Some(config) => (**config).clone(),
                None => default_tls(),
            };
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls)
                .https_or_http()
                .enable_all_versions()
                .build();
            Client::builder(TokioExecutor::new()).build(https)
        })
    }

    fn forward<B>(&self, req: Request<B>) -> ProxyFuture
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let (mut parts, body) = req.into_parts();
        if let Some(uri) = absolute(&parts.uri, &parts.headers) {
            parts.uri = uri;
        }
        let uri = parts.uri.to_string();
        if parts.uri.authority().is_none() {
            let err = Error::new(Kind::Upstream {
                uri,
                failure: FailureKind::Other,
                message: "the request names no host: it has no absolute uri and no host header"
                    .into(),
            });
            return ProxyFuture::new(std::future::ready(Err(err)));
        }
        strip_hop_by_hop(&mut parts.headers);
        parts.headers.remove(header::HOST);
        parts.version = http::Version::HTTP_11;
        let req = Request::from_parts(parts, body.map_err(Into::into).boxed_unsync());
        let client = self.client().clone();
        let timeout = self.timeout;
        ProxyFuture::new(async move {
            let fut = client.request(req);
            let res = match timeout {
                Some(limit) => match tokio::time::timeout(limit, fut).await {
                    Ok(res) => res,
                    Err(_) => {
                        return Err(Error::new(Kind::Upstream {
                            uri,
                            failure: FailureKind::Timeout,
                            message: format!("no response within {limit:?}"),
                        }))
                    }
                },
                None => fut.await,
            };
            match res {
                Ok(mut res) => {
                    strip_hop_by_hop(res.headers_mut());
                    Ok(res)
                }
                Err(err) => Err(classify(uri, &err)),
            }
        })
    }
}

impl<B> tower_service::Service<Request<B>> for Proxy
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<Incoming>;
    type Error = Error;
    type Future = ProxyFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> ProxyFuture {
        self.forward(req)
    }
}

/// The default TLS configuration: webpki roots and the system's, aws-lc-rs.
fn default_tls() -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the aws-lc-rs provider supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// The absolute form of an origin-form URI, from the `Host` header.
fn absolute(uri: &Uri, headers: &HeaderMap) -> Option<Uri> {
    if uri.authority().is_some() {
        return None;
    }
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let authority = Authority::try_from(host).ok()?;
    let mut parts = uri.clone().into_parts();
    parts.scheme = Some(Scheme::HTTP);
    parts.authority = Some(authority);
    if parts.path_and_query.is_none() {
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
    }
    Uri::from_parts(parts).ok()
}

/// Tells connect, DNS and other failures apart.
fn classify(uri: String, err: &hyper_util::client::legacy::Error) -> Error {
    let message = crate::service::error_chain(err);
    let failure = if message.contains("dns error") {
        FailureKind::Dns
    } else if err.is_connect() {
        FailureKind::Connect
    } else {
        FailureKind::Other
    };
    Error::new(Kind::Upstream {
        uri,
        failure,
        message,
    })
}
