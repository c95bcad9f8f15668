//! Parallel tests that intercept the same real host, each with its own service, through
//! the free `add` and clients built with their defaults: registrations belong to the test
//! (its tokio runtime, or its thread) that made them.
//!
//! CI runs this binary with `--test-threads=16`.
#![cfg(all(feature = "reqwest", feature = "ureq", feature = "record", unix))]

mod support;

use std::convert::Infallible;
use std::io::Read as _;

use http::{Request, Response};
use http_intercept::reqwest::ClientBuilderExt;
use http_intercept::{Registry, Scope};
use hyper::body::Incoming;
use support::*;

/// Every test intercepts this host, with a service that answers its own name.
const SAME: &str = "https://api.same.test";
/// The same host over plain http, for ureq (built without TLS).
const SAME_HTTP: &str = "http://api.same.test";
/// Requests per test.
const ROUNDS: usize = 6;

fn named(
    name: &'static str,
) -> impl tower::Service<
    Request<Incoming>,
    Response = Response<String>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(move |req: Request<Incoming>| async move {
        Ok::<_, Infallible>(Response::new(format!("{name} {}", req.uri().path())))
    })
}

fn expected(name: &str, round: usize) -> String {
    format!("{name} /round/{round}")
}

async fn hyper_rounds(name: &'static str, client: TestClient, base: &str) {
    for round in 0..ROUNDS {
        let url = format!("{base}/round/{round}");
        let res = client.request(get(&url)).await.unwrap();
        assert_eq!(
            text(res).await,
            expected(name, round),
            "{name} got another test's answer"
        );
        tokio::task::yield_now().await;
    }
}

async fn reqwest_rounds(name: &'static str, client: reqwest::Client, base: &str) {
    for round in 0..ROUNDS {
        let url = format!("{base}/round/{round}");
        let body = client.get(&url).send().await.unwrap().text().await.unwrap();
        assert_eq!(
            body,
            expected(name, round),
            "{name} got another test's answer"
        );
        tokio::task::yield_now().await;
    }
}

fn blocking_rounds(name: &'static str, client: reqwest::blocking::Client, base: &str) {
    for round in 0..ROUNDS {
        let url = format!("{base}/round/{round}");
        let body = client.get(&url).send().unwrap().text().unwrap();
        assert_eq!(
            body,
            expected(name, round),
            "{name} got another test's answer"
        );
    }
}

fn ureq_rounds(name: &'static str, agent: ureq::Agent, base: &str) {
    for round in 0..ROUNDS {
        let url = format!("{base}/round/{round}");
        let mut body = String::new();
        agent
            .get(&url)
            .call()
            .unwrap()
            .into_body()
            .into_reader()
            .read_to_string(&mut body)
            .unwrap();
        assert_eq!(
            body,
            expected(name, round),
            "{name} got another test's answer"
        );
    }
}

async fn hyper_h1(name: &'static str) {
    let api = http_intercept::add(SAME, named(name)).unwrap();
    hyper_rounds(name, client(), SAME).await;
    assert_eq!(api.hits(), ROUNDS as u64);
}

async fn hyper_h2(name: &'static str) {
    let api = http_intercept::add(SAME, named(name)).unwrap();
    hyper_rounds(name, h2_client(), SAME).await;
    assert_eq!(api.hits(), ROUNDS as u64);
}

async fn reqwest_async(name: &'static str) {
    let api = http_intercept::add(SAME, named(name)).unwrap();
    let client = reqwest::Client::builder().intercept().build().unwrap();
    reqwest_rounds(name, client, SAME).await;
    assert_eq!(api.hits(), ROUNDS as u64);
}

async fn reqwest_async_http(name: &'static str) {
    let api = http_intercept::add(SAME_HTTP, named(name)).unwrap();
    let client = reqwest::Client::builder().intercept().build().unwrap();
    reqwest_rounds(name, client, SAME_HTTP).await;
    assert_eq!(api.hits(), ROUNDS as u64);
}

fn reqwest_blocking(name: &'static str) {
    let api = http_intercept::add(SAME, named(name)).unwrap();
    let client = reqwest::blocking::Client::builder()
        .intercept()
        .build()
        .unwrap();
    blocking_rounds(name, client, SAME);
    assert_eq!(api.hits(), ROUNDS as u64);
}

fn ureq_agent(name: &'static str) {
    let api = http_intercept::add(SAME_HTTP, named(name)).unwrap();
    ureq_rounds(name, http_intercept::ureq::agent(), SAME_HTTP);
    assert_eq!(api.hits(), ROUNDS as u64);
}

/// A plain `#[test]` that registers on its thread, then makes its requests inside a
/// multi-thread runtime it builds itself.
fn own_runtime(name: &'static str) {
    let api = http_intercept::add(SAME, named(name)).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(hyper_rounds(name, client(), SAME));
    assert_eq!(api.hits(), ROUNDS as u64);
}

macro_rules! current_thread {
    ($body:ident: $($name:ident),+ $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            $body(stringify!($name)).await
        }
    )+};
}

macro_rules! multi_thread {
    ($body:ident: $($name:ident),+ $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            $body(stringify!($name)).await
        }
    )+};
}

macro_rules! plain {
    ($body:ident: $($name:ident),+ $(,)?) => {$(
        #[test]
        fn $name() {
            $body(stringify!($name))
        }
    )+};
}

current_thread!(hyper_h1: hyper_h1_ct_1, hyper_h1_ct_2, hyper_h1_ct_3, hyper_h1_ct_4, hyper_h1_ct_5);
current_thread!(hyper_h2: hyper_h2_ct_1, hyper_h2_ct_2, hyper_h2_ct_3, hyper_h2_ct_4, hyper_h2_ct_5);
multi_thread!(hyper_h1: hyper_h1_mt_1, hyper_h1_mt_2, hyper_h1_mt_3, hyper_h1_mt_4, hyper_h1_mt_5);
multi_thread!(hyper_h2: hyper_h2_mt_1, hyper_h2_mt_2, hyper_h2_mt_3, hyper_h2_mt_4, hyper_h2_mt_5);
current_thread!(reqwest_async: reqwest_ct_1, reqwest_ct_2, reqwest_ct_3, reqwest_ct_4, reqwest_ct_5);
multi_thread!(reqwest_async: reqwest_mt_1, reqwest_mt_2, reqwest_mt_3, reqwest_mt_4, reqwest_mt_5);
current_thread!(reqwest_async_http: reqwest_http_ct_1, reqwest_http_ct_2, reqwest_http_ct_3);
multi_thread!(reqwest_async_http: reqwest_http_mt_1, reqwest_http_mt_2, reqwest_http_mt_3);
plain!(reqwest_blocking: blocking_1, blocking_2, blocking_3, blocking_4, blocking_5, blocking_6);
plain!(ureq_agent: ureq_1, ureq_2, ureq_3, ureq_4, ureq_5, ureq_6, ureq_7, ureq_8);
plain!(own_runtime: own_runtime_1, own_runtime_2, own_runtime_3, own_runtime_4, own_runtime_5);

// ---- the process-wide scope, and a test's scope shadowing it ------------------------

#[test]
fn a_process_wide_registration_is_seen_from_every_scope() {
    let everywhere = {
        let _in = Scope::process().enter();
        http_intercept::add("http://everywhere.scopes.test", named("process")).unwrap()
    };
    assert!(everywhere.scope().is_process());
    // This thread's scope: ureq.
    ureq_rounds(
        "process",
        http_intercept::ureq::agent(),
        "http://everywhere.scopes.test",
    );
    // Another thread with a runtime of its own: hyper-util, then reqwest.
    std::thread::spawn(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            assert!(Registry::global().contains("http://everywhere.scopes.test/x?y=1"));
            hyper_rounds("process", client(), "http://everywhere.scopes.test").await;
            let client = reqwest::Client::builder().intercept().build().unwrap();
            reqwest_rounds("process", client, "http://everywhere.scopes.test").await;
        });
    })
    .join()
    .unwrap();
    assert_eq!(everywhere.hits(), 3 * ROUNDS as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scoped_registration_shadows_a_process_wide_one_and_gives_it_back() {
    let process = {
        let _in = Scope::process().enter();
        http_intercept::add("https://shadowed.scopes.test", named("process")).unwrap()
    };
    for client in [client(), h2_client()] {
        let ask = |client: &TestClient| {
            let res = client.request(get("https://shadowed.scopes.test/round/0"));
            async move { text(res.await.unwrap()).await }
        };
        assert_eq!(ask(&client).await, expected("process", 0));
        // The pooled connection into the process-wide service is diverted at once.
        let mine = http_intercept::add("https://shadowed.scopes.test", named("mine")).unwrap();
        assert!(!mine.scope().is_process());
        assert_eq!(ask(&client).await, expected("mine", 0));
        assert_eq!(ask(&client).await, expected("mine", 0));
        drop(mine);
        assert_eq!(ask(&client).await, expected("process", 0));
    }
    // Elsewhere, where nothing shadows it, the process-wide service answers.
    std::thread::spawn(|| {
        ureq_rounds(
            "process",
            http_intercept::ureq::agent(),
            "http://shadowed.scopes.test:443",
        )
    })
    .join()
    .unwrap();
    assert_eq!(process.hits(), 4 + ROUNDS as u64);
}

#[tokio::test]
async fn registering_twice_in_one_scope_is_an_error_that_explains_scopes() {
    let _first = http_intercept::add(SAME, named("first")).unwrap();
    let err = http_intercept::add(SAME, named("second")).unwrap_err();
    assert!(err.is_already_registered());
    let message = err.to_string();
    assert!(
        message.starts_with(
            "https://api.same.test is already registered in this scope (tokio runtime "
        ),
        "{message}"
    );
    assert!(
        message.contains("other tests' registrations live in scopes of their own"),
        "{message}"
    );
    // Another thread, another scope: no collision.
    std::thread::spawn(|| http_intercept::add(SAME, named("third")).map(drop))
        .join()
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn contains_and_targets_answer_for_the_callers_scope() {
    let _mine = http_intercept::add("https://only-mine.scopes.test/v1", named("mine")).unwrap();
    let registry = Registry::global();
    assert!(registry.contains("https://only-mine.scopes.test/v1/users?page=2"));
    assert!(registry
        .targets()
        .iter()
        .any(|t| t.to_string() == "https://only-mine.scopes.test/v1"));
    let elsewhere = std::thread::spawn(|| {
        let registry = Registry::global();
        (
            registry.contains("https://only-mine.scopes.test"),
            registry
                .targets()
                .iter()
                .any(|t| t.host() == "only-mine.scopes.test"),
            http_intercept::remove("https://only-mine.scopes.test/v1"),
        )
    })
    .join()
    .unwrap();
    assert_eq!(elsewhere, (false, false, false));
    assert!(registry.contains("https://only-mine.scopes.test"));
}

#[test]
fn a_thread_spawned_by_a_test_enters_the_tests_scope() {
    let api = http_intercept::add(SAME_HTTP, named("entered")).unwrap();
    let scope = Scope::current();
    std::thread::spawn(move || {
        // Without entering, the thread sees nothing of the test's registrations.
        assert!(!Registry::global().contains(SAME_HTTP));
        let _in = scope.enter();
        ureq_rounds("entered", http_intercept::ureq::agent(), SAME_HTTP);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        // Tasks on the new runtime's workers are outside the entered scope: the
        // connector is pinned to it.
        let connector = http_intercept::Connector::new().with_scope(scope);
        rt.block_on(async move {
            let client = client_with(connector);
            tokio::spawn(hyper_rounds("entered", client, SAME_HTTP))
                .await
                .unwrap();
        });
    })
    .join()
    .unwrap();
    assert_eq!(api.hits(), 2 * ROUNDS as u64);
}

// ---- cassettes for one host in parallel tests ----------------------------------------

/// What the cassette `cassette!` opened for the calling test
/// (`tests/cassettes/scopes/cassette_N.json`) answers.
async fn replayed(n: usize) {
    let res = client()
        .request(get("https://api.cassette-same.test/whoami"))
        .await
        .unwrap();
    assert_eq!(text(res).await, format!("cassette {n}"));
}

macro_rules! cassettes {
    ($($name:ident = $n:literal),+ $(,)?) => {$(
        #[tokio::test]
        async fn $name() {
            let cassette = http_intercept::cassette!("https://api.cassette-same.test");
            assert!(cassette.is_replaying());
            tokio::task::yield_now().await;
            replayed($n).await;
        }
    )+};
}

cassettes!(
    cassette_1 = 1,
    cassette_2 = 2,
    cassette_3 = 3,
    cassette_4 = 4,
    cassette_5 = 5,
    cassette_6 = 6,
    cassette_7 = 7,
    cassette_8 = 8,
);
