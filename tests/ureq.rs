//! ureq 3 (blocking) through `http_intercept::ureq`: in-memory exchanges, pass-through,
//! policies, pooled connections and timeouts.
#![cfg(all(feature = "ureq", unix))]

mod support;

use std::time::Duration;

use http_intercept::ureq::{agent, Connector};
use http_intercept::{Policy, Registry};
use support::*;

fn read(mut res: http::Response<ureq::Body>) -> String {
    res.body_mut().read_to_string().unwrap()
}

/// A runtime for the loopback servers these blocking tests start.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn get_and_post_in_memory() {
    let api = http_intercept::add("http://get.ureq.test", echo()).unwrap();
    let agent = agent();
    let body = read(
        agent
            .get("http://get.ureq.test/users?page=2")
            .call()
            .unwrap(),
    );
    assert!(
        body.starts_with("GET http://get.ureq.test/users?page=2\nhost=get.ureq.test\n"),
        "{body}"
    );
    let body = read(
        agent
            .post("http://get.ureq.test/items")
            .send("a posted body")
            .unwrap(),
    );
    assert!(
        body.starts_with("POST http://get.ureq.test/items\n"),
        "{body}"
    );
    assert!(body.ends_with("a posted body"), "{body}");
    assert_eq!(api.hits(), 2);
}

#[test]
fn https_needs_no_tls_and_the_host_need_not_resolve() {
    let url = "https://api.ureq.invalid/";
    assert!(
        agent().get(url).call().is_err(),
        "the name does not resolve without an intercept"
    );
    let _api = http_intercept::add(url, fixed("secure, in memory")).unwrap();
    assert_eq!(read(agent().get(url).call().unwrap()), "secure, in memory");
}

#[test]
fn a_large_body_both_ways() {
    // ureq sends the whole request body before it reads the response, so the service
    // reads all of it before answering (streaming it straight back would deadlock once
    // the socket buffers fill, as it would against a real server).
    let svc = tower::service_fn(|req: http::Request<hyper::body::Incoming>| async move {
        let body = http_body_util::BodyExt::collect(req.into_body())
            .await?
            .to_bytes();
        Ok::<_, hyper::Error>(http::Response::new(http_body_util::Full::new(body)))
    });
    let _g = http_intercept::add("large.ureq.test:80", svc).unwrap();
    let payload: Vec<u8> = (0..4 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let mut res = agent()
        .post("http://large.ureq.test/echo")
        .send(&payload[..])
        .unwrap();
    let echoed = res
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .unwrap();
    assert!(echoed == payload, "the 4 MiB body came back byte for byte");
}

#[test]
fn unregistered_targets_pass_through_and_deny_names_the_target() {
    let rt = runtime();
    let server = rt.block_on(LoopbackServer::start());
    let url = format!("{}/", server.url());
    assert_eq!(read(agent().get(&url).call().unwrap()), "real server");
    assert_eq!(server.requests(), 1);

    let deny = Connector::new()
        .with_policy(Policy::Deny)
        .into_agent(ureq::Agent::config_builder().build());
    let err = deny
        .get("http://denied.ureq.test:8080/")
        .call()
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("no service is registered for denied.ureq.test:8080"),
        "{message}"
    );
    assert!(
        message.contains("http_intercept::add(\"http://denied.ureq.test:8080\""),
        "{message}"
    );
}

#[test]
fn route_changes_reach_pooled_connections() {
    let rt = runtime();
    let server = rt.block_on(LoopbackServer::start());
    let url = format!("{}/", server.url());
    let agent = agent();
    // A pooled pass-through connection is not reused once the target is registered.
    assert_eq!(read(agent.get(&url).call().unwrap()), "real server");
    let guard = http_intercept::add(server.addr, fixed("intercepted")).unwrap();
    assert_eq!(read(agent.get(&url).call().unwrap()), "intercepted");
    assert_eq!(read(agent.get(&url).call().unwrap()), "intercepted");
    // And a pooled in-memory connection is not reused once the guard is dropped.
    drop(guard);
    assert_eq!(read(agent.get(&url).call().unwrap()), "real server");
    assert_eq!(server.requests(), 2);
}

#[test]
fn an_isolated_registry() {
    let registry = Registry::new();
    let _g = registry
        .add("isolated.ureq.test:80", fixed("isolated"))
        .unwrap();
    let agent = Connector::new()
        .with_registry(&registry)
        .into_agent(ureq::Agent::config_builder().build());
    assert_eq!(
        read(agent.get("http://isolated.ureq.test/").call().unwrap()),
        "isolated"
    );
}

#[test]
fn a_service_that_never_answers_makes_the_client_time_out() {
    let svc = tower::service_fn(|_req: http::Request<hyper::body::Incoming>| async move {
        std::future::pending::<Result<http::Response<String>, std::convert::Infallible>>().await
    });
    let _g = http_intercept::add("hangs.ureq.test:80", svc).unwrap();
    let agent = http_intercept::ureq::agent_with(
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(300)))
            .build(),
    );
    let err = agent.get("http://hangs.ureq.test/").call().unwrap_err();
    assert!(matches!(err, ureq::Error::Timeout(_)), "{err:?}");
}

#[test]
fn a_panicking_service_answers_500() {
    let svc = tower::service_fn(|_req: http::Request<hyper::body::Incoming>| async move {
        if true {
            panic!("ureq boom");
        }
        Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    });
    let api = http_intercept::add("panics.ureq.test:80", svc).unwrap();
    let agent = http_intercept::ureq::agent_with(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let res = agent.get("http://panics.ureq.test/").call().unwrap();
    assert_eq!(res.status(), 500);
    assert!(read(res).ends_with("panicked: ureq boom"));
    assert_eq!(api.take_panic().as_deref(), Some("ureq boom"));
}

#[test]
fn fifty_threads_share_one_agent() {
    let api = http_intercept::add("threads.ureq.test:80", echo()).unwrap();
    let agent = agent();
    let threads: Vec<_> = (0..50)
        .map(|i| {
            let agent = agent.clone();
            std::thread::spawn(move || {
                let body = read(
                    agent
                        .get(&format!("http://threads.ureq.test/{i}"))
                        .call()
                        .unwrap(),
                );
                assert!(
                    body.starts_with(&format!("GET http://threads.ureq.test/{i}\n")),
                    "{body}"
                );
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(api.hits(), 50);
}

/// A service that blocks its thread (`std::thread::sleep`, as a sync lock or a
/// blocking call would) stalls only its own connection: requests to another host from
/// other threads are answered meanwhile.
#[test]
fn a_blocking_service_does_not_stall_a_fast_one() {
    let slow = tower::service_fn(|_req: http::Request<hyper::body::Incoming>| {
        std::thread::sleep(Duration::from_millis(1500));
        async { Ok::<_, std::convert::Infallible>(http::Response::new(String::from("slow"))) }
    });
    let _slow = http_intercept::add("slow.ureq.test:80", slow).unwrap();
    let _fast = http_intercept::add("fast.ureq.test:80", echo()).unwrap();
    let agent = agent();
    let slow_agent = agent.clone();
    let slow = std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let body = read(slow_agent.get("http://slow.ureq.test/").call().unwrap());
        (body, started.elapsed())
    });
    // Let the slow request reach its service.
    std::thread::sleep(Duration::from_millis(200));
    for i in 0..5 {
        let started = std::time::Instant::now();
        let body = read(
            agent
                .get(&format!("http://fast.ureq.test/{i}"))
                .call()
                .unwrap(),
        );
        assert!(body.starts_with("GET http://fast.ureq.test/"), "{body}");
        assert!(
            started.elapsed() < Duration::from_millis(1000),
            "the fast service waited for the blocked one: {:?}",
            started.elapsed()
        );
    }
    let (body, took) = slow.join().unwrap();
    assert_eq!(body, "slow");
    assert!(took >= Duration::from_millis(1500));
}
