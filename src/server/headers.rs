//! Header overrides: `NAME.headers` beside a file and `__dir__.headers` in its
//! directory.
//!
//! Each line is `Header-Name: value` (sets the header, replacing what the response
//! had; several lines with one name give several values) or `-Header-Name` (removes
//! it). Blank lines are skipped. The directory's file applies first, then the file's
//! own, so the file's wins.

use std::io;
use std::path::{Path, PathBuf};

use http::{HeaderMap, HeaderName, HeaderValue};

/// The name of a directory's header file.
pub(crate) const DIR_HEADERS: &str = "__dir__.headers";

/// One line of a `.headers` file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Line {
    Set(HeaderName, HeaderValue),
    Remove(HeaderName),
}

/// The overrides that apply to one file, directory's first.
#[derive(Debug, Default)]
pub(crate) struct Overrides {
    files: Vec<Vec<Line>>,
}

impl Overrides {
    /// Loads `__dir__.headers` from `file`'s directory and `file.headers` beside it.
    ///
    /// # Errors
    ///
    /// A message naming the file and line that is malformed, or the file that cannot
    /// be read.
    pub(crate) fn load(file: &Path) -> Result<Overrides, String> {
        let mut files = Vec::new();
        if let Some(dir) = file.parent() {
            files.extend(read(&dir.join(DIR_HEADERS))?);
        }
        let mut own = file.as_os_str().to_owned();
        own.push(".headers");
        files.extend(read(&PathBuf::from(own))?);
        Ok(Overrides { files })
    }

    /// Whether no override applies.
    pub(crate) fn is_empty(&self) -> bool {
        self.files.iter().all(Vec::is_empty)
    }

    /// Whether the overrides remove `name`.
    pub(crate) fn removes(&self, name: &HeaderName) -> bool {
        let mut removed = false;
        for line in self.files.iter().flatten() {
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
        for lines in &self.files {
            apply(lines, headers);
        }
    }
}

/// Applies one file's lines: each name it sets replaces what `headers` had.
pub(crate) fn apply(lines: &[Line], headers: &mut HeaderMap) {
    let mut replaced: Vec<&HeaderName> = Vec::new();
    for line in lines {
        match line {
            Line::Set(name, value) => {
                if replaced.contains(&name) {
                    headers.append(name, value.clone());
                } else {
                    headers.insert(name, value.clone());
                    replaced.push(name);
                }
            }
            Line::Remove(name) => {
                headers.remove(name);
                replaced.retain(|n| *n != name);
            }
        }
    }
}

fn read(path: &Path) -> Result<Option<Vec<Line>>, String> {
    match std::fs::read(path) {
        Ok(bytes) => parse(&bytes, &path.display().to_string()).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read headers file {}: {e}", path.display())),
    }
}

/// Parses the text of a `.headers` file; `label` names it in errors.
pub(crate) fn parse(bytes: &[u8], label: &str) -> Result<Vec<Line>, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("malformed headers file {label}: not UTF-8 ({e})"))?;
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |why: String| format!("malformed headers file {label} line {n}: {why}");
        let name_of = |name: &str| {
            HeaderName::from_bytes(name.trim().as_bytes())
                .map_err(|_| bad(format!("{:?} is not a header name", name.trim())))
        };
        if let Some((name, value)) = line.split_once(':') {
            let name = name_of(name)?;
            let value = HeaderValue::from_str(value.trim())
                .map_err(|_| bad(format!("the value of {name} is not a header value")))?;
            lines.push(Line::Set(name, value));
        } else if let Some(name) = line.strip_prefix('-') {
            lines.push(Line::Remove(name_of(name)?));
        } else {
            return Err(bad(format!(
                "expected `Header-Name: value` or `-Header-Name`, found {line:?}"
            )));
        }
    }
    Ok(lines)
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
    fn malformed_lines_name_file_and_line() {
        let e = parse(b"X-A: 1\nno colon here\n", "www/a.txt.headers").unwrap_err();
        assert!(e.contains("www/a.txt.headers line 2"), "{e}");
        let e = parse(b"Bad Name: 1\n", "f").unwrap_err();
        assert!(e.contains("line 1") && e.contains("\"Bad Name\""), "{e}");
        let e = parse(b"\xff\n", "f").unwrap_err();
        assert!(e.contains("not UTF-8"), "{e}");
    }
}
