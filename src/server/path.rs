//! Root confinement: which request paths name a file under the root, and which are
//! refused before anything is read; and [`confine`], the one check every file the
//! server opens goes through.

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
/// backslashes and drive letters. Nothing is read: symlinks are [`confine`]'s to check.
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
    Ok(Resolved { full })
}

/// The one confinement check: every file the server opens (the file, its `.headers`,
/// `__dir__.headers`, `.asis` files, `index.html`, files named in substitutions) is
/// first passed through here. `path` lies lexically under the canonical `root`;
/// returns its canonical form when it exists and resolves (through any symlinks)
/// under the root, `None` when it does not exist, and refuses it when it resolves
/// outside. `label` names it in the refusal.
///
/// Blocking: call it off the runtime thread.
pub(crate) fn confine(root: &Path, path: &Path, label: &str) -> Result<Option<PathBuf>, Refused> {
    match std::fs::canonicalize(path) {
        Ok(canonical) if canonical.starts_with(root) => Ok(Some(canonical)),
        Ok(_) => Err(Refused(format!(
            "refused path {label:?}: it resolves outside the root through a symlink"
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        // ENOTDIR (`/file.txt/x`), a dangling symlink's loop and the like: not there.
        Err(_) if std::fs::symlink_metadata(path).is_err() => Ok(None),
        Err(_) => match std::fs::read_link(path) {
            // A dangling symlink: refuse it if it points outside, else it is missing.
            Ok(target) if target.is_absolute() && !target.starts_with(root) => Err(Refused(
                format!("refused path {label:?}: it is a symlink that points outside the root"),
            )),
            _ => Ok(None),
        },
    }
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
