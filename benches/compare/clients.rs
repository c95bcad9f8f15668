//! The clients of the rows, each a [`Call`] that makes one request and checks the answer.

use std::fmt;

use bytes::Bytes;
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::ServiceExt;

use crate::measure::Call;
use crate::service::{Hello, BODY};

/// Panics unless the answer is `200` and [`BODY`]; `what` is only formatted then.
fn check(what: &dyn fmt::Display, status: StatusCode, body: &[u8]) {
    assert!(
        status == StatusCode::OK && body == BODY.as_bytes(),
        "{what} answered {status} {:?} instead of 200 {BODY:?}",
        String::from_utf8_lossy(body)
    );
}

/// The floor: `tower::ServiceExt::oneshot` on [`Hello`], no HTTP bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Floor;

impl Call for Floor {
    async fn call(&self) {
        let res = Hello
            .oneshot(Request::new(Empty::<Bytes>::new()))
            .await
            .unwrap_or_else(|e| match e {});
        let status = res.status();
        let body = res
            .into_body()
            .collect()
            .await
            .expect("a Full body")
            .to_bytes();
        check(&"the floor", status, &body);
    }
}

/// A hyper-util legacy client and the URI it asks for.
#[derive(Clone, Debug)]
pub(crate) struct Hyper<C> {
    client: Client<C, Empty<Bytes>>,
    uri: Uri,
}

/// Which protocol a hyper-util client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Proto {
    Http1,
    /// HTTP/2 with prior knowledge (h2c over TCP), as `http2_only(true)` does.
    Http2,
}

impl<C: Connect + Clone + Send + Sync + 'static> Hyper<C> {
    pub(crate) fn new(connector: C, proto: Proto, uri: &str) -> Hyper<C> {
        let mut builder = Client::builder(TokioExecutor::new());
        builder.http2_only(proto == Proto::Http2);
        Hyper {
            client: builder.build(connector),
            uri: uri.parse().expect("a valid URI"),
        }
    }
}

/// The connector of the rows that go over loopback TCP: hyper-util's, with Nagle off as
/// reqwest sets it (so no row pays a delayed-ACK stall).
pub(crate) fn tcp() -> HttpConnector {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http
}

impl<C: Connect + Clone + Send + Sync + 'static> Call for Hyper<C> {
    async fn call(&self) {
        let req = Request::get(self.uri.clone())
            .body(Empty::new())
            .expect("a valid request");
        let res = self
            .client
            .request(req)
            .await
            .unwrap_or_else(|e| panic!("GET {} failed: {e:?}", self.uri));
        let status = res.status();
        let body = res
            .into_body()
            .collect()
            .await
            .unwrap_or_else(|e| panic!("reading the body of GET {} failed: {e}", self.uri))
            .to_bytes();
        check(&self.uri, status, &body);
    }
}

/// A reqwest client and the URL it asks for.
#[derive(Clone, Debug)]
pub(crate) struct Reqwest {
    client: reqwest::Client,
    url: reqwest::Url,
}

impl Reqwest {
    pub(crate) fn new(client: reqwest::Client, url: &str) -> Reqwest {
        Reqwest {
            client,
            url: url.parse().expect("a valid URL"),
        }
    }

    /// A reqwest client as a test would build it, for targets that are not
    /// intercepted.
    pub(crate) fn plain(url: &str) -> Reqwest {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("building a reqwest client");
        Reqwest::new(client, url)
    }
}

impl Call for Reqwest {
    async fn call(&self) {
        let res = self
            .client
            .get(self.url.clone())
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {} failed: {e:?}", self.url));
        let status = res.status();
        let body = res
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("reading the body of GET {} failed: {e}", self.url));
        check(&self.url, status, &body);
    }
}
