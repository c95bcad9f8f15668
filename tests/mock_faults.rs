//! Declarative mocks (feature `mock`) under stress and failure: delays under paused
//! time, faults, a panicking responder, concurrent requests and concurrent mounting.
#![cfg(all(feature = "mock", feature = "reqwest"))]

mod support;

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use http_intercept::mock::matchers::{any, method, path};
use http_intercept::mock::{Mock, MockHost, Request, ResponseTemplate};
use http_intercept::reqwest::ClientBuilderExt;
use support::*;

fn drop_report(host: MockHost) -> Option<String> {
    let result = std::panic::catch_unwind(AssertUnwindSafe(move || drop(host)));
    result.err().map(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default()
    })
}

#[tokio::test(start_paused = true)]
async fn delays_follow_paused_time() {
    let api = MockHost::unique();
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&api);
    let url = format!("{}/slow", api.url());
    for client in [client(), h2_client()] {
        let wall = std::time::Instant::now();
        let start = tokio::time::Instant::now();
        let res = client.request(get(&url)).await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(start.elapsed() >= Duration::from_secs(30));
        assert!(
            wall.elapsed() < Duration::from_secs(5),
            "{:?}",
            wall.elapsed()
        );
        // A client timeout shorter than the delay fires, deterministically.
        let timed_out =
            tokio::time::timeout(Duration::from_secs(29), client.request(get(&url))).await;
        assert!(timed_out.is_err());
    }
}

#[tokio::test]
async fn abort_fails_the_connection() {
    let api = MockHost::start("https://abort.faults.mock.test").unwrap();
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).abort())
        .mount(&api);
    let url = "https://abort.faults.mock.test/";
    assert!(client().request(get(url)).await.is_err());
    assert!(h2_client().request(get(url)).await.is_err());
    let reqwest = reqwest::Client::builder().intercept().build().unwrap();
    assert!(reqwest.get(url).send().await.is_err());
    assert_eq!(api.received_requests().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_stalled_body_never_ends() {
    let api = MockHost::unique();
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("never")
                .stall_body(),
        )
        .mount(&api);
    let url = format!("{}/", api.url());
    for client in [client(), h2_client()] {
        let res = client.request(get(&url)).await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-length"], "5");
        let body = tokio::time::timeout(Duration::from_secs(60), res.into_body().collect()).await;
        assert!(body.is_err(), "the body read timed out");
    }
}

#[tokio::test]
async fn a_cut_body_breaks_off_after_n_bytes() {
    let api = MockHost::start("https://cut.faults.mock.test").unwrap();
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string("0123456789")
                .cut_body_after(4),
        )
        .mount(&api);
    let url = "https://cut.faults.mock.test/";
    for client in [client(), h2_client()] {
        let res = client.request(get(url)).await.unwrap();
        assert_eq!(res.headers()["content-length"], "10");
        let mut body = res.into_body();
        let mut got = Vec::new();
        let mut failed = false;
        while let Some(frame) = body.frame().await {
            match frame {
                Ok(f) => got.extend_from_slice(f.data_ref().map(|d| &d[..]).unwrap_or_default()),
                Err(_) => {
                    failed = true;
                    break;
                }
            }
        }
        assert!(failed, "the body ended with an error");
        assert_eq!(got, b"0123");
    }
    let reqwest = reqwest::Client::builder().intercept().build().unwrap();
    let res = reqwest.get(url).send().await.unwrap();
    assert!(res.bytes().await.is_err());
}

#[tokio::test]
async fn a_panicking_responder_answers_500_and_the_drop_raises_it_again() {
    let api = MockHost::start("https://panic.faults.mock.test").unwrap();
    Mock::given(method("GET"))
        .and(path("/boom"))
        .respond_with(|_: &Request| -> ResponseTemplate { panic!("the responder blew up") })
        .named("exploding")
        .mount(&api);
    // The code under test retries 5xx and finally swallows the error.
    let reqwest = reqwest::Client::builder().intercept().build().unwrap();
    for _ in 0..3 {
        let res = reqwest
            .get("https://panic.faults.mock.test/boom")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 500);
        assert_eq!(res.headers()["x-http-intercept-error"], "panic");
        assert!(res.text().await.unwrap().contains("the responder blew up"));
    }
    let report = drop_report(api).expect("the drop re-raises the panic");
    let first = report.lines().next().unwrap();
    assert!(
        first.contains("the responder of mock #1 \"exploding\"")
            && first.contains(
                "panicked on GET https://panic.faults.mock.test/boom: the responder blew up"
            ),
        "{report}"
    );
    assert_eq!(
        report.matches("the responder blew up").count(),
        4,
        "{report}"
    );
}

/// 200 concurrent requests against 50 mounted mocks: exact per-mock counts.
async fn concurrent(via: &str) {
    let api = Arc::new(MockHost::unique());
    for i in 0..50 {
        Mock::given(method("GET"))
            .and(path(format!("/m/{i}")))
            .respond_with(ResponseTemplate::new(200).set_body_string(format!("mock {i}")))
            .expect(4)
            .mount(&api);
    }
    let h1 = client();
    let h2 = h2_client();
    let rq = reqwest::Client::builder().intercept().build().unwrap();
    let tasks: Vec<_> = (0..200)
        .map(|j| {
            let url = format!("{}/m/{}", api.url(), j % 50);
            let (h1, h2, rq) = (h1.clone(), h2.clone(), rq.clone());
            let via = via.to_owned();
            tokio::spawn(async move {
                let body = match via.as_str() {
                    "h1" => text(h1.request(get(&url)).await.unwrap()).await,
                    "h2" => text(h2.request(get(&url)).await.unwrap()).await,
                    _ => rq.get(&url).send().await.unwrap().text().await.unwrap(),
                };
                assert_eq!(body, format!("mock {}", j % 50));
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(api.received_requests().len(), 200);
    let api = Arc::into_inner(api).unwrap();
    assert_eq!(
        drop_report(api),
        None,
        "every mock answered exactly 4 requests"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_exact_counts_h1() {
    concurrent("h1").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_exact_counts_h2() {
    concurrent("h2").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_exact_counts_reqwest() {
    concurrent("reqwest").await;
}

#[tokio::test]
async fn concurrent_requests_exact_counts_current_thread() {
    concurrent("h2").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn up_to_n_times_holds_under_concurrency() {
    let api = Arc::new(MockHost::unique());
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(7)
        .expect(7)
        .mount(&api);
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .with_priority(9)
        .expect(93)
        .mount(&api);
    let h2 = h2_client();
    let errors = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (h2, errors, url) = (h2.clone(), errors.clone(), format!("{}/", api.url()));
            tokio::spawn(async move {
                if h2.request(get(&url)).await.unwrap().status() == 500 {
                    errors.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(errors.load(Ordering::SeqCst), 7);
    assert_eq!(drop_report(Arc::into_inner(api).unwrap()), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn mounting_from_another_thread_while_requests_flow() {
    let api = Arc::new(MockHost::unique().fail_on_unmatched(false));
    Mock::given(path("/base"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&api);
    let mounter = {
        let api = api.clone();
        std::thread::spawn(move || {
            for i in 0..100 {
                Mock::given(path(format!("/n/{i}")))
                    .respond_with(ResponseTemplate::new(200).set_body_string(i.to_string()))
                    .mount(&api);
                std::thread::sleep(Duration::from_micros(200));
            }
        })
    };
    let client = client();
    let mut seen = [0usize; 2];
    while !mounter.is_finished() {
        for url in [format!("{}/base", api.url()), format!("{}/n/99", api.url())] {
            let res = client.request(get(&url)).await.unwrap();
            match res.status().as_u16() {
                200 => seen[0] += 1,
                404 => seen[1] += 1,
                other => panic!("unexpected status {other}"),
            }
        }
    }
    mounter.join().unwrap();
    assert!(seen[0] > 0);
    for i in 0..100 {
        let res = client
            .request(get(&format!("{}/n/{i}", api.url())))
            .await
            .unwrap();
        assert_eq!(text(res).await, i.to_string());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_until_satisfied_waits_for_background_requests() {
    let api = MockHost::unique();
    let guard = Mock::given(path("/event"))
        .respond_with(ResponseTemplate::new(202))
        .expect(3)
        .mount_as_scoped(&api);
    let url = format!("{}/event", api.url());
    let background = tokio::spawn(async move {
        let client = client();
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            assert_eq!(client.request(get(&url)).await.unwrap().status(), 202);
        }
    });
    tokio::time::timeout(Duration::from_secs(10), guard.wait_until_satisfied())
        .await
        .expect("three requests arrive");
    assert_eq!(guard.hits(), 3);
    background.await.unwrap();
}

#[tokio::test]
async fn a_panicking_matcher_is_raised_again_too() {
    let api = MockHost::unique();
    Mock::given(|_: &Request| -> bool { panic!("the matcher blew up") })
        .respond_with(ResponseTemplate::new(200))
        .mount(&api);
    let res = client()
        .request(get(&format!("{}/x", api.url())))
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    assert_eq!(res.headers()["x-http-intercept-error"], "panic");
    let report = drop_report(api).expect("the drop raises the panic");
    assert!(
        report
            .lines()
            .next()
            .unwrap()
            .contains("a matcher panicked on GET http://"),
        "{report}"
    );
    assert!(report.contains("the matcher blew up"), "{report}");
}
