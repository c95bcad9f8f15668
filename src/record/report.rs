//! The report of what went unmatched: each request that matched nothing, its nearest
//! recorded candidate and which matchers differed, and, when asked for, the recorded
//! interactions that were never played.

use std::fmt::Write as _;
use std::path::Path;

use bytes::Bytes;
use http::Request;

use super::cassette::Entry;
use super::matcher::{Fields, Matchers};
use crate::report::Difference;

/// A request that matched nothing.
#[derive(Clone, Debug)]
pub(crate) struct Miss {
    pub(crate) line: String,
    pub(crate) detail: String,
}

/// Why `req` matched nothing: the interactions it matches were all played, or the
/// nearest candidate and how it differs.
pub(crate) fn describe_miss(
    matchers: &Matchers,
    req: &Request<Bytes>,
    fields: &Fields,
    entries: &[std::sync::Arc<Entry>],
    all_played: &[usize],
) -> String {
    if !all_played.is_empty() {
        let ids: Vec<String> = all_played
            .iter()
            .map(|id| format!("#{} ({})", id + 1, entries[*id].interaction.request_line()))
            .collect();
        let (them, were) = if ids.len() == 1 {
            ("interaction", "was")
        } else {
            ("interactions", "were")
        };
        return format!(
            "it matches recorded {them} {}, which {were} already played: each recorded \
             interaction is served at most once; to serve the last match again, use \
             CassetteBuilder::allow_playback_repeats(true), or record the request again",
            ids.join(", ")
        );
    }
    if entries.is_empty() {
        return "the cassette has no recorded interactions".into();
    }
    let nearest = entries
        .iter()
        .enumerate()
        .min_by_key(|(_, e)| matchers.distance(req, fields, &e.interaction.request, &e.fields))
        .map(|(id, _)| id)
        .expect("entries is not empty");
    let entry = &entries[nearest];
    let headline = format!(
        "nearest recorded interaction: #{} {}",
        nearest + 1,
        entry.interaction.request_line()
    );
    // Every matcher agreeing means it matched, and the request was refused another way.
    let differences: Vec<Difference> = matchers
        .differences(req, fields, &entry.interaction.request)
        .into_iter()
        .map(|d| Difference {
            sides: (!(d.requested.is_empty() && d.recorded.is_empty()))
                .then_some([("requested", d.requested), ("recorded", d.recorded)]),
            matcher: d.matcher,
        })
        .collect();
    let mut out = String::new();
    crate::report::write_nearest(&mut out, &headline, "matchers that differed", &differences);
    out
}

/// The end-of-test report, or `None` when there is nothing to report.
pub(crate) fn report(
    path: &Path,
    mode: &str,
    misses: &[Miss],
    unplayed: &[String],
) -> Option<String> {
    if misses.is_empty() && unplayed.is_empty() {
        return None;
    }
    let mut out = format!("cassette {} (mode {mode}):", path.display());
    if !misses.is_empty() {
        let _ = writeln!(
            out,
            " {} {} matched no recorded interaction",
            misses.len(),
            if misses.len() == 1 {
                "request"
            } else {
                "requests"
            }
        );
        for (i, miss) in misses.iter().enumerate() {
            crate::report::write_numbered(&mut out, i + 1, &miss.line, &miss.detail);
        }
    }
    if !unplayed.is_empty() {
        let _ = write!(
            out,
            "\n{} recorded {} never played (require_all_played is set):\n",
            unplayed.len(),
            if unplayed.len() == 1 {
                "interaction was"
            } else {
                "interactions were"
            }
        );
        for line in unplayed {
            let _ = writeln!(out, "   {line}");
        }
    }
    Some(out)
}
