//! Finding what a request path names under the root: the file with its `.headers`
//! files and (when small) its content, an `.asis` file, a directory's `index.html` or
//! listing, all in one blocking step that runs off the runtime thread, every file
//! passing [`path::confine`] before it is opened.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;

use crate::server::headers::{self, HeadersFile};
use crate::server::listing;
use crate::server::path::{self, Refused};

/// Files up to this size are read whole (and cached); larger ones are streamed.
pub(crate) const SMALL_FILE: u64 = 256 * 1024;

/// What a request path names.
#[derive(Debug, Clone)]
pub(crate) enum Found {
    /// A file (a directory's `index.html` included).
    File(Arc<FileEntry>),
    /// A directory without an `index.html`: its listing page.
    Listing(Bytes),
    /// A directory asked for without its trailing slash.
    AddSlash,
    /// Nothing there (or a file asked for with a trailing slash).
    Missing,
    /// Refused: a 403 with this text.
    Refused(String),
    /// The root cannot be read, or the file cannot: a 500 with this text.
    Failed(String),
}

/// A file found under the root, with what serving it needs.
#[derive(Debug)]
pub(crate) struct FileEntry {
    /// Where it is on disk (canonical).
    pub(crate) path: PathBuf,
    /// Its name as requested (the link's name when it is a symlink).
    pub(crate) name: String,
    pub(crate) len: u64,
    pub(crate) modified: Option<SystemTime>,
    /// The whole content, for files up to [`SMALL_FILE`] and `.asis` files.
    pub(crate) content: Option<Bytes>,
    /// `__dir__[.sub].headers` then `NAME[.sub].headers`, or the error reading them.
    pub(crate) headers: Result<Vec<HeadersFile>, String>,
    /// The directories whose changes make this entry stale.
    pub(crate) dirs: Vec<PathBuf>,
}

impl FileEntry {
    pub(crate) fn is_asis(&self) -> bool {
        self.name.ends_with(".asis")
    }
}

/// The canonical form of `root`.
///
/// # Errors
///
/// A message naming the root that cannot be read.
pub(crate) fn canonical_root(root: &Path) -> Result<PathBuf, String> {
    std::fs::canonicalize(root).map_err(|e| {
        format!(
            "http-intercept: cannot serve files from {}: {e}",
            root.display()
        )
    })
}

/// Finds what `request_path` (still percent-encoded) names under `root`.
///
/// Blocking: run it off the runtime thread.
pub(crate) fn find(root: &Path, request_path: &str) -> Found {
    let root = match canonical_root(root) {
        Ok(root) => root,
        Err(e) => return Found::Failed(e),
    };
    match find_in(&root, request_path) {
        Ok(found) => found,
        Err(Refused(why)) => Found::Refused(format!("http-intercept: {why}")),
    }
}

fn find_in(root: &Path, request_path: &str) -> Result<Found, Refused> {
    let resolved = path::resolve(root, request_path)?;
    let wants_dir = request_path.ends_with('/');
    let Some(canonical) = path::confine(root, &resolved.full, request_path)? else {
        return Ok(Found::Missing);
    };
    let Ok(meta) = std::fs::metadata(&canonical) else {
        return Ok(Found::Missing);
    };
    if meta.is_dir() {
        if !wants_dir {
            return Ok(Found::AddSlash);
        }
        let index = resolved.full.join("index.html");
        let label = format!("{request_path}index.html");
        return match path::confine(root, &index, &label)? {
            Some(canonical_index) => file(root, &index, canonical_index, &label),
            None => Ok(match listing::render(root, &canonical, request_path) {
                Ok(html) => Found::Listing(html.into()),
                Err(e) => Found::Failed(format!(
                    "http-intercept: cannot list the directory {request_path}: {e}"
                )),
            }),
        };
    }
    if wants_dir {
        // `/hello.txt/` names no directory: a 404, as wptserve answers.
        return Ok(Found::Missing);
    }
    file(root, &resolved.full, canonical, request_path)
}

/// The entry for the file at `lexical` (under the root as named) whose canonical path
/// is `canonical`.
fn file(root: &Path, lexical: &Path, canonical: PathBuf, label: &str) -> Result<Found, Refused> {
    let meta = match std::fs::metadata(&canonical) {
        Ok(meta) if meta.is_file() => meta,
        Ok(_) => return Ok(Found::Missing),
        Err(_) => return Ok(Found::Missing),
    };
    let name = lexical
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_owned();
    let mut dirs = Vec::new();
    if let Some(dir) = lexical.parent() {
        // Every directory from the root down: a symlink changed anywhere on the way
        // changes what the path names.
        let mut d = dir;
        while d.starts_with(root) {
            dirs.push(d.to_path_buf());
            match d.parent() {
                Some(parent) if d != root => d = parent,
                _ => break,
            }
        }
    }
    if let Some(dir) = canonical.parent() {
        if !dirs.iter().any(|d| d == dir) {
            dirs.push(dir.to_path_buf());
        }
    }
    let mut found_headers = Vec::new();
    if let Some(dir) = lexical.parent() {
        let dir_label = label.rsplit_once('/').map_or("", |(d, _)| d);
        let dir_base = dir.join("__dir__");
        found_headers.extend(headers_file(
            root,
            &dir_base,
            &format!("{dir_label}/__dir__"),
        )?);
    }
    found_headers.extend(headers_file(root, lexical, label)?);
    let headers = found_headers
        .into_iter()
        .collect::<Result<Vec<HeadersFile>, String>>();
    let asis = name.ends_with(".asis");
    let content = if asis || meta.len() <= SMALL_FILE {
        match std::fs::read(&canonical) {
            Ok(bytes) => Some(Bytes::from(bytes)),
            Err(e) => {
                return Ok(Found::Failed(format!(
                    "http-intercept: cannot read the file {label}: {e}"
                )))
            }
        }
    } else {
        None
    };
    Ok(Found::File(Arc::new(FileEntry {
        path: canonical,
        name,
        len: content.as_ref().map_or(meta.len(), |c| c.len() as u64),
        modified: meta.modified().ok(),
        content,
        headers,
        dirs,
    })))
}

/// `BASE.sub.headers`, or else `BASE.headers`, through the confinement check: its
/// parsed lines or template, `None` when neither exists.
fn headers_file(
    root: &Path,
    base: &Path,
    label: &str,
) -> Result<Option<Result<HeadersFile, String>>, Refused> {
    for (suffix, template) in [(".sub.headers", true), (".headers", false)] {
        let mut path = base.as_os_str().to_owned();
        path.push(suffix);
        let path = PathBuf::from(path);
        let label = format!("{label}{suffix}");
        let Some(canonical) = path::confine(root, &path, &label)? else {
            continue;
        };
        let bytes = match std::fs::read(&canonical) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Ok(Some(Err(format!("cannot read headers file {label}: {e}")))),
        };
        return Ok(Some(if template {
            Ok(HeadersFile::Template {
                bytes: bytes.into(),
                label,
            })
        } else {
            headers::parse(&bytes, &label).map(HeadersFile::Lines)
        }));
    }
    Ok(None)
}
