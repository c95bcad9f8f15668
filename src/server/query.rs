//! Query strings as wptserve reads them: `application/x-www-form-urlencoded` pairs.

use percent_encoding::percent_decode;

/// The decoded `name=value` pairs of a query string, in order (`+` is a space).
pub(crate) fn pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// Percent-decodes one form component, `+` as a space, invalid UTF-8 replaced.
pub(crate) fn decode(component: &str) -> String {
    let spaced = component.replace('+', " ");
    percent_decode(spaced.as_bytes())
        .decode_utf8_lossy()
        .into_owned()
}

/// The first value of `name`, if any.
pub(crate) fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_form_pairs() {
        let p = pairs("a=1&pipe=status(404)%7Cheader(X,a+b)&flag&&b=%E2%9C%93");
        assert_eq!(first(&p, "a"), Some("1"));
        assert_eq!(first(&p, "pipe"), Some("status(404)|header(X,a b)"));
        assert_eq!(first(&p, "flag"), Some(""));
        assert_eq!(first(&p, "b"), Some("\u{2713}"));
        assert_eq!(first(&p, "missing"), None);
    }
}
