//! `https://` through the gateway: `CONNECT host:port`, then TLS terminated with a
//! certificate for `host` from the process's in-memory CA.

use std::sync::Arc;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use super::forward::{self, Body};
use super::server::{serve_connection, ConnState, Leg, View};
use crate::target::normalize_host;

/// How long a client may take to complete the TLS handshake in a tunnel.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Answers a `CONNECT` for a registered authority with 200, then serves the tunnel.
///
/// `keep` is held until the tunnel closes (the thread serving the connection waits for it).
pub(super) fn connect(
    req: Request<Incoming>,
    view: View,
    keep: Option<tokio::sync::mpsc::Sender<()>>,
) -> Response<Body> {
    // CONNECT's target is authority-form: `host:port`, the port mandatory.
    let Some((host, port)) = req
        .uri()
        .authority()
        .and_then(|a| Some((a.host().to_owned(), a.port_u16()?)))
    else {
        return forward::text(StatusCode::BAD_REQUEST, "CONNECT needs host:port");
    };
    let Ok(host) = normalize_host(&host) else {
        return forward::text(StatusCode::BAD_REQUEST, "CONNECT to an invalid host");
    };
    let authority = format!("{host}:{port}");
    // A target the client's policy refuses gets its tunnel too: the refusal is answered
    // inside it, where the client reads it (a refused CONNECT loses the explanation).
    if view.host(&authority).is_none() && !view.refuses(&authority) {
        return forward::not_intercepted(&authority);
    }
    let config = match crate::tls::server_config(&host) {
        Ok(config) => config,
        Err(e) => return forward::text(StatusCode::BAD_GATEWAY, &e),
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
        let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await else {
            return;
        };
        let state = Arc::new(ConnState::new(Leg::Tunnel { view, authority }, None));
        serve_connection(tls, state).await;
    });
    Response::new(forward::empty())
}
