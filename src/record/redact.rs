//! Keeping secrets out of cassettes: redacted headers and query parameters, the
//! `before_record_*` hooks, and configured secret values that make a save fail.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use http::{HeaderMap, Request, Response, Uri};

use super::interaction::{Interaction, Outcome};

/// The value that replaces a redacted header or query parameter value.
pub const REDACTED: &str = "REDACTED";

/// The headers redacted unless the user opts out: `authorization`,
/// `proxy-authorization`, `cookie` and `set-cookie`.
pub(crate) fn default_headers() -> Vec<HeaderName> {
    vec![
        http::header::AUTHORIZATION,
        http::header::PROXY_AUTHORIZATION,
        http::header::COOKIE,
        http::header::SET_COOKIE,
    ]
}

pub(crate) type RequestHook = Arc<dyn Fn(Request<Bytes>) -> Option<Request<Bytes>> + Send + Sync>;
pub(crate) type ResponseHook =
    Arc<dyn Fn(Response<Bytes>) -> Option<Response<Bytes>> + Send + Sync>;

/// What is removed from requests and responses before they are recorded (and from
/// requests before they are matched, so that both sides look the same).
#[derive(Clone)]
pub(crate) struct Redaction {
    pub(crate) headers: Vec<HeaderName>,
    pub(crate) query: Vec<String>,
    pub(crate) secrets: Vec<String>,
    pub(crate) before_request: Option<RequestHook>,
    pub(crate) before_response: Option<ResponseHook>,
}

impl Default for Redaction {
    fn default() -> Self {
        Redaction {
            headers: default_headers(),
            query: Vec::new(),
            secrets: Vec::new(),
            before_request: None,
            before_response: None,
        }
    }
}

impl fmt::Debug for Redaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redaction")
            .field("headers", &self.headers)
            .field("query", &self.query)
            .field("secrets", &self.secrets.len())
            .field("before_request", &self.before_request.is_some())
            .field("before_response", &self.before_response.is_some())
            .finish()
    }
}

impl Redaction {
    /// The request as it is recorded and matched; `None` if the hook drops it.
    pub(crate) fn request(&self, mut req: Request<Bytes>) -> Option<Request<Bytes>> {
        redact_headers(req.headers_mut(), &self.headers);
        if !self.query.is_empty() {
            if let Some(uri) = redact_query(req.uri(), &self.query) {
                *req.uri_mut() = uri;
            }
        }
        match &self.before_request {
            Some(hook) => hook(req),
            None => Some(req),
        }
    }

    /// The response as it is recorded; `None` if the hook drops it.
    pub(crate) fn response(&self, mut res: Response<Bytes>) -> Option<Response<Bytes>> {
        redact_headers(res.headers_mut(), &self.headers);
        match &self.before_response {
            Some(hook) => hook(res),
            None => Some(res),
        }
    }

    /// Where the first configured secret occurs in `interactions`: `(secret number,
    /// location)`, numbered from 1.
    pub(crate) fn find_secret(&self, interactions: &[Interaction]) -> Option<(usize, String)> {
        for (s, secret) in self.secrets.iter().enumerate() {
            let needle = secret.as_bytes();
            for (i, interaction) in interactions.iter().enumerate() {
                if let Some(place) = find_in(interaction, needle) {
                    let location = format!(
                        "interaction {} of {} ({}), {place}",
                        i + 1,
                        interactions.len(),
                        interaction.request_line()
                    );
                    return Some((s + 1, location));
                }
            }
        }
        None
    }
}

fn find_in(i: &Interaction, needle: &[u8]) -> Option<String> {
    let req = i.request();
    if contains(req.uri().to_string().as_bytes(), needle) {
        return Some("the request uri".into());
    }
    if let Some(name) = header_with(req.headers(), needle) {
        return Some(format!("request header {name}"));
    }
    if contains(req.body(), needle) {
        return Some("the request body".into());
    }
    match i.outcome() {
        Outcome::Response(res) => {
            if let Some(name) = header_with(res.headers(), needle) {
                return Some(format!("response header {name}"));
            }
            if contains(res.body(), needle) {
                return Some("the response body".into());
            }
        }
        Outcome::Failure(f) => {
            if contains(f.message().as_bytes(), needle) {
                return Some("the failure message".into());
            }
        }
    }
    None
}

fn header_with<'a>(headers: &'a HeaderMap, needle: &[u8]) -> Option<&'a HeaderName> {
    headers
        .iter()
        .find(|(_, v)| contains(v.as_bytes(), needle))
        .map(|(n, _)| n)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack.len() >= needle.len()
        && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Replaces the values of `names` in `headers` with [`REDACTED`].
pub(crate) fn redact_headers(headers: &mut HeaderMap, names: &[HeaderName]) {
    for name in names {
        if let http::header::Entry::Occupied(mut entry) = headers.entry(name) {
            for value in entry.iter_mut() {
                *value = HeaderValue::from_static(REDACTED);
            }
        }
    }
}

/// The URI with the values of the query parameters `names` replaced by [`REDACTED`];
/// `None` if none of them occurs.
pub(crate) fn redact_query(uri: &Uri, names: &[String]) -> Option<Uri> {
    let query = uri.query()?;
    let mut changed = false;
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let name = pair.split_once('=').map_or(pair, |(n, _)| n);
            if names.iter().any(|n| n == name) {
                changed = true;
                format!("{name}={REDACTED}")
            } else {
                pair.to_owned()
            }
        })
        .collect();
    if !changed {
        return None;
    }
    let path_and_query = format!("{}?{}", uri.path(), pairs.join("&"));
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = PathAndQuery::try_from(path_and_query).ok();
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_redacted_in_place() {
        let uri: Uri = "https://api.test/x?a=1&api_key=s3cret&b".parse().unwrap();
        let out = redact_query(&uri, &["api_key".into()]).unwrap();
        assert_eq!(out.to_string(), "https://api.test/x?a=1&api_key=REDACTED&b");
        assert!(redact_query(&uri, &["token".into()]).is_none());
    }
}
