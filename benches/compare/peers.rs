//! The peers' mock servers, each set up to give the response
//! [`Hello`](crate::service::Hello) gives. All three keep a pool of servers: after the
//! first, starting one hands out a pooled server, reset.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::service::BODY;

/// A peer's server, ready to answer `GET /`; dropping it hands it back to its pool.
pub(crate) trait Peer {
    /// The URL of `GET /` on this server.
    fn url(&self) -> String;
}

/// `wiremock::MockServer::start` plus one mounted mock for `GET /`.
pub(crate) async fn wiremock() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/plain")
                .set_body_string(BODY),
        )
        .mount(&server)
        .await;
    server
}

impl Peer for MockServer {
    fn url(&self) -> String {
        format!("{}/", self.uri())
    }
}

/// `httpmock::MockServer::start_async` plus one mock for `GET /`.
pub(crate) async fn httpmock() -> httpmock::MockServer {
    let server = httpmock::MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method("GET").path("/");
            then.status(200)
                .header("content-type", "text/plain")
                .body(BODY);
        })
        .await;
    server
}

impl Peer for httpmock::MockServer {
    fn url(&self) -> String {
        httpmock::MockServer::url(self, "/")
    }
}

/// `mockito::Server::new_async` plus one mock for `GET /` (mockito removes a mock when
/// it is dropped: it lives as long as its server here).
pub(crate) struct Mockito {
    server: mockito::ServerGuard,
    _mock: mockito::Mock,
}

pub(crate) async fn mockito() -> Mockito {
    let mut server = mockito::Server::new_async().await;
    let mock = server
        .mock("GET", "/")
        .with_status(200)
        .with_header("content-type", "text/plain")
        .with_body(BODY)
        .create_async()
        .await;
    Mockito {
        server,
        _mock: mock,
    }
}

impl Peer for Mockito {
    fn url(&self) -> String {
        format!("{}/", self.server.url())
    }
}
