//! Registering, removing and mounting targets: the guard, duplicates, `remove`,
//! `add_unique`, path prefixes and the `intercept!` macro.

mod support;

use http::StatusCode;
use http_intercept::{intercept, Registry, ERROR_HEADER};
use support::*;

#[test]
fn registering_a_target_twice_is_an_error_that_names_it() {
    let _first = http_intercept::add("http://dup.registry.test", fixed("first")).unwrap();
    // The same authority written another way is the same target.
    let err = http_intercept::add("DUP.registry.test:80", fixed("second")).unwrap_err();
    assert!(err.is_already_registered());
    let message = err.to_string();
    assert!(
        message.starts_with("dup.registry.test:80 is already registered in this scope (thread "),
        "{message}"
    );
    assert!(
        message.contains("drop that guard or call remove(\"dup.registry.test:80\") first"),
        "{message}"
    );
    // Another path prefix on the same host is another target.
    let _api = http_intercept::add("http://dup.registry.test/api", fixed("api")).unwrap();
    let err = http_intercept::add("http://dup.registry.test/api/", fixed("again")).unwrap_err();
    assert!(err
        .to_string()
        .starts_with("http://dup.registry.test/api is already registered"));
}

#[test]
fn bad_targets_are_errors_that_name_the_input() {
    for (input, reason) in [
        ("host:99999", "port 99999 is out of range"),
        ("ftp://x", "unsupported scheme \"ftp\""),
        ("", "the target is empty"),
        ("a b:80", "whitespace"),
    ] {
        let err = http_intercept::add(input, fixed("x")).unwrap_err();
        assert!(err.is_invalid_target());
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("invalid target {input:?}: ")),
            "{message}"
        );
        assert!(message.contains(reason), "{message}");
    }
}

#[tokio::test]
async fn remove_unregisters_and_makes_the_guard_a_no_op() {
    let registry = Registry::new();
    let guard = registry
        .add("removed.registry.test:80", fixed("x"))
        .unwrap();
    assert!(registry.contains("http://removed.registry.test"));
    assert!(registry.remove("http://removed.registry.test"));
    assert!(!registry.contains("removed.registry.test:80"));
    assert!(
        !registry.remove("removed.registry.test:80"),
        "already removed"
    );
    // Someone else may register the target now; the old guard must not remove theirs.
    let second = registry
        .add("removed.registry.test:80", fixed("y"))
        .unwrap();
    drop(guard);
    assert!(registry.contains("removed.registry.test:80"));
    drop(second);
    assert!(!registry.contains("removed.registry.test:80"));
    assert!(!registry.remove("not a target"));
}

#[tokio::test]
async fn removed_targets_are_no_longer_served() {
    let _g = http_intercept::add("http://served.registry.test", fixed("x")).unwrap();
    assert!(http_intercept::remove("served.registry.test:80"));
    let client =
        client_with(http_intercept::Connector::new().with_policy(http_intercept::Policy::Deny));
    let err = client
        .request(get("http://served.registry.test/"))
        .await
        .unwrap_err();
    assert!(find_intercept_error(&err).unwrap().is_denied());
}

#[test]
fn targets_lists_what_is_registered() {
    let registry = Registry::new();
    let _b = registry.add("https://b.test/v1", fixed("x")).unwrap();
    let _a = registry.add("a.test:80", fixed("x")).unwrap();
    let listed: Vec<String> = registry.targets().iter().map(|t| t.to_string()).collect();
    assert_eq!(listed, ["a.test:80", "https://b.test/v1"]);
    assert!(format!("{registry:?}").contains("a.test:80"));
    assert!(format!("{_a:?}").contains("hits: 0"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_unique_from_64_parallel_tasks_never_collides() {
    let tasks = (0..64).map(|i| {
        tokio::spawn(async move {
            let svc = tower::service_fn(move |_req| async move {
                Ok::<_, std::convert::Infallible>(http::Response::new(i.to_string()))
            });
            let guard = http_intercept::add_unique(svc);
            let res = client()
                .request(get(&format!("{}/", guard.url())))
                .await
                .unwrap();
            assert_eq!(text(res).await, i.to_string());
            assert_eq!(guard.hits(), 1);
            guard.url()
        })
    });
    let mut urls: Vec<String> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(urls.iter().all(|u| u.ends_with(".invalid")));
    urls.sort();
    urls.dedup();
    assert_eq!(urls.len(), 64);
}

#[tokio::test]
async fn a_path_prefix_is_stripped_and_other_paths_get_404() {
    let guard = http_intercept::add("http://mounted.registry.test/api/v1", echo()).unwrap();
    let client = client();

    let body = text(
        client
            .request(get("http://mounted.registry.test/api/v1/users?x=1"))
            .await
            .unwrap(),
    )
    .await;
    assert!(
        body.starts_with("GET http://mounted.registry.test/users?x=1\n"),
        "{body}"
    );
    assert!(body.contains("prefix=/api/v1\n"), "{body}");

    let body = text(
        client
            .request(get("http://mounted.registry.test/api/v1"))
            .await
            .unwrap(),
    )
    .await;
    assert!(
        body.starts_with("GET http://mounted.registry.test/\n"),
        "{body}"
    );

    for path in ["/other", "/api/v10", "/"] {
        let res = client
            .request(get(&format!("http://mounted.registry.test{path}")))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(res.headers()[ERROR_HEADER], "not-found");
        let body = text(res).await;
        assert!(
            body.contains(&format!(
                "nothing is mounted at {path} on mounted.registry.test:80"
            )),
            "{body}"
        );
        assert!(body.contains("/api/v1"), "{body}");
    }
    assert_eq!(guard.hits(), 2);
}

#[tokio::test]
async fn several_prefixes_on_one_host_take_the_longest_match() {
    let _g = intercept! {
        "http://prefixes.registry.test" => fixed("root"),
        "http://prefixes.registry.test/api" => fixed("api"),
        "http://prefixes.registry.test/api/admin" => fixed("admin"),
    };
    let client = client();
    for (path, expected) in [
        ("/", "root"),
        ("/api/x", "api"),
        ("/api/admin/y", "admin"),
        ("/apix", "root"),
    ] {
        let res = client
            .request(get(&format!("http://prefixes.registry.test{path}")))
            .await
            .unwrap();
        assert_eq!(text(res).await, expected, "{path}");
    }
    assert_eq!(_g[0].hits(), 2);
}

#[tokio::test]
async fn the_macro_registers_several_targets_and_one_guard_removes_them() {
    let guards = intercept! {
        "a.macro.registry.test:80" => fixed("a"),
        "https://b.macro.registry.test" => fixed("b"),
    };
    assert_eq!(guards.len(), 2);
    let client = client();
    let res = client
        .request(get("http://a.macro.registry.test/"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "a");
    let res = client
        .request(get("https://b.macro.registry.test/"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "b");
    let hits: Vec<u64> = guards.iter().map(|g| g.hits()).collect();
    assert_eq!(hits, [1, 1]);
    drop(guards);
    assert!(!http_intercept::Registry::global().contains("a.macro.registry.test:80"));
    assert!(!http_intercept::Registry::global().contains("b.macro.registry.test:443"));
}

#[test]
#[should_panic(expected = "intercept!: panicking.macro.registry.test:80 is already registered")]
fn the_macro_panics_naming_a_target_it_cannot_register() {
    let _first = http_intercept::add("panicking.macro.registry.test:80", fixed("x")).unwrap();
    let _g = intercept! { "panicking.macro.registry.test:80" => fixed("y") };
}

#[test]
#[should_panic(expected = "intercept!: invalid target \"nope\"")]
fn the_macro_panics_on_a_bad_target() {
    let _g = intercept! { "nope" => fixed("y") };
}

#[tokio::test]
async fn the_guard_logs_what_the_service_saw() {
    let guard = http_intercept::add("https://log.registry.test/api", echo()).unwrap();
    let req = http::Request::post("https://log.registry.test/api/users?page=2")
        .header("x-trace", "abc")
        .body(full("twelve bytes"))
        .unwrap();
    let res = client().request(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let _ = text(res).await;
    let res = h2_client()
        .request(get("https://log.registry.test/api/"))
        .await
        .unwrap();
    let _ = text(res).await;

    let seen = guard.requests();
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(seen[0].method(), "POST");
    assert_eq!(seen[0].uri(), "https://log.registry.test/users?page=2");
    assert_eq!(seen[0].headers()["x-trace"], "abc");
    assert_eq!(seen[0].body_size(), Some(12));
    assert_eq!(seen[0].status(), Some(StatusCode::OK));
    assert_eq!(seen[1].version(), http::Version::HTTP_2);
    assert_eq!(
        format!("{:?}", seen[0]),
        "POST https://log.registry.test/users?page=2 HTTP/1.1 (body: 12 bytes) -> 200 OK"
    );
    let pretty = format!("{:#?}", seen[0]);
    assert!(pretty.contains("\n    x-trace: abc"), "{pretty}");
}

#[tokio::test]
async fn an_expectation_met_passes_silently() {
    let guard = http_intercept::add("met.expect.registry.test:80", fixed("x"))
        .unwrap()
        .expect(2);
    for _ in 0..2 {
        let _ = text(
            client()
                .request(get("http://met.expect.registry.test/"))
                .await
                .unwrap(),
        )
        .await;
    }
    guard.verify();
    drop(guard);
}

#[tokio::test]
async fn an_expectation_not_met_panics_on_drop_with_the_requests_seen() {
    let guard = http_intercept::add("unmet.expect.registry.test:80", fixed("x"))
        .unwrap()
        .expect(2..);
    let _ = text(
        client()
            .request(get("http://unmet.expect.registry.test/only"))
            .await
            .unwrap(),
    )
    .await;
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(guard))).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.starts_with(
            "http-intercept: the service for unmet.expect.registry.test:80 expected at least 2 requests, got 1; it was given:\n1. GET http://unmet.expect.registry.test/only HTTP/1.1"
        ),
        "{message}"
    );
    assert!(!http_intercept::Registry::global().contains("unmet.expect.registry.test:80"));
}
