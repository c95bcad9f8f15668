//! Hop-by-hop headers: those that describe one connection rather than the message, and
//! that whoever forwards a message (the reqwest gateway, the recording proxy) drops.

use http::header::{self, HeaderMap, HeaderName};

/// Removes the hop-by-hop headers (RFC 9110, 7.6.1), the proxy's own
/// (`Proxy-Authorization`, `Proxy-Connection`), and those the `Connection` header names.
pub(crate) fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // One pass over the names, no hashing: most messages have one such header or none.
    let mut present: Vec<HeaderName> = headers
        .keys()
        .filter(|name| is_hop_by_hop(name))
        .cloned()
        .collect();
    if present.is_empty() {
        return;
    }
    if present.contains(&header::CONNECTION) {
        present.extend(
            headers
                .get_all(header::CONNECTION)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok()),
        );
    }
    for name in present {
        headers.remove(name);
    }
}

/// Whether `name` is one that [`strip_hop_by_hop`] removes whatever `Connection` says.
fn is_hop_by_hop(name: &HeaderName) -> bool {
    name == header::CONNECTION
        || name == header::PROXY_AUTHORIZATION
        || name == header::TE
        || name == header::TRAILER
        || name == header::TRANSFER_ENCODING
        || name == header::UPGRADE
        || name.as_str() == "proxy-connection"
        || name.as_str() == "keep-alive"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_listed_and_named_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("connection", "keep-alive, x-session".parse().unwrap());
        headers.insert("x-session", "1".parse().unwrap());
        headers.insert("proxy-authorization", "Basic x".parse().unwrap());
        headers.insert("transfer-encoding", "chunked".parse().unwrap());
        headers.insert("content-type", "text/plain".parse().unwrap());
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers.len(), 1);
        assert!(headers.contains_key("content-type"));
    }
}
