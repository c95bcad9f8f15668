//! The gateway's answers to what reaches it unregistered: forwarded or tunnelled to the
//! real host for clients built by this crate, refused under their policy, 403 for
//! proxy URL holders, 407 without credentials. Raw requests, so that each case is
//! exact; reqwest's races that lead here are in `tests/stress.rs` and `tests/reqwest/`.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::server::{credentials, gateway, Holder};
use crate::scope::Lookup;
use crate::{Policy, Registry};

/// The gateway's connection cap is shared: these tests and `limits` take turns.
pub(super) static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(super) fn authorization(registry: &Registry, holder: Holder) -> String {
    let (user, password) = credentials(registry, &Lookup::here(), holder);
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

pub(super) async fn connect() -> TcpStream {
    let addr = gateway().url().trim_start_matches("http://").to_owned();
    TcpStream::connect(addr).await.unwrap()
}

/// A loopback HTTP/1.1 server answering `real` to each request; the request heads it saw.
async fn real_server() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nreal")
                    .await;
            });
        }
    });
    (addr, seen)
}

/// Writes `request` on `stream` and reads one response: its head and body (by
/// `content-length`).
async fn exchange(stream: &mut TcpStream, request: &str) -> (String, String) {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).await.unwrap(), 1, "closed mid-head");
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
    (head, String::from_utf8_lossy(&body).into_owned())
}

fn get(addr: &str, auth: Option<&str>) -> String {
    let auth = auth.map_or(String::new(), |a| {
        format!("Proxy-Authorization: Basic {a}\r\n")
    });
    format!("GET http://{addr}/x HTTP/1.1\r\nHost: {addr}\r\n{auth}\r\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_reaches_the_gateway_unregistered() {
    let _serial = SERIAL.lock().await;
    cases().await;
    released().await;
    assert_eq!(super::limits::open(), 0, "connections left open");
}

async fn cases() {
    let registry = Registry::new();
    let (addr, seen) = real_server().await;

    // A client's request for a target no longer registered: on to the real host, with
    // no proxy header, and the connection closes after it.
    let client = authorization(&registry, Holder::Client(Policy::PassThrough));
    let mut stream = connect().await;
    let (head, body) = exchange(&mut stream, &get(&addr, Some(&client))).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("connection: close"),
        "{head}"
    );
    assert_eq!(body, "real");
    let heads = seen.lock().unwrap().clone();
    assert_eq!(heads.len(), 1);
    assert!(heads[0].starts_with("GET /x HTTP/1.1\r\n"), "{heads:?}");
    assert!(
        !heads[0].to_ascii_lowercase().contains("proxy-"),
        "{heads:?}"
    );

    // Without credentials, on a connection a client's credentials came down before: the
    // request that client sent direct, on to the real host.
    let mut stream = connect().await;
    let _g = registry.add("http://served.gateway.test", hello()).unwrap();
    let served = "GET http://served.gateway.test/ HTTP/1.1\r\nHost: served.gateway.test\r\n";
    let (head, body) = exchange(
        &mut stream,
        &format!("{served}Proxy-Authorization: Basic {client}\r\n\r\n"),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, "hi");
    let (head, body) = exchange(&mut stream, &get(&addr, None)).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, "real");
    assert_eq!(seen.lock().unwrap().len(), 2);

    // Without credentials on a fresh connection: 407, whatever the target (but see the
    // end).
    for target in [get(&addr, None), format!("{served}\r\n")] {
        let mut stream = connect().await;
        let (head, _) = exchange(&mut stream, &target).await;
        assert!(head.starts_with("HTTP/1.1 407"), "{head}");
    }

    // A client whose policy refuses the target: the `denied` 502.
    let deny = authorization(&registry, Holder::Client(Policy::Deny));
    let mut stream = connect().await;
    let (head, body) = exchange(&mut stream, &get(&addr, Some(&deny))).await;
    assert!(head.starts_with("HTTP/1.1 502"), "{head}");
    assert!(head.contains("x-http-intercept-error: denied"), "{head}");
    assert!(body.contains(&addr), "{body}");

    // A proxy URL's holder that writes itself down as a client: its password is not a
    // client's, so 407.
    let (user, password) = credentials(&registry, &Lookup::here(), Holder::ProxyUrl);
    let forged = user.replacen("-o-", "-a-", 1);
    assert_ne!(forged, user);
    let forged = base64::engine::general_purpose::STANDARD.encode(format!("{forged}:{password}"));
    let mut stream = connect().await;
    let (head, _) = exchange(&mut stream, &get(&addr, Some(&forged))).await;
    assert!(head.starts_with("HTTP/1.1 407"), "a forged holder: {head}");

    // A proxy URL's holder: 403, never the real network.
    let url = authorization(&registry, Holder::ProxyUrl);
    let mut stream = connect().await;
    let (head, _) = exchange(&mut stream, &get(&addr, Some(&url))).await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    assert_eq!(seen.lock().unwrap().len(), 2, "the real host saw more");

    // A client's CONNECT for an unregistered target: a TCP tunnel to the real host.
    let mut stream = connect().await;
    let connect_request = format!(
        "CONNECT {addr} HTTP/1.1\r\nHost: {addr}\r\nProxy-Authorization: Basic {client}\r\n\r\n"
    );
    let (head, _) = exchange(&mut stream, &connect_request).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (head, body) = exchange(
        &mut stream,
        &format!("GET /t HTTP/1.1\r\nHost: {addr}\r\n\r\n"),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, "real");
    assert!(seen.lock().unwrap()[2].starts_with("GET /t HTTP/1.1\r\n"));

    // And a proxy URL holder's: 403.
    let mut stream = connect().await;
    let connect_request = format!(
        "CONNECT {addr} HTTP/1.1\r\nHost: {addr}\r\nProxy-Authorization: Basic {url}\r\n\r\n"
    );
    let (head, _) = exchange(&mut stream, &connect_request).await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");

    // Without credentials on a fresh connection, when a client of this listener decided
    // to send that target direct (the request came down a connection hyper-util opened
    // in the background and pooled unused): on to it, and to nothing else.
    super::server::note_direct(&addr, false);
    let mut stream = connect().await;
    let (head, body) = exchange(&mut stream, &get(&addr, None)).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(body, "real");
    assert_eq!(seen.lock().unwrap().len(), 4);
    let mut stream = connect().await;
    let (head, _) = exchange(&mut stream, &format!("{served}\r\n")).await;
    assert!(head.starts_with("HTTP/1.1 407"), "{head}");
}

/// Waits until the gateway closed every connection these tests opened, so that the next
/// test holding [`SERIAL`] starts from none.
async fn released() {
    let started = std::time::Instant::now();
    while super::limits::open() > 0 && started.elapsed() < std::time::Duration::from_secs(5) {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

pub(super) fn hello() -> impl crate::InterceptService<crate::TowerMarker> {
    tower::service_fn(|_req: http::Request<hyper::body::Incoming>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hi")))
    })
}
