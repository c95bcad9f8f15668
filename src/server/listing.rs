//! Directory listings: what a directory without an `index.html` answers, as wptserve
//! lists one (a page of links, subdirectories with a trailing slash).

use std::path::Path;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

/// The characters a link to an entry escapes.
const LINK: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// The most entries one listing shows.
const MAX_ENTRIES: usize = 10_000;

/// The HTML listing of directory `dir` (canonical, inside the root) for request path
/// `url_path` (ending with `/`). Entries that resolve outside the root are left out.
///
/// Blocking: call it off the runtime thread.
pub(crate) fn render(root: &Path, dir: &Path, url_path: &str) -> std::io::Result<Vec<u8>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)?.take(MAX_ENTRIES) {
        let entry = entry?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let path = entry.path();
        match std::fs::canonicalize(&path) {
            Ok(canonical) if canonical.starts_with(root) => {
                entries.push((name, canonical.is_dir()));
            }
            _ => {}
        }
    }
    entries.sort();
    let title = escape(url_path);
    let mut html = format!(
        "<!doctype html>\n<meta charset=\"utf-8\">\n<title>Index of {title}</title>\n\
         <h1>Index of {title}</h1>\n<ul>\n"
    );
    if url_path != "/" {
        html.push_str("<li class=\"dir\"><a href=\"../\">..</a></li>\n");
    }
    for (name, is_dir) in entries {
        let slash = if is_dir { "/" } else { "" };
        let class = if is_dir { "dir" } else { "file" };
        let link = escape(&utf8_percent_encode(&name, LINK).to_string());
        html.push_str(&format!(
            "<li class=\"{class}\"><a href=\"{link}{slash}\">{}{slash}</a></li>\n",
            escape(&name)
        ));
    }
    html.push_str("</ul>\n");
    Ok(html.into_bytes())
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}
