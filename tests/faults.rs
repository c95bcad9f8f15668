//! Faults a socket mock cannot script, on every client path: a connection cut
//! mid-body, a stalled body under a client timeout, a truncated chunked body, and a
//! response whose `Content-Length` promises more than it sends.
//!
//! Each fault is made twice: in memory, by a plain service (a body that errors, a body
//! that never ends, a `Content-Length` the body does not fill), and byte for byte by a
//! raw TCP server on 127.0.0.1 that the test starts, which is what the real network
//! gives. Every client must report the same kind of error for both: hyper-util
//! (HTTP/1.1 and HTTP/2), reqwest (async and blocking) and ureq.
// socket2 (a RST on close) comes with `server`; h2 with `reqwest`.
#![cfg(all(feature = "reqwest", feature = "ureq", feature = "server", unix))]

mod support;

use std::convert::Infallible;
use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, StreamBody};
use http_intercept::reqwest::ClientBuilderExt;
use hyper::body::{Frame, Incoming};
use support::{client, get, h2_client, TestClient};

/// What a client reported, reduced to what a user's error handling branches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// The whole body arrived (the fault did not show).
    Whole,
    /// The connection ended before the message did (hyper `is_incomplete_message`,
    /// reqwest `is_body`, ureq an `UnexpectedEof`-style I/O error).
    Incomplete,
    /// The peer reset the connection (`ConnectionReset`).
    Reset,
    /// The HTTP/2 stream was reset by the server.
    StreamReset,
    /// The HTTP/2 client reset the stream itself: the server broke the protocol (a
    /// body shorter than its `content-length`).
    ProtocolError,
    /// The client's timeout fired.
    Timeout,
}

// ---- the faults, as services ---------------------------------------------------------

const FIRST: &str = "first part of the body;";

type Chunks = StreamBody<futures_util::stream::BoxStream<'static, Result<Frame<Bytes>, BoxErr>>>;
type BoxErr = Box<dyn std::error::Error + Send + Sync>;

/// A body that sends [`FIRST`], then fails: hyper's server cuts the connection
/// (HTTP/1.1, chunked) or resets the stream (HTTP/2).
fn cut_mid_body() -> impl tower::Service<
    Request<Incoming>,
    Response = Response<Chunks>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(|_req: Request<Incoming>| async {
        let frames: Vec<Result<Frame<Bytes>, BoxErr>> = vec![
            Ok(Frame::data(Bytes::from(FIRST))),
            Err("the disk caught fire".into()),
        ];
        let stream = futures_util::stream::iter(frames);
        Ok::<_, Infallible>(Response::new(StreamBody::new(
            futures_util::StreamExt::boxed(stream),
        )))
    })
}

/// A body that sends [`FIRST`], then nothing, ever.
fn stalled() -> impl tower::Service<
    Request<Incoming>,
    Response = Response<Chunks>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(|_req: Request<Incoming>| async {
        let first = futures_util::stream::iter([Ok(Frame::data(Bytes::from(FIRST)))]);
        let stream = futures_util::StreamExt::chain(first, futures_util::stream::pending());
        Ok::<_, Infallible>(Response::new(StreamBody::new(
            futures_util::StreamExt::boxed(stream),
        )))
    })
}

/// `Content-Length: 100` and a body of 23 bytes. (The body must not know its length:
/// hyper's HTTP/1.1 server asserts, in debug builds, that a body of known length
/// matches the header.)
fn short_content_length() -> impl tower::Service<
    Request<Incoming>,
    Response = Response<Chunks>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(|_req: Request<Incoming>| async {
        let frames = futures_util::stream::iter([Ok(Frame::data(Bytes::from(FIRST)))]);
        let mut res = Response::new(StreamBody::new(futures_util::StreamExt::boxed(frames)));
        res.headers_mut()
            .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(100));
        Ok::<_, Infallible>(res)
    })
}

// ---- the faults, byte for byte on a real socket --------------------------------------

/// How the raw server ends its answer.
#[derive(Debug, Clone, Copy)]
enum Raw {
    /// Headers (chunked), one chunk, then a FIN.
    TruncatedChunked,
    /// Headers (chunked), one chunk, then a RST.
    ResetMidBody,
    /// `Content-Length: 100`, 23 bytes, then a FIN.
    ShortContentLength,
}

/// A raw HTTP/1.1 server on 127.0.0.1 that answers every connection's first request
/// with `fault`, on a thread of its own.
fn raw_server(fault: Raw) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = match fault {
                    Raw::TruncatedChunked | Raw::ResetMidBody => format!(
                        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{FIRST}\r\n",
                        FIRST.len()
                    ),
                    Raw::ShortContentLength => {
                        format!("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{FIRST}")
                    }
                };
                let _ = stream.write_all(answer.as_bytes());
                let _ = stream.flush();
                std::thread::sleep(Duration::from_millis(20));
                if let Raw::ResetMidBody = fault {
                    // SO_LINGER 0: close sends a RST.
                    let socket = socket2::SockRef::from(&stream);
                    let _ = socket.set_linger(Some(Duration::ZERO));
                }
                drop(stream);
            });
        }
    });
    addr
}

// ---- what each client reports --------------------------------------------------------

fn chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Vec<&'a (dyn std::error::Error + 'static)> {
    let mut all = vec![e];
    loop {
        let last = *all.last().unwrap();
        // `io::Error::source` skips the error it wraps: look into it.
        let next = match last.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as _),
            None => last.source(),
        };
        match next {
            Some(next) => all.push(next),
            None => return all,
        }
    }
}

fn classify(e: &(dyn std::error::Error + 'static)) -> Option<Seen> {
    for e in chain(e) {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionReset => return Some(Seen::Reset),
                std::io::ErrorKind::UnexpectedEof => return Some(Seen::Incomplete),
                std::io::ErrorKind::TimedOut => return Some(Seen::Timeout),
                _ => {}
            }
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() {
                return Some(Seen::Incomplete);
            }
            if h.is_timeout() {
                return Some(Seen::Timeout);
            }
        }
        if let Some(h2) = e.downcast_ref::<h2::Error>() {
            if h2.is_reset() && h2.is_remote() {
                return Some(Seen::StreamReset);
            }
            if h2.reason() == Some(h2::Reason::PROTOCOL_ERROR) && h2.is_library() {
                return Some(Seen::ProtocolError);
            }
            if let Some(io) = h2.get_io() {
                if io.kind() == std::io::ErrorKind::ConnectionReset {
                    return Some(Seen::Reset);
                }
            }
        }
        if let Some(r) = e.downcast_ref::<reqwest::Error>() {
            if r.is_timeout() {
                return Some(Seen::Timeout);
            }
        }
        if e.downcast_ref::<tokio::time::error::Elapsed>().is_some() {
            return Some(Seen::Timeout);
        }
    }
    None
}

fn seen(e: &(dyn std::error::Error + 'static)) -> Seen {
    classify(e).unwrap_or_else(|| panic!("an error of no known kind: {e:?}"))
}

async fn hyper_seen(client: &TestClient, url: &str, timeout: Duration) -> Seen {
    let exchange = async {
        let res = client.request(get(url)).await.map_err(|e| seen(&e))?;
        assert_eq!(res.status(), 200, "{url}");
        match res.into_body().collect().await {
            Ok(_) => Ok(Seen::Whole),
            Err(e) => Err(seen(&e)),
        }
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => Seen::Timeout,
        Ok(Ok(whole)) => whole,
        Ok(Err(seen)) => seen,
    }
}

fn reqwest_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .intercept()
        .timeout(timeout)
        .build()
        .unwrap()
}

async fn reqwest_seen(client: &reqwest::Client, url: &str) -> (Seen, bool) {
    let res = match client.get(url).send().await {
        Ok(res) => res,
        Err(e) => return (seen(&e), e.is_timeout()),
    };
    assert_eq!(res.status(), 200, "{url}");
    match res.bytes().await {
        Ok(_) => (Seen::Whole, false),
        Err(e) => {
            assert!(e.is_body() || e.is_timeout() || e.is_decode(), "{e:?}");
            (seen(&e), e.is_timeout())
        }
    }
}

fn blocking_seen(url: &str, timeout: Duration) -> Seen {
    let client = reqwest::blocking::Client::builder()
        .intercept()
        .timeout(timeout)
        .build()
        .unwrap();
    let mut res = match client.get(url).send() {
        Ok(res) => res,
        Err(e) => return seen(&e),
    };
    let mut body = Vec::new();
    match res.read_to_end(&mut body) {
        Ok(_) => Seen::Whole,
        Err(e) => seen(&e),
    }
}

fn ureq_seen(url: &str, timeout: Duration) -> Seen {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .build();
    let agent = http_intercept::ureq::agent_with(config);
    let res = match agent.get(url).call() {
        Ok(res) => res,
        Err(ureq::Error::Timeout(_)) => return Seen::Timeout,
        Err(ureq::Error::Io(e)) => return seen(&e),
        Err(e) => panic!("ureq: an error of no known kind: {e:?}"),
    };
    let mut body = Vec::new();
    match res.into_body().into_reader().read_to_end(&mut body) {
        Ok(_) => Seen::Whole,
        Err(e) => {
            if let Some(ureq::Error::Timeout(_)) = e.get_ref().and_then(|i| i.downcast_ref()) {
                return Seen::Timeout;
            }
            seen(&e)
        }
    }
}

/// What every client path reports for `url`, HTTP/2 included when `h2` is set.
#[derive(Debug, PartialEq, Eq)]
struct Report {
    h1: Seen,
    h2: Option<Seen>,
    reqwest: Seen,
    blocking: Seen,
    ureq: Seen,
}

async fn report(url: &str, h2: bool, timeout: Duration) -> Report {
    let h1 = hyper_seen(&client(), url, timeout).await;
    let h2 = match h2 {
        true => Some(hyper_seen(&h2_client(), url, timeout).await),
        false => None,
    };
    let reqwest = reqwest_seen(&reqwest_client(timeout), url).await.0;
    let (blocking, ureq) = {
        let url = url.to_owned();
        let scope = http_intercept::Scope::current();
        tokio::task::spawn_blocking(move || {
            let _in = scope.enter();
            (blocking_seen(&url, timeout), ureq_seen(&url, timeout))
        })
        .await
        .unwrap()
    };
    Report {
        h1,
        h2,
        reqwest,
        blocking,
        ureq,
    }
}

const LONG: Duration = Duration::from_secs(10);

/// What the real network gives for a connection closed mid-body (a truncated chunked
/// body, and a body shorter than its `Content-Length`), over HTTP/1.1.
const INCOMPLETE: Report = Report {
    h1: Seen::Incomplete,
    h2: None,
    reqwest: Seen::Incomplete,
    blocking: Seen::Incomplete,
    ureq: Seen::Incomplete,
};

macro_rules! flavors {
    ($($name:ident => $body:ident;)+) => {
        mod current_thread {
            use super::*;
            $(#[tokio::test] async fn $name() { $body().await })+
        }
        mod multi_thread {
            use super::*;
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { $body().await })+
        }
    };
}

flavors! {
    a_body_cut_mid_stream_is_an_incomplete_message => cut_mid_stream;
    a_short_content_length_is_an_incomplete_message => short_content_length_everywhere;
    a_reset_mid_body_is_a_connection_reset_where_the_network_has_one => reset_mid_body;
}

/// A service whose body fails after its first chunk, against a real server that
/// truncates a chunked body: the same errors on every HTTP/1.1 path; over HTTP/2 the
/// stream is reset.
async fn cut_mid_stream() {
    let real = report(
        &format!("http://{}/", raw_server(Raw::TruncatedChunked)),
        false,
        LONG,
    )
    .await;
    assert_eq!(real, INCOMPLETE, "the real network");
    let _cut = http_intercept::add("http://cut.faults.test", cut_mid_body()).unwrap();
    let mem = report("http://cut.faults.test/", true, LONG).await;
    assert_eq!(
        mem,
        Report {
            h2: Some(Seen::StreamReset),
            ..INCOMPLETE
        },
        "in memory"
    );
}

/// `Content-Length: 100` and 23 bytes, then the end: in memory as on a real socket.
/// An HTTP/2 client resets the stream itself (a protocol error).
async fn short_content_length_everywhere() {
    let real = report(
        &format!("http://{}/", raw_server(Raw::ShortContentLength)),
        false,
        LONG,
    )
    .await;
    assert_eq!(real, INCOMPLETE, "the real network");
    let _short = http_intercept::add("http://short.faults.test", short_content_length()).unwrap();
    let mem = report("http://short.faults.test/", true, LONG).await;
    assert_eq!(
        mem,
        Report {
            h2: Some(Seen::ProtocolError),
            ..INCOMPLETE
        },
        "in memory"
    );
}

/// A RST after the first chunk, from a real socket (an in-memory pipe has no RST: the
/// nearest in-memory fault is the cut above): hyper-util and reqwest report a
/// connection reset; ureq reports the body as incomplete.
async fn reset_mid_body() {
    let real = report(
        &format!("http://{}/", raw_server(Raw::ResetMidBody)),
        false,
        LONG,
    )
    .await;
    let expected = Report {
        h1: Seen::Reset,
        h2: None,
        reqwest: Seen::Reset,
        blocking: Seen::Reset,
        ureq: Seen::Incomplete,
    };
    assert_eq!(real, expected, "the real network");
}

/// A body that stalls after its first chunk, under each client's timeout, in paused
/// time where the client runs on the test's runtime: the timeout fires at once.
#[tokio::test(start_paused = true)]
async fn a_stalled_body_times_out_in_paused_time() {
    let _stall = http_intercept::add("http://stall.faults.test", stalled()).unwrap();
    let url = "http://stall.faults.test/";
    let started = std::time::Instant::now();
    let virtual_start = tokio::time::Instant::now();
    let timeout = Duration::from_secs(30);
    assert_eq!(hyper_seen(&client(), url, timeout).await, Seen::Timeout);
    assert_eq!(hyper_seen(&h2_client(), url, timeout).await, Seen::Timeout);
    let (seen, is_timeout) = reqwest_seen(&reqwest_client(timeout), url).await;
    assert_eq!(seen, Seen::Timeout);
    assert!(is_timeout, "reqwest::Error::is_timeout");
    assert!(
        virtual_start.elapsed() >= 3 * timeout,
        "the timeouts ran in paused time"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "paused time: 90 s of timeouts took {:?}",
        started.elapsed()
    );
}

/// The blocking clients time out in real time: reqwest's blocking client and ureq.
#[test]
fn a_stalled_body_times_out_for_blocking_clients() {
    let _stall = http_intercept::add("http://stall.faults.test", stalled()).unwrap();
    let url = "http://stall.faults.test/";
    let timeout = Duration::from_millis(300);
    assert_eq!(blocking_seen(url, timeout), Seen::Timeout);
    assert_eq!(ureq_seen(url, timeout), Seen::Timeout);
}
