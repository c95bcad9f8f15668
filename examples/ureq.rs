//! A blocking ureq agent whose requests to a made-up host are served in memory.
//!
//! ```text
//! cargo run --example ureq --features ureq
//! ```

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let service = tower::service_fn(|req: http::Request<hyper::body::Incoming>| async move {
        let body = format!("{{\"path\":\"{}\"}}", req.uri().path());
        Ok::<_, std::convert::Infallible>(http::Response::new(body))
    });
    let api = http_intercept::add("https://api.example.com", service)?;

    let agent = http_intercept::ureq::agent();
    let mut res = agent.get("https://api.example.com/orders/42").call()?;
    println!("< {} {:?}", res.status(), res.version());
    println!("< {}", res.body_mut().read_to_string()?);
    println!("the service saw: {:#?}", api.requests());
    Ok(())
}
