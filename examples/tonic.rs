//! A tonic gRPC client talking to a tonic-health server over in-memory HTTP/2.
//!
//! ```text
//! cargo run --example tonic
//! ```

use tonic::transport::Endpoint;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    // Any tonic server (a generated `*Server<T>`) is a tower service: register it.
    let (reporter, health_server) = tonic_health::server::health_reporter();
    reporter
        .set_service_status("orders", tonic_health::ServingStatus::Serving)
        .await;
    let grpc = http_intercept::add("http://orders.grpc.example", health_server)?;

    // The client connects with the crate's connector instead of a socket.
    let channel = Endpoint::from_static("http://orders.grpc.example")
        .connect_with_connector(http_intercept::Connector::new())
        .await?;
    let mut client = HealthClient::new(channel);

    let reply = client
        .check(HealthCheckRequest {
            service: "orders".into(),
        })
        .await?;
    println!("orders is {:?}", reply.into_inner().status());
    println!("requests the server saw: {:#?}", grpc.requests());
    Ok(())
}
