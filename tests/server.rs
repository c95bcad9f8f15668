//! The test server (feature `server`): static files, `.headers`, root confinement,
//! handlers and the stash, through a real hyper-util client in memory and over TCP.
#![cfg(feature = "server")]

mod support;

use std::time::Duration;

use http::{Request, StatusCode};
use http_body_util::BodyExt;
use http_intercept::server::{self, Files, ResponseBuilder, Stash};
use http_intercept::ERROR_HEADER;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends `request` as written over a fresh TCP connection and reads until the server
/// closes it (with a generous bound, so a bug fails instead of hanging).
pub async fn raw_exchange(addr: std::net::SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut reply = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut reply))
        .await
        .expect("the server never closed the connection")
        .unwrap();
    reply
}

fn header<'a>(res: &'a http::Response<hyper::body::Incoming>, name: &str) -> Option<&'a str> {
    res.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn static_files_have_types_head_and_bodies_on_h1_and_h2() {
    let site = http_intercept::add("http://static.server.test", Files::new("tests/www")).unwrap();
    for client in [client(), h2_client()] {
        let res = client
            .request(get(&format!("{}/hello.txt", site.url())))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header(&res, "content-type"), Some("text/plain"));
        assert_eq!(header(&res, "content-length"), Some("13"));
        assert_eq!(text(res).await, "hello, world\n");

        let head = Request::head(format!("{}/hello.txt", site.url()))
            .body(empty())
            .unwrap();
        let res = client.request(head).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header(&res, "content-length"), Some("13"));
        assert_eq!(text(res).await, "");

        let res = client
            .request(get(&format!("{}/", site.url())))
            .await
            .unwrap();
        assert!(text(res).await.contains("root index"));
        let res = client
            .request(get(&format!("{}/dir/", site.url())))
            .await
            .unwrap();
        assert!(text(res).await.contains("dir index"));
        let res = client
            .request(get(&format!("{}/dir", site.url())))
            .await
            .unwrap();
        assert!(res.status().is_redirection());
        assert_eq!(header(&res, "location"), Some("/dir/"));

        let res = client
            .request(get(&format!("{}/missing.txt", site.url())))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(text(res)
            .await
            .contains("no file at /missing.txt under tests/www"));
    }
}

#[tokio::test]
async fn conditional_get_answers_304() {
    let site =
        http_intercept::add("http://conditional.server.test", Files::new("tests/www")).unwrap();
    let client = client();
    let url = format!("{}/hello.txt", site.url());
    let res = client.request(get(&url)).await.unwrap();
    let etag = header(&res, "etag").map(str::to_owned);
    let modified = header(&res, "last-modified")
        .expect("last-modified")
        .to_owned();

    let req = Request::get(&url)
        .header("if-modified-since", &modified)
        .body(empty())
        .unwrap();
    let res = client.request(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(text(res).await, "");

    if let Some(etag) = etag {
        let req = Request::get(&url)
            .header("if-none-match", etag)
            .body(empty())
            .unwrap();
        assert_eq!(
            client.request(req).await.unwrap().status(),
            StatusCode::NOT_MODIFIED
        );
    }
    let old = "Mon, 01 Jan 2001 00:00:00 GMT";
    let req = Request::get(&url)
        .header("if-modified-since", old)
        .body(empty())
        .unwrap();
    assert_eq!(client.request(req).await.unwrap().status(), StatusCode::OK);
}

#[tokio::test]
async fn ranges_answer_206_and_416() {
    let site = http_intercept::add("http://range.server.test", Files::new("tests/www")).unwrap();
    let client = client();
    let url = format!("{}/data.txt", site.url());
    let ranged = |range: &str| {
        Request::get(&url)
            .header("range", range)
            .body(empty())
            .unwrap()
    };

    let res = client.request(ranged("bytes=2-5")).await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&res, "content-range"), Some("bytes 2-5/36"));
    assert_eq!(text(res).await, "2345");

    let res = client.request(ranged("bytes=-3")).await.unwrap();
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(text(res).await, "xyz");

    let res = client.request(ranged("bytes=100-200")).await.unwrap();
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);

    // Pipes see the whole file: the range is ignored.
    let req = Request::get(format!("{url}?pipe=slice(0,3)"))
        .header("range", "bytes=2-5")
        .body(empty())
        .unwrap();
    let res = client.request(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(text(res).await, "012");
}

#[tokio::test]
async fn headers_files_apply_with_the_files_own_winning() {
    let site = http_intercept::add("http://headers.server.test", Files::new("tests/www")).unwrap();
    let client = client();

    let res = client
        .request(get(&format!("{}/dir/a.txt", site.url())))
        .await
        .unwrap();
    assert_eq!(header(&res, "x-dir"), Some("dir"));
    // Both files set X-Shared: both values are sent, the directory's first (wptserve).
    let shared: Vec<_> = res.headers().get_all("x-shared").iter().collect();
    assert_eq!(shared, ["from-dir", "from-file"]);
    assert_eq!(header(&res, "content-type"), Some("text/x-dir"));

    let res = client
        .request(get(&format!("{}/dir/b.txt", site.url())))
        .await
        .unwrap();
    assert_eq!(header(&res, "x-shared"), Some("from-dir"));

    let res = client
        .request(get(&format!("{}/custom.txt", site.url())))
        .await
        .unwrap();
    assert_eq!(
        header(&res, "content-type"),
        Some("text/x-custom; charset=utf-8")
    );
    assert_eq!(header(&res, "cache-control"), Some("no-store"));
    let cookies: Vec<&str> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    assert_eq!(text(res).await, "custom\n");

    // Pipes run after the overrides, so they win over both.
    let url = format!("{}/dir/a.txt?pipe=header(X-Shared,from-pipe)", site.url());
    let res = client.request(get(&url)).await.unwrap();
    assert_eq!(header(&res, "x-shared"), Some("from-pipe"));
}

#[tokio::test]
async fn headers_files_remove_mandatory_headers() {
    let site = http_intercept::add("http://bare.server.test", Files::new("tests/www")).unwrap();
    let server = server::serve(Files::new("tests/www")).unwrap();

    let res = client()
        .request(get(&format!("{}/bare.txt", site.url())))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), None);
    assert_eq!(header(&res, "content-length"), None);
    assert_eq!(header(&res, "last-modified"), None);
    assert_eq!(text(res).await, "no mandatory headers\n");

    let reply = raw_exchange(
        server.addr(),
        b"GET /bare.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    let reply = String::from_utf8(reply).unwrap();
    let (head, _) = reply.split_once("\r\n\r\n").unwrap();
    let head = head.to_ascii_lowercase();
    assert!(!head.contains("content-type:"), "{head}");
    assert!(!head.contains("content-length:"), "{head}");
    assert!(head.contains("transfer-encoding: chunked"), "{head}");
}

#[tokio::test]
async fn a_malformed_headers_file_is_a_500_naming_file_and_line() {
    let site = http_intercept::add("http://broken.server.test", Files::new("tests/www")).unwrap();
    let res = client()
        .request(get(&format!("{}/broken.txt", site.url())))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(header(&res, ERROR_HEADER), Some("server"));
    let body = text(res).await;
    assert!(body.contains("malformed headers file"), "{body}");
    assert!(body.contains("broken.txt.headers line 2"), "{body}");
    assert!(body.contains("this line has no colon"), "{body}");
}

/// A root with a secret beside it and symlinks pointing in and out.
fn jail() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let base = std::env::temp_dir().join(format!("http-intercept-jail-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(base.join("www/sub")).unwrap();
    std::fs::write(base.join("secret.txt"), "TOP SECRET").unwrap();
    std::fs::write(base.join("www/hello.txt"), "hello").unwrap();
    std::fs::write(base.join("www/sub/inner.txt"), "inner").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(base.join("secret.txt"), base.join("www/out.txt")).unwrap();
        std::os::unix::fs::symlink("..", base.join("www/up")).unwrap();
        std::os::unix::fs::symlink("sub/inner.txt", base.join("www/in.txt")).unwrap();
    }
    base
}

#[tokio::test]
async fn paths_escaping_the_root_are_refused_in_every_spelling() {
    let base = jail();
    let server = server::serve(Files::new(base.join("www"))).unwrap();
    let attempts = [
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/%2e./secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2fsecret.txt",
        "/sub/%2e%2e/%2e%2e/secret.txt",
        "//secret.txt",
        &format!(
            "/%2f{}",
            base.join("secret.txt")
                .display()
                .to_string()
                .trim_start_matches('/')
        ),
        &format!("/{}", base.join("secret.txt").display()),
        "/..%5csecret.txt",
        "/%5c..%5csecret.txt",
        "/hello.txt%00.png",
        "/C:/secret.txt",
        "/./hello.txt",
        "/out.txt",
        "/up/secret.txt",
    ];
    assert!(attempts.len() >= 10);
    for path in attempts {
        let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let reply = String::from_utf8_lossy(&raw_exchange(server.addr(), request.as_bytes()).await)
            .into_owned();
        assert!(!reply.contains("TOP SECRET"), "{path} leaked the secret");
        assert!(
            reply.starts_with("HTTP/1.1 403 Forbidden\r\n"),
            "{path}: {reply}"
        );
        assert!(reply.contains("refused path"), "{path}: {reply}");
    }
    // The same refusals in memory, where the client allows the spelling.
    let _site =
        http_intercept::add("http://jail.server.test", Files::new(base.join("www"))).unwrap();
    let client = client();
    for path in [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/out.txt",
        "/up/secret.txt",
    ] {
        let res = client
            .request(get(&format!("http://jail.server.test{path}")))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(!text(res).await.contains("TOP SECRET"));
    }
    // Symlinks that stay inside the root are followed.
    let res = client
        .request(get("http://jail.server.test/in.txt"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "inner");
    let _ = std::fs::remove_dir_all(base);
}

#[tokio::test]
async fn a_handler_counts_requests_through_the_stash() {
    let files = Files::new("tests/www").handler(
        "/count",
        |req: server::Request, res: ResponseBuilder| async move {
            let key = req.query("key").unwrap_or("default").to_owned();
            let n: u32 = req
                .stash()
                .take(&key)
                .map(|v| String::from_utf8_lossy(&v).parse().unwrap())
                .unwrap_or(0)
                + 1;
            req.stash().put(key, n.to_string())?;
            res.header("content-type", "text/plain").body(n.to_string())
        },
    );
    let stash = files.stash().clone();
    let site = http_intercept::add("http://count.server.test", files).unwrap();
    let client = client();
    for expected in ["1", "2", "3"] {
        let res = client
            .request(get(&format!("{}/count?key=a", site.url())))
            .await
            .unwrap();
        assert_eq!(header(&res, "content-type"), Some("text/plain"));
        assert_eq!(text(res).await, expected);
    }
    let res = client
        .request(get(&format!("{}/count?key=b", site.url())))
        .await
        .unwrap();
    assert_eq!(text(res).await, "1");
    assert_eq!(stash.take("a").as_deref(), Some(&b"3"[..]));
    assert_eq!(site.hits(), 4);
}

#[tokio::test]
async fn handlers_see_the_request_and_shadow_files() {
    let files = Files::new("tests/www")
        .handler(
            "/hello.txt",
            |_req: server::Request, res: ResponseBuilder| async move { res.body("shadowed") },
        )
        .handler(
            "/echo/*",
            |req: server::Request, res: ResponseBuilder| async move {
                let text = format!(
                    "{} {} q={} ua={} body={}",
                    req.method(),
                    req.path(),
                    req.query("q").unwrap_or("-"),
                    req.header("user-agent").unwrap_or("-"),
                    String::from_utf8_lossy(req.body())
                );
                res.status(201)
                    .append_header("x-a", "1")
                    .append_header("x-a", "2")
                    .body(text)
            },
        )
        .handler(
            "/fails",
            |_req: server::Request, _res: ResponseBuilder| async move {
                Err::<ResponseBuilder, _>(std::io::Error::other("the database is on fire"))
            },
        )
        .handler(
            "/bad-status",
            |_req: server::Request, res: ResponseBuilder| async move { res.status(42) },
        )
        .handler(
            "/panics",
            |_req: server::Request, _res: ResponseBuilder| async move {
                panic!("handler exploded");
                #[allow(unreachable_code)]
                ResponseBuilder::new()
            },
        );
    let site = http_intercept::add("http://handlers.server.test", files).unwrap();
    let client = client();

    let res = client
        .request(get(&format!("{}/hello.txt", site.url())))
        .await
        .unwrap();
    assert_eq!(text(res).await, "shadowed");

    let req = Request::post(format!("{}/echo/x?q=a+b%21", site.url()))
        .header("user-agent", "probe")
        .body(full("payload"))
        .unwrap();
    let res = client.request(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers().get_all("x-a").iter().count(), 2);
    assert_eq!(text(res).await, "POST /echo/x q=a b! ua=probe body=payload");

    // Pipes apply to handler responses too.
    let res = client
        .request(get(&format!(
            "{}/echo/y?pipe=status(418)|slice(0,4)",
            site.url()
        )))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 418);
    assert_eq!(text(res).await, "GET ");

    let res = client
        .request(get(&format!("{}/fails", site.url())))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = text(res).await;
    assert!(
        body.contains("the handler at /fails failed: the database is on fire"),
        "{body}"
    );

    let res = client
        .request(get(&format!("{}/bad-status", site.url())))
        .await
        .unwrap();
    assert!(text(res).await.contains("42 is not a status code"));

    let res = client
        .request(get(&format!("{}/panics", site.url())))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(header(&res, ERROR_HEADER), Some("panic"));
    assert!(text(res).await.contains("handler exploded"));
    assert_eq!(site.take_panic().as_deref(), Some("handler exploded"));
}

#[tokio::test(start_paused = true)]
async fn stash_values_are_dropped_after_their_timeout() {
    let stash = Stash::new().with_timeout(Duration::from_secs(10));
    let files = Files::new("tests/www")
        .with_stash(stash.clone())
        .handler(
            "/put",
            |req: server::Request, res: ResponseBuilder| async move {
                req.stash()
                    .put(req.query("key").unwrap_or_default(), req.body().clone())?;
                res.body("stored")
            },
        )
        .handler(
            "/take",
            |req: server::Request, res: ResponseBuilder| async move {
                match req.stash().take(req.query("key").unwrap_or_default()) {
                    Some(value) => res.body(value),
                    None => res.status(404).body("nothing"),
                }
            },
        );
    let site = http_intercept::add("http://stash.server.test", files).unwrap();
    let client = client();
    let put = |key: &str, value: &'static str| {
        Request::post(format!("{}/put?key={key}", site.url()))
            .body(full(value))
            .unwrap()
    };
    let take = |key: &str| get(&format!("{}/take?key={key}", site.url()));

    assert_eq!(
        text(client.request(put("k1", "early")).await.unwrap()).await,
        "stored"
    );
    // Putting again before it is taken is the handler's error.
    let res = client.request(put("k1", "again")).await.unwrap();
    assert!(text(res)
        .await
        .contains("stash key \"k1\" already holds a value"));

    tokio::time::advance(Duration::from_secs(9)).await;
    assert_eq!(
        text(client.request(take("k1")).await.unwrap()).await,
        "early"
    );
    assert_eq!(
        client.request(take("k1")).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );

    assert_eq!(
        text(client.request(put("k2", "late")).await.unwrap()).await,
        "stored"
    );
    tokio::time::advance(Duration::from_secs(11)).await;
    assert_eq!(stash.len(), 0);
    assert_eq!(
        client.request(take("k2")).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_same_directory_serves_in_memory_and_over_tcp() {
    let files = Files::new("tests/www");
    let site = http_intercept::add("http://both.server.test", files.clone()).unwrap();
    let server = server::serve(files).unwrap();
    let direct = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Body>();
    for path in [
        "/hello.txt",
        "/dir/a.txt",
        "/custom.txt",
        "/data.txt?pipe=slice(5)|header(X-P,1)",
    ] {
        let a = client()
            .request(get(&format!("{}{path}", site.url())))
            .await
            .unwrap();
        let b = direct
            .request(get(&format!("{}{path}", server.url())))
            .await
            .unwrap();
        assert_eq!(a.status(), b.status(), "{path}");
        for name in [
            "content-type",
            "content-length",
            "x-shared",
            "x-p",
            "set-cookie",
        ] {
            assert_eq!(
                a.headers().get(name),
                b.headers().get(name),
                "{path} {name}"
            );
        }
        assert_eq!(text(a).await, text(b).await, "{path}");
    }
}

#[tokio::test]
async fn serving_over_tcp_with_reqwest_and_several_origins() {
    let a = server::serve(Files::new("tests/www")).unwrap();
    let b = server::serve(Files::new("tests/www/dir")).unwrap();
    assert_ne!(a.port(), b.port());
    let client = reqwest::Client::new();
    let res = client
        .get(format!("{}/hello.txt", a.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "hello, world\n");
    let res = client
        .get(format!("{}/a.txt", b.url()))
        .send()
        .await
        .unwrap();
    let shared: Vec<_> = res.headers().get_all("x-shared").iter().collect();
    assert_eq!(shared, ["from-dir", "from-file"]);
    assert_eq!(res.text().await.unwrap(), "a\n");

    // HTTP/2 with prior knowledge on the same socket.
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let res = h2
        .get(format!("{}/hello.txt", a.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.version(), http::Version::HTTP_2);
    assert_eq!(res.text().await.unwrap(), "hello, world\n");

    // The guard closes the socket.
    let addr = a.addr();
    drop(a);
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn a_handler_writes_raw_bytes_on_http1() {
    let files = Files::new("tests/www").handler(
        "/raw",
        |req: server::Request, res: ResponseBuilder| async move {
            match req.raw_writer() {
                Some(raw) => {
                    raw.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
                        .await?;
                    Ok::<_, std::io::Error>(res)
                }
                None => Ok(res.status(501)),
            }
        },
    );
    let server = server::serve(files.clone()).unwrap();
    let reply = raw_exchange(server.addr(), b"GET /raw HTTP/1.1\r\nHost: x\r\n\r\n").await;
    assert_eq!(reply, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");

    // In memory over HTTP/1.1 the client sees the truncated body; over HTTP/2 there is
    // no raw writer.
    let _site = http_intercept::add("http://raw.server.test", files).unwrap();
    let res = client()
        .request(get("http://raw.server.test/raw"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.into_body().collect().await.is_err());
    let res = h2_client()
        .request(get("http://raw.server.test/raw"))
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 501);
}
