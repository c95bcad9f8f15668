//! The clients and helpers the mock tests share: one request sent through hyper-util
//! (HTTP/1.1, HTTP/2) or reqwest, and the report of a host's drop.
#![allow(dead_code, unreachable_pub)]

use std::panic::AssertUnwindSafe;

use http::HeaderMap;
use http_body_util::BodyExt;
use http_intercept::mock::MockHost;
use http_intercept::reqwest::ClientBuilderExt;

use crate::support::{client, full, h2_client, TestClient};

/// The clients a test drives.
pub struct Clients {
    pub h1: TestClient,
    pub h2: TestClient,
    pub reqwest: reqwest::Client,
}

pub fn clients() -> Clients {
    Clients {
        h1: client(),
        h2: h2_client(),
        reqwest: reqwest::Client::builder().intercept().build().unwrap(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    H1,
    H2,
    Reqwest,
}

pub const ALL: [Via; 3] = [Via::H1, Via::H2, Via::Reqwest];

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

/// One request: `method url`, headers, body.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, &'static str)>,
    pub body: &'static str,
}

pub fn req(method: &'static str, url: impl Into<String>) -> Req {
    Req {
        method,
        url: url.into(),
        headers: Vec::new(),
        body: "",
    }
}

impl Req {
    pub fn header(mut self, name: &'static str, value: &'static str) -> Req {
        self.headers.push((name, value));
        self
    }
    pub fn body(mut self, body: &'static str) -> Req {
        self.body = body;
        self
    }
}

pub async fn send(clients: &Clients, via: Via, r: &Req) -> Reply {
    match via {
        Via::H1 | Via::H2 => {
            let client = if via == Via::H1 {
                &clients.h1
            } else {
                &clients.h2
            };
            let mut builder = http::Request::builder().method(r.method).uri(&r.url);
            for (k, v) in &r.headers {
                builder = builder.header(*k, *v);
            }
            let res = client
                .request(builder.body(full(r.body)).unwrap())
                .await
                .unwrap_or_else(|e| panic!("{via:?} {} {}: {e:?}", r.method, r.url));
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            let body = res.into_body().collect().await.unwrap().to_bytes();
            Reply {
                status,
                headers,
                body: String::from_utf8_lossy(&body).into_owned(),
            }
        }
        Via::Reqwest => {
            let mut builder = clients
                .reqwest
                .request(r.method.parse().unwrap(), &r.url)
                .body(r.body);
            for (k, v) in &r.headers {
                builder = builder.header(*k, *v);
            }
            let res = builder.send().await.unwrap();
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            let body = res.text().await.unwrap();
            Reply {
                status,
                headers,
                body,
            }
        }
    }
}

/// Drops `host` and returns the panic message of its drop, if any.
pub fn drop_report(host: MockHost) -> Option<String> {
    let result = std::panic::catch_unwind(AssertUnwindSafe(move || drop(host)));
    result.err().map(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}
