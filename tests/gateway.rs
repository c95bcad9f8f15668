//! The gateway on its own (feature `gateway`): a real `curl` child process pointed at
//! it through the proxy environment variables, for `http://` and `https://` (with the
//! in-memory CA given by `--cacert`). curl must be installed: `.ci/run` installs it.
#![cfg(feature = "gateway")]

mod support;

use std::process::{Command, Output};

use http_intercept::Registry;

/// Runs curl with the gateway as its proxy for both schemes, the way a test points a
/// child process (Python, Node, a shell script) at it, and the CA file given.
fn curl(proxy: &str, cacert: &std::path::Path, args: &[&str]) -> Output {
    Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "20"])
        .arg("--cacert")
        .arg(cacert)
        // `-w` after the body: the status code on a line of its own.
        .args(["-w", "\n%{http_code}"])
        .args(args)
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        // curl reads the lowercase spelling for http:// only.
        .env("http_proxy", proxy)
        .env("HTTPS_PROXY", proxy)
        .output()
        .unwrap_or_else(|e| {
            panic!("tests/gateway.rs needs curl on the PATH (apt-get install curl): {e}")
        })
}

/// The body and the status code curl printed.
fn body_and_status(out: &Output) -> (String, u16) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (body, code) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
    (body.to_owned(), code.trim().parse().unwrap_or(0))
}

/// The process CA, written to a file of this test's own.
fn ca_file(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "http-intercept-ca-{}-{name}.pem",
        std::process::id()
    ));
    std::fs::write(&path, http_intercept::ca_certificate_pem()).unwrap();
    path
}

#[test]
fn curl_reaches_registered_http_and_https_targets_through_the_proxy_environment() {
    let _guards = http_intercept::intercept! {
        "http://curl.gateway.test" => support::echo(),
        "https://curl.gateway.test" => support::echo(),
    };
    let proxy = http_intercept::proxy_url(Registry::global());
    let cacert = ca_file("both");
    for (scheme, extra) in [
        ("http", &[][..]),
        ("https", &[][..]),
        ("https", &["--http1.1"][..]),
    ] {
        let url = format!("{scheme}://curl.gateway.test/from-curl?x=1");
        let mut args = extra.to_vec();
        args.push(&url);
        let out = curl(&proxy, &cacert, &args);
        let (body, status) = body_and_status(&out);
        assert_eq!(
            status,
            200,
            "{scheme} {extra:?}: {body} / {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(body.contains("/from-curl?x=1"), "{scheme}: {body}");
        assert!(body.contains("GET"), "{scheme}: {body}");
        assert!(
            !body.to_ascii_lowercase().contains("proxy-authorization"),
            "{body}"
        );
    }
    let _ = std::fs::remove_file(cacert);
}

#[test]
fn curl_without_the_ca_refuses_the_gateways_certificate() {
    let _guard = http_intercept::add("https://untrusted.gateway.test", support::echo()).unwrap();
    let proxy = http_intercept::proxy_url(Registry::global());
    let empty =
        std::env::temp_dir().join(format!("http-intercept-no-ca-{}.pem", std::process::id()));
    // A CA bundle that does not hold the gateway's CA.
    std::fs::write(&empty, "").unwrap();
    let out = curl(&proxy, &empty, &["https://untrusted.gateway.test/"]);
    assert!(!out.status.success(), "curl trusted an unknown CA");
    let _ = std::fs::remove_file(empty);
}

#[test]
fn curl_gets_a_403_for_a_target_that_is_not_registered() {
    let proxy = http_intercept::proxy_url(Registry::global());
    let cacert = ca_file("unregistered");
    let out = curl(&proxy, &cacert, &["http://nobody.gateway.test/"]);
    let (body, status) = body_and_status(&out);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("nobody.gateway.test:80"), "{body}");
    let _ = std::fs::remove_file(cacert);
}

#[test]
fn curl_with_wrong_credentials_gets_a_407() {
    let _guard = http_intercept::add("http://creds.gateway.test", support::echo()).unwrap();
    let proxy = http_intercept::proxy_url(Registry::global());
    let (head, _) = proxy.rsplit_once('@').unwrap();
    let wrong = proxy.replace(head.rsplit_once(':').unwrap().1, "not-the-secret");
    let cacert = ca_file("creds");
    let out = curl(&wrong, &cacert, &["http://creds.gateway.test/"]);
    let (body, status) = body_and_status(&out);
    assert_eq!(status, 407, "{body}");
    let _ = std::fs::remove_file(cacert);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_from_a_multi_thread_test_runtime() {
    let _guard = http_intercept::add("https://mt.gateway.test", support::echo()).unwrap();
    let proxy = http_intercept::proxy_url(Registry::global());
    let cacert = ca_file("mt");
    let out = tokio::task::spawn_blocking({
        let cacert = cacert.clone();
        move || curl(&proxy, &cacert, &["https://mt.gateway.test/mt"])
    })
    .await
    .unwrap();
    let (body, status) = body_and_status(&out);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("/mt"), "{body}");
    let _ = std::fs::remove_file(cacert);
}
