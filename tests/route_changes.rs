//! Route changes under load: register, request, drop the guard, request again, a
//! thousand times, with a real loopback server behind the target, over HTTP/1.1 and
//! HTTP/2, on both runtime flavors. No request may fail, and each must be answered by
//! whoever a fresh client would reach at that moment.

mod support;

use std::time::Duration;

use support::*;

fn rounds() -> usize {
    std::env::var("ROUTE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

fn client_for(h2: bool) -> TestClient {
    if h2 {
        h2_client()
    } else {
        client()
    }
}

async fn ask(client: &TestClient, url: &str) -> Result<String, String> {
    // Generous: on a loaded 2-core machine a request can wait seconds for a thread; only
    // a request that never gets an answer should fail the loop.
    let res = tokio::time::timeout(Duration::from_secs(30), client.request(get(url)))
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| format!("{e:?}"))?;
    let status = res.status();
    let body = text(res).await;
    if status != 200 {
        return Err(format!("{status}: {body}"));
    }
    Ok(body)
}

/// Register, request, drop, request: the first answer comes from the service, the
/// second from the real server, through one pooled client.
async fn drop_then_request(h2: bool) {
    let server = LoopbackServer::start().await;
    let url = format!("{}/", server.url());
    let client = client_for(h2);
    let mut failures = Vec::new();
    for round in 0..rounds() {
        let guard = http_intercept::add(server.addr, fixed("intercepted")).unwrap();
        match ask(&client, &url).await {
            Ok(body) if body == "intercepted" => {}
            other => failures.push(format!("round {round}, registered: {other:?}")),
        }
        drop(guard);
        match ask(&client, &url).await {
            Ok(body) if body == "real server" => {}
            other => failures.push(format!("round {round}, dropped: {other:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures: {:#?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    assert_eq!(server.requests(), rounds());
}

/// A pooled pass-through connection, then a registration: the next request reaches the
/// service.
async fn register_then_request(h2: bool) {
    let server = LoopbackServer::start().await;
    let url = format!("{}/", server.url());
    let client = client_for(h2);
    let mut failures = Vec::new();
    for round in 0..rounds() {
        match ask(&client, &url).await {
            Ok(body) if body == "real server" => {}
            other => failures.push(format!("round {round}, passed through: {other:?}")),
        }
        let guard = http_intercept::add(server.addr, fixed("intercepted")).unwrap();
        match ask(&client, &url).await {
            Ok(body) if body == "intercepted" => {}
            other => failures.push(format!("round {round}, registered: {other:?}")),
        }
        drop(guard);
    }
    assert!(
        failures.is_empty(),
        "{} failures: {:#?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
}

/// Requests in flight while the guard drops: each is answered, by the service or by the
/// real server, never failed, and never by a host with nothing mounted.
async fn requests_racing_the_drop(h2: bool) {
    let server = LoopbackServer::start().await;
    let url = format!("{}/", server.url());
    let client = client_for(h2);
    let mut failures = Vec::new();
    let (mut intercepted, mut real) = (0, 0);
    for round in 0..rounds() {
        let guard = http_intercept::add(server.addr, fixed("intercepted")).unwrap();
        // Warm the pool, then race two requests against the drop.
        let _ = ask(&client, &url).await;
        let racing: Vec<_> = (0..2)
            .map(|_| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move { ask(&client, &url).await })
            })
            .collect();
        if round.is_multiple_of(2) {
            tokio::task::yield_now().await;
        }
        drop(guard);
        for request in racing {
            match request.await.unwrap() {
                Ok(body) if body == "intercepted" => intercepted += 1,
                Ok(body) if body == "real server" => real += 1,
                other => failures.push(format!("round {round}: {other:?}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures: {:#?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    assert_eq!(intercepted + real, 2 * rounds());
}

macro_rules! flavors {
    ($($name:ident => $body:ident($h2:expr);)+) => {
        mod current_thread {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    $body($h2).await
                }
            )+
        }
        mod multi_thread {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    $body($h2).await
                }
            )+
        }
    };
}

flavors! {
    h1_drop_then_request => drop_then_request(false);
    h2_drop_then_request => drop_then_request(true);
    h1_register_then_request => register_then_request(false);
    h2_register_then_request => register_then_request(true);
    h1_requests_racing_the_drop => requests_racing_the_drop(false);
    h2_requests_racing_the_drop => requests_racing_the_drop(true);
}

// ---- tonic: a gRPC channel over HTTP/2 through the same route changes -----------------

mod grpc {
    use super::*;

    use std::net::SocketAddr;

    use http_intercept::Connector;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use tonic::transport::Endpoint;
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_health::pb::HealthCheckRequest;
    use tonic_health::server::health_reporter;
    use tower::ServiceExt as _;

    /// A real gRPC health server on loopback, where "orders" is not serving.
    async fn real_server() -> SocketAddr {
        let (reporter, server) = health_reporter();
        reporter
            .set_service_status("orders", tonic_health::ServingStatus::NotServing)
            .await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _reporter = reporter;
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let server = server.clone();
                let svc = hyper::service::service_fn(move |req| server.clone().oneshot(req));
                tokio::spawn(async move {
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        addr
    }

    async fn orders(
        client: &mut HealthClient<tonic::transport::Channel>,
    ) -> Result<ServingStatus, String> {
        let request = HealthCheckRequest {
            service: "orders".into(),
        };
        match tokio::time::timeout(Duration::from_secs(10), client.check(request)).await {
            Ok(Ok(res)) => Ok(res.into_inner().status()),
            Ok(Err(status)) => Err(format!("{status:?}")),
            Err(_) => Err("timed out".into()),
        }
    }

    /// Register, call, drop, call: the in-memory service says serving, the real one
    /// not, through one channel.
    pub(super) async fn drop_then_call() {
        let addr = real_server().await;
        let endpoint = Endpoint::from_shared(format!("http://{addr}")).unwrap();
        let channel = endpoint.connect_with_connector_lazy(Connector::new());
        let mut client = HealthClient::new(channel);
        let mut failures = Vec::new();
        for round in 0..rounds() {
            let (reporter, service) = health_reporter();
            reporter
                .set_service_status("orders", tonic_health::ServingStatus::Serving)
                .await;
            let guard = http_intercept::add(addr, service).unwrap();
            match orders(&mut client).await {
                Ok(ServingStatus::Serving) => {}
                other => failures.push(format!("round {round}, registered: {other:?}")),
            }
            drop(guard);
            match orders(&mut client).await {
                Ok(ServingStatus::NotServing) => {}
                other => failures.push(format!("round {round}, dropped: {other:?}")),
            }
        }
        assert!(
            failures.is_empty(),
            "{} failures: {:#?}",
            failures.len(),
            &failures[..failures.len().min(10)]
        );
    }
}

#[tokio::test]
async fn tonic_drop_then_call_current_thread() {
    grpc::drop_then_call().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tonic_drop_then_call_multi_thread() {
    grpc::drop_then_call().await
}
