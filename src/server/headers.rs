//! Header overrides: `NAME.headers` beside a file and `__dir__.headers` in its
//! directory, as wptserve reads them, or `NAME.sub.headers` / `__dir__.sub.headers`
//! (substituted first, without escaping) in their place.
//!
//! Each line is `Header-Name: value` (the value's bytes as written) or, an addition of
//! ours, `-Header-Name` (removes it). Blank lines are skipped. The directory's file
//! applies first, then the file's own; a header either sets replaces what the server
//! would have sent (a `Content-Type` replaces the guessed one), and when both set it,
//! both values are sent, as wptserve does.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::server::sub::{self, Escape, RequestInfo};

/// One line of a `.headers` file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Line {
    Set(HeaderName, HeaderValue),
    Remove(HeaderName),
}

/// A headers file found for a file.
#[derive(Debug, Clone)]
pub(crate) enum HeadersFile {
    /// A `.headers` file, parsed.
    Lines(Vec<Line>),
    /// A `.sub.headers` file: substituted for each request, then parsed.
    Template { bytes: Bytes, label: String },
}

/// The overrides that apply to one response, directory's first.
#[derive(Debug, Default)]
pub(crate) struct Overrides {
    lines: Vec<Line>,
}

impl Overrides {
    /// The overrides of `files` for the request `info` describes.
    ///
    /// # Errors
    ///
    /// A message naming the file and line that is malformed, or the substitution that
    /// failed.
    pub(crate) fn new(files: &[HeadersFile], info: &RequestInfo) -> Result<Overrides, String> {
        let mut lines = Vec::new();
        for file in files {
            match file {
                HeadersFile::Lines(l) => lines.extend(l.iter().cloned()),
                HeadersFile::Template { bytes, label } => {
                    let text = sub::substitute(bytes, info, Escape::None, label)?;
                    lines.extend(parse(&text, label)?);
                }
            }
        }
        Ok(Overrides { lines })
    }

    /// Whether substituting `files` may read files (`{{file_hash(..)}}`).
    pub(crate) fn reads_files(files: &[HeadersFile]) -> bool {
        files.iter().any(|f| {
            matches!(f, HeadersFile::Template { bytes, .. } if bytes.windows(9).any(|w| w == b"file_hash"))
        })
    }

    /// Whether no override applies.
    pub(crate) fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Whether the overrides remove `name` (and do not set it again after).
    pub(crate) fn removes(&self, name: &HeaderName) -> bool {
        let mut removed = false;
        for line in &self.lines {
            match line {
                Line::Remove(n) if n == name => removed = true,
                Line::Set(n, _) if n == name => removed = false,
                _ => {}
            }
        }
        removed
    }

    /// Applies the overrides to `headers`.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) {
        apply(&self.lines, headers);
    }
}

/// Applies lines: the first line that sets a name replaces what `headers` had, the
/// next ones add values.
pub(crate) fn apply(lines: &[Line], headers: &mut HeaderMap) {
    let mut replaced: Vec<&HeaderName> = Vec::new();
    for line in lines {
        match line {
            Line::Set(name, value) => {
                if !replaced.contains(&name) {
                    headers.remove(name);
                    replaced.push(name);
                }
                headers.append(name, value.clone());
            }
            Line::Remove(name) => {
                headers.remove(name);
            }
        }
    }
}

/// The most lines one headers file may hold.
const MAX_LINES: usize = 1000;

/// Parses the bytes of a `.headers` file; `label` names it in errors. Lines end with
/// `\n` or `\r\n`; names and values are trimmed of spaces and tabs.
///
/// # Errors
///
/// A message naming the file and the line that is malformed.
pub(crate) fn parse(bytes: &[u8], label: &str) -> Result<Vec<Line>, String> {
    let mut lines = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let n = i + 1;
        let line = trim(raw);
        if line.is_empty() {
            continue;
        }
        let bad = |why: String| format!("malformed headers file {label} line {n}: {why}");
        if lines.len() == MAX_LINES {
            return Err(bad(format!("more than {MAX_LINES} lines")));
        }
        let name_of = |name: &[u8]| {
            let name = trim(name);
            HeaderName::from_bytes(name).map_err(|_| {
                bad(format!(
                    "{:?} is not a header name",
                    String::from_utf8_lossy(name)
                ))
            })
        };
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let name = name_of(&line[..colon])?;
            let value = HeaderValue::from_bytes(trim(&line[colon + 1..]))
                .map_err(|_| bad(format!("the value of {name} is not a header value")))?;
            lines.push(Line::Set(name, value));
        } else if let Some(name) = line.strip_prefix(b"-") {
            lines.push(Line::Remove(name_of(name)?));
        } else {
            return Err(bad(format!(
                "expected `Header-Name: value` or `-Header-Name`, found {:?}",
                String::from_utf8_lossy(line)
            )));
        }
    }
    Ok(lines)
}

fn trim(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r'] = bytes {
        bytes = rest;
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sets_and_removals() {
        let lines = parse(
            b"X-A: 1\r\n\n  Set-Cookie: a=b; Path=/ \n-Content-Type\n",
            "t",
        )
        .unwrap();
        assert_eq!(lines.len(), 3);
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("text/html"));
        headers.insert("x-a", HeaderValue::from_static("0"));
        apply(&lines, &mut headers);
        assert_eq!(headers["x-a"], "1");
        assert_eq!(headers["set-cookie"], "a=b; Path=/");
        assert!(!headers.contains_key("content-type"));
    }

    #[test]
    fn both_files_values_are_sent() {
        let dir = parse(b"X-Shared: dir\n", "d").unwrap();
        let own = parse(b"X-Shared: file\n", "f").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-shared", HeaderValue::from_static("default"));
        apply(&[dir, own].concat(), &mut headers);
        let all: Vec<_> = headers.get_all("x-shared").iter().collect();
        assert_eq!(all, ["dir", "file"]);
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let e = parse(b"X-A: 1\nno colon here\n", "www/a.txt.headers").unwrap_err();
        assert!(e.contains("www/a.txt.headers line 2"), "{e}");
        let e = parse(b"Bad Name: 1\n", "f").unwrap_err();
        assert!(e.contains("line 1") && e.contains("\"Bad Name\""), "{e}");
        let e = parse(b"X: \x01\n", "f").unwrap_err();
        assert!(e.contains("not a header value"), "{e}");
        // Bytes beyond ASCII are sent as written.
        let lines = parse(b"X: caf\xc3\xa9\n", "f").unwrap();
        assert_eq!(
            lines,
            [Line::Set(
                HeaderName::from_static("x"),
                HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()
            )]
        );
    }
}
