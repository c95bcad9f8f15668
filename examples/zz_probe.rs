use http_intercept::reqwest::ClientBuilderExt;
use hyper_util::rt::{TokioExecutor, TokioIo};
fn svc() -> impl tower::Service<
    http::Request<hyper::body::Incoming>,
    Response = http::Response<String>,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
       + Send
       + 'static {
    tower::service_fn(|_r: http::Request<hyper::body::Incoming>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hi")))
    })
}
fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mode = std::env::var("MODE").unwrap_or_default();
        let _g = http_intercept::add("http://probe.test", svc()).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(async move {
                    let s = hyper_util::service::TowerToHyperService::new(svc());
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), s)
                        .await;
                });
            }
        });
        let (client, url) = if mode == "direct" {
            (
                reqwest::Client::builder().no_proxy().build().unwrap(),
                format!("http://{addr}/"),
            )
        } else {
            (
                reqwest::Client::builder().intercept().build().unwrap(),
                "http://probe.test/".to_string(),
            )
        };
        let n: usize = std::env::var("N")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20000);
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            let t = std::time::Instant::now();
            let res = client.get(&url).send().await.unwrap();
            let _ = res.bytes().await.unwrap();
            times.push(t.elapsed().as_micros());
        }
        times.sort();
        println!("{mode} median {} p99 {}", times[n / 2], times[n * 99 / 100]);
    });
}
