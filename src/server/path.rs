//! Root confinement: which request paths name a file under the root, and which are
//! refused before anything is read.

use std::path::{Path, PathBuf};

use percent_encoding::percent_decode_str;

/// A request path that names something under the root.
#[derive(Debug)]
pub(crate) struct Resolved {
    /// Where it lies on disk.
    pub(crate) full: PathBuf,
}

/// Why a path was refused: answered 403 with this text.
#[derive(Debug)]
pub(crate) struct Refused(pub(crate) String);

/// Resolves the (still percent-encoded) request path `raw` under `root`, which must be
/// canonical. Refuses, without reading anything, paths with `.` or `..` segments (in
/// any encoding), empty segments (`//`, which would make an absolute path), NUL,
/// backslashes and drive letters; then refuses paths whose symlinks resolve outside the
/// root. Paths that do not exist are resolved: the caller answers 404.
pub(crate) fn resolve(root: &Path, raw: &str) -> Result<Resolved, Refused> {
    let refuse = |why: &str| Err(Refused(format!("refused path {raw:?}: {why}")));
    let Ok(decoded) = percent_decode_str(raw).decode_utf8() else {
        return refuse("it is not UTF-8 once percent-decoded");
    };
    if decoded.contains('\0') {
        return refuse("it contains a NUL byte");
    }
    if decoded.contains('\\') {
        return refuse("it contains a backslash");
    }
    let Some(rest) = decoded.strip_prefix('/') else {
        return refuse("it does not start with /");
    };
    let segments: Vec<&str> = rest.split('/').collect();
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "" if i == last => {}
            "" => return refuse("it has an empty segment (an absolute path once joined)"),
            "." | ".." => return refuse("it has a . or .. segment"),
            s if is_drive(s) => return refuse("it names a drive"),
            _ => {}
        }
    }
    let mut full = root.to_path_buf();
    full.extend(segments.iter().filter(|s| !s.is_empty()));
    if let Ok(canonical) = std::fs::canonicalize(&full) {
        if !canonical.starts_with(root) {
            return refuse("it resolves outside the root through a symlink");
        }
    }
    Ok(Resolved { full })
}

fn is_drive(segment: &str) -> bool {
    let b = segment.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_escapes_in_every_spelling() {
        let root = std::env::temp_dir();
        for raw in [
            "/../etc/passwd",
            "/a/../../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E/etc/passwd",
            "/.%2e/etc/passwd",
            "/..%2fetc/passwd",
            "/%2e%2e%2fetc%2fpasswd",
            "//etc/passwd",
            "/%2fetc/passwd",
            "/..%5cetc",
            "/a\\..\\b",
            "/a%00.txt",
            "/C:/Windows",
            "/./a",
            "relative",
        ] {
            assert!(resolve(&root, raw).is_err(), "{raw} was not refused");
        }
        let ok = resolve(&root, "/a%20b/c.txt").unwrap();
        assert_eq!(ok.full, root.join("a b").join("c.txt"));
        assert!(resolve(&root, "/dir/").is_ok());
        assert!(resolve(&root, "/").is_ok());
    }
}
