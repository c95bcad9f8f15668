//! The hyper-util connector: in-memory exchanges through a real `Client`, pass-through,
//! policies, and route changes on pooled connections.

mod support;

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{Request, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, StreamBody};
use http_intercept::{Connector, Policy, Registry, ERROR_HEADER};
use support::*;

#[tokio::test]
async fn get_over_http1() {
    let api = http_intercept::add("http://get.connector.test", echo()).unwrap();
    let res = client()
        .request(get("http://get.connector.test/users?page=2"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.version(), http::Version::HTTP_11);
    let body = text(res).await;
    assert!(
        body.starts_with("GET http://get.connector.test/users?page=2\n"),
        "{body}"
    );
    assert!(body.contains("host=get.connector.test\n"), "{body}");
    assert_eq!(api.hits(), 1);
}

#[tokio::test]
async fn post_with_a_body() {
    let _api = http_intercept::add("post.connector.test:80", echo()).unwrap();
    let req = Request::post("http://post.connector.test/items")
        .header("content-type", "application/json")
        .body(full(r#"{"name":"widget"}"#))
        .unwrap();
    let body = text(client().request(req).await.unwrap()).await;
    assert!(
        body.starts_with("POST http://post.connector.test/items\n"),
        "{body}"
    );
    assert!(body.ends_with(r#"{"name":"widget"}"#), "{body}");
}

#[tokio::test]
async fn http2_sees_the_same_request_as_http1() {
    let _api = http_intercept::add("https://view.connector.test", echo()).unwrap();
    let url = "https://view.connector.test/x?y=1";
    let h1 = client().request(get(url)).await.unwrap();
    let h2 = h2_client().request(get(url)).await.unwrap();
    assert_eq!(h1.version(), http::Version::HTTP_11);
    assert_eq!(h2.version(), http::Version::HTTP_2);
    let (h1, h2) = (text(h1).await, text(h2).await);
    assert_eq!(h1, h2);
    assert!(
        h1.starts_with("GET https://view.connector.test/x?y=1\nhost=view.connector.test\n"),
        "{h1}"
    );
}

#[tokio::test]
async fn https_needs_no_tls() {
    let _api = http_intercept::add("api.tls.connector.test:443", fixed("secret data")).unwrap();
    let res = client()
        .request(get("https://api.tls.connector.test/"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "secret data");
}

#[tokio::test]
async fn a_host_that_does_not_resolve_needs_no_dns_and_no_socket() {
    let url = "http://no-such-host.connector.invalid/";
    // Without an intercept the name cannot resolve.
    let err = client().request(get(url)).await.unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    let _g = http_intercept::add(url, fixed("resolved in memory")).unwrap();
    let res = client().request(get(url)).await.unwrap();
    assert_eq!(text(res).await, "resolved in memory");
}

#[tokio::test]
async fn ip_literal_targets() {
    let _v4 = http_intercept::add("10.255.255.1:8080", fixed("v4")).unwrap();
    let _v6 = http_intercept::add("http://[2001:db8::7]:9090", fixed("v6")).unwrap();
    let res = client()
        .request(get("http://10.255.255.1:8080/"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "v4");
    let res = client()
        .request(get("http://[2001:db8::7]:9090/"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "v6");
}

#[tokio::test]
async fn host_matching_is_case_insensitive() {
    let _g = http_intercept::add("Mixed.Case.connector.test:80", fixed("matched")).unwrap();
    let res = client()
        .request(get("http://MIXED.case.connector.TEST/"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "matched");
}

#[tokio::test]
async fn a_16_mib_body_streams_both_ways() {
    // The service streams the request body straight back as the response body.
    let svc = tower::service_fn(|req: Request<hyper::body::Incoming>| async move {
        Ok::<_, std::convert::Infallible>(http::Response::new(req.into_body()))
    });
    let _g = http_intercept::add("stream.connector.test:80", svc).unwrap();
    const CHUNK: usize = 64 * 1024;
    const CHUNKS: usize = 256; // 16 MiB
    let chunks = || {
        futures_util::stream::iter(0..CHUNKS).map(|i| {
            Ok::<_, http_intercept::BoxError>(Frame::data(Bytes::from(vec![
                (i % 251) as u8;
                CHUNK
            ])))
        })
    };
    for client in [client(), h2_client()] {
        let body = BodyExt::boxed(StreamBody::new(chunks()));
        let req = Request::post("http://stream.connector.test/echo")
            .body(body)
            .unwrap();
        let res = client.request(req).await.unwrap();
        let mut body = res.into_body();
        let (mut received, mut expected_index) = (0usize, 0usize);
        while let Some(frame) = body.frame().await {
            let data = frame.unwrap().into_data().unwrap();
            for byte in data.iter() {
                assert_eq!(*byte, ((expected_index / CHUNK) % 251) as u8);
                expected_index += 1;
            }
            received += data.len();
        }
        assert_eq!(received, CHUNK * CHUNKS);
    }
}

#[tokio::test]
async fn unregistered_targets_pass_through_to_the_real_host() {
    let server = LoopbackServer::start().await;
    let res = client()
        .request(get(&format!("{}/", server.url())))
        .await
        .unwrap();
    assert_eq!(text(res).await, "real server");
    assert_eq!(server.requests(), 1);
    assert_eq!(server.hosts.lock().unwrap()[0], server.addr.to_string());
}

#[tokio::test]
async fn deny_policy_names_the_target_and_how_to_register_it() {
    let client = client_with(Connector::new().with_policy(Policy::Deny));
    let err = client
        .request(get("http://denied.connector.test:8080/x"))
        .await
        .unwrap_err();
    let ours = find_intercept_error(&err).expect("the error chain holds ours");
    assert!(ours.is_denied());
    assert_eq!(
        ours.to_string(),
        "real connections are disabled: no service is registered for \
         denied.connector.test:8080; register one with \
         http_intercept::add(\"http://denied.connector.test:8080\", service) \
         or allow real connections with Policy::PassThrough"
    );
    // Registered targets are still served under the deny policy.
    let _g = http_intercept::add("denied.connector.test:8080", fixed("allowed")).unwrap();
    let res = client
        .request(get("http://denied.connector.test:8080/x"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "allowed");
}

#[tokio::test]
async fn loopback_only_policy_allows_a_tests_own_servers() {
    let server = LoopbackServer::start().await;
    let client = client_with(Connector::new().with_policy(Policy::LoopbackOnly));
    let res = client
        .request(get(&format!("{}/", server.url())))
        .await
        .unwrap();
    assert_eq!(text(res).await, "real server");
    let err = client
        .request(get("http://elsewhere.connector.test/"))
        .await
        .unwrap_err();
    assert!(find_intercept_error(&err).unwrap().is_denied());
}

#[tokio::test]
async fn dropping_the_guard_sends_a_pooled_client_back_to_the_real_host() {
    for h2 in [false, true] {
        let server = LoopbackServer::start().await;
        let client = if h2 { h2_client() } else { client() };
        let url = format!("{}/", server.url());
        let guard = http_intercept::add(server.addr, fixed("intercepted")).unwrap();
        // Two requests: the second reuses the pooled in-memory connection.
        for _ in 0..2 {
            let res = client.request(get(&url)).await.unwrap();
            assert_eq!(text(res).await, "intercepted", "h2={h2}");
        }
        assert_eq!(guard.hits(), 2);
        drop(guard);
        let res = client.request(get(&url)).await.unwrap();
        assert_eq!(text(res).await, "real server", "h2={h2}");
        assert_eq!(server.requests(), 1);
    }
}

#[tokio::test]
async fn registering_diverts_a_pooled_pass_through_connection() {
    for h2 in [false, true] {
        let server = LoopbackServer::start().await;
        let client = if h2 { h2_client() } else { client() };
        let url = format!("{}/", server.url());
        for _ in 0..2 {
            let res = client.request(get(&url)).await.unwrap();
            assert_eq!(text(res).await, "real server", "h2={h2}");
        }
        assert_eq!(
            server.connections(),
            1,
            "the connection was pooled (h2={h2})"
        );
        let guard = http_intercept::add(server.addr, fixed("intercepted")).unwrap();
        let res = client.request(get(&url)).await.unwrap();
        assert_eq!(text(res).await, "intercepted", "h2={h2}");
        assert_eq!(guard.hits(), 1);
        assert_eq!(server.requests(), 2);
    }
}

#[tokio::test]
async fn dropping_the_guard_under_deny_policy_refuses_the_pooled_client() {
    let client = client_with(Connector::new().with_policy(Policy::Deny));
    let guard = http_intercept::add("gone.connector.test:80", fixed("here")).unwrap();
    let res = client
        .request(get("http://gone.connector.test/"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "here");
    drop(guard);
    // The pooled connection answers what a new one would meet, as a 502 that says so
    // (a request the client already sent is never failed by the change)...
    let res = client
        .request(get("http://gone.connector.test/"))
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    assert_eq!(res.headers()[ERROR_HEADER], "denied");
    assert_eq!(res.headers()["connection"], "close");
    let body = text(res).await;
    assert!(body.contains("real connections are disabled"), "{body}");
    assert!(body.contains("gone.connector.test:80"), "{body}");
    // ...and closes, so the next request meets the refusal itself.
    let err = client
        .request(get("http://gone.connector.test/"))
        .await
        .unwrap_err();
    assert!(find_intercept_error(&err).unwrap().is_denied(), "{err:?}");
}

#[tokio::test]
async fn an_isolated_registry_is_seen_only_by_its_connectors() {
    let registry = Registry::new();
    let _g = registry
        .add("isolated.connector.test:80", fixed("isolated"))
        .unwrap();
    let mine = client_with(
        Connector::new()
            .with_registry(&registry)
            .with_policy(Policy::Deny),
    );
    let res = mine
        .request(get("http://isolated.connector.test/"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "isolated");
    let global = client_with(Connector::new().with_policy(Policy::Deny));
    let err = global
        .request(get("http://isolated.connector.test/"))
        .await
        .unwrap_err();
    assert!(find_intercept_error(&err).unwrap().is_denied());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_requests_over_one_client() {
    let api = http_intercept::add("concurrent.connector.test:80", echo()).unwrap();
    for client in [client(), h2_client()] {
        let requests = (0..200).map(|i| {
            let client = client.clone();
            async move {
                let url = format!("http://concurrent.connector.test/{i}");
                let res = client.request(get(&url)).await.unwrap();
                (i, text(res).await)
            }
        });
        for (i, body) in futures_util::future::join_all(requests).await {
            assert!(body.starts_with(&format!("GET http://concurrent.connector.test/{i}\n")));
        }
    }
    assert_eq!(api.hits(), 400);
}

#[tokio::test]
async fn a_client_without_a_request_body_type_annotation_works_with_full() {
    // The quick start's shape: Client<Connector, Full<Bytes>>.
    let _g = http_intercept::add("full.connector.test:80", fixed("ok")).unwrap();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, http_body_util::Full<Bytes>>(Connector::new());
    let res = client
        .get("http://full.connector.test/".parse().unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let _ = tokio::time::timeout(Duration::from_secs(5), text(res))
        .await
        .unwrap();
}

#[tokio::test]
async fn http_upgrades_work_in_memory() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The service accepts an upgrade to a made-up protocol and echoes bytes uppercased.
    let svc = tower::service_fn(|mut req: Request<hyper::body::Incoming>| async move {
        let on_upgrade = hyper::upgrade::on(&mut req);
        tokio::spawn(async move {
            let upgraded = on_upgrade.await.unwrap();
            let mut io = hyper_util::rt::TokioIo::new(upgraded);
            let mut buf = [0u8; 5];
            io.read_exact(&mut buf).await.unwrap();
            io.write_all(&buf.to_ascii_uppercase()).await.unwrap();
        });
        let res = http::Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header("connection", "upgrade")
            .header("upgrade", "shout")
            .body(String::new())
            .unwrap();
        Ok::<_, std::convert::Infallible>(res)
    });
    let _g = http_intercept::add("upgrade.connector.test:80", svc).unwrap();
    let req = Request::get("http://upgrade.connector.test/ws")
        .header("connection", "upgrade")
        .header("upgrade", "shout")
        .body(empty())
        .unwrap();
    let res = client().request(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::SWITCHING_PROTOCOLS);
    let upgraded = hyper::upgrade::on(res).await.unwrap();
    let mut io = hyper_util::rt::TokioIo::new(upgraded);
    io.write_all(b"hello").await.unwrap();
    let mut buf = [0u8; 5];
    io.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"HELLO");
}

#[tokio::test]
async fn dropping_the_guard_lets_a_response_in_flight_finish() {
    for h2 in [false, true] {
        let client = if h2 { h2_client() } else { client() };
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(1);
        let rx = std::sync::Arc::new(tokio::sync::Mutex::new(Some(rx)));
        let svc = tower::service_fn(move |_req: Request<hyper::body::Incoming>| {
            let rx = rx.clone();
            async move {
                let rx = rx.lock().await.take().expect("one request");
                let frames = futures_util::stream::unfold(rx, |mut rx| async move {
                    let chunk = rx.recv().await?;
                    Some((Ok::<_, std::convert::Infallible>(Frame::data(chunk)), rx))
                });
                Ok::<_, std::convert::Infallible>(http::Response::new(StreamBody::new(frames)))
            }
        });
        let guard = http_intercept::add("inflight.connector.test:80", svc).unwrap();
        let res = client
            .request(get("http://inflight.connector.test/"))
            .await
            .unwrap();
        tx.send(Bytes::from_static(b"first ")).await.unwrap();
        // The registration goes while the body is still streaming.
        drop(guard);
        tx.send(Bytes::from_static(b"second")).await.unwrap();
        drop(tx);
        assert_eq!(text(res).await, "first second", "h2={h2}");
        // The next request goes where a fresh client's would: nowhere (the name does
        // not resolve), not to the removed service; the pooled connection says so.
        let res = client
            .request(get("http://inflight.connector.test/"))
            .await
            .unwrap();
        assert_eq!(res.status(), 502, "h2={h2}");
        assert_eq!(res.headers()[ERROR_HEADER], "late", "h2={h2}");
        let body = text(res).await;
        assert!(
            body.contains("sending it to the real host failed"),
            "h2={h2}: {body}"
        );
    }
}

#[tokio::test]
async fn a_request_in_flight_when_the_guard_drops_still_gets_its_answer() {
    let (release, wait) = tokio::sync::oneshot::channel::<()>();
    let wait = std::sync::Arc::new(tokio::sync::Mutex::new(Some(wait)));
    let svc = tower::service_fn(move |_req: Request<hyper::body::Incoming>| {
        let wait = wait.clone();
        async move {
            if let Some(wait) = wait.lock().await.take() {
                let _ = wait.await;
            }
            Ok::<_, std::convert::Infallible>(http::Response::new(String::from("late answer")))
        }
    });
    let guard = http_intercept::add("slow-answer.connector.test:80", svc).unwrap();
    let client = client();
    let pending = tokio::spawn(async move {
        let res = client
            .request(get("http://slow-answer.connector.test/"))
            .await
            .unwrap();
        text(res).await
    });
    // Let the request reach the service, then drop the guard before it answers.
    while guard.hits() == 0 {
        tokio::task::yield_now().await;
    }
    drop(guard);
    release.send(()).unwrap();
    assert_eq!(pending.await.unwrap(), "late answer");
}

#[tokio::test]
async fn a_response_of_known_length_keeps_its_content_length() {
    let _g = http_intercept::add("length.connector.test:80", fixed("twelve bytes")).unwrap();
    let res = client()
        .request(get("http://length.connector.test/"))
        .await
        .unwrap();
    assert_eq!(res.headers()["content-length"], "12");
    assert!(!res.headers().contains_key("transfer-encoding"));
}
