//! What can be registered (tower services, axum routers, hyper services) and how
//! services that fail, panic or sleep reach the client.

mod support;

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use http_intercept::ERROR_HEADER;
use hyper::body::Incoming;
use support::*;

#[tokio::test]
async fn an_axum_router() {
    use axum::extract::Path;
    use axum::routing::{get as route_get, post};
    use axum::Json;

    let router = axum::Router::new()
        .route(
            "/users/{id}",
            route_get(|Path(id): Path<u32>| async move { Json(serde_json_value(id)) }),
        )
        .route(
            "/echo",
            post(|body: String| async move { body.to_uppercase() }),
        );
    let _api = http_intercept::add("https://axum.services.test/api", router).unwrap();
    let client = client();

    let res = client
        .request(get("https://axum.services.test/api/users/7"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(text(res).await, r#"{"id":7}"#);

    let req = Request::post("https://axum.services.test/api/echo")
        .body(full("shout"))
        .unwrap();
    assert_eq!(text(client.request(req).await.unwrap()).await, "SHOUT");

    let res = client
        .request(get("https://axum.services.test/api/missing"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

fn serde_json_value(id: u32) -> std::collections::BTreeMap<&'static str, u32> {
    std::collections::BTreeMap::from([("id", id)])
}

#[tokio::test]
async fn a_hyper_service_fn() {
    let svc = hyper::service::service_fn(|req: Request<Incoming>| async move {
        let body = format!("hyper saw {}", req.uri().path());
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
    });
    let _g = http_intercept::add("hyper.services.test:80", svc).unwrap();
    let res = client()
        .request(get("http://hyper.services.test/path"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "hyper saw /path");
}

#[tokio::test]
async fn a_boxed_clone_service_that_is_not_sync() {
    let svc: tower::util::BoxCloneService<Request<Incoming>, Response<String>, Infallible> =
        tower::util::BoxCloneService::new(fixed("boxed"));
    let _g = http_intercept::add("boxed.services.test:80", svc).unwrap();
    let res = client()
        .request(get("http://boxed.services.test/"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "boxed");
}

#[tokio::test]
async fn a_service_that_panics_answers_500_naming_the_panic() {
    let svc = tower::service_fn(|req: Request<Incoming>| async move {
        if req.uri().path() == "/boom" {
            panic!("the database exploded");
        }
        Ok::<_, Infallible>(Response::new(String::from("fine")))
    });
    let api = http_intercept::add("panics.services.test:80", svc).unwrap();
    for client in [client(), h2_client()] {
        let res = client
            .request(get("http://panics.services.test/boom"))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(res.headers()[ERROR_HEADER], "panic");
        assert_eq!(
            text(res).await,
            "http-intercept: the service for panics.services.test:80 panicked: the database exploded"
        );
        // The connection and the service survive the panic.
        let res = client
            .request(get("http://panics.services.test/ok"))
            .await
            .unwrap();
        assert_eq!(text(res).await, "fine");
    }
    // The guard keeps the first panic; taken, it is not raised again on drop.
    assert_eq!(api.take_panic().as_deref(), Some("the database exploded"));
    assert_eq!(api.take_panic(), None);
}

#[tokio::test]
async fn a_service_that_panics_before_its_future_answers_500_too() {
    #[derive(Clone)]
    struct PanicsInCall;
    impl tower::Service<Request<Incoming>> for PanicsInCall {
        type Response = Response<String>;
        type Error = Infallible;
        type Future = std::future::Ready<Result<Response<String>, Infallible>>;
        fn poll_ready(
            &mut self,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Result<(), Infallible>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn call(&mut self, _: Request<Incoming>) -> Self::Future {
            panic!("panicked in call")
        }
    }
    let api = http_intercept::add("https://panics-in-call.services.test", PanicsInCall).unwrap();
    let res = client()
        .request(get("https://panics-in-call.services.test/"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = text(res).await;
    assert!(
        body.ends_with("https://panics-in-call.services.test panicked: panicked in call"),
        "{body}"
    );
    assert_eq!(api.take_panic().as_deref(), Some("panicked in call"));
}

#[tokio::test]
async fn a_service_that_returns_an_error_answers_500_naming_the_error() {
    let svc = tower::service_fn(|_req: Request<Incoming>| async move {
        let cause = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "database is down");
        Err::<Response<String>, _>(Box::<dyn std::error::Error + Send + Sync>::from(format!(
            "cannot load user: {cause}"
        )))
    });
    let _g = http_intercept::add("errors.services.test:80", svc).unwrap();
    let res = client()
        .request(get("http://errors.services.test/"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(res.headers()[ERROR_HEADER], "error");
    assert_eq!(
        text(res).await,
        "http-intercept: the service for errors.services.test:80 returned an error: \
         cannot load user: database is down"
    );
}

#[tokio::test]
async fn a_body_that_panics_mid_stream_fails_the_client_without_hanging() {
    use futures_util::StreamExt;
    let svc = tower::service_fn(|_req: Request<Incoming>| async move {
        let frames = futures_util::stream::iter(0..3).map(|i| {
            if i == 2 {
                panic!("body generator broke");
            }
            Ok::<_, Infallible>(http_body::Frame::data(Bytes::from_static(b"chunk ")))
        });
        Ok::<_, Infallible>(Response::new(http_body_util::StreamBody::new(frames)))
    });
    let api = http_intercept::add("body-panics.services.test:80", svc).unwrap();
    // hyper may fail the response head or only its body, depending on how much was
    // written before the panic; either way the client sees an error, at once.
    let outcome = tokio::time::timeout(Duration::from_secs(10), async {
        let res = client()
            .request(get("http://body-panics.services.test/"))
            .await?;
        http_body_util::BodyExt::collect(res.into_body())
            .await
            .map_err(http_intercept::BoxError::from)?;
        Ok::<_, http_intercept::BoxError>(())
    })
    .await
    .expect("the client does not hang");
    assert!(outcome.is_err(), "the broken body is an error");
    let panic = api.take_panic().expect("the body's panic is kept");
    assert!(panic.starts_with("body generator broke"), "{panic}");
}

#[tokio::test(start_paused = true)]
async fn a_service_that_sleeps_ten_seconds_answers_at_once_under_paused_time() {
    let svc = tower::service_fn(|_req: Request<Incoming>| async move {
        tokio::time::sleep(Duration::from_secs(10)).await;
        Ok::<_, Infallible>(Response::new(String::from("slept")))
    });
    let _g = http_intercept::add("sleepy.services.test:80", svc).unwrap();
    let (virtual_start, real_start) = (tokio::time::Instant::now(), std::time::Instant::now());
    let res = client()
        .request(get("http://sleepy.services.test/"))
        .await
        .unwrap();
    assert_eq!(text(res).await, "slept");
    assert!(
        virtual_start.elapsed() >= Duration::from_secs(10),
        "the service slept on the test's clock"
    );
    assert!(
        real_start.elapsed() < Duration::from_secs(5),
        "no real time was spent sleeping"
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_timeout_fires_against_a_slow_service_under_paused_time() {
    let svc = tower::service_fn(|_req: Request<Incoming>| async move {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok::<_, Infallible>(Response::new(String::from("too late")))
    });
    let _g = http_intercept::add("slow.services.test:80", svc).unwrap();
    let outcome = tokio::time::timeout(
        Duration::from_secs(30),
        client().request(get("http://slow.services.test/")),
    )
    .await;
    assert!(outcome.is_err(), "the client's 30 s timeout fired first");
}

#[tokio::test]
async fn connecting_outside_a_runtime_is_a_clear_error() {
    use tower::ServiceExt;
    let _g = http_intercept::add("no-runtime.services.test:80", fixed("x")).unwrap();
    // Pinned to the test's scope: the thread below has a scope of its own.
    let connecting = http_intercept::Connector::new()
        .with_scope(http_intercept::Scope::current())
        .oneshot("http://no-runtime.services.test/".parse().unwrap());
    // Poll the connect future on a thread with no runtime.
    let err = std::thread::spawn(move || futures_util::FutureExt::now_or_never(connecting))
        .join()
        .unwrap()
        .expect("ready at once")
        .unwrap_err();
    let ours = err.downcast_ref::<http_intercept::Error>().unwrap();
    assert!(ours.is_no_runtime());
    assert!(ours.to_string().contains("no-runtime.services.test:80"));
}

#[tokio::test]
async fn an_aborted_response_is_a_connection_failure_for_the_client() {
    let svc = tower::service_fn(|req: Request<Incoming>| async move {
        let mut res = Response::new(String::from("never seen"));
        if req.uri().path() == "/abort" {
            res.extensions_mut().insert(http_intercept::Abort);
        }
        Ok::<_, Infallible>(res)
    });
    let guard = http_intercept::add("abort.services.test:80", svc).unwrap();
    for client in [client(), h2_client()] {
        let err = client
            .request(get("http://abort.services.test/abort"))
            .await
            .unwrap_err();
        assert!(
            !err.is_connect(),
            "the connection was made, then failed: {err:?}"
        );
        // The service and a fresh request are unaffected.
        let res = client
            .request(get("http://abort.services.test/fine"))
            .await
            .unwrap();
        assert_eq!(text(res).await, "never seen");
    }
    assert_eq!(
        guard.requests()[0].status(),
        None,
        "an aborted request has no status"
    );
}

#[tokio::test]
async fn a_guard_raises_its_services_panic_again_when_the_client_swallowed_the_500() {
    let svc = tower::service_fn(|_req: Request<Incoming>| async move {
        if true {
            panic!("the token is malformed");
        }
        Ok::<_, Infallible>(Response::new(String::new()))
    });
    let api = http_intercept::add("retried.services.test:80", svc).unwrap();
    // A client that retries 5xx three times, then gives up quietly, as SDKs do.
    let client = client();
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let res = client
            .request(get("http://retried.services.test/"))
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [500; 4]);
    assert_eq!(api.hits(), 4);
    let raised = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(api)))
        .expect_err("the drop raises the service's panic");
    let message = raised.downcast_ref::<String>().unwrap();
    assert_eq!(
        message,
        "http-intercept: the service for retried.services.test:80 panicked while serving a \
         request (the client was answered a 500): the token is malformed"
    );
}

#[test]
fn a_guard_dropped_while_the_test_panics_does_not_panic_again() {
    let svc = tower::service_fn(|_req: Request<Incoming>| async move {
        if true {
            panic!("first");
        }
        Ok::<_, Infallible>(Response::new(String::new()))
    });
    let outcome = std::panic::catch_unwind(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let api = http_intercept::add("panicking-test.services.test:80", svc).unwrap();
        rt.block_on(async {
            let res = client()
                .request(get("http://panicking-test.services.test/"))
                .await
                .unwrap();
            assert_eq!(res.status(), 500);
        });
        let _api = api;
        panic!("the test's own assertion failed");
    });
    // One panic, the test's own: the guard stayed quiet while unwinding.
    let panic = outcome.unwrap_err();
    assert_eq!(
        panic.downcast_ref::<&str>(),
        Some(&"the test's own assertion failed")
    );
}
