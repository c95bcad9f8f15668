//! `https://` through the gateway: `CONNECT host:port`, then TLS terminated with a
//! certificate for `host` from the process's in-memory CA; or, for a client of this
//! crate whose target is no longer registered, a plain TCP tunnel to the real host.

use std::sync::Arc;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use super::forward::{self, Body};
use super::server::{serve_connection, ConnState, Leg, Miss, View};
use crate::target::normalize_host;

/// How long a client may take to complete the TLS handshake in a tunnel.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Where a `CONNECT` goes.
pub(super) enum Connect {
    /// Answered: the tunnel is served here, or the CONNECT refused.
    Answered(Response<Body>),
    /// To the real host ([`pass_through`]): its target is not registered.
    RealHost(Request<Incoming>, String),
}

/// Answers a `CONNECT` for a registered authority with 200, then serves the tunnel.
///
/// `keep` is held until the tunnel closes (the task or thread serving the connection
/// waits for it, holding its slot under the cap); the tunnel is served as `parent` is
/// (see `ConnState::acking`, `ConnState::on_test_runtime`).
pub(super) fn connect(
    req: Request<Incoming>,
    view: View,
    keep: Option<tokio::sync::mpsc::Sender<()>>,
    parent: &ConnState,
) -> Connect {
    let acking = parent.acking;
    let on_test_runtime = parent.on_test_runtime;
    // CONNECT's target is authority-form: `host:port`, the port mandatory.
    let Some((host, port)) = req
        .uri()
        .authority()
        .and_then(|a| Some((a.host().to_owned(), a.port_u16()?)))
    else {
        return Connect::Answered(forward::text(
            StatusCode::BAD_REQUEST,
            "CONNECT needs host:port",
        ));
    };
    let Ok(host) = normalize_host(&host) else {
        return Connect::Answered(forward::text(
            StatusCode::BAD_REQUEST,
            "CONNECT to an invalid host",
        ));
    };
    let authority = format!("{host}:{port}");
    // A target the client's policy refuses gets its tunnel too: the refusal is answered
    // inside it, where the client reads it (a refused CONNECT loses the explanation).
    if view.host(&authority).is_none() {
        match view.miss(&authority) {
            Miss::Denied => {}
            Miss::Forward => return Connect::RealHost(req, authority),
            Miss::Forbidden => return Connect::Answered(forward::not_intercepted(&authority)),
        }
    }
    let config = match crate::tls::server_config(&host) {
        Ok(config) => config,
        Err(e) => return Connect::Answered(forward::text(StatusCode::BAD_GATEWAY, &e)),
    };
    // The tunnel exists once the 200 is written; hyper then hands the connection over.
    tokio::spawn(async move {
        let _keep = keep;
        let Ok(upgraded) = hyper::upgrade::on(req).await else {
            return;
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        // A failed handshake means the client gave up or does not trust the CA (it was
        // not built with `.intercept()`): there is nobody to report to.
        let handshake = acceptor.accept(TokioIo::new(upgraded));
        // Real time: a test's paused clock would jump past the deadline mid-handshake.
        let tls = tokio::select! {
            tls = handshake => tls,
            () = crate::background::sleep_real(HANDSHAKE_TIMEOUT) => return,
        };
        let Ok(tls) = tls else {
            return;
        };
        let mut state = ConnState::new(Leg::Tunnel { view, authority }, None).acking(acking);
        state.on_test_runtime = on_test_runtime;
        let state = Arc::new(state);
        serve_connection(tls, state).await;
    });
    Connect::Answered(Response::new(forward::empty()))
}

/// A `CONNECT` for a target that was registered when the client chose the gateway and
/// is not any more: tunnelled to the real host, as any proxy would, so the request
/// goes where a connection opened a moment later would have gone.
pub(super) async fn pass_through(
    req: Request<Incoming>,
    authority: &str,
    keep: Option<tokio::sync::mpsc::Sender<()>>,
) -> Response<Body> {
    let mut upstream = match tokio::net::TcpStream::connect(authority).await {
        Ok(upstream) => upstream,
        Err(e) => {
            return forward::text(
                StatusCode::BAD_GATEWAY,
                &format!("{authority} is not intercepted, and connecting to it failed: {e}"),
            )
        }
    };
    let _ = upstream.set_nodelay(true);
    tokio::spawn(async move {
        let _keep = keep;
        let Ok(upgraded) = hyper::upgrade::on(req).await else {
            return;
        };
        let mut client = TokioIo::new(upgraded);
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    });
    Response::new(forward::empty())
}
