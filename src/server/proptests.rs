//! Property tests of the server's parsers (issue 15): `.headers` files, `.asis`
//! files, pipe strings, trickle schedules, substitutions, `Range` headers, query
//! strings and request paths. On any input: no panic, bounded output, an end.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use proptest::prelude::*;

use crate::server::pipes::{self, Call, Pipeline, Schedule};
use crate::server::site::{RequestInfo, Site};
use crate::server::sub::{self, Escape};
use crate::server::{asis, headers, lookup, path, query, ranges};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn info(url: &str) -> RequestInfo {
    let req = http::Request::get(url)
        .header("user-agent", "prop")
        .body(())
        .unwrap_or_default();
    RequestInfo::new(&req.into_parts().0, &Arc::new(Site::default()))
}

/// Strings over the characters the pipe grammar gives meaning to.
fn pipe_like() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r"[a-z0-9()|,\\ .:d-]{0,40}").unwrap()
}

/// Strings over the characters the template grammar gives meaning to.
fn template_like() -> impl Strategy<Value = String> {
    proptest::string::string_regex(
        r"([{}\[\]()$:, ]|host|GET|uuid|location|query|x|domains|ports|http|0){0,30}",
    )
    .unwrap()
}

/// One well-formed pipe call, as a test author writes it.
fn call() -> impl Strategy<Value = Call> {
    (
        "[a-z_]{1,8}",
        proptest::collection::vec(
            proptest::string::string_regex(r"[ -~é\n\t]{0,8}").unwrap(),
            0..4,
        ),
    )
        .prop_map(|(name, args)| Call { name, args })
        // `f()` is a call without arguments: one empty argument cannot be written.
        .prop_filter("one empty argument", |c| c.args != [String::new()])
}

thread_local! {
    /// One paused runtime per test thread, reused across cases.
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
}

/// Writes `calls` back as a pipe string, escaping what the grammar reads.
fn render(calls: &[Call]) -> String {
    let escape = |a: &str| {
        let mut out = String::new();
        for c in a.chars() {
            match c {
                '\\' | ',' | ')' | '|' | '(' => {
                    out.push('\\');
                    out.push(c);
                }
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            }
        }
        out
    };
    calls
        .iter()
        .map(|c| {
            if c.args.is_empty() {
                c.name.clone()
            } else {
                let args: Vec<String> = c.args.iter().map(|a| escape(a)).collect();
                format!("{}({})", c.name, args.join(","))
            }
        })
        .collect::<Vec<_>>()
        .join("|")
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn headers_files_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(lines) = headers::parse(&bytes, "p") {
            prop_assert!(lines.len() <= bytes.len());
        }
    }

    #[test]
    fn headers_files_round_trip(
        lines in proptest::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,10}", "[!-~]([ -~]{0,10}[!-~])?"), 0..8)
    ) {
        let text: String = lines.iter().map(|(n, v)| format!("{n}: {v}\r\n")).collect();
        let parsed = headers::parse(text.as_bytes(), "p").unwrap();
        prop_assert_eq!(parsed.len(), lines.len());
        for (line, (n, v)) in parsed.iter().zip(&lines) {
            match line {
                headers::Line::Set(name, value) => {
                    prop_assert_eq!(name.as_str(), n.to_ascii_lowercase());
                    prop_assert_eq!(value.as_bytes(), v.as_bytes());
                }
                headers::Line::Remove(_) => prop_assert!(false, "a set line parsed as a removal"),
            }
        }
    }

    #[test]
    fn pipe_strings_never_panic(s in pipe_like(), t in any::<String>()) {
        for input in [&s, &t] {
            if let Ok(calls) = pipes::parse_calls(input) {
                prop_assert!(calls.len() <= 64);
            }
            let _ = Pipeline::parse(input);
        }
    }

    #[test]
    fn pipe_strings_round_trip(calls in proptest::collection::vec(call(), 0..6)) {
        let rendered = render(&calls);
        let parsed = pipes::parse_calls(&rendered);
        prop_assert_eq!(parsed.as_ref(), Ok(&calls), "{:?}", rendered);
    }

    #[test]
    fn trickle_schedules_end_with_all_the_content(
        spec in proptest::string::string_regex(r"((d0(\.[0-9])?|[0-9]{1,3}|r[0-9]):){0,6}(d1|[0-9]{1,3}|r[0-9])").unwrap(),
        len in 0usize..2000,
        junk in any::<String>(),
    ) {
        let _ = Schedule::parse(&junk);
        let Ok(schedule) = Schedule::parse(&spec) else { return Ok(()) };
        let content = Bytes::from(vec![b'x'; len]);
        let got = RUNTIME.with(|rt| rt.block_on(async {
            let mut body = schedule.body(content.clone());
            let mut got = Vec::new();
            let mut frames = 0;
            while let Some(frame) = body.frame().await {
                got.extend_from_slice(&frame.unwrap().into_data().unwrap());
                frames += 1;
                assert!(frames <= len + 1, "more frames than bytes");
            }
            got
        }));
        prop_assert_eq!(got, content.to_vec());
    }

    #[test]
    fn substitutions_never_panic_and_stay_bounded(
        t in template_like(),
        bytes in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let info = info("http://p.test:81/a/b.html?x=1&y=%3C");
        for input in [t.as_bytes(), &bytes[..]] {
            for escape in [Escape::Html, Escape::None] {
                if let Ok(out) = sub::substitute(input, &info, escape, "p") {
                    // Each `{{..}}` (at least 4 bytes) becomes at most a URL's length,
                    // escaped.
                    prop_assert!(out.len() <= input.len() * 64 + 64);
                }
            }
        }
    }

    #[test]
    fn text_without_templates_is_unchanged(s in "[^{]{0,100}") {
        let info = info("http://p.test/");
        let out = sub::substitute(s.as_bytes(), &info, Escape::Html, "p").unwrap();
        prop_assert_eq!(out, s.as_bytes());
    }

    #[test]
    fn asis_files_never_panic(content in proptest::collection::vec(any::<u8>(), 0..300), sub_file in any::<bool>()) {
        let entry = lookup::FileEntry {
            path: "p.asis".into(),
            name: if sub_file { "p.sub.asis".into() } else { "p.asis".into() },
            len: content.len() as u64,
            modified: None,
            content: Some(content.into()),
            headers: Ok(Vec::new()),
            dirs: Vec::new(),
        };
        let res = RUNTIME.with(|rt| {
            rt.block_on(asis::send(&entry, "/p.asis", &info("http://p.test/"), None, http::Version::HTTP_11))
        });
        // Without a raw connection: a 500 that says why.
        prop_assert_eq!(res.status(), 500);
    }

    #[test]
    fn ranges_are_sorted_disjoint_and_inside(header in proptest::collection::vec(any::<u8>(), 0..60), spec in r"bytes=([0-9]{0,3}-[0-9]{0,3},?){1,5}", size in 0u64..2000) {
        for h in [&header[..], spec.as_bytes()] {
            if let Some(rs) = ranges::parse(h, size) {
                prop_assert!(!rs.is_empty() && rs.len() <= 64);
                for r in &rs {
                    prop_assert!(r.start < r.end && r.end <= size);
                }
                for w in rs.windows(2) {
                    prop_assert!(w[0].end < w[1].start);
                }
            }
        }
    }

    #[test]
    fn queries_and_paths_never_panic(q in any::<String>(), p in r"/[a-z./%0-9\\:]{0,30}") {
        let _ = query::pairs(&q);
        let root = std::path::Path::new("/srv/root");
        for raw in [&q, &p] {
            if let Ok(r) = path::resolve(root, raw) {
                prop_assert!(r.full.starts_with(root));
                prop_assert!(r.full.components().all(|c| matches!(c, std::path::Component::Normal(_) | std::path::Component::RootDir)));
            }
        }
    }
}

#[test]
fn a_long_delay_saturates() {
    assert_eq!(pipes::parse_calls("delay(1e400)").map(|c| c.len()), Ok(1));
    let p = Pipeline::parse("delay(1e400)|delay(1e19)|trickle(d1e30:1)").unwrap();
    assert!(!p.is_empty());
    let _ = Duration::MAX;
}
