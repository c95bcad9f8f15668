//! The test server never reads outside its root (feature `server`): every file it
//! opens (the file, its `.headers` and `.sub.headers`, `__dir__.headers`, `.asis`
//! files, `index.html`, files named in substitutions, listing entries) is refused when
//! a symlink takes it out of the root; and the file cache sees changes at once. Each
//! through every client path, on both runtime flavors.
#![cfg(all(feature = "server", feature = "reqwest", feature = "ureq", unix))]

mod server_common;
mod support;

use std::path::{Path, PathBuf};

use http_intercept::server::Files;
use server_common::every_client;

/// A root `www` beside an `outside` folder of secrets, and symlinks from one to the
/// other for every kind of file the server opens.
fn jail(tag: &str) -> PathBuf {
    let base = std::env::temp_dir().join(format!(
        "http-intercept-confine-{}-{tag}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&base);
    let out = base.join("outside");
    let www = base.join("www");
    for dir in ["d-dir", "d-sub", "d-dirsub", "idx", "listed"] {
        std::fs::create_dir_all(www.join(dir)).unwrap();
    }
    std::fs::create_dir_all(&out).unwrap();
    let write = |p: &Path, s: &str| std::fs::write(p, s).unwrap();
    write(&out.join("secret.txt"), "TOP SECRET");
    write(&out.join("evil.headers"), "X-Leak: TOP SECRET\n");
    write(
        &out.join("evil.asis"),
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nTOP SECRET",
    );
    write(&out.join("index.html"), "TOP SECRET");
    write(&out.join("tmpl.sub.txt"), "TOP SECRET {{host}}");
    write(&www.join("hello.txt"), "hello");
    write(&www.join("d-dir/a.txt"), "a");
    write(&www.join("d-sub/b.txt"), "b");
    write(&www.join("d-dirsub/c.txt"), "c");
    write(&www.join("listed/ok.txt"), "ok");
    write(
        &www.join("hash.sub.txt"),
        "{{file_hash(sha256, /secret-link.txt)}}",
    );
    write(
        &www.join("fs.sub.txt"),
        "{{fs_path(../outside/secret.txt)}}",
    );
    let link = |target: &Path, at: &str| std::os::unix::fs::symlink(target, www.join(at)).unwrap();
    link(&out.join("evil.headers"), "hello.txt.headers");
    link(&out.join("evil.headers"), "d-dir/__dir__.headers");
    link(&out.join("evil.headers"), "d-sub/b.txt.sub.headers");
    link(&out.join("evil.headers"), "d-dirsub/__dir__.sub.headers");
    link(&out.join("evil.asis"), "leak.asis");
    link(&out.join("index.html"), "idx/index.html");
    link(&out.join("tmpl.sub.txt"), "t.sub.txt");
    link(&out.join("secret.txt"), "secret-link.txt");
    link(&out.join("secret.txt"), "listed/out.txt");
    base
}

async fn refused_everywhere(flavor: &str) {
    let base = jail(flavor);
    let host = format!("http://confine-{flavor}.server.test");
    let _site = http_intercept::add(host.as_str(), Files::new(base.join("www"))).unwrap();
    for (path, status) in [
        ("/hello.txt", 403),       // its .headers points outside
        ("/d-dir/a.txt", 403),     // __dir__.headers
        ("/d-sub/b.txt", 403),     // NAME.sub.headers
        ("/d-dirsub/c.txt", 403),  // __dir__.sub.headers
        ("/leak.asis", 403),       // an .asis file
        ("/idx/", 403),            // a directory's index.html
        ("/idx/index.html", 403),  // the same, named
        ("/t.sub.txt", 403),       // a template
        ("/secret-link.txt", 403), // the file itself
        ("/hash.sub.txt", 500),    // file_hash of a file outside
        ("/fs.sub.txt", 500),      // fs_path out of the root
    ] {
        for got in every_client(&format!("{host}{path}"), &[]).await {
            assert_eq!(
                got.status,
                status,
                "{path} via {}: {}",
                got.client,
                got.text()
            );
            assert!(
                !got.text().contains("TOP SECRET"),
                "{path} via {}",
                got.client
            );
            assert!(got.header("x-leak").is_none(), "{path} via {}", got.client);
            assert!(
                got.text().contains("outside the root") || got.text().contains("refused"),
                "{path} via {}: {}",
                got.client,
                got.text()
            );
        }
    }
    // A listing leaves out what points outside.
    for got in every_client(&format!("{host}/listed/"), &[]).await {
        assert_eq!(got.status, 200, "{}", got.client);
        let page = got.text();
        assert!(
            page.contains("ok.txt") && !page.contains("out.txt"),
            "{page}"
        );
    }
    let _ = std::fs::remove_dir_all(base);
}

async fn changes_are_seen_at_once(flavor: &str) {
    let base = jail(&format!("change-{flavor}"));
    let www = base.join("www");
    let host = format!("http://change-{flavor}.server.test");
    let _site = http_intercept::add(host.as_str(), Files::new(&www)).unwrap();
    let url = format!("{host}/listed/ok.txt");
    for round in 0..3 {
        let content = format!("version {round}");
        std::fs::write(www.join("listed/ok.txt"), &content).unwrap();
        for got in every_client(&url, &[]).await {
            assert_eq!(got.text(), content, "round {round} via {}", got.client);
        }
    }
    // A .headers file that appears applies at once; one that is replaced by a
    // symlink out of the root refuses the file at once.
    std::fs::write(www.join("listed/ok.txt.headers"), "X-Added: 1\n").unwrap();
    for got in every_client(&url, &[]).await {
        assert_eq!(got.header("x-added"), Some("1"), "{}", got.client);
    }
    std::fs::remove_file(www.join("listed/ok.txt.headers")).unwrap();
    std::os::unix::fs::symlink(
        base.join("outside/evil.headers"),
        www.join("listed/ok.txt.headers"),
    )
    .unwrap();
    for got in every_client(&url, &[]).await {
        assert_eq!(got.status, 403, "{}", got.client);
    }
    // The file replaced by a symlink out of the root.
    std::fs::remove_file(www.join("listed/ok.txt.headers")).unwrap();
    std::fs::remove_file(www.join("listed/ok.txt")).unwrap();
    std::os::unix::fs::symlink(base.join("outside/secret.txt"), www.join("listed/ok.txt")).unwrap();
    for got in every_client(&url, &[]).await {
        assert_eq!(got.status, 403, "{}", got.client);
        assert!(!got.text().contains("TOP SECRET"));
    }
    let _ = std::fs::remove_dir_all(base);
}

on_both_runtimes!(refused_everywhere, changes_are_seen_at_once);
