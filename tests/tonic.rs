//! tonic (gRPC) clients over the in-memory HTTP/2 transport, with tonic-health's
//! generated server registered as the service.

use std::convert::Infallible;
use std::time::Duration;

use http_intercept::Connector;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::server::{health_reporter, HealthReporter};

/// Registers a tonic-health server for `target` and returns its reporter.
async fn health_service(target: &str) -> (http_intercept::Intercept, HealthReporter) {
    let (reporter, server) = health_reporter();
    reporter
        .set_service_status("orders", tonic_health::ServingStatus::Serving)
        .await;
    (http_intercept::add(target, server).unwrap(), reporter)
}

async fn channel(url: &'static str) -> Channel {
    Endpoint::from_static(url)
        .connect_with_connector(Connector::new())
        .await
        .unwrap()
}

fn check(service: &str) -> HealthCheckRequest {
    HealthCheckRequest {
        service: service.to_owned(),
    }
}

#[tokio::test]
async fn a_unary_call() {
    let (guard, _reporter) = health_service("http://unary.grpc.test").await;
    let mut client = HealthClient::new(channel("http://unary.grpc.test").await);
    let res = client.check(check("orders")).await.unwrap();
    assert_eq!(res.into_inner().status(), ServingStatus::Serving);
    let status = client.check(check("unknown")).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
    assert_eq!(guard.hits(), 2);
    let seen = guard.requests();
    assert_eq!(seen[0].uri().path(), "/grpc.health.v1.Health/Check");
    assert_eq!(seen[0].version(), http::Version::HTTP_2);
}

#[tokio::test]
async fn an_https_endpoint_needs_no_tls() {
    let (_guard, _reporter) = health_service("https://secure.grpc.test").await;
    let mut client = HealthClient::new(channel("https://secure.grpc.test").await);
    let res = client.check(check("orders")).await.unwrap();
    assert_eq!(res.into_inner().status(), ServingStatus::Serving);
}

#[tokio::test]
async fn a_server_streaming_call() {
    let (_guard, reporter) = health_service("http://watch.grpc.test").await;
    let mut client = HealthClient::new(channel("http://watch.grpc.test").await);
    let mut stream = client.watch(check("orders")).await.unwrap().into_inner();
    let first = stream.message().await.unwrap().unwrap();
    assert_eq!(first.status(), ServingStatus::Serving);
    reporter
        .set_service_status("orders", tonic_health::ServingStatus::NotServing)
        .await;
    let second = stream.message().await.unwrap().unwrap();
    assert_eq!(second.status(), ServingStatus::NotServing);
}

#[tokio::test(start_paused = true)]
async fn a_deadline_that_expires() {
    // A health server behind a minute of latency, on the test's paused clock.
    let (_reporter, server) = health_reporter();
    let slow = tower::service_fn(move |req: http::Request<hyper::body::Incoming>| {
        let server = server.clone();
        async move {
            tokio::time::sleep(Duration::from_secs(60)).await;
            let res = tower::ServiceExt::oneshot(server, req).await.unwrap();
            Ok::<_, Infallible>(res)
        }
    });
    let _guard = http_intercept::add("http://slow.grpc.test", slow).unwrap();
    let channel = Endpoint::from_static("http://slow.grpc.test")
        .timeout(Duration::from_secs(1))
        .connect_with_connector(Connector::new())
        .await
        .unwrap();
    let status = HealthClient::new(channel)
        .check(check(""))
        .await
        .unwrap_err();
    assert!(
        matches!(
            status.code(),
            tonic::Code::Cancelled | tonic::Code::DeadlineExceeded
        ),
        "{status:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_calls_on_one_channel() {
    let (guard, _reporter) = health_service("http://concurrent.grpc.test").await;
    let client = HealthClient::new(channel("http://concurrent.grpc.test").await);
    let calls = (0..200).map(|_| {
        let mut client = client.clone();
        async move {
            client
                .check(check("orders"))
                .await
                .unwrap()
                .into_inner()
                .status()
        }
    });
    let statuses = futures_util::future::join_all(calls).await;
    assert!(statuses.iter().all(|s| *s == ServingStatus::Serving));
    assert_eq!(guard.hits(), 200);
}
