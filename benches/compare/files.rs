//! The test server's row: a small static file with its `.headers` file, served by
//! `server::Files` in memory, against the bare intercepted service of row 2 (the goal
//! of issue 14: at most 3x on `current_thread`). Needs the `server` feature.

use crate::rows::Rows;

pub(crate) const FILES_H1: &str =
    "2 hyper-util → `Connector` → `server::Files`, small file + `.headers`, HTTP/1.1";

/// Measures [`FILES_H1`] when the filter wants it.
#[cfg(feature = "server")]
pub(crate) async fn rows(rows: &mut Rows<'_>) {
    use http_intercept::Connector;

    use crate::clients::{Hyper, Proto};
    use crate::service::BODY;

    if !rows.wants(FILES_H1) {
        return;
    }
    let root = std::env::temp_dir().join(format!("http-intercept-bench-{}", std::process::id()));
    std::fs::create_dir_all(&root).expect("making the bench's root");
    std::fs::write(root.join("hello.txt"), BODY).expect("writing the bench's file");
    std::fs::write(
        root.join("hello.txt.headers"),
        "Content-Type: text/plain\nX-Served-By: files\n",
    )
    .expect("writing the bench's .headers");
    let files = http_intercept::server::Files::new(&root);
    let site = http_intercept::add("http://files.compare.test", files)
        .expect("registering files.compare.test");
    let call = Hyper::new(
        Connector::new(),
        Proto::Http1,
        "http://files.compare.test/hello.txt",
    );
    rows.measure(FILES_H1, call).await;
    drop(site);
    let _ = std::fs::remove_dir_all(root);
}

/// [`FILES_H1`] needs the `server` feature: `cargo bench --features server`.
#[cfg(not(feature = "server"))]
pub(crate) async fn rows(rows: &mut Rows<'_>) {
    let _ = (rows, FILES_H1);
}
