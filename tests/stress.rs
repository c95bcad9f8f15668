//! Stress: 16 threads, each with a tokio runtime of its own (current_thread and
//! multi_thread alternately), register, request through every client path (hyper-util
//! HTTP/1.1 and HTTP/2, reqwest async and blocking, ureq) and drop, for a fixed number
//! of rounds (`STRESS_ROUNDS`, default 20). Hosts are unshared (one per thread), shared
//! by name (every thread registers `same.stress.test` in its own scope) and shared for
//! real (one process-wide registration every thread requests). Each round also races
//! registrations and drops against requests in flight to a loopback server, and drops
//! guards while a response body is still streaming.
//!
//! Every answer is checked against the service that should have given it: a request
//! that fails is *lost*, an answer from another service is *crossed*, and a request
//! that takes longer than its timeout is *hung*. The test fails on any of them.
#![cfg(all(feature = "reqwest", feature = "ureq", unix))]

mod support;

use std::convert::Infallible;
use std::fmt;
use std::io::Read as _;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, StreamBody};
use http_intercept::reqwest::ClientBuilderExt;
use http_intercept::{Connector, Policy, Scope};
use hyper::body::{Frame, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use support::{get, LoopbackServer, TestClient};

/// Threads, each with its own runtime.
const THREADS: usize = 16;
/// What each request may take before it counts as hung.
const TIMEOUT: Duration = Duration::from_secs(10);
/// What the whole test may take before it fails as hung.
const WATCHDOG: Duration = Duration::from_secs(150);
/// The process-wide host every thread requests.
const SHARED: &str = "http://shared.stress.test";
/// The host every thread registers in its own scope.
const SAME: &str = "http://same.stress.test";
/// Chunks of the streamed body, and its text.
const CHUNKS: usize = 8;

/// Which races a run includes. The default run leaves out the one that loses requests
/// today (see the ignored test at the end).
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// Registrations racing requests in flight to the real host: such requests are cut
    /// (documented for pass-through connections; hyper-util reports HTTP/1.1 ones as
    /// `IncompleteMessage`, HTTP/2 ones as a broken pipe).
    add_race_in_flight: bool,
    /// reqwest requests in the drop race: one the proxy routed to the gateway while the
    /// target was registered and looked up there after the drop is forwarded to the
    /// real host (it got the gateway's 403 before).
    reqwest_drop_race: bool,
}

impl Default for Plan {
    fn default() -> Plan {
        Plan {
            add_race_in_flight: false,
            reqwest_drop_race: true,
        }
    }
}

fn rounds() -> usize {
    std::env::var("STRESS_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

/// Why a request did not get the answer it should have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Lost,
    Crossed,
    Hung,
    /// The real host saw a proxy header (the gateway's credentials).
    Leaked,
}

#[derive(Debug)]
struct Failure {
    kind: Kind,
    what: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.what)
    }
}

/// The outcome of one thread: requests made, and what went wrong.
#[derive(Debug, Default)]
struct Tally {
    requests: usize,
    failures: Vec<Failure>,
}

impl Tally {
    fn fail(&mut self, kind: Kind, what: String) {
        self.failures.push(Failure { kind, what });
    }

    /// Checks one answer: `Ok(body)` must be one of `expected`.
    fn check(&mut self, what: &str, got: Result<String, Failure>, expected: &[&str]) {
        self.requests += 1;
        match got {
            Ok(body) if expected.contains(&body.as_str()) => {}
            Ok(body) => self.fail(
                Kind::Crossed,
                format!("{what}: got {body:?}, expected one of {expected:?}"),
            ),
            Err(failure) => self.fail(failure.kind, format!("{what}: {}", failure.what)),
        }
    }

    /// Checks that a request was refused: nobody else's service may answer it.
    fn refused(&mut self, what: &str, host: &str, got: Result<String, Failure>) {
        self.requests += 1;
        match got {
            Err(Failure {
                kind: Kind::Lost, ..
            }) => {}
            // A pooled connection whose registration was dropped answers the refusal a
            // new connection would get, as a 502 from http-intercept itself.
            Ok(body) if body.starts_with(&format!("http-intercept: real connections are disabled: no service is registered for {host}")) => {}
            Ok(body) => self.fail(Kind::Crossed, format!("{what}: answered {body:?}")),
            Err(failure) => self.fail(failure.kind, format!("{what}: {}", failure.what)),
        }
    }

    fn merge(&mut self, other: Tally) {
        self.requests += other.requests;
        self.failures.extend(other.failures);
    }
}

fn lost(e: impl fmt::Debug) -> Failure {
    Failure {
        kind: Kind::Lost,
        what: format!("{e:?}"),
    }
}

fn hung() -> Failure {
    Failure {
        kind: Kind::Hung,
        what: format!("no answer within {TIMEOUT:?}"),
    }
}

/// A service answering `"{label} {path}"`.
fn named(
    label: String,
) -> impl tower::Service<
    Request<Incoming>,
    Response = Response<String>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(move |req: Request<Incoming>| {
        let body = format!("{label} {}", req.uri().path());
        async move { Ok::<_, Infallible>(Response::new(body)) }
    })
}

/// The body [`streaming`] sends: `CHUNKS` chunks of `"{label} {i};"`.
fn streamed(label: &str) -> String {
    (0..CHUNKS).map(|i| format!("{label} {i};")).collect()
}

/// A service whose body arrives in `CHUNKS` chunks, 1 ms apart.
fn streaming(
    label: String,
) -> impl tower::Service<
    Request<Incoming>,
    Response = Response<
        StreamBody<impl futures_util::Stream<Item = Result<Frame<Bytes>, Infallible>> + Send>,
    >,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    tower::service_fn(move |_req: Request<Incoming>| {
        let label = label.clone();
        async move {
            let chunks = futures_util::stream::unfold(0, move |i| {
                let label = label.clone();
                async move {
                    if i == CHUNKS {
                        return None;
                    }
                    if i > 0 {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    let chunk = Frame::data(Bytes::from(format!("{label} {i};")));
                    Some((Ok::<_, Infallible>(chunk), i + 1))
                }
            });
            Ok::<_, Infallible>(Response::new(StreamBody::new(chunks)))
        }
    })
}

/// The clients of one thread that live on its runtime.
#[derive(Clone)]
struct AsyncClients {
    h1: TestClient,
    h2: TestClient,
    reqwest: reqwest::Client,
}

impl AsyncClients {
    fn new(thread: usize) -> AsyncClients {
        // Nothing but intercepted hosts and the test's loopback servers is ever reached.
        let connector = || Connector::new().with_policy(Policy::LoopbackOnly);
        let refused: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
        AsyncClients {
            h1: Client::builder(TokioExecutor::new()).build(connector()),
            h2: Client::builder(TokioExecutor::new())
                .http2_only(true)
                .build(connector()),
            reqwest: reqwest::Client::builder()
                .intercept()
                .resolve(&format!("t{thread}.stress.test"), refused)
                .resolve("same.stress.test", refused)
                .resolve("shared.stress.test", refused)
                .timeout(TIMEOUT)
                .build()
                .unwrap(),
        }
    }
}

async fn hyper_text(client: &TestClient, url: &str) -> Result<String, Failure> {
    let exchange = async {
        let res = client.request(get(url)).await.map_err(lost)?;
        let bytes = res.into_body().collect().await.map_err(lost)?.to_bytes();
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    tokio::time::timeout(TIMEOUT, exchange)
        .await
        .unwrap_or_else(|_| Err(hung()))
}

async fn reqwest_text(client: &reqwest::Client, url: &str) -> Result<String, Failure> {
    let exchange = async {
        let res = client.get(url).send().await.map_err(lost)?;
        res.text().await.map_err(lost)
    };
    tokio::time::timeout(TIMEOUT + Duration::from_secs(1), exchange)
        .await
        .unwrap_or_else(|_| Err(hung()))
}

fn timed_out(e: &dyn std::error::Error) -> bool {
    let mut current = Some(e);
    while let Some(e) = current {
        let text = e.to_string();
        if text.contains("timed out") || text.contains("timeout") {
            return true;
        }
        current = e.source();
    }
    false
}

fn blocking_text(client: &reqwest::blocking::Client, url: &str) -> Result<String, Failure> {
    let res = client.get(url).send().and_then(|r| r.text());
    res.map_err(|e| if timed_out(&e) { hung() } else { lost(e) })
}

fn ureq_text(agent: &ureq::Agent, url: &str) -> Result<String, Failure> {
    let mut body = String::new();
    match agent.get(url).call() {
        Ok(res) => match res.into_body().into_reader().read_to_string(&mut body) {
            Ok(_) => Ok(body),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Err(hung()),
            Err(e) => Err(lost(e)),
        },
        Err(ureq::Error::Timeout(_)) => Err(hung()),
        Err(e) => Err(lost(e)),
    }
}

/// The blocking clients of one thread, built and used on its runtime's blocking pool.
struct BlockingClients {
    reqwest: reqwest::blocking::Client,
    ureq: ureq::Agent,
}

impl BlockingClients {
    fn new(thread: usize) -> BlockingClients {
        let refused: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .build();
        BlockingClients {
            reqwest: reqwest::blocking::Client::builder()
                .intercept()
                .resolve(&format!("t{thread}.stress.test"), refused)
                .resolve("same.stress.test", refused)
                .resolve("shared.stress.test", refused)
                .timeout(TIMEOUT)
                .build()
                .unwrap(),
            ureq: http_intercept::ureq::Connector::new()
                .with_policy(Policy::LoopbackOnly)
                .into_agent(config),
        }
    }
}

/// Runs `f` with the thread's blocking clients on the runtime's blocking pool (reqwest's
/// blocking client refuses to run inside async code).
async fn blocking<T: Send + 'static>(
    clients: &mut Option<BlockingClients>,
    f: impl FnOnce(&BlockingClients) -> T + Send + 'static,
) -> T {
    let mine = clients.take().expect("blocking clients are back");
    let (mine, out) = tokio::task::spawn_blocking(move || {
        let out = f(&mine);
        (mine, out)
    })
    .await
    .expect("the blocking part panicked");
    *clients = Some(mine);
    out
}

/// One round of one thread.
async fn round(
    plan: Plan,
    thread: usize,
    round: usize,
    clients: &AsyncClients,
    blocking_clients: &mut Option<BlockingClients>,
    server: &LoopbackServer,
    tally: &mut Tally,
) {
    let tag = format!("t{thread}-r{round}");
    let own = format!("http://t{thread}.stress.test");

    // Register, request through every client, drop.
    let unique = http_intercept::add(own.as_str(), named(format!("{tag} own"))).unwrap();
    let same = http_intercept::add(SAME, named(format!("{tag} same"))).unwrap();
    let hosts = [
        (own.clone(), format!("{tag} own")),
        (SAME.to_owned(), format!("{tag} same")),
        (SHARED.to_owned(), String::from("process")),
    ];
    for (base, label) in &hosts {
        for (client, name) in [(&clients.h1, "h1"), (&clients.h2, "h2")] {
            let path = format!("/{name}/{tag}");
            let url = format!("{base}{path}");
            let expected = format!("{label} {path}");
            tally.check(
                &format!("{name} {url}"),
                hyper_text(client, &url).await,
                &[&expected],
            );
        }
        let path = format!("/reqwest/{tag}");
        let url = format!("{base}{path}");
        let expected = format!("{label} {path}");
        tally.check(
            &format!("reqwest {url}"),
            reqwest_text(&clients.reqwest, &url).await,
            &[&expected],
        );
    }
    let sync_hosts = hosts.clone();
    let sync_tag = tag.clone();
    let sync = blocking(blocking_clients, move |c| {
        let mut tally = Tally::default();
        for (base, label) in &sync_hosts {
            for name in ["blocking", "ureq"] {
                let path = format!("/{name}/{sync_tag}");
                let url = format!("{base}{path}");
                let expected = format!("{label} {path}");
                let got = match name {
                    "blocking" => blocking_text(&c.reqwest, &url),
                    _ => ureq_text(&c.ureq, &url),
                };
                tally.check(&format!("{name} {url}"), got, &[&expected]);
            }
        }
        tally
    })
    .await;
    tally.merge(sync);
    assert_eq!(unique.hits(), 5, "{tag}: the own host's hits");
    assert_eq!(same.hits(), 5, "{tag}: the same host's hits");
    drop((unique, same));

    // Dropped: nobody answers, in particular no other thread's `same.stress.test`.
    for (client, name) in [(&clients.h1, "h1"), (&clients.h2, "h2")] {
        for base in [own.as_str(), SAME] {
            let url = format!("{base}/{name}/{tag}/dropped");
            let host = format!("{}:80", base.trim_start_matches("http://"));
            tally.refused(
                &format!("{name} {url}"),
                &host,
                hyper_text(client, &url).await,
            );
        }
    }
    let url = format!("{SAME}/ureq/{tag}/dropped");
    let ureq_dropped = blocking(blocking_clients, move |c| ureq_text(&c.ureq, &url)).await;
    tally.refused(
        &format!("ureq {SAME} dropped"),
        "same.stress.test:80",
        ureq_dropped,
    );

    // A drop racing requests in flight to a real loopback server: each is answered by
    // the service or by the server.
    let base = server.url();
    let raced = format!("{tag} race");
    let guard = http_intercept::add(server.addr, named(raced.clone())).unwrap();
    // A client of its own for the race, made each round: one that saw the host
    // unregistered sends it direct from then on (README, "stays direct"), which would
    // cross the requests after the next registration.
    let racer = plan.reqwest_drop_race.then(|| {
        reqwest::Client::builder()
            .intercept()
            .timeout(TIMEOUT)
            .build()
            .unwrap()
    });
    let racing = spawn_racing(clients, &base, &format!("{tag}/drop"), racer.as_ref());
    if round.is_multiple_of(2) {
        tokio::task::yield_now().await;
    }
    drop(guard);
    collect_racing(racing, &raced, true, tally).await;

    // A registration racing requests: in flight (a known loss, only when planned), or
    // sent from other tasks just after it.
    let racing = if plan.add_race_in_flight {
        let racing = spawn_racing(
            clients,
            &base,
            &format!("{tag}/add"),
            Some(&clients.reqwest),
        );
        if round % 2 == 1 {
            tokio::task::yield_now().await;
        }
        racing
    } else {
        Racing::new()
    };
    let guard = http_intercept::add(server.addr, named(raced.clone())).unwrap();
    let after = spawn_racing(
        clients,
        &base,
        &format!("{tag}/added"),
        Some(&clients.reqwest),
    );
    collect_racing(racing, &raced, true, tally).await;
    // Sent after the registration: nothing but the service may answer.
    collect_racing(after, &raced, false, tally).await;
    drop(guard);

    // Guards dropped mid-body: the exchange in progress finishes, whole.
    mid_body(thread, &tag, clients, blocking_clients, tally).await;
}

type Racing = Vec<(String, tokio::task::JoinHandle<Result<String, Failure>>)>;

fn spawn_racing(
    clients: &AsyncClients,
    base: &str,
    what: &str,
    reqwest: Option<&reqwest::Client>,
) -> Racing {
    let mut racing = Racing::new();
    for (client, name) in [(&clients.h1, "h1"), (&clients.h2, "h2")] {
        for i in 0..2 {
            let url = format!("{base}/{name}/{what}/{i}");
            let client = client.clone();
            let u = url.clone();
            racing.push((
                url,
                tokio::spawn(async move { hyper_text(&client, &u).await }),
            ));
        }
    }
    let Some(client) = reqwest.cloned() else {
        return racing;
    };
    let url = format!("{base}/reqwest/{what}");
    let u = url.clone();
    racing.push((
        url,
        tokio::spawn(async move { reqwest_text(&client, &u).await }),
    ));
    racing
}

/// Checks racing requests: answered by the service labelled `label`, or, if
/// `or_real`, by the loopback server.
async fn collect_racing(racing: Racing, label: &str, or_real: bool, tally: &mut Tally) {
    for (url, request) in racing {
        let path = url.split_once("//").unwrap().1;
        let path = &path[path.find('/').unwrap()..];
        let intercepted = format!("{label} {path}");
        let got = request.await.expect("a racing request panicked");
        let real = if or_real {
            "real server"
        } else {
            "(not the real server)"
        };
        tally.check(&url, got, &[&intercepted, real]);
    }
}

async fn mid_body(
    thread: usize,
    tag: &str,
    clients: &AsyncClients,
    blocking_clients: &mut Option<BlockingClients>,
    tally: &mut Tally,
) {
    let base = format!("http://t{thread}.stress.test");
    let label = format!("{tag} body");
    let whole = streamed(&label);
    for (client, name) in [(&clients.h1, "h1"), (&clients.h2, "h2")] {
        let guard = http_intercept::add(base.as_str(), streaming(label.clone())).unwrap();
        let url = format!("{base}/{name}");
        let exchange = async {
            let res = client.request(get(&url)).await.map_err(lost)?;
            let mut body = res.into_body();
            let first = body
                .frame()
                .await
                .ok_or_else(|| lost("no first frame"))?
                .map_err(lost)?;
            drop(guard);
            let mut text = first.into_data().map_err(|_| lost("not data"))?.to_vec();
            text.extend_from_slice(&body.collect().await.map_err(lost)?.to_bytes());
            Ok(String::from_utf8_lossy(&text).into_owned())
        };
        let got = tokio::time::timeout(TIMEOUT, exchange)
            .await
            .unwrap_or_else(|_| Err(hung()));
        tally.check(&format!("{name} {url} mid-body"), got, &[&whole]);
    }

    let guard = http_intercept::add(base.as_str(), streaming(label.clone())).unwrap();
    let url = format!("{base}/reqwest");
    let exchange = async {
        let mut res = clients.reqwest.get(&url).send().await.map_err(lost)?;
        let mut text = res
            .chunk()
            .await
            .map_err(lost)?
            .ok_or_else(|| lost("no first chunk"))?
            .to_vec();
        drop(guard);
        while let Some(chunk) = res.chunk().await.map_err(lost)? {
            text.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&text).into_owned())
    };
    let got = tokio::time::timeout(TIMEOUT + Duration::from_secs(1), exchange)
        .await
        .unwrap_or_else(|_| Err(hung()));
    tally.check(&format!("reqwest {url} mid-body"), got, &[&whole]);

    let sync = blocking(blocking_clients, move |c| {
        let mut tally = Tally::default();
        for name in ["blocking", "ureq"] {
            let guard = http_intercept::add(base.as_str(), streaming(label.clone())).unwrap();
            let url = format!("{base}/{name}");
            let mut first = [0u8; 4];
            let got = match name {
                "blocking" => c.reqwest.get(&url).send().map_err(lost).and_then(|mut r| {
                    r.read_exact(&mut first).map_err(lost)?;
                    drop(guard);
                    let mut rest = String::new();
                    r.read_to_string(&mut rest).map_err(lost)?;
                    Ok(format!("{}{rest}", String::from_utf8_lossy(&first)))
                }),
                _ => c.ureq.get(&url).call().map_err(lost).and_then(|r| {
                    let mut reader = r.into_body().into_reader();
                    reader.read_exact(&mut first).map_err(lost)?;
                    drop(guard);
                    let mut rest = String::new();
                    reader.read_to_string(&mut rest).map_err(lost)?;
                    Ok(format!("{}{rest}", String::from_utf8_lossy(&first)))
                }),
            };
            tally.check(&format!("{name} {url} mid-body"), got, &[&whole]);
        }
        tally
    })
    .await;
    tally.merge(sync);
}

/// One thread: its runtime, clients and loopback server, then the rounds.
fn thread_main(plan: Plan, thread: usize, rounds: usize) -> Tally {
    let rt = if thread.is_multiple_of(2) {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    };
    rt.block_on(async {
        let server = LoopbackServer::start().await;
        let clients = AsyncClients::new(thread);
        let mut blocking_clients = Some(
            tokio::task::spawn_blocking(move || BlockingClients::new(thread))
                .await
                .unwrap(),
        );
        let mut tally = Tally::default();
        for r in 0..rounds {
            round(
                plan,
                thread,
                r,
                &clients,
                &mut blocking_clients,
                &server,
                &mut tally,
            )
            .await;
        }
        // The proxy's secret never reached the real host, whatever raced.
        let leaked = server
            .proxy_headers
            .load(std::sync::atomic::Ordering::SeqCst);
        if leaked > 0 {
            tally.fail(
                Kind::Leaked,
                format!(
                    "thread {thread}: {leaked} requests reached the real host with a proxy header"
                ),
            );
        }
        // reqwest's blocking client must not be dropped inside async code.
        let last = blocking_clients.take();
        tokio::task::spawn_blocking(move || drop(last))
            .await
            .unwrap();
        tally
    })
}

#[test]
fn sixteen_threads_register_request_and_drop_on_every_client_path() {
    let requests = run(Plan::default(), rounds());
    // Per thread and round: 9 + 6 + 5 (dropped) + 5 (drop race, reqwest included) + 5 (after add) + 5.
    assert_eq!(requests, THREADS * rounds() * 35);
}

/// Known loss, left out of the default run: a registration cuts the exchanges in
/// progress on pass-through connections to that host. `cargo test --all-features --test
/// stress -- --ignored registrations_racing`.
#[test]
#[ignore = "known loss: a registration cuts pass-through exchanges in flight"]
fn registrations_racing_requests_in_flight_lose_none() {
    let plan = Plan {
        add_race_in_flight: true,
        ..Plan::default()
    };
    run(plan, rounds());
}

/// Runs the threads; panics on any lost, crossed or hung request; returns the number
/// of checked requests.
fn run(plan: Plan, rounds: usize) -> usize {
    let started = Instant::now();
    let shared = {
        let _in = Scope::process().enter();
        http_intercept::add(SHARED, named(String::from("process"))).unwrap()
    };
    let (done, finished) = mpsc::channel();
    for thread in 0..THREADS {
        let done = done.clone();
        std::thread::Builder::new()
            .name(format!("stress-{thread}"))
            .spawn(move || {
                let outcome = std::panic::catch_unwind(|| thread_main(plan, thread, rounds))
                    .map_err(|panic| {
                        panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default()
                    });
                let _ = done.send((thread, outcome));
            })
            .unwrap();
    }
    drop(done);

    let mut total = Tally::default();
    let mut panics = Vec::new();
    for _ in 0..THREADS {
        let left = WATCHDOG.saturating_sub(started.elapsed());
        match finished.recv_timeout(left) {
            Ok((_, Ok(tally))) => total.merge(tally),
            Ok((thread, Err(panic))) => panics.push(format!("thread {thread}: {panic}")),
            Err(_) => panic!("hung: not every thread finished within {WATCHDOG:?}"),
        }
    }
    let count = |kind| total.failures.iter().filter(|f| f.kind == kind).count();
    eprintln!(
        "stress: {THREADS} threads x {rounds} rounds, {} requests in {:.1} s: {} lost, {} crossed, {} hung, {} threads' real hosts saw a proxy header",
        total.requests,
        started.elapsed().as_secs_f64(),
        count(Kind::Lost),
        count(Kind::Crossed),
        count(Kind::Hung),
        count(Kind::Leaked),
    );
    assert!(panics.is_empty(), "threads panicked: {panics:#?}");
    let shown: Vec<String> = total
        .failures
        .iter()
        .take(20)
        .map(|f| f.to_string())
        .collect();
    assert!(
        total.failures.is_empty(),
        "{} of {} requests failed ({} lost, {} crossed, {} hung); the first: {shown:#?}",
        total.failures.len(),
        total.requests,
        count(Kind::Lost),
        count(Kind::Crossed),
        count(Kind::Hung),
    );
    assert_eq!(shared.hits(), (THREADS * rounds * 5) as u64);
    total.requests
}
