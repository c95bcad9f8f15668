//! Writing interactions as a HAR 1.2 file.

use base64::Engine;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE, LOCATION};
use http::{HeaderMap, Version};
use serde_json::{json, Map, Value};

use crate::record::format::{format_time, B64};
use crate::record::interaction::{Interaction, Outcome};

/// The HAR document of `interactions`, pretty-printed.
pub(crate) fn to_bytes(interactions: &[Interaction]) -> Vec<u8> {
    let entries: Vec<Value> = interactions.iter().map(entry).collect();
    let har = json!({
        "log": {
            "version": "1.2",
            "creator": { "name": "http-intercept", "version": env!("CARGO_PKG_VERSION") },
            "entries": entries,
        }
    });
    let mut out = serde_json::to_vec_pretty(&har).expect("a HAR document always serializes");
    out.push(b'\n');
    out
}

fn http_version(v: Version) -> &'static str {
    match v {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

fn headers(h: &HeaderMap) -> Vec<Value> {
    h.iter()
        .map(|(n, v)| json!({ "name": n.as_str(), "value": String::from_utf8_lossy(v.as_bytes()) }))
        .collect()
}

fn mime(h: &HeaderMap) -> String {
    h.get(CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default()
}

fn entry(i: &Interaction) -> Value {
    let req = i.request();
    let query: Vec<Value> = req
        .uri()
        .query()
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (n, v) = p.split_once('=').unwrap_or((p, ""));
                    json!({ "name": n, "value": v })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut request = json!({
        "method": req.method().as_str(),
        "url": req.uri().to_string(),
        "httpVersion": http_version(req.version()),
        "cookies": [],
        "headers": headers(req.headers()),
        "queryString": query,
        "headersSize": -1,
        "bodySize": req.body().len(),
    });
    if !req.body().is_empty() {
        let mut post = Map::new();
        post.insert("mimeType".into(), mime(req.headers()).into());
        match std::str::from_utf8(req.body()) {
            Ok(text) => {
                post.insert("text".into(), text.into());
            }
            Err(_) => {
                // Not in HAR 1.2, but what Chromium writes for binary uploads.
                post.insert("text".into(), B64.encode(req.body()).into());
                post.insert("encoding".into(), "base64".into());
            }
        }
        request["postData"] = Value::Object(post);
    }
    let started = i
        .recorded_at()
        .map_or_else(|| "1970-01-01T00:00:00Z".to_owned(), format_time);
    let mut entry = json!({
        "startedDateTime": started,
        "time": 0,
        "request": request,
        "cache": {},
        "timings": { "send": 0, "wait": 0, "receive": 0 },
    });
    match i.outcome() {
        Outcome::Response(res) => {
            let mut content = Map::new();
            content.insert("size".into(), res.body().len().into());
            content.insert("mimeType".into(), mime(res.headers()).into());
            let encoded = res
                .headers()
                .get(CONTENT_ENCODING)
                .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
            match std::str::from_utf8(res.body()) {
                Ok(text) if !encoded => {
                    content.insert("text".into(), text.into());
                }
                _ => {
                    content.insert("text".into(), B64.encode(res.body()).into());
                    content.insert("encoding".into(), "base64".into());
                }
            }
            if encoded {
                // Browsers store bodies decoded; this one is as it was on the wire.
                content.insert("_wire".into(), true.into());
            }
            let redirect = res
                .headers()
                .get(LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default();
            entry["response"] = json!({
                "status": res.status().as_u16(),
                "statusText": res.status().canonical_reason().unwrap_or(""),
                "httpVersion": http_version(res.version()),
                "cookies": [],
                "headers": headers(res.headers()),
                "content": content,
                "redirectURL": redirect,
                "headersSize": -1,
                "bodySize": res.body().len(),
            });
        }
        Outcome::Failure(f) => {
            // Chromium's shape for a request that got no response.
            entry["response"] = json!({
                "status": 0,
                "statusText": "",
                "httpVersion": "",
                "cookies": [],
                "headers": [],
                "content": { "size": 0, "mimeType": "" },
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": -1,
                "_error": f.message(),
            });
            entry["_error"] = f.message().into();
            entry["_failure"] = f.kind().as_str().into();
        }
    }
    entry
}
