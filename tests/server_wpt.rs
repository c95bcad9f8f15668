//! The test server answers as wptserve 4.0.3 does, row by row of the differences found
//! when both served the same root (feature `server`), through every client path on
//! both runtime flavors. Where ours differs on purpose, `Files`' docs say why.
#![cfg(all(feature = "server", feature = "reqwest", feature = "ureq"))]

mod server_common;
mod support;

use http_intercept::server::Files;
use server_common::{every_client, Got};

fn site(name: &str, flavor: &str, files: Files) -> (http_intercept::Intercept, String) {
    let host = format!("http://{name}-{flavor}.wpt.test");
    let guard = http_intercept::add(host.as_str(), files).unwrap();
    (guard, host)
}

fn www() -> Files {
    Files::new("tests/www")
}

async fn each(url: &str, check: impl Fn(&Got)) {
    for got in every_client(url, &[]).await {
        check(&got);
    }
}

async fn substitutions(flavor: &str) {
    let (_g, host) = site("sub", flavor, www());
    // Not markup: no escaping. Markup: HTML-escaped.
    each(&format!("{host}/wpt/x.sub.js?x=%3Cb%3E%20a%26c"), |g| {
        assert_eq!(g.text(), "var x = \"<b> a&c\";\n", "{}", g.client);
        assert_eq!(g.header("content-type"), Some("text/javascript"));
    })
    .await;
    each(&format!("{host}/wpt/x.sub.html?x=%3Cb%3E"), |g| {
        assert_eq!(g.text(), "<p>&lt;b&gt;</p>\n", "{}", g.client);
    })
    .await;
    // A missing parameter is empty; a lone `?` for a missing query.
    each(&format!("{host}/wpt/x.sub.js"), |g| {
        assert_eq!(g.text(), "var x = \"\";\n", "{}", g.client);
    })
    .await;
    each(&format!("{host}/wpt/loc.sub.txt"), |g| {
        assert_eq!(g.text(), "[?]", "{}", g.client);
    })
    .await;
    // A `.sub.` file with `?pipe=sub` is substituted twice.
    each(
        &format!("{host}/wpt/twice.sub.txt?x=%7B%7Bhost%7D%7D&pipe=sub"),
        |g| {
            assert_eq!(g.text(), format!("[sub-{flavor}.wpt.test]"), "{}", g.client);
        },
    )
    .await;
}

async fn configured_hosts(flavor: &str) {
    let files = www()
        .with_host("web-platform.test")
        .with_subdomain("www")
        .with_alternate_host("alt", "not-web-platform.test")
        .with_config("flavor", "strict");
    let (_g, host) = site("config", flavor, files);
    each(&format!("{host}/wpt/config.sub.txt"), |g| {
        assert_eq!(
            g.text(),
            "web-platform.test www.web-platform.test www.not-web-platform.test \
             www.web-platform.test strict hT/5N2Kgbdv3IsTr6d3WbY9j3a6pf1IcPswg2nyXYCA= \
             web-platform.test",
            "{}",
            g.client
        );
    })
    .await;
    // Unconfigured, {{host}} is the request's host.
    let (_g, host) = site("unconfigured", flavor, www());
    each(&format!("{host}/wpt/twice.sub.txt?x=1&pipe=sub"), |g| {
        assert_eq!(g.text(), "[1]", "{}", g.client);
    })
    .await;
}

async fn sub_headers_files(flavor: &str) {
    let (_g, host) = site("subhead", flavor, www());
    each(&format!("{host}/wpt/subhead/f.txt?q=%3Cx%3E"), |g| {
        assert_eq!(
            g.header("x-host"),
            Some(format!("subhead-{flavor}.wpt.test").as_str())
        );
        assert_eq!(g.header("x-q"), Some("<x>"), "{}", g.client);
        assert_eq!(g.header("x-dir-q"), Some("[<x>]"), "{}", g.client);
        assert_eq!(g.text(), "f\n");
    })
    .await;
    // A `.sub.headers` may hash a file (root-relative, as in wptserve).
    each(&format!("{host}/wpt/subhead/h.txt"), |g| {
        assert_eq!(
            g.header("x-hash"),
            Some("hT/5N2Kgbdv3IsTr6d3WbY9j3a6pf1IcPswg2nyXYCA="),
            "{}",
            g.client
        );
    })
    .await;
}

async fn content_types(flavor: &str) {
    let (_g, host) = site("types", flavor, www());
    for (ext, ty) in [
        ("event_stream", "text/event-stream"),
        ("mjs", "text/javascript"),
        ("js", "text/javascript"),
        ("json", "application/json"),
        ("xml", "application/xml"),
        ("md", "text/plain"),
        ("wav", "audio/x-wav"),
    ] {
        each(&format!("{host}/wpt/types/a.{ext}"), |g| {
            assert_eq!(g.header("content-type"), Some(ty), "{ext} via {}", g.client);
        })
        .await;
    }
}

async fn header_pipes(flavor: &str) {
    let (_g, host) = site("header", flavor, www());
    // Latin-1 bytes; append with any case of True; the last pipe= wins.
    let url = format!(
        "{host}/hello.txt?pipe=status(500)&pipe=header(X-L,caf%C3%A9)|header(X-A,1)|header(X-A,2,TRUE)"
    );
    each(&url, |g| {
        assert_eq!(g.status, 200, "{}", g.client);
        assert_eq!(g.all("x-l"), [b"caf\xe9".to_vec()], "{}", g.client);
        assert_eq!(g.all("x-a"), [b"1".to_vec(), b"2".to_vec()], "{}", g.client);
    })
    .await;
    each(&format!("{host}/hello.txt?pipe=header(X,%E2%9C%93)"), |g| {
        assert_eq!(g.status, 500, "{}", g.client);
        assert!(g.text().contains("beyond Latin-1"), "{}", g.text());
    })
    .await;
    // A Content-Length the pipe sets is sent, with the body cut to it.
    each(
        &format!("{host}/hello.txt?pipe=header(Content-Length,3)"),
        |g| {
            assert_eq!(g.header("content-length"), Some("3"), "{}", g.client);
            assert_eq!(g.text(), "hel", "{}", g.client);
        },
    )
    .await;
    // 204: no Content-Length, no body.
    each(&format!("{host}/hello.txt?pipe=status(204)"), |g| {
        assert_eq!(g.status, 204, "{}", g.client);
        assert_eq!(g.header("content-length"), None, "{}", g.client);
        assert_eq!(g.text(), "");
    })
    .await;
}

async fn trickle_is_not_cached(flavor: &str) {
    let (_g, host) = site("trickle", flavor, www());
    each(&format!("{host}/hello.txt?pipe=trickle(5:d0)"), |g| {
        assert_eq!(
            g.header("cache-control"),
            Some("no-cache, no-store, must-revalidate"),
            "{}",
            g.client
        );
        assert_eq!(g.header("pragma"), Some("no-cache"));
        assert_eq!(g.header("expires"), Some("0"));
        assert_eq!(g.text(), "hello, world\n");
    })
    .await;
    let url = format!("{host}/hello.txt?pipe=header(Cache-Control,max-age%3D5)|trickle(5:d0)");
    each(&url, |g| {
        assert_eq!(g.header("cache-control"), Some("max-age=5"), "{}", g.client);
        assert_eq!(g.header("pragma"), None);
    })
    .await;
}

async fn paths_and_directories(flavor: &str) {
    let (_g, host) = site("paths", flavor, www());
    each(&format!("{host}/hello.txt/"), |g| {
        assert_eq!(g.status, 404, "{}", g.client);
    })
    .await;
    each(&format!("{host}/wpt/nolisting/"), |g| {
        assert_eq!(g.status, 200, "{}", g.client);
        assert_eq!(g.header("content-type"), Some("text/html; charset=utf-8"));
        let page = g.text();
        assert!(page.contains("href=\"one.txt\""), "{page}");
        assert!(page.contains("href=\"inner/\""), "{page}");
        assert!(page.contains("href=\"../\""), "{page}");
    })
    .await;
}

async fn multiple_ranges(flavor: &str) {
    let (_g, host) = site("ranges", flavor, www());
    let url = format!("{host}/data.txt");
    for g in every_client(&url, &[("range", "bytes=0-1,4-5")]).await {
        assert_eq!(g.status, 206, "{}", g.client);
        let ct = g.header("content-type").unwrap().to_owned();
        let boundary = ct
            .strip_prefix("multipart/byteranges; boundary=")
            .unwrap_or_else(|| panic!("{ct}"));
        let body = g.text();
        assert_eq!(
            body,
            format!(
                "\r\n--{boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/36\r\n\r\n01\
                 \r\n--{boundary}\r\nContent-Type: text/plain\r\nContent-Range: bytes 4-5/36\r\n\r\n45\
                 \r\n--{boundary}--"
            ),
            "{}",
            g.client
        );
    }
    // Overlapping ranges coalesce into one.
    for g in every_client(&url, &[("range", "bytes=0-3,2-5")]).await {
        assert_eq!(g.status, 206);
        assert_eq!(
            g.header("content-range"),
            Some("bytes 0-5/36"),
            "{}",
            g.client
        );
        assert_eq!(g.text(), "012345");
    }
}

on_both_runtimes!(
    substitutions,
    configured_hosts,
    sub_headers_files,
    content_types,
    header_pipes,
    trickle_is_not_cached,
    paths_and_directories,
    multiple_ranges,
);
