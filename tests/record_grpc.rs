//! Trailers are recorded and replayed: a real tonic-health exchange (gRPC over HTTP/2,
//! `grpc-status` in the trailers) recorded into a cassette, then replayed with the
//! server gone; and the recorder layer keeps the trailers too.
#![cfg(feature = "record")]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use http_intercept::record::{Cassette, Mode, RecordLayer, Recording};
use http_intercept::Connector;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::server::health_reporter;
use tower::Layer;

fn temp_path(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "http-intercept-record-grpc-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join(name)
}

async fn channel(url: &str) -> Channel {
    Endpoint::from_shared(url.to_owned())
        .unwrap()
        .connect_with_connector(Connector::new())
        .await
        .unwrap()
}

fn check(service: &str) -> HealthCheckRequest {
    HealthCheckRequest {
        service: service.to_owned(),
    }
}

/// Two calls: one that succeeds (`grpc-status: 0` in the trailers after the message)
/// and one that fails (a trailers-only response, `grpc-status: 5`).
async fn calls(url: &str) -> (ServingStatus, tonic::Code) {
    let mut client = HealthClient::new(channel(url).await);
    let serving = client.check(check("orders")).await.unwrap();
    let missing = client.check(check("unknown")).await.unwrap_err();
    (serving.into_inner().status(), missing.code())
}

async fn record_then_replay(host: &str) {
    let path = temp_path("health.json");
    let url = format!("http://{host}");

    // Record from a real tonic-health server, in process.
    let (reporter, server) = health_reporter();
    reporter
        .set_service_status("orders", tonic_health::ServingStatus::Serving)
        .await;
    let cassette = Cassette::builder(&path)
        .mode(Mode::Once)
        .mode_from_env(false)
        .upstream(server)
        .open()
        .unwrap();
    let guard = http_intercept::add(url.as_str(), cassette.service()).unwrap();
    assert_eq!(
        calls(&url).await,
        (ServingStatus::Serving, tonic::Code::NotFound)
    );
    drop(guard);
    cassette.finish().unwrap();
    drop(reporter);

    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(
        saved.contains("\"trailers\": {\n          \"grpc-status\": \"0\"\n        }"),
        "{saved}"
    );
    assert!(saved.contains("\"grpc-status\": \"5\""), "{saved}");

    // Replay, with no server at all: the same answers, trailers included.
    let cassette = Cassette::builder(&path)
        .mode(Mode::Replay)
        .mode_from_env(false)
        .open()
        .unwrap();
    let guard = http_intercept::add(url.as_str(), cassette.service()).unwrap();
    assert_eq!(
        calls(&url).await,
        (ServingStatus::Serving, tonic::Code::NotFound)
    );
    assert_eq!(guard.hits(), 2);
    drop(guard);
    assert!(cassette.all_played());
    cassette.finish().unwrap();
}

#[tokio::test]
async fn a_tonic_health_exchange_records_and_replays_with_its_trailers() {
    record_then_replay("health.current.record.test").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tonic_health_exchange_records_and_replays_on_a_multi_thread_runtime() {
    record_then_replay("health.multi.record.test").await;
}

#[tokio::test]
async fn the_recorder_layer_keeps_trailers() {
    let (reporter, server) = health_reporter();
    reporter
        .set_service_status("orders", tonic_health::ServingStatus::Serving)
        .await;
    let recording = Recording::new();
    let recorded = RecordLayer::new(recording.clone()).layer(server);
    let _g = http_intercept::add("http://layer.grpc.record.test", recorded).unwrap();
    let mut client = HealthClient::new(channel("http://layer.grpc.record.test").await);
    let res = client.check(check("orders")).await.unwrap();
    assert_eq!(res.into_inner().status(), ServingStatus::Serving);
    let interactions = recording.interactions();
    assert_eq!(interactions.len(), 1);
    assert_eq!(interactions[0].trailers().unwrap()["grpc-status"], "0");
}
