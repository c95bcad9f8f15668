//! reqwest, async and blocking, reaching a made-up https host served in memory.
//!
//! ```text
//! cargo run --example reqwest --features reqwest
//! ```

use http_intercept::reqwest::ClientBuilderExt;

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let service = tower::service_fn(|req: http::Request<hyper::body::Incoming>| async move {
        let body = format!("{{\"you_asked_for\":\"{}\"}}", req.uri().path());
        Ok::<_, std::convert::Infallible>(http::Response::new(body))
    });
    let api = http_intercept::add("https://api.example.com", service)?;

    // Async: on any tokio runtime.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = reqwest::Client::builder().intercept().build()?;
        let res = client.get("https://api.example.com/async").send().await?;
        println!(
            "async:    {:?} {} {}",
            res.version(),
            res.status(),
            res.text().await?
        );
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    })?;

    // Blocking: from a plain thread.
    let client = reqwest::blocking::Client::builder().intercept().build()?;
    let res = client.get("https://api.example.com/blocking").send()?;
    println!(
        "blocking: {:?} {} {}",
        res.version(),
        res.status(),
        res.text()?
    );

    println!("the service saw: {:#?}", api.requests());
    Ok(())
}
