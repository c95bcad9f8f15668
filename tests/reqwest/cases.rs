// The cases of tests/reqwest.rs, included once per reqwest version, where `reqwest`
// names that version's crate and `plain()` builds a client without `.intercept()`.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use http_intercept::reqwest::ClientBuilderExt;
use http_intercept::Registry;
use hyper::body::Incoming;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TIMEOUT: Duration = Duration::from_secs(20);

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .intercept()
        .timeout(TIMEOUT)
        .build()
        .unwrap()
}

/// A service that describes what it saw: `key: value` lines, one `header: name: value`
/// line per header.
fn describe() -> impl tower::Service<
    Request<Incoming>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(|req: Request<Incoming>| async move {
        let (parts, body) = req.into_parts();
        let body = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let mut out = String::new();
        let _ = writeln!(out, "uri: {}", parts.uri);
        let _ = writeln!(out, "method: {}", parts.method);
        let _ = writeln!(out, "body-len: {}", body.len());
        let _ = writeln!(
            out,
            "body-sum: {}",
            body.iter().map(|b| u64::from(*b)).sum::<u64>()
        );
        for (name, value) in &parts.headers {
            let _ = writeln!(
                out,
                "header: {name}: {}",
                value.to_str().unwrap_or("<bytes>")
            );
        }
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(out))))
    })
}

fn field<'a>(seen: &'a str, key: &str) -> Option<&'a str> {
    seen.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(": "))
}

fn header<'a>(seen: &'a str, name: &str) -> Option<&'a str> {
    seen.lines()
        .filter_map(|l| l.strip_prefix("header: "))
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
}

async fn get(client: &reqwest::Client, url: &str) -> (reqwest::StatusCode, String) {
    let res = client.get(url).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// A real server on 127.0.0.1, on its own thread (so blocking tests can use it too),
/// answering `real server` and logging each request's headers.
fn real_server() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = log.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                        let mut line = format!("{} {}", req.method(), req.uri());
                        for (name, value) in req.headers() {
                            let _ = write!(line, "|{name}={}", value.to_str().unwrap_or(""));
                        }
                        seen.lock().unwrap().push(line);
                        async {
                            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(
                                "real server",
                            ))))
                        }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    )
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
                });
            }
        });
    });
    (addr, log)
}

#[tokio::test]
async fn http_over_http1_sees_no_proxy_artefacts() {
    let api = http_intercept::add("http://h1.reqwest.test", describe()).unwrap();
    let (status, seen) = get(&client(), "http://h1.reqwest.test/users?page=2").await;
    assert_eq!(status, 200);
    assert_eq!(
        field(&seen, "uri"),
        Some("http://h1.reqwest.test/users?page=2"),
        "{seen}"
    );
    assert_eq!(header(&seen, "host"), Some("h1.reqwest.test"), "{seen}");
    assert_eq!(header(&seen, "proxy-authorization"), None, "{seen}");
    assert_eq!(header(&seen, "proxy-connection"), None, "{seen}");
    assert_eq!(api.hits(), 1);
}

#[tokio::test]
async fn http_over_http2_prior_knowledge() {
    let _api = http_intercept::add("http://h2c.reqwest.test:8080", describe()).unwrap();
    let client = reqwest::Client::builder()
        .intercept()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let res = client
        .get("http://h2c.reqwest.test:8080/x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.version(), reqwest::Version::HTTP_2);
    let seen = res.text().await.unwrap();
    assert_eq!(
        field(&seen, "uri"),
        Some("http://h2c.reqwest.test:8080/x"),
        "{seen}"
    );
    assert_eq!(
        header(&seen, "host"),
        Some("h2c.reqwest.test:8080"),
        "{seen}"
    );
}

#[tokio::test]
async fn https_over_http2_and_http1() {
    let _api = http_intercept::add("https://tls.reqwest.test", describe()).unwrap();
    let res = client()
        .get("https://tls.reqwest.test/secure")
        .send()
        .await
        .unwrap();
    assert_eq!(res.version(), reqwest::Version::HTTP_2, "ALPN picks h2");
    let seen = res.text().await.unwrap();
    assert_eq!(
        field(&seen, "uri"),
        Some("https://tls.reqwest.test/secure"),
        "{seen}"
    );
    assert_eq!(header(&seen, "host"), Some("tls.reqwest.test"), "{seen}");

    let h1 = reqwest::Client::builder()
        .intercept()
        .http1_only()
        .build()
        .unwrap();
    let res = h1
        .get("https://tls.reqwest.test/secure")
        .send()
        .await
        .unwrap();
    assert_eq!(res.version(), reqwest::Version::HTTP_11);
    let seen = res.text().await.unwrap();
    assert_eq!(header(&seen, "proxy-authorization"), None, "{seen}");
}

#[tokio::test]
async fn https_to_an_ipv4_literal() {
    let _api = http_intercept::add("https://10.255.0.9:8443", describe()).unwrap();
    let (status, seen) = get(&client(), "https://10.255.0.9:8443/ip").await;
    assert_eq!(status, 200);
    assert_eq!(
        field(&seen, "uri"),
        Some("https://10.255.0.9:8443/ip"),
        "{seen}"
    );
}

#[tokio::test]
async fn a_client_without_intercept_does_not_trust_the_gateways_ca() {
    let _api = http_intercept::add("https://untrusted.reqwest.test", describe()).unwrap();
    let plain = plain()
        .proxy(reqwest::Proxy::all(http_intercept::reqwest::proxy_url(Registry::global())).unwrap())
        .build()
        .unwrap();
    let err = plain
        .get("https://untrusted.reqwest.test/")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect() || err.is_request(), "{err:?}");
}

#[tokio::test]
async fn a_4_mib_post_over_http_and_https() {
    let _g = http_intercept::intercept! {
        "http://big.reqwest.test" => describe(),
        "https://big.reqwest.test" => describe(),
    };
    let body: Vec<u8> = (0..4 * 1024 * 1024).map(|i| (i % 253) as u8).collect();
    let sum: u64 = body.iter().map(|b| u64::from(*b)).sum();
    for url in [
        "http://big.reqwest.test/upload",
        "https://big.reqwest.test/upload",
    ] {
        let res = client().post(url).body(body.clone()).send().await.unwrap();
        let seen = res.text().await.unwrap();
        assert_eq!(field(&seen, "body-len"), Some("4194304"), "{url}");
        assert_eq!(
            field(&seen, "body-sum"),
            Some(sum.to_string().as_str()),
            "{url}"
        );
    }
}

#[test]
fn the_blocking_client_over_http_and_https() {
    let _g = http_intercept::intercept! {
        "http://blocking.reqwest.test" => describe(),
        "https://blocking.reqwest.test" => describe(),
    };
    let client = reqwest::blocking::Client::builder()
        .intercept()
        .timeout(TIMEOUT)
        .build()
        .unwrap();
    for url in [
        "http://blocking.reqwest.test/a",
        "https://blocking.reqwest.test/a",
    ] {
        let seen = client.get(url).send().unwrap().text().unwrap();
        assert_eq!(field(&seen, "uri"), Some(url), "{seen}");
        let seen = client
            .post(url)
            .body("posted")
            .send()
            .unwrap()
            .text()
            .unwrap();
        assert_eq!(field(&seen, "body-len"), Some("6"), "{seen}");
    }
}

#[tokio::test]
async fn a_host_that_does_not_resolve() {
    let url = "https://nowhere.reqwest.invalid/x";
    assert!(
        client().get(url).send().await.is_err(),
        "unresolvable without an intercept"
    );
    let _g = http_intercept::add(url, describe()).unwrap();
    let (status, _) = get(&client(), url).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn unregistered_traffic_goes_direct_never_through_the_gateway() {
    let (addr, log) = real_server();
    let (status, body) = get(&client(), &format!("http://{addr}/direct")).await;
    assert_eq!((status.as_u16(), body.as_str()), (200, "real server"));
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    // Direct: origin-form, and none of the gateway's credentials.
    assert!(seen[0].starts_with("GET /direct|"), "{seen:?}");
    assert!(!seen[0].contains("proxy-authorization"), "{seen:?}");
}

#[tokio::test]
async fn a_target_registered_after_the_client_was_built() {
    let client = client();
    let _g = http_intercept::add("http://late.reqwest.test", describe()).unwrap();
    let (status, seen) = get(&client, "http://late.reqwest.test/").await;
    assert_eq!(status, 200);
    assert_eq!(field(&seen, "uri"), Some("http://late.reqwest.test/"));
}

#[tokio::test]
async fn dropping_the_guard_sends_a_pooled_client_to_the_real_host() {
    let (addr, log) = real_server();
    let url = format!("http://{addr}/pooled");
    for h2 in [false, true] {
        let builder = reqwest::Client::builder().intercept();
        let client = if h2 {
            builder.http2_prior_knowledge()
        } else {
            builder
        }
        .build()
        .unwrap();
        let guard = http_intercept::add(addr, describe()).unwrap();
        for _ in 0..2 {
            let (_, seen) = get(&client, &url).await;
            assert!(seen.starts_with("uri: "), "intercepted (h2={h2}): {seen}");
        }
        drop(guard);
        let (status, body) = get(&client, &url).await;
        assert_eq!(
            (status.as_u16(), body.as_str()),
            (200, "real server"),
            "h2={h2}"
        );
    }
    assert_eq!(log.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn dropping_the_guard_of_an_https_target_sends_the_pooled_client_away_from_it() {
    let client = client();
    let guard = http_intercept::add("https://gone.reqwest.invalid", describe()).unwrap();
    let (status, _) = get(&client, "https://gone.reqwest.invalid/").await;
    assert_eq!(status, 200);
    drop(guard);
    // As for a fresh client: the name does not resolve, so the request fails; it never
    // reaches the removed service.
    let err = client
        .get("https://gone.reqwest.invalid/")
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect() || err.is_request(), "{err:?}");
}

/// Sends `request` to the gateway over raw TCP and returns the response head.
async fn raw(request: String) -> String {
    let proxy: reqwest::Url = http_intercept::reqwest::proxy_url(Registry::global())
        .parse()
        .unwrap();
    let addr = format!("{}:{}", proxy.host_str().unwrap(), proxy.port().unwrap());
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(TIMEOUT, stream.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn credentials() -> String {
    use base64::Engine as _;
    let proxy: reqwest::Url = http_intercept::reqwest::proxy_url(Registry::global())
        .parse()
        .unwrap();
    let pair = format!("{}:{}", proxy.username(), proxy.password().unwrap());
    base64::engine::general_purpose::STANDARD.encode(pair)
}

#[tokio::test]
async fn the_gateway_is_not_an_open_proxy() {
    let _g = http_intercept::add("http://guarded.reqwest.test", describe()).unwrap();
    let head = raw(
        "GET http://guarded.reqwest.test/ HTTP/1.1\r\nHost: guarded.reqwest.test\r\n\r\n".into(),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 407"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("proxy-authenticate: basic"),
        "{head}"
    );
    let head = raw(
        "CONNECT guarded.reqwest.test:443 HTTP/1.1\r\nHost: guarded.reqwest.test:443\r\n\r\n"
            .into(),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 407"), "{head}");
    let head = raw(format!(
        "GET http://guarded.reqwest.test/ HTTP/1.1\r\nHost: guarded.reqwest.test\r\nProxy-Authorization: Basic {}\r\n\r\n",
        base64_of("registry-1:wrong")
    ))
    .await;
    assert!(head.starts_with("HTTP/1.1 407"), "a wrong secret: {head}");

    // With the right credentials, only registered targets.
    let auth = credentials();
    let head = raw(format!(
        "GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\nProxy-Authorization: Basic {auth}\r\n\r\n"
    ))
    .await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    let head = raw(format!(
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nProxy-Authorization: Basic {auth}\r\n\r\n"
    ))
    .await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");
    let head = raw(format!(
        "GET http://guarded.reqwest.test/ HTTP/1.1\r\nHost: guarded.reqwest.test\r\nProxy-Authorization: Basic {auth}\r\n\r\n"
    ))
    .await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
}

fn base64_of(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_requests() {
    let api = http_intercept::intercept! {
        "http://many.reqwest.test" => describe(),
        "https://many.reqwest.test" => describe(),
    };
    let client = client();
    let requests = (0..100).map(|i| {
        let client = client.clone();
        let scheme = if i % 2 == 0 { "http" } else { "https" };
        async move {
            let url = format!("{scheme}://many.reqwest.test/{i}");
            let (_, seen) = get(&client, &url).await;
            assert_eq!(field(&seen, "uri"), Some(url.as_str()));
        }
    });
    futures_util::future::join_all(requests).await;
    assert_eq!(api[0].hits() + api[1].hits(), 100);
}

#[tokio::test]
async fn an_isolated_registry() {
    let registry = Registry::new();
    let _g = registry
        .add("https://isolated.reqwest.test", describe())
        .unwrap();
    let mine = reqwest::Client::builder()
        .intercept_with(&registry)
        .build()
        .unwrap();
    let (status, _) = get(&mine, "https://isolated.reqwest.test/").await;
    assert_eq!(status, 200);
    // A client of the global registry does not see it (the name does not resolve).
    assert!(client()
        .get("https://isolated.reqwest.test/")
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn a_panicking_service_answers_500_through_the_gateway() {
    let svc = tower::service_fn(|_req: Request<Incoming>| async move {
        if true {
            panic!("gateway boom");
        }
        Ok::<_, Infallible>(Response::new(String::new()))
    });
    let api = http_intercept::add("https://panics.reqwest.test", svc).unwrap();
    let (status, body) = get(&client(), "https://panics.reqwest.test/").await;
    assert_eq!(status, 500);
    assert!(body.ends_with("panicked: gateway boom"), "{body}");
    assert_eq!(api.take_panic().as_deref(), Some("gateway boom"));
}

#[test]
fn one_client_used_from_two_successive_runtimes() {
    let _g = http_intercept::intercept! {
        "http://runtimes.reqwest.test" => describe(),
        "https://runtimes.reqwest.test" => describe(),
    };
    let client = client();
    for _ in 0..2 {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            for url in [
                "http://runtimes.reqwest.test/",
                "https://runtimes.reqwest.test/",
            ] {
                let (status, _) = get(&client, url).await;
                assert_eq!(status, 200);
            }
        });
    }
}

#[test]
fn the_ca_is_exported_as_pem() {
    let pem = http_intercept::ca_certificate_pem();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
    assert!(pem.ends_with("-----END CERTIFICATE-----\n"));
    reqwest::Certificate::from_pem(pem.as_bytes()).unwrap();
}

/// A service on a real TLS socket (the crate's own test server), trusted by clients
/// built with `.intercept()`.
#[cfg(feature = "server")]
fn real_tls_server() -> http_intercept::server::Server {
    let svc = tower::service_fn(|_req: Request<Incoming>| async {
        Ok::<_, Infallible>(Response::new(String::from("real tls server")))
    });
    http_intercept::server::serve_tls(svc).unwrap()
}

#[cfg(feature = "server")]
#[tokio::test]
async fn serve_tls_is_fetched_by_reqwest_over_h1_and_h2() {
    let server = real_tls_server();
    for builder in [
        reqwest::Client::builder(),
        reqwest::Client::builder().http1_only(),
    ] {
        let client = builder.intercept().build().unwrap();
        let url = format!("{}/", server.url());
        let (status, body) = get(&client, &url).await;
        assert_eq!((status.as_u16(), body.as_str()), (200, "real tls server"));
        let localhost = url.replace("127.0.0.1", "localhost");
        let (status, _) = get(&client, &localhost).await;
        assert_eq!(status, 200, "the certificate names localhost too");
    }
    // A client that does not trust the CA refuses the certificate.
    let plain = plain().no_proxy().build().unwrap();
    assert!(plain.get(server.url()).send().await.is_err());
}

#[cfg(feature = "server")]
#[tokio::test]
async fn dropping_the_guard_of_an_https_target_sends_the_pooled_h2_client_to_the_real_host() {
    let server = real_tls_server();
    let url = format!("{}/", server.url());
    // Several rounds: the request right after the drop must never reach the service.
    for round in 0..10 {
        let client = client();
        let guard = http_intercept::add(server.addr().to_string().as_str(), describe()).unwrap();
        let res = client.get(&url).send().await.unwrap();
        assert_eq!(res.version(), reqwest::Version::HTTP_2);
        assert!(
            res.text().await.unwrap().starts_with("uri: "),
            "round {round}"
        );
        drop(guard);
        let (status, body) = get(&client, &url).await;
        assert_eq!(
            (status.as_u16(), body.as_str()),
            (200, "real tls server"),
            "round {round}"
        );
    }
}

/// One step of a client's life next to a real host.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// Register the real host's address.
    Register,
    /// Drop that registration.
    Drop,
    /// A request; `true`: the service answers it, `false`: the real host.
    Get(bool),
}

/// Runs `steps` with one client against one real host, then checks that the real host
/// never saw a proxy header.
async fn run_steps(h2: bool, steps: &[Step]) {
    use Step::*;
    let (addr, log) = real_server();
    let url = format!("http://{addr}/leak");
    let builder = reqwest::Client::builder().intercept().timeout(TIMEOUT);
    let client = if h2 {
        builder.http2_prior_knowledge()
    } else {
        builder
    }
    .build()
    .unwrap();
    let mut guard = None;
    for (i, step) in steps.iter().enumerate() {
        match *step {
            Register => guard = Some(http_intercept::add(addr, describe()).unwrap()),
            Drop => drop(guard.take()),
            Get(intercepted) => {
                let (status, body) = get(&client, &url).await;
                assert_eq!(status, 200, "step {i} of {steps:?} (h2={h2}): {body}");
                assert_eq!(
                    body.starts_with("uri: "),
                    intercepted,
                    "step {i} of {steps:?} (h2={h2}): {body}"
                );
            }
        }
    }
    let seen = log.lock().unwrap();
    for line in seen.iter() {
        let lower = line.to_ascii_lowercase();
        assert!(
            !lower.contains("proxy-authorization") && !lower.contains("proxy-connection"),
            "the real host saw a proxy header ({steps:?}, h2={h2}): {line}"
        );
    }
}

/// The steps the proxy secret could leak in: pooling a direct connection before the
/// host is registered, registering and dropping in between.
const ORDERINGS: &[&[Step]] = {
    use Step::*;
    &[
        // Pooled direct first: the host stays direct for this client.
        &[Get(false), Register, Get(false), Get(false), Drop, Get(false)],
        // Registered first, dropped (the gateway forwards to the real host), registered
        // again: intercepted again, the host stays with the gateway.
        &[
            Register,
            Get(true),
            Get(true),
            Drop,
            Get(false),
            Register,
            Get(true),
            Drop,
            Get(false),
        ],
        // Dropped and registered again without a request in between: intercepted.
        &[Register, Get(true), Drop, Register, Get(true), Drop, Get(false)],
    ]
};

#[tokio::test]
async fn the_real_host_never_sees_the_proxy_credentials() {
    for h2 in [false, true] {
        for steps in ORDERINGS {
            run_steps(h2, steps).await;
        }
    }
}

/// On a multi-thread runtime, hyper-util pools gateway connections it opened in the
/// background and never used; a request the client later sends direct may come down
/// one without credentials (it got a 407 in 3 runs of 8 before the gateway forwarded
/// such requests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_host_never_sees_the_proxy_credentials_multi_thread() {
    for h2 in [false, true] {
        for steps in ORDERINGS {
            run_steps(h2, steps).await;
        }
    }
}

/// Checks a refusal: a 502 marked `denied`, naming the target and how to register it.
fn assert_denied(status: u16, error: Option<&str>, body: &str, authority: &str, url: &str) {
    assert_eq!(status, 502, "{body}");
    assert_eq!(error, Some("denied"), "{body}");
    assert!(body.contains(authority), "{body}");
    assert!(
        body.contains(&format!("http_intercept::add({url:?}")),
        "the refusal says how to register: {body}"
    );
}

async fn check_policy_deny() {
    let _api = http_intercept::intercept! {
        "http://allowed.policy.test" => describe(),
        "https://allowed.policy.test" => describe(),
    };
    let client = reqwest::Client::builder()
        .intercept_with_policy(Registry::global(), http_intercept::Policy::Deny)
        .timeout(TIMEOUT)
        .build()
        .unwrap();
    for scheme in ["http", "https"] {
        let (status, seen) = get(&client, &format!("{scheme}://allowed.policy.test/x")).await;
        assert_eq!(status, 200, "registered targets are served: {seen}");
        assert!(seen.starts_with("uri: "), "{seen}");
    }
    let (addr, log) = real_server();
    for (url, authority, base) in [
        (
            "http://refused.policy.test/a?b=1".to_owned(),
            "refused.policy.test:80".to_owned(),
            "http://refused.policy.test".to_owned(),
        ),
        (
            "https://refused.policy.test/a".to_owned(),
            "refused.policy.test:443".to_owned(),
            "https://refused.policy.test".to_owned(),
        ),
        (format!("http://{addr}/"), addr.to_string(), format!("http://{addr}")),
    ] {
        let res = client.get(&url).send().await.unwrap();
        let status = res.status().as_u16();
        let error = res
            .headers()
            .get(http_intercept::ERROR_HEADER)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = res.text().await.unwrap();
        assert_denied(status, error.as_deref(), &body, &authority, &base);
    }
    assert!(log.lock().unwrap().is_empty(), "Deny refuses loopback too");
}

#[tokio::test]
async fn policy_deny_refuses_unregistered_http_and_https_with_a_message() {
    check_policy_deny().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_deny_on_a_multi_thread_runtime() {
    check_policy_deny().await;
}

#[tokio::test]
async fn policy_deny_over_http2_and_http1_only() {
    let (addr, _log) = real_server();
    for builder in [
        reqwest::Client::builder().http2_prior_knowledge(),
        reqwest::Client::builder().http1_only(),
    ] {
        let client = builder
            .intercept_with_policy(Registry::global(), http_intercept::Policy::Deny)
            .timeout(TIMEOUT)
            .build()
            .unwrap();
        let res = client.get(format!("http://{addr}/")).send().await.unwrap();
        assert_eq!(res.status(), 502);
        let res = client.get("https://h.policy.test/").send().await.unwrap();
        assert_eq!(res.status(), 502);
        assert!(res.text().await.unwrap().contains("h.policy.test:443"));
    }
}

#[tokio::test]
async fn policy_loopback_only_lets_the_tests_own_servers_through() {
    let (addr, log) = real_server();
    let client = reqwest::Client::builder()
        .intercept_with_policy(Registry::global(), http_intercept::Policy::LoopbackOnly)
        .timeout(TIMEOUT)
        .build()
        .unwrap();
    let (status, body) = get(&client, &format!("http://{addr}/local")).await;
    assert_eq!((status.as_u16(), body.as_str()), (200, "real server"));
    assert_eq!(log.lock().unwrap().len(), 1);
    let res = client.get("https://far.policy.test/").send().await.unwrap();
    assert_eq!(res.status(), 502);
    assert!(res.text().await.unwrap().contains("far.policy.test:443"));
}

#[test]
fn policy_deny_for_the_blocking_client() {
    let client = reqwest::blocking::Client::builder()
        .intercept_with_policy(Registry::global(), http_intercept::Policy::Deny)
        .timeout(TIMEOUT)
        .build()
        .unwrap();
    for url in ["http://b.policy.test/", "https://b.policy.test/"] {
        let res = client.get(url).send().unwrap();
        assert_eq!(res.status(), 502, "{url}");
        assert_eq!(res.headers()[http_intercept::ERROR_HEADER], "denied");
        assert!(res.text().unwrap().contains("b.policy.test"), "{url}");
    }
}

/// A service that blocks its thread (`std::thread::sleep`, as a sync lock or a blocking
/// call would) for `ms` before answering.
fn blocking_service(
    ms: u64,
) -> impl tower::Service<
    Request<Incoming>,
    Response = Response<String>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(move |_req: Request<Incoming>| {
        std::thread::sleep(Duration::from_millis(ms));
        async { Ok::<_, Infallible>(Response::new(String::from("slow"))) }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_service_does_not_stall_a_fast_one() {
    let _g = http_intercept::intercept! {
        "http://slow.blocking.test" => blocking_service(1500),
        "http://fast.blocking.test" => describe(),
    };
    let slow_client = client();
    let slow = tokio::spawn(async move {
        let started = std::time::Instant::now();
        let (_, body) = get(&slow_client, "http://slow.blocking.test/").await;
        (body, started.elapsed())
    });
    // Let the slow request reach its service.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let fast_client = client();
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let (status, _) = get(&fast_client, "http://fast.blocking.test/").await;
        assert_eq!(status, 200);
        assert!(
            started.elapsed() < Duration::from_millis(1000),
            "the fast service waited for the blocked one: {:?}",
            started.elapsed()
        );
    }
    let (body, took) = slow.await.unwrap();
    assert_eq!(body, "slow");
    assert!(took >= Duration::from_millis(1500));
}

#[test]
fn a_service_that_calls_another_through_reqwest_blocking_does_not_deadlock() {
    let inner = http_intercept::add("https://inner.nested.test", describe()).unwrap();
    // The outer service blocks on a `reqwest::blocking` request through the gateway.
    // Its client is built here, in the test's scope: reqwest panics when a blocking
    // client is dropped in an async context, as a service's body is.
    let nested = reqwest::blocking::Client::builder()
        .intercept()
        .timeout(TIMEOUT)
        .build()
        .unwrap();
    let outer = tower::service_fn(move |_req: Request<Incoming>| {
        // On a thread of its own, joined here (so the service blocks all the while):
        // reqwest::blocking refuses to run inside an async context.
        let body = std::thread::scope(|s| {
            s.spawn(|| {
                nested
                    .get("https://inner.nested.test/deep")
                    .send()
                    .and_then(|res| res.text())
                    .unwrap_or_else(|e| format!("inner failed: {e}"))
            })
            .join()
            .unwrap()
        });
        async move { Ok::<_, Infallible>(Response::new(format!("outer saw: {body}"))) }
    });
    let _outer = http_intercept::add("http://outer.nested.test", outer).unwrap();
    let client = reqwest::blocking::Client::builder()
        .intercept()
        .timeout(TIMEOUT)
        .build()
        .unwrap();
    let body = client
        .get("http://outer.nested.test/")
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        body.starts_with("outer saw: uri: https://inner.nested.test/deep"),
        "{body}"
    );
    assert_eq!(inner.hits(), 1);
    // The outer service (and its client) is dropped here, outside any runtime.
    drop(_outer);
}

/// Under paused time (`start_paused`), services on the client's runtime see the test's
/// clock, while the gateway's own deadlines (authorization, idle connections, the TLS
/// handshake) run on real time: jumps of the paused clock neither close a connection
/// nor cut a handshake.
#[tokio::test(start_paused = true)]
async fn paused_time_reaches_services_and_not_the_gateways_deadlines() {
    let slow = tower::service_fn(|_req: Request<Incoming>| async {
        tokio::time::sleep(Duration::from_secs(60)).await;
        Ok::<_, Infallible>(Response::new(String::from("after a virtual minute")))
    });
    let _http = http_intercept::add("http://paused.reqwest.test", slow).unwrap();
    let _https = http_intercept::add("https://paused.reqwest.test", slow).unwrap();
    // No client timeout: it would run on the paused clock too.
    let client = reqwest::Client::builder().intercept().build().unwrap();
    let started = std::time::Instant::now();
    for round in 0..3 {
        for scheme in ["http", "https"] {
            let res = client
                .get(format!("{scheme}://paused.reqwest.test/"))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{scheme}, round {round}: {e:?}"));
            assert_eq!(res.status(), 200, "{scheme}, round {round}");
            assert_eq!(res.text().await.unwrap(), "after a virtual minute");
        }
        // Longer than the gateway's idle timeout, in virtual time.
        tokio::time::sleep(Duration::from_secs(200)).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}
