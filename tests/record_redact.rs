//! Redaction defaults, through real clients: `x-api-key`, the query parameters
//! `access_token`, `api_key` and `token`, OAuth token requests and responses (JSON and
//! form bodies), and secrets that reach the cassette percent-encoded.
#![cfg(all(feature = "record", feature = "reqwest", feature = "ureq", unix))]

mod support;

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use http_intercept::record::{Cassette, CassetteBuilder, Mode};
use http_intercept::reqwest::ClientBuilderExt;
use support::*;

fn temp_path(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "http-intercept-record-redact-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir.join(name)
}

/// An OAuth-ish upstream: `/token` answers a token response (JSON, or a form with
/// `?form`), everything else echoes the query and the `x-api-key` length.
fn upstream() -> impl tower::Service<
    Request<Full<Bytes>>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Send,
> + Clone
       + Send
       + Sync
       + 'static {
    tower::service_fn(|req: Request<Full<Bytes>>| async move {
        let (parts, body) = req.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let res = match (parts.uri.path(), parts.uri.query()) {
            ("/token", Some("form")) => Response::builder()
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Bytes::from(
                    "access_token=gho_live16&scope=repo&token_type=bearer",
                )),
            ("/token", _) => {
                let json = format!(
                    r#"{{"access_token":"ya29.live-access","expires_in":3599,"refresh_token":"1//live-refresh","scope":"email","token_type":"Bearer","sent":{}}}"#,
                    body.len()
                );
                Response::builder()
                    .header("content-type", "application/json; charset=utf-8")
                    .header("content-length", json.len())
                    .body(Bytes::from(json))
            }
            (path, query) => {
                let key = parts.headers.get("x-api-key").map_or(0, |v| v.len());
                // Lengths only: an echo would copy the secrets into the body.
                Response::builder().body(Bytes::from(format!(
                    "{path} query={} key={key}",
                    query.map_or(0, str::len)
                )))
            }
        };
        Ok::<_, Infallible>(res.unwrap().map(Full::new))
    })
}

fn builder(path: &Path) -> CassetteBuilder {
    Cassette::builder(path)
        .mode(Mode::Once)
        .mode_from_env(false)
        .upstream(upstream())
}

#[tokio::test(flavor = "multi_thread")]
async fn x_api_key_is_redacted_by_default_through_reqwest() {
    let path = temp_path("api-key.json");
    let cassette = builder(&path).open().unwrap();
    let _g = cassette.add("https://key.redact.test").unwrap();
    let client = reqwest::Client::builder().intercept().build().unwrap();
    let res = client
        .get("https://key.redact.test/items")
        .header("x-api-key", "live-api-key-1234")
        .send()
        .await
        .unwrap();
    // The upstream saw the real key.
    assert_eq!(res.text().await.unwrap(), "/items query=0 key=17");
    drop(_g);
    cassette.finish().unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(!saved.contains("live-api-key"), "{saved}");
    assert!(saved.contains("\"x-api-key\": \"REDACTED\""), "{saved}");

    // And the opt-out keeps it.
    let path = temp_path("api-key-kept.json");
    let cassette = builder(&path).keep_sensitive_headers().open().unwrap();
    let _g = cassette.add("https://kept.redact.test").unwrap();
    let res = client
        .get("https://kept.redact.test/items")
        .header("x-api-key", "live-api-key-1234")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    drop(_g);
    cassette.finish().unwrap();
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("live-api-key-1234"));
}

#[test]
fn token_query_parameters_are_redacted_by_default_through_ureq() {
    let path = temp_path("query.json");
    let cassette = builder(&path).open().unwrap();
    let _g = cassette.add("http://query.redact.test").unwrap();
    let agent = http_intercept::ureq::agent();
    let url =
        "http://query.redact.test/feed?access_token=at-live&page=2&API_KEY=ak-live&token=t-live";
    let mut res = agent.get(url).call().unwrap();
    assert_eq!(
        res.body_mut().read_to_string().unwrap(),
        "/feed query=56 key=0"
    );
    drop(_g);
    cassette.finish().unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(!saved.contains("-live"), "{saved}");
    assert!(
        saved.contains("/feed?access_token=REDACTED&page=2&API_KEY=REDACTED&token=REDACTED"),
        "{saved}"
    );

    // The redacted recording replays for other tokens: requests are redacted before
    // they are matched.
    let cassette = Cassette::builder(&path)
        .mode(Mode::Replay)
        .mode_from_env(false)
        .open()
        .unwrap();
    let _g = cassette.add("http://query.redact.test").unwrap();
    let url = "http://query.redact.test/feed?token=other&page=2&access_token=x&API_KEY=y";
    let mut res = agent.get(url).call().unwrap();
    assert!(res
        .body_mut()
        .read_to_string()
        .unwrap()
        .starts_with("/feed query="));
    drop(_g);
    cassette.finish().unwrap();
}

#[tokio::test]
async fn oauth_token_responses_are_recorded_without_their_tokens() {
    let path = temp_path("oauth.json");
    let cassette = builder(&path).open().unwrap();
    let _g = cassette.add("https://oauth.redact.test").unwrap();
    let client = h2_client();
    let req = Request::post("https://oauth.redact.test/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(full(
            "grant_type=refresh_token&refresh_token=1//old-refresh&client_secret=cs-live",
        ))
        .unwrap();
    let res = client.request(req).await.unwrap();
    // The client gets the real tokens.
    let live = text(res).await;
    assert!(
        live.contains("\"access_token\":\"ya29.live-access\""),
        "{live}"
    );
    let res = client
        .request(get("https://oauth.redact.test/token?form"))
        .await
        .unwrap();
    assert!(text(res).await.starts_with("access_token=gho_live16&"));
    drop(_g);
    cassette.finish().unwrap();

    let saved = std::fs::read_to_string(&path).unwrap();
    for secret in [
        "live-access",
        "live-refresh",
        "old-refresh",
        "cs-live",
        "gho_live",
    ] {
        assert!(!saved.contains(secret), "{secret} in {saved}");
    }
    assert!(saved.contains("\"access_token\": \"REDACTED\""), "{saved}");
    assert!(saved.contains("\"refresh_token\": \"REDACTED\""), "{saved}");
    assert!(saved.contains("\"expires_in\": 3599"), "{saved}");
    assert!(
        saved.contains("grant_type=refresh_token&refresh_token=REDACTED&client_secret=REDACTED"),
        "{saved}"
    );
    assert!(
        saved.contains("access_token=REDACTED&scope=repo&token_type=bearer"),
        "{saved}"
    );

    // The replayed response is the redacted one, with a content-length true to it.
    let cassette = Cassette::builder(&path)
        .mode(Mode::Replay)
        .mode_from_env(false)
        .match_on([
            http_intercept::record::Match::Method,
            http_intercept::record::Match::Path,
        ])
        .open()
        .unwrap();
    let _g = cassette.add("https://oauth.redact.test").unwrap();
    let res = support::client()
        .request(
            Request::post("https://oauth.redact.test/token")
                .body(full("grant_type=refresh_token"))
                .unwrap(),
        )
        .await
        .unwrap();
    let length: usize = res.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body = text(res).await;
    assert_eq!(length, body.len());
    let value: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(value["access_token"], "REDACTED");
    assert_eq!(value["token_type"], "Bearer");
    drop(_g);
    let _ = cassette.finish();
}

#[test]
fn a_percent_encoded_secret_makes_the_save_fail_through_reqwest_blocking() {
    let path = temp_path("encoded.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "{\"version\": 2, \"interactions\": []}").unwrap();
    let before = std::fs::read(&path).unwrap();
    let cassette = Cassette::builder(&path)
        .mode(Mode::NewEpisodes)
        .mode_from_env(false)
        .upstream(upstream())
        .secret("p@ss word/1")
        .open()
        .unwrap();
    let _g = cassette.add("http://encoded.redact.test").unwrap();
    let client = reqwest::blocking::Client::builder()
        .intercept()
        .build()
        .unwrap();
    // The code under test percent-encodes the secret into the query, as a form would.
    let res = client
        .get("http://encoded.redact.test/login?password=p%40ss+word%2F1")
        .send()
        .unwrap();
    assert_eq!(res.text().unwrap(), "/login query=24 key=0");
    drop(_g);
    let err = cassette.finish().unwrap_err();
    assert!(err.is_secret(), "{err}");
    assert!(
        err.to_string()
            .contains("secret #1 was found in interaction 1 of 1 (GET http://encoded.redact.test/login?password="),
        "{err}"
    );
    assert!(err.to_string().contains("the request uri"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}
