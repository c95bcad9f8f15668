//! Content types by file extension: wptserve's own table, so that the test server
//! answers what web-platform tests expect (`.event_stream` is `text/event-stream`,
//! `.mjs` is `text/javascript`), and `application/octet-stream` for the rest.

/// wptserve's table (its `constants.content_types`), extension → type.
const TYPES: &[(&str, &str)] = &[
    ("avif", "image/avif"),
    ("bmp", "image/bmp"),
    ("css", "text/css"),
    ("event_stream", "text/event-stream"),
    ("gif", "image/gif"),
    ("htm", "text/html"),
    ("html", "text/html"),
    ("jpeg", "image/jpeg"),
    ("jpg", "image/jpeg"),
    ("js", "text/javascript"),
    ("json", "application/json"),
    ("m4a", "audio/mp4"),
    ("m4v", "video/mp4"),
    ("manifest", "text/cache-manifest"),
    ("md", "text/plain"),
    ("mjs", "text/javascript"),
    ("mp3", "audio/mpeg"),
    ("mp4", "video/mp4"),
    ("oga", "audio/ogg"),
    ("png", "image/png"),
    ("svg", "image/svg+xml"),
    ("txt", "text/plain"),
    ("vtt", "text/vtt"),
    ("wasm", "application/wasm"),
    ("wav", "audio/x-wav"),
    ("weba", "audio/webm"),
    ("webm", "video/webm"),
    ("xht", "application/xhtml+xml"),
    ("xhtm", "application/xhtml+xml"),
    ("xhtml", "application/xhtml+xml"),
    ("xml", "application/xml"),
    ("xpi", "application/x-xpinstall"),
];

/// The content type of a file named `name`, by its last extension, as wptserve
/// guesses it (case-sensitive, as Python's `os.path.splitext` and its table are).
pub(crate) fn guess(name: &str) -> &'static str {
    let ext = match name.rfind('.') {
        // A leading dot is a hidden file's name, not an extension.
        Some(i) if name[..i].trim_start_matches('.').is_empty() => "",
        Some(i) => &name[i + 1..],
        None => "",
    };
    TYPES
        .binary_search_by(|(e, _)| (*e).cmp(ext))
        .map_or("application/octet-stream", |i| TYPES[i].1)
}

/// The extensions whose `.sub.` files are HTML-escaped (wptserve's markup list);
/// others are substituted as they are.
pub(crate) fn is_markup(name: &str) -> bool {
    let ext = name.rfind('.').map_or("", |i| &name[i + 1..]);
    matches!(ext, "html" | "htm" | "xht" | "xhtml" | "xml" | "svg")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_matches_wptserve() {
        assert!(TYPES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(guess("a.event_stream"), "text/event-stream");
        assert_eq!(guess("a.mjs"), "text/javascript");
        assert_eq!(guess("a.xml"), "application/xml");
        assert_eq!(guess("a.md"), "text/plain");
        assert_eq!(guess("a.wav"), "audio/x-wav");
        assert_eq!(guess("x.sub.js"), "text/javascript");
        assert_eq!(guess("noext"), "application/octet-stream");
        assert_eq!(guess(".hidden"), "application/octet-stream");
        assert_eq!(guess("a.TXT"), "application/octet-stream");
        assert!(is_markup("t.sub.html") && !is_markup("t.sub.js"));
    }
}
