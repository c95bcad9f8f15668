//! Property tests of cassette loading: arbitrary bytes, and valid cassettes with
//! mutated fields, load or fail with an error that has a position; never a panic.
//! Valid cassettes round-trip byte-exact.
#![cfg(feature = "record")]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::{Request, Response};
use http_intercept::record::{Cassette, Interaction, Mode, Recording};
use proptest::prelude::*;

fn temp_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "http-intercept-record-props-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Loads `bytes` as a cassette the two public ways, and checks what a user would:
/// no panic, and an error that says where (or which version) when it fails.
fn check_load(path: &Path, bytes: &[u8]) -> Result<Vec<Interaction>, TestCaseError> {
    std::fs::write(path, bytes).unwrap();
    let loaded = Recording::load(path);
    let opened = Cassette::builder(path)
        .mode(Mode::Replay)
        .mode_from_env(false)
        .open();
    prop_assert_eq!(loaded.is_ok(), opened.is_ok());
    match loaded {
        Ok(recording) => {
            let cassette = opened.unwrap();
            prop_assert_eq!(cassette.len(), recording.len());
            cassette.finish().unwrap();
            Ok(recording.interactions())
        }
        Err(err) => {
            let msg = err.to_string();
            if err.is_malformed() {
                let name = path.display().to_string();
                prop_assert!(
                    msg.starts_with(&format!("malformed cassette {name}: line ")),
                    "{}",
                    msg
                );
                prop_assert!(msg.contains(", column "), "{}", msg);
            } else {
                prop_assert!(err.is_version(), "{}", msg);
            }
            // The file that failed to load is never touched.
            prop_assert_eq!(std::fs::read(path).unwrap(), bytes);
            Err(TestCaseError::reject("not a cassette"))
        }
    }
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("content-type".to_owned()),
        Just("set-cookie".to_owned()),
        Just("x-trace".to_owned()),
        "[a-z][a-z0-9-]{0,12}",
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    proptest::collection::vec((header_name(), "[ -~]{0,20}"), 0..4)
}

fn body() -> impl Strategy<Value = (Option<&'static str>, Vec<u8>)> {
    prop_oneof![
        (
            Just(Some("application/json")),
            "\\{\"[a-z]{1,5}\":[0-9]{1,4}\\}"
        )
            .prop_map(|(t, s)| (t, s.into_bytes())),
        (Just(Some("text/plain")), ".{0,40}").prop_map(|(t, s)| (t, s.into_bytes())),
        (Just(None), proptest::collection::vec(any::<u8>(), 0..48)),
    ]
}

prop_compose! {
    fn interaction()(
        method in prop_oneof![Just("GET"), Just("POST"), Just("PATCH"), Just("PROPFIND")],
        scheme in prop_oneof![Just("http"), Just("https")],
        host in "[a-z]{1,8}\\.test",
        path in "(/[a-zA-Z0-9._~-]{0,6}){0,3}",
        query in proptest::option::of("[a-z]{1,4}=[a-z0-9]{0,4}(&[a-z]{1,4}=[0-9]{0,3}){0,2}"),
        req_headers in headers(),
        req_body in body(),
        status in 100u16..1000,
        res_headers in headers(),
        res_body in body(),
        gzip in any::<bool>(),
        split in proptest::collection::vec(0usize..8, 0..4),
        trailer in proptest::option::of("[0-9]{1,2}"),
        failed in any::<u8>(),
    ) -> Interaction {
        let uri = match &query {
            Some(q) => format!("{scheme}://{host}{path}?{q}"),
            None => format!("{scheme}://{host}{path}"),
        };
        let mut req = Request::builder().method(method).uri(uri);
        for (n, v) in &req_headers {
            req = req.header(n.as_str(), v.as_str());
        }
        if let Some(t) = req_body.0 {
            req = req.header("content-type", t);
        }
        let req = req.body(Bytes::from(req_body.1)).unwrap();
        if failed < 16 {
            return Interaction::failed(
                req,
                http_intercept::record::Failure::new(
                    http_intercept::record::FailureKind::Connect,
                    "refused",
                ),
            );
        }
        let mut res = Response::builder().status(status);
        for (n, v) in &res_headers {
            res = res.header(n.as_str(), v.as_str());
        }
        if let Some(t) = res_body.0 {
            res = res.header("content-type", t);
        }
        if gzip {
            res = res.header("content-encoding", "gzip");
        }
        let len = res_body.1.len();
        let res = res.body(Bytes::from(res_body.1)).unwrap();
        let mut chunks: Vec<usize> = split.into_iter().filter(|&c| c <= len).collect();
        let used: usize = chunks.iter().sum();
        if used <= len {
            chunks.push(len - used);
        }
        let mut trailers = http::HeaderMap::new();
        if let Some(t) = trailer {
            trailers.insert("grpc-status", t.parse().unwrap());
        }
        Interaction::new(req, res).with_chunks(chunks).with_trailers(trailers)
    }
}

fn saved(interactions: &[Interaction], path: &Path) -> Vec<u8> {
    let recording = Recording::new();
    for i in interactions {
        recording.push(i.clone());
    }
    recording.save(path).unwrap();
    std::fs::read(path).unwrap()
}

/// Every object key path in a JSON value, for the mutations.
fn paths(v: &serde_json::Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                prefix.push(k.clone());
                out.push(prefix.clone());
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                prefix.push(i.to_string());
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn parent_of<'a>(v: &'a mut serde_json::Value, path: &[String]) -> &'a mut serde_json::Value {
    let mut v = v;
    for p in path {
        v = match v {
            serde_json::Value::Object(map) => map.get_mut(p).unwrap(),
            serde_json::Value::Array(items) => &mut items[p.parse::<usize>().unwrap()],
            _ => unreachable!(),
        };
    }
    v
}

fn odd_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::json;
    prop_oneof![
        Just(json!(null)),
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(70000)),
        Just(json!(1.5)),
        Just(json!(u64::MAX)),
        Just(json!(true)),
        Just(json!("")),
        Just(json!("/relative")),
        Just(json!("G T")),
        Just(json!("not base64 !")),
        Just(json!("2026-02-30T25:00:00Z")),
        Just(json!([])),
        Just(json!([1, "a"])),
        Just(json!({})),
        Just(json!({"text": "x", "base64": "eA=="})),
        any::<String>().prop_map(serde_json::Value::String),
        any::<i64>().prop_map(|n| json!(n)),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(serde_json::Value),
    Rename(String),
    Remove,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => odd_value().prop_map(Mutation::Replace),
        2 => "[a-z_]{0,8}".prop_map(Mutation::Rename),
        1 => Just(Mutation::Remove),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, max_global_rejects: 1_000_000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let path = temp_dir().join("bytes.json");
        let _ = check_load(&path, &bytes);
    }

    #[test]
    fn json_shaped_text_never_panics(
        text in "\\{\"version\": ?[0-3], ?\"interactions\": ?\\[(\\{\"(request|response|failure|body)\": ?(\\{\\}|\\[\\]|\"[a-z/:]{0,6}\"|[0-9]{1,3}|null)\\},?){0,3}\\]\\}",
    ) {
        let path = temp_dir().join("shaped.json");
        let _ = check_load(&path, text.as_bytes());
    }

    #[test]
    fn mutated_fields_load_or_fail_with_a_position(
        interactions in proptest::collection::vec(interaction(), 1..4),
        pick in any::<prop::sample::Index>(),
        change in mutation(),
        byte_pick in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        byte_level in any::<bool>(),
    ) {
        let dir = temp_dir();
        let good = saved(&interactions, &dir.join("good.json"));
        let bytes = if byte_level {
            // One byte changed anywhere.
            let mut bytes = good.clone();
            let at = byte_pick.index(bytes.len());
            bytes[at] = byte;
            bytes
        } else {
            let mut value: serde_json::Value = serde_json::from_slice(&good).unwrap();
            let mut all = Vec::new();
            paths(&value, &mut Vec::new(), &mut all);
            let path = pick.get(&all).clone();
            let (key, parent) = path.split_last().unwrap();
            let parent = parent_of(&mut value, parent);
            let map = parent.as_object_mut().unwrap();
            match change {
                Mutation::Replace(v) => {
                    map.insert(key.clone(), v);
                }
                Mutation::Rename(to) => {
                    let v = map.remove(key).unwrap();
                    map.insert(to, v);
                }
                Mutation::Remove => {
                    map.remove(key);
                }
            }
            serde_json::to_vec_pretty(&value).unwrap()
        };
        if let Ok(loaded) = check_load(&dir.join("mutated.json"), &bytes) {
            // What loads saves and loads again to the same bytes.
            let again = saved(&loaded, &dir.join("again.json"));
            let reloaded = Recording::load(dir.join("again.json")).unwrap().interactions();
            prop_assert_eq!(saved(&reloaded, &dir.join("again2.json")), again);
        }
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn valid_cassettes_round_trip_byte_exact(
        interactions in proptest::collection::vec(interaction(), 0..5),
    ) {
        let dir = temp_dir();
        let bytes = saved(&interactions, &dir.join("a.json"));
        let loaded = check_load(&dir.join("b.json"), &bytes)?;
        prop_assert_eq!(loaded.len(), interactions.len());
        for (a, b) in interactions.iter().zip(&loaded) {
            prop_assert_eq!(a.request().method(), b.request().method());
            prop_assert_eq!(a.request().uri(), b.request().uri());
            prop_assert_eq!(a.request().headers(), b.request().headers());
            prop_assert_eq!(a.request().body(), b.request().body());
            prop_assert_eq!(a.chunks(), b.chunks());
            prop_assert_eq!(a.trailers(), b.trailers());
            match (a.response(), b.response()) {
                (Some(x), Some(y)) => {
                    prop_assert_eq!(x.status(), y.status());
                    prop_assert_eq!(x.headers(), y.headers());
                    prop_assert_eq!(x.body(), y.body());
                }
                (None, None) => prop_assert_eq!(a.failure(), b.failure()),
                _ => prop_assert!(false, "outcome changed"),
            }
        }
        prop_assert_eq!(saved(&loaded, &dir.join("c.json")), bytes);
    }
}
