//! What the mocks report: why a request matched nothing (its nearest mock), and, when a
//! host or a scoped mock is dropped, every unmet expectation, unmatched request and
//! responder panic, numbered, with the requests the host received.

use std::fmt::Write as _;
use std::sync::{Arc, PoisonError};

use super::mock::MountedMock;
use super::mocks::State;
use super::Request;
use crate::report::{write_nearest, write_numbered, Difference};

/// Why `request` matched none of `mocks`: the nearest one (most matchers satisfied,
/// first in matching order on a tie) and each of its matchers that failed. (Matchers
/// already ran on this request without panicking.)
pub(crate) fn nearest(mocks: &[Arc<MountedMock>], request: &Request) -> String {
    let scored = mocks.iter().map(|m| {
        let satisfied = m
            .spec
            .matchers
            .iter()
            .filter(|x| x.matches(request))
            .count();
        (m, satisfied)
    });
    // max_by_key keeps the last maximum: reverse to keep the first.
    let best = scored
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .max_by_key(|(_, satisfied)| *satisfied);
    let Some((mock, satisfied)) = best else {
        return "no mock is mounted".into();
    };
    let total = mock.spec.matchers.len();
    let headline = format!(
        "nearest mock: {} ({satisfied} of {total} matchers matched)",
        mock.title()
    );
    let differences: Vec<Difference> = mock
        .spec
        .matchers
        .iter()
        .filter(|m| !m.matches(request))
        .map(|m| Difference {
            matcher: m.name(),
            sides: match (m.expected(), m.got(request)) {
                (Some(expected), Some(got)) => Some([("expected", expected), ("got", got)]),
                _ => None,
            },
        })
        .collect();
    let mut out = String::new();
    if differences.is_empty() && mock.used_up() {
        let _ = write!(
            out,
            "{headline}\n   every matcher agrees, but it already answered the {} requests \
             of its up_to_n_times",
            mock.hits()
        );
        return out;
    }
    write_nearest(&mut out, &headline, "matchers that failed", &differences);
    out
}

/// The report of a mock whose expectation is unmet: its title line and the requests it
/// answered.
fn unmet(mock: &MountedMock) -> Option<(String, String)> {
    let expected = mock.spec.expected?;
    let hits = mock.hits();
    if expected.contains(hits) {
        return None;
    }
    let line = format!("{} expected {expected}, got {hits}", mock.title());
    let requests = mock.requests();
    let detail = if requests.is_empty() {
        "it answered no request".to_owned()
    } else {
        let mut detail = String::from("it answered:");
        for r in &requests {
            let _ = write!(detail, "\n     - {}", r.line());
        }
        detail
    };
    Some((line, detail))
}

/// The report of a scoped mock, checked when its guard drops.
pub(crate) fn scoped_report(mock: &MountedMock) -> Option<String> {
    let (line, detail) = unmet(mock)?;
    let mut out = String::from("http-intercept: a scoped mock was not satisfied:\n");
    write_numbered(&mut out, 1, &line, &detail);
    Some(out)
}

/// The report of a host: `None` when there is nothing to report.
pub(crate) fn host_report(
    label: &str,
    state: &State,
    mocks: &[Arc<MountedMock>],
    fail_on_unmatched: bool,
) -> Option<String> {
    let panics = state
        .panics
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let unmatched = if fail_on_unmatched {
        state
            .unmatched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    } else {
        Vec::new()
    };
    let unmet: Vec<(String, String)> = mocks.iter().filter_map(|m| unmet(m)).collect();
    let problems = panics.len() + unmatched.len() + unmet.len();
    if problems == 0 {
        return None;
    }
    let mut out = match panics.first() {
        Some(first) => format!("http-intercept: mock host {label}: {first}\n"),
        None => format!(
            "http-intercept: mock host {label}: {problems} {}:\n",
            if problems == 1 { "problem" } else { "problems" }
        ),
    };
    let mut n = 0;
    for panic in &panics {
        n += 1;
        write_numbered(
            &mut out,
            n,
            panic,
            "the client was answered a 500 (x-http-intercept-error: panic)",
        );
    }
    for (line, detail) in &unmet {
        n += 1;
        write_numbered(&mut out, n, line, detail);
    }
    for u in &unmatched {
        n += 1;
        let line = format!("{} matched no mock", u.request.line());
        write_numbered(&mut out, n, &line, &u.why);
    }
    if fail_on_unmatched && !unmatched.is_empty() {
        out.push_str(
            "\n(unmatched requests fail the test; to allow them, \
             MockHost::fail_on_unmatched(false))\n",
        );
    }
    let received = state
        .received
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let _ = write!(out, "\nrequests the host received ({}):\n", received.len());
    for (i, r) in received.iter().enumerate() {
        let _ = writeln!(out, "{}. {}", i + 1, r.render("   "));
    }
    Some(out)
}
