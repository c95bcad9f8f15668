//! Helpers for the test-server suites: one request through every client path.
#![allow(dead_code, unreachable_pub)]

use http::HeaderMap;
use http_body_util::BodyExt;
use http_intercept::reqwest::ClientBuilderExt;

use crate::support;

/// What one client got.
#[derive(Debug)]
pub struct Got {
    pub client: &'static str,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Got {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn all(&self, name: &str) -> Vec<Vec<u8>> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.as_bytes().to_vec())
            .collect()
    }
}

/// GET `url` through hyper-util (HTTP/1.1 and HTTP/2), reqwest (async and blocking)
/// with `.intercept()`, and ureq, each with `headers` added.
pub async fn every_client(url: &str, headers: &[(&str, &str)]) -> Vec<Got> {
    let mut got = Vec::new();
    for (name, client) in [
        ("hyper h1", support::client()),
        ("hyper h2", support::h2_client()),
    ] {
        let mut req = http::Request::get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = client
            .request(req.body(support::empty()).unwrap())
            .await
            .unwrap();
        let (parts, body) = res.into_parts();
        got.push(Got {
            client: name,
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: body.collect().await.unwrap().to_bytes().to_vec(),
        });
    }
    let client = reqwest::Client::builder().intercept().build().unwrap();
    let mut req = client.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    got.push(Got {
        client: "reqwest",
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        body: res.bytes().await.unwrap().to_vec(),
    });
    let owned: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let url_owned = url.to_owned();
    let blocking = tokio::task::spawn_blocking(move || {
        let client = reqwest::blocking::Client::builder()
            .intercept()
            .build()
            .unwrap();
        let mut req = client.get(&url_owned);
        for (k, v) in &owned {
            req = req.header(k, v);
        }
        let res = req.send().unwrap();
        let b = Got {
            client: "reqwest blocking",
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: res.bytes().unwrap().to_vec(),
        };
        let agent = http_intercept::ureq::agent_with(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build(),
        );
        let mut req = agent.get(&url_owned);
        for (k, v) in &owned {
            req = req.header(k, v);
        }
        let mut res = req.call().unwrap();
        let u = Got {
            client: "ureq",
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: res.body_mut().read_to_vec().unwrap(),
        };
        (b, u)
    })
    .await
    .unwrap();
    got.push(blocking.0);
    got.push(blocking.1);
    got
}

/// Runs `async fn $name(flavor: &str)` on a current-thread and a multi-thread runtime;
/// `flavor` tells the two apart in host names.
#[macro_export]
macro_rules! on_both_runtimes {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn current_thread() {
                super::$name("ct").await
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn multi_thread() {
                super::$name("mt").await
            }
        }
    )*};
}
