//! The test server's pipes, substitutions, `.asis` files and faults (feature
//! `server`), in memory and on the wire.
#![cfg(feature = "server")]

mod support;

use std::io::Read as _;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use http_intercept::server::{self, Files};
use http_intercept::ERROR_HEADER;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// Sends `request` over a fresh TCP connection and reads until the server closes it
/// (bounded, so a bug fails instead of hanging). A reset counts as the end.
async fn raw_exchange(addr: std::net::SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(request).await?;
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut reply))
        .await
        .expect("the server never closed the connection")?;
    Ok(reply)
}

async fn fetch(url: &str) -> (StatusCode, http::HeaderMap, Bytes) {
    let res = client().request(get(url)).await.unwrap();
    let (parts, body) = res.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes(),
    )
}

fn site(name: &str) -> http_intercept::Intercept {
    http_intercept::add(
        format!("http://{name}.pipes.test").as_str(),
        Files::new("tests/www"),
    )
    .unwrap()
}

#[tokio::test]
async fn status_header_and_slice_alone() {
    let site = site("basic");
    let (status, headers, body) =
        fetch(&format!("{}/hello.txt?pipe=status(404)", site.url())).await;
    assert_eq!(
        (status, &body[..]),
        (StatusCode::NOT_FOUND, &b"hello, world\n"[..])
    );
    assert_eq!(headers["content-type"], "text/plain");

    let (_, headers, _) = fetch(&format!(
        "{}/hello.txt?pipe=header(Content-Type,text/x-piped)",
        site.url()
    ))
    .await;
    assert_eq!(headers["content-type"], "text/x-piped");

    let url = format!(
        "{}/hello.txt?pipe=header(X-Multi,a)|header(X-Multi,b,True)|header(X-Escaped,a\\,b)",
        site.url()
    );
    let (_, headers, _) = fetch(&url).await;
    let values: Vec<_> = headers.get_all("x-multi").iter().collect();
    assert_eq!(values, ["a", "b"]);
    assert_eq!(headers["x-escaped"], "a,b");

    for (pipe, expected) in [
        ("slice(10)", "abcdefghijklmnopqrstuvwxyz"),
        ("slice(0,3)", "012"),
        ("slice(null,3)", "012"),
        ("slice(-3)", "xyz"),
        ("slice(1,-30)", "12345"),
        ("slice(30,2)", ""),
        ("slice(2,4)|slice(1)", "3"),
    ] {
        let (status, headers, body) = fetch(&format!("{}/data.txt?pipe={pipe}", site.url())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, expected, "{pipe}");
        assert_eq!(
            headers["content-length"],
            expected.len().to_string().as_str(),
            "{pipe}"
        );
    }
}

#[tokio::test]
async fn gzip_compresses_and_says_so() {
    let site = site("gzip");
    let (_, headers, body) = fetch(&format!("{}/data.txt?pipe=gzip", site.url())).await;
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(headers["content-length"], body.len().to_string().as_str());
    let mut plain = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut plain)
        .unwrap();
    assert_eq!(plain, "0123456789abcdefghijklmnopqrstuvwxyz");
    // Left to right: slice then gzip.
    let (_, _, body) = fetch(&format!("{}/data.txt?pipe=slice(0,4)|gzip()", site.url())).await;
    let mut plain = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut plain)
        .unwrap();
    assert_eq!(plain, "0123");
}

#[tokio::test]
async fn sub_substitutes_from_the_request() {
    let site = site("sub");
    let req = Request::get(format!("{}/template.sub.txt?q=%3Cb%3E", site.url()))
        .header("user-agent", "probe/1")
        .body(empty())
        .unwrap();
    let res = client().request(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A `.sub.txt` is no markup: substituted without escaping, as wptserve does.
    assert_eq!(
        text(res).await,
        "host=sub.pipes.test port=80 q=<b> ua=probe/1\n"
    );

    // A pipe string may ask for sub (HTML-escaped by default) on any file.
    let url = format!("{}/hello.txt?pipe=header(X,1)|sub", site.url());
    let (_, headers, body) = fetch(&url).await;
    assert_eq!(headers["x"], "1");
    assert_eq!(&body[..], b"hello, world\n");

    // The ports of other schemes come from Files::with_port.
    let files = Files::new("tests/www").with_port("https", 8443).handler(
        "/t",
        |_req: server::Request, res: server::ResponseBuilder| async move {
            res.body(
                "{{ports[https][0]}} {{$id:uuid()}} {{$id}} {{location[href]}} {{domains[www]}}",
            )
        },
    );
    let _t = http_intercept::add("http://ports.pipes.test:8000", files).unwrap();
    let (_, _, body) = fetch("http://ports.pipes.test:8000/t?pipe=sub").await;
    let body = String::from_utf8(body.to_vec()).unwrap();
    let parts: Vec<&str> = body.split(' ').collect();
    assert_eq!(parts[0], "8443");
    assert_eq!(parts[1].len(), 36);
    assert_eq!(parts[1], parts[2]);
    assert_eq!(parts[3], "http://ports.pipes.test:8000/t?pipe=sub");
    assert_eq!(parts[4], "www.ports.pipes.test");

    // A missing query parameter is empty, as in wptserve.
    let (status, _, body) = fetch(&format!("{}/template.sub.txt", site.url())).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains(" q= "));

    // An unknown substitution is a 500 that names it.
    let files = Files::new("tests/www").handler(
        "/bad",
        |_req: server::Request, res: server::ResponseBuilder| async move { res.body("{{nope}}") },
    );
    let _bad = http_intercept::add("http://bad-sub.pipes.test", files).unwrap();
    let (status, headers, body) = fetch("http://bad-sub.pipes.test/bad?pipe=sub").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(headers[ERROR_HEADER], "server");
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("{{nope}} in /bad"), "{body}");
}

#[tokio::test(start_paused = true)]
async fn trickle_sends_pieces_with_delays() {
    let site = site("trickle");
    let client = client();
    let start = Instant::now();
    let res = client
        .request(get(&format!(
            "{}/data.txt?pipe=trickle(d1:10:d2)",
            site.url()
        )))
        .await
        .unwrap();
    assert_eq!(res.headers()["content-length"], "36");
    let mut body = res.into_body();
    let mut pieces = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.unwrap().into_data() {
            pieces.push((
                String::from_utf8(data.to_vec()).unwrap(),
                start.elapsed().as_secs(),
            ));
        }
    }
    assert_eq!(
        pieces,
        [
            ("0123456789".to_owned(), 1),
            ("abcdefghijklmnopqrstuvwxyz".to_owned(), 3)
        ]
    );

    // The repeat marker: 10 bytes a second until all is sent.
    let start = Instant::now();
    let (_, _, body) = fetch(&format!("{}/data.txt?pipe=trickle(10:d1:r2)", site.url())).await;
    assert_eq!(body.len(), 36);
    // 10 bytes at 0 s, 1 s, 2 s and the last 6 at 3 s (the final delay follows the
    // whole Content-Length: the client has its body by then).
    assert_eq!(start.elapsed().as_secs(), 3);
}

#[tokio::test(start_paused = true)]
async fn the_wptserve_documentation_example() {
    let site = site("wpt");
    let start = Instant::now();
    let url = format!(
        "{}/data.txt?pipe=status(404)|header(Content-Type,text/plain)|trickle(d1:10:d1)",
        site.url()
    );
    let (status, headers, body) = fetch(&url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["content-type"], "text/plain");
    assert_eq!(body, "0123456789abcdefghijklmnopqrstuvwxyz");
    assert_eq!(start.elapsed().as_secs(), 2);

    // The pipe parameter percent-encoded, as a browser sends it.
    let url = format!(
        "{}/hello.txt?pipe=status%28202%29%7Cheader%28X-A%2Cb%29",
        site.url()
    );
    let (status, headers, _) = fetch(&url).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(headers["x-a"], "b");
}

#[tokio::test(start_paused = true)]
async fn delay_and_stall_let_a_client_timeout_fire_without_blocking_others() {
    let site = site("stall");
    let client = client();
    let url = format!("{}/hello.txt?pipe=delay(30)", site.url());
    let late = tokio::time::timeout(Duration::from_secs(5), client.request(get(&url))).await;
    assert!(
        late.is_err(),
        "the delayed response came before the client's timeout"
    );

    // Headers arrive, the body never does.
    let res = client
        .request(get(&format!("{}/hello.txt?pipe=stall", site.url())))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-length"], "13");
    let body = tokio::time::timeout(Duration::from_secs(60), res.into_body().collect()).await;
    assert!(body.is_err(), "a stalled body ended");

    // Other connections are served meanwhile.
    let (status, _, body) = fetch(&format!("{}/hello.txt", site.url())).await;
    assert_eq!(
        (status, &body[..]),
        (StatusCode::OK, &b"hello, world\n"[..])
    );
}

#[tokio::test]
async fn close_cuts_the_body_after_n_bytes() {
    let server = server::serve(Files::new("tests/www")).unwrap();
    let reply = raw_exchange(
        server.addr(),
        b"GET /data.txt?pipe=close(5) HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await
    .unwrap();
    let reply = String::from_utf8(reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
    assert!(reply.contains("content-length: 36\r\n"), "{reply}");
    assert!(reply.ends_with("\r\n\r\n01234"), "{reply}");

    // A real client sees a truncated body over HTTP/1.1; over HTTP/2 the stream is
    // reset after 5 bytes (the reset may overtake the response head).
    let site = site("close");
    let url = format!("{}/data.txt?pipe=close(5)", site.url());
    let res = client().request(get(&url)).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.into_body().collect().await.is_err());
    let outcome = match h2_client().request(get(&url)).await {
        Ok(res) => res.into_body().collect().await.map(|_| ()).map_err(|_| ()),
        Err(_) => Err(()),
    };
    assert!(outcome.is_err(), "HTTP/2 delivered a cut body whole");
}

#[tokio::test]
async fn malformed_chunk_breaks_the_chunked_encoding() {
    let server = server::serve(Files::new("tests/www")).unwrap();
    let reply = raw_exchange(
        server.addr(),
        b"GET /hello.txt?pipe=malformed_chunk HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await
    .unwrap();
    let reply = String::from_utf8(reply).unwrap();
    assert!(reply.contains("transfer-encoding: chunked\r\n"), "{reply}");
    assert!(!reply.contains("content-length"), "{reply}");
    assert!(
        reply.ends_with("\r\n\r\nzz\r\nhello, world\n\r\n"),
        "{reply}"
    );

    let site = site("chunk");
    let url = format!("{}/hello.txt?pipe=malformed_chunk", site.url());
    let outcome = match client().request(get(&url)).await {
        Ok(res) => res.into_body().collect().await.map(|_| ()),
        Err(_) => Ok(()),
    };
    assert!(outcome.is_err(), "the client accepted a malformed chunk");
    // HTTP/2 has no chunks: a 500 says why.
    let res = h2_client().request(get(&url)).await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(text(res)
        .await
        .contains("the malformed_chunk pipe writes a malformed HTTP/1.1 message"));
}

#[tokio::test]
async fn reset_answers_nothing() {
    let server = server::serve(Files::new("tests/www")).unwrap();
    match raw_exchange(
        server.addr(),
        b"GET /hello.txt?pipe=reset HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await
    {
        Ok(reply) => assert!(reply.is_empty(), "{:?}", String::from_utf8_lossy(&reply)),
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
    }
    let site = site("reset");
    let url = format!("{}/hello.txt?pipe=reset", site.url());
    assert!(client().request(get(&url)).await.is_err());
    let outcome = match h2_client().request(get(&url)).await {
        Ok(res) => res.into_body().collect().await.map(|_| ()).map_err(|_| ()),
        Err(_) => Err(()),
    };
    assert!(outcome.is_err());
    // The server is fine afterwards.
    let (status, _, _) = fetch(&format!("{}/hello.txt", site.url())).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn head_with_pipes_gets_the_headers_of_the_piped_get() {
    let site = site("head");
    let req = Request::head(format!(
        "{}/data.txt?pipe=slice(0,4)|header(X-H,1)",
        site.url()
    ))
    .body(empty())
    .unwrap();
    let res = client().request(req).await.unwrap();
    assert_eq!(res.headers()["content-length"], "4");
    assert_eq!(res.headers()["x-h"], "1");
    assert_eq!(text(res).await, "");
}

#[tokio::test]
async fn bad_pipe_strings_are_500s_naming_the_pipe() {
    let site = site("bad");
    for (pipe, says) in [
        ("frobnicate(1)", "unknown pipe \"frobnicate\""),
        (
            "status(abc)",
            "pipe status(abc): the status code must be a number from 100 to 999",
        ),
        ("status(404", "pipe status: the ( is never closed"),
        (
            "header(X-Only)",
            "pipe header(X-Only): takes 2 to 3 arguments, got 1",
        ),
        (
            "trickle(d1:r1)",
            "pipe trickle(d1:r1): \"r1\" repeats items that send no bytes",
        ),
        ("slice(x)", "pipe slice(x): \"x\" is not an integer or null"),
        (
            "status(200)x",
            "unexpected 'x' after its closing parenthesis",
        ),
    ] {
        let (status, headers, body) = fetch(&format!("{}/hello.txt?pipe={pipe}", site.url())).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{pipe}");
        assert_eq!(headers[ERROR_HEADER], "server");
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains(says), "{pipe}: {body}");
    }
}

#[tokio::test]
async fn asis_files_go_out_byte_for_byte() {
    let server = server::serve(Files::new("tests/www")).unwrap();
    for name in ["scripted.asis", "malformed.asis"] {
        let expected = std::fs::read(format!("tests/www/{name}")).unwrap();
        let request = format!("GET /{name} HTTP/1.1\r\nHost: x\r\n\r\n");
        let reply = raw_exchange(server.addr(), request.as_bytes())
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&reply),
            String::from_utf8_lossy(&expected),
            "{name}"
        );
    }
    // Pipelined requests after an .asis response are not answered: the connection closes.
    let reply = raw_exchange(
        server.addr(),
        b"GET /scripted.asis HTTP/1.1\r\nHost: x\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(reply, std::fs::read("tests/www/scripted.asis").unwrap());

    // In memory over HTTP/1.1, a real client reads it; over HTTP/2, a 500 says why.
    let site = site("asis");
    let res = client()
        .request(get(&format!("{}/scripted.asis", site.url())))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    assert_eq!(res.headers()["x-asis"], "yes");
    assert_eq!(text(res).await, "asis!");
    let res = h2_client()
        .request(get(&format!("{}/malformed.asis", site.url())))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = text(res).await;
    assert!(body.contains("/malformed.asis is an .asis file"), "{body}");
    assert!(body.contains("came over HTTP/2"), "{body}");
    assert!(body.contains("\"HTTP/1.1 200 OK\""), "{body}");
}

#[tokio::test]
async fn reqwest_sees_pipes_over_tcp() {
    let server = server::serve(Files::new("tests/www")).unwrap();
    let res = reqwest::get(format!(
        "{}/data.txt?pipe=status(203)|slice(-2)",
        server.url()
    ))
    .await
    .unwrap();
    assert_eq!(res.status().as_u16(), 203);
    assert_eq!(res.text().await.unwrap(), "yz");
    let res = reqwest::get(format!("{}/data.txt?pipe=close(3)", server.url()))
        .await
        .unwrap();
    assert!(res.text().await.is_err());
}
