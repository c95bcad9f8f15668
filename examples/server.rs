//! The scriptable test server: one directory served in memory and on a real socket,
//! with `.headers`, pipes, a handler that counts through the stash, and a raw `.asis`
//! response read off the wire.
//!
//! ```text
//! cargo run --example server --features server
//! ```

use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use http_intercept::server::{self, Files, Request, ResponseBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let files = Files::new("tests/www").handler(
        "/count",
        |req: Request, res: ResponseBuilder| async move {
            let n = req.stash().take("count").map_or(0, |v| v[0]) + 1;
            req.stash().put("count", vec![n])?;
            res.header("content-type", "text/plain")
                .body(format!("request #{n}\n"))
        },
    );

    // In memory: a made-up host, nothing bound.
    let site = http_intercept::add("http://web.test", files.clone())?;
    let client = Client::builder(TokioExecutor::new())
        .build::<_, Empty<bytes::Bytes>>(http_intercept::Connector::new());
    for path in [
        "/hello.txt",
        "/dir/a.txt",
        "/data.txt?pipe=status(404)|header(Content-Type,text/x-piped)|slice(0,10)",
        "/template.sub.txt?q=piped",
        "/count",
        "/count",
        "/data.txt?pipe=frobnicate",
        "/%2e%2e/Cargo.toml",
    ] {
        let res = client.get(format!("{}{path}", site.url()).parse()?).await?;
        let (parts, body) = res.into_parts();
        let body = body.collect().await?.to_bytes();
        println!("GET {path}\n  -> {} {:?}", parts.status, parts.headers);
        println!("  {:?}", String::from_utf8_lossy(&body));
    }

    // On a socket, for clients that cannot be intercepted: read an .asis file raw.
    let server = server::serve(files)?;
    let mut stream = tokio::net::TcpStream::connect(server.addr()).await?;
    stream
        .write_all(b"GET /malformed.asis HTTP/1.1\r\nHost: x\r\n\r\n")
        .await?;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await??;
    println!(
        "raw bytes from {}/malformed.asis:\n  {:?}",
        server.url(),
        String::from_utf8_lossy(&raw)
    );
    Ok(())
}
