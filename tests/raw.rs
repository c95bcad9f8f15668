//! Raw access to a connection (`RawWriter`), which the transport offers every HTTP/1.x
//! request: a writer takes over only the exchange it came with; a clone kept for
//! later cannot write into, reset or close a later exchange on the same keep-alive
//! connection.

mod support;

use std::sync::{Arc, Mutex};

use http::{Request, Response};
use http_intercept::RawWriter;
use hyper::body::Incoming;
use support::*;

/// A service that keeps a clone of the first request's writer and, on later
/// requests, tries to write, close and reset through it; it answers what happened.
fn keeper() -> impl tower::Service<
    Request<Incoming>,
    Response = Response<String>,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone {
    let slot: Arc<Mutex<Option<RawWriter>>> = Arc::default();
    tower::service_fn(move |req: Request<Incoming>| {
        let slot = slot.clone();
        async move {
            let own = req.extensions().get::<RawWriter>().cloned();
            let old = slot.lock().unwrap().clone();
            let text = match old {
                None => {
                    *slot.lock().unwrap() = own.clone();
                    format!("kept {own:?}")
                }
                Some(old) => {
                    let write = old
                        .write(b"HTTP/1.1 418 I'm a teapot\r\n\r\nhijacked")
                        .await;
                    let close = old.close().await;
                    old.reset();
                    format!(
                        "write refused: {}, close refused: {}, old taken: {}, own taken: {}, own {own:?}",
                        write.is_err(),
                        close.is_err(),
                        old.is_taken(),
                        own.as_ref().is_some_and(RawWriter::is_taken),
                    )
                }
            };
            Ok::<_, std::convert::Infallible>(Response::new(text))
        }
    })
}

async fn a_kept_writer_cannot_take_over_a_later_exchange(flavor: &str) {
    use tower::ServiceExt as _;

    let service = keeper();
    let host = format!("http://keeper-{flavor}.raw.test");
    let _g = http_intercept::add(host.as_str(), service).unwrap();
    // One connection, for certain: hyper's HTTP/1.1 handshake over the connector's
    // stream, every request on it.
    let stream = http_intercept::Connector::new()
        .oneshot(host.parse().unwrap())
        .await
        .unwrap();
    let (mut send, conn) = hyper::client::conn::http1::handshake(stream).await.unwrap();
    tokio::spawn(conn);
    let first = text(send.send_request(get(&format!("{host}/a"))).await.unwrap()).await;
    assert!(first.contains("exchange: 1"), "{first}");
    for n in 2..5 {
        send.ready().await.unwrap();
        let res = send.send_request(get(&format!("{host}/b"))).await.unwrap();
        assert_eq!(res.status(), 200, "exchange {n} was hijacked");
        let body = text(res).await;
        assert!(
            body.starts_with(
                "write refused: true, close refused: true, old taken: false, own taken: false"
            ),
            "{body}"
        );
        assert!(body.contains(&format!("exchange: {n}")), "{body}");
    }
}

#[tokio::test]
async fn a_kept_writer_cannot_take_over_a_later_exchange_current_thread() {
    a_kept_writer_cannot_take_over_a_later_exchange("ct").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kept_writer_cannot_take_over_a_later_exchange_multi_thread() {
    a_kept_writer_cannot_take_over_a_later_exchange("mt").await;
}

#[tokio::test]
async fn http2_requests_have_no_writer() {
    let service = tower::service_fn(|req: Request<Incoming>| async move {
        let has = req.extensions().get::<RawWriter>().is_some();
        Ok::<_, std::convert::Infallible>(Response::new(format!("{has}")))
    });
    let _g = http_intercept::add("http://h2.raw.test", service).unwrap();
    let res = h2_client()
        .request(get("http://h2.raw.test/"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "false");
    let res = client().request(get("http://h2.raw.test/")).await.unwrap();
    assert_eq!(text(res).await, "true");
}

/// The same over a real socket: two requests on one TCP connection.
#[cfg(feature = "server")]
#[tokio::test]
async fn over_tcp_a_kept_writer_cannot_take_over_a_later_exchange() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let service = keeper();
    let server = http_intercept::server::serve(service).unwrap();
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    stream
        .write_all(
            b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(20),
        stream.read_to_end(&mut reply),
    )
    .await
    .unwrap()
    .unwrap();
    let reply = String::from_utf8_lossy(&reply);
    assert!(
        !reply.contains("hijacked") && !reply.contains("418"),
        "{reply}"
    );
    assert_eq!(reply.matches("HTTP/1.1 200 OK").count(), 2, "{reply}");
    assert!(reply.contains("write refused: true"), "{reply}");
}
