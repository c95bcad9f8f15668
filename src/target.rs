//! Parsing and normalising targets: `"host:port"` and `http(s)://host[:port][/prefix]`.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use crate::error::Error;

/// The scheme a target was written with, which decides its default port and its
/// [`url`](Target::url).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http://`, default port 80.
    Http,
    /// `https://`, default port 443. Intercepted connections need no TLS.
    Https,
}

impl Scheme {
    /// The scheme's name: `"http"` or `"https"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    pub(crate) fn from_uri(uri: &http::Uri) -> Self {
        if uri.scheme() == Some(&http::uri::Scheme::HTTPS) {
            Scheme::Https
        } else {
            Scheme::Http
        }
    }
}

/// Where an intercept is registered: a host and port, and an optional path prefix.
///
/// Hosts are case-insensitive and stored lowercased; a trailing dot is dropped; IPv6
/// addresses are written in brackets. Parse one with [`Target::parse`] or pass any
/// [`IntoTarget`] to [`add`](crate::add).
///
/// # Examples
///
/// ```
/// use http_intercept::Target;
///
/// let t = Target::parse("https://API.Example.com/v1/")?;
/// assert_eq!(t.authority(), "api.example.com:443");
/// assert_eq!(t.path_prefix(), Some("/v1"));
/// assert_eq!(t.url(), "https://api.example.com/v1");
///
/// let t = Target::parse("[::1]:8080")?;
/// assert_eq!(t.host(), "[::1]");
/// assert_eq!(t.url(), "http://[::1]:8080");
/// # Ok::<(), http_intercept::Error>(())
/// ```
///
/// Two targets are equal when they register the same thing: host, port and path
/// prefix (`"a.test:443"` equals `"https://a.test"`).
#[derive(Clone, Debug)]
pub struct Target {
    host: String,
    port: u16,
    scheme: Option<Scheme>,
    prefix: Option<String>,
}

impl Target {
    /// Parses `"host:port"`, `"http://host[:port][/prefix]"` or
    /// `"https://host[:port][/prefix]"`.
    ///
    /// # Errors
    ///
    /// Returns an error naming the input and what is wrong with it: an empty string, a
    /// scheme other than http or https, a missing or out-of-range port, a host with
    /// characters no host name has, an IPv6 address without brackets, or a URL with
    /// user info, a query or a fragment.
    pub fn parse(input: &str) -> Result<Target, Error> {
        let bad = |reason: &str| Error::invalid_target(input, reason);
        if input.trim().is_empty() {
            return Err(bad(
                "the target is empty; write host:port or a URL such as http://host",
            ));
        }
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("a target cannot contain whitespace"));
        }
        let (scheme, rest) = match input.split_once("://") {
            Some((scheme, rest)) => {
                let scheme = match scheme.to_ascii_lowercase().as_str() {
                    "http" => Scheme::Http,
                    "https" => Scheme::Https,
                    other => {
                        return Err(bad(&format!(
                            "unsupported scheme {other:?}: only http and https can be intercepted"
                        )))
                    }
                };
                (Some(scheme), rest)
            }
            None => (None, input),
        };
        if rest.contains(['?', '#']) {
            return Err(bad("a target cannot have a query or a fragment"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) if scheme.is_some() => rest.split_at(i),
            Some(_) => {
                return Err(bad(
                    "a path prefix needs a URL target, such as http://host/prefix",
                ))
            }
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(bad("a target cannot carry user info (user@host)"));
        }
        let (host, port) = split_host_port(authority).map_err(|r| bad(&r))?;
        let host = normalize_host(host).map_err(|r| bad(&r))?;
        let port = match (port, scheme) {
            (Some(p), _) => parse_port(p).map_err(|r| bad(&r))?,
            (None, Some(s)) => s.default_port(),
            (None, None) => {
                return Err(bad(
                    "missing port; write host:port, or a URL such as http://host",
                ))
            }
        };
        let prefix = normalize_prefix(path);
        Ok(Target {
            host,
            port,
            scheme,
            prefix,
        })
    }

    pub(crate) fn from_parts(host: String, port: u16, scheme: Option<Scheme>) -> Target {
        Target {
            host,
            port,
            scheme,
            prefix: None,
        }
    }

    /// The host, lowercased, with IPv6 addresses in brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port; 80 or 443 when a URL target left it out.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `"host:port"`: what connections are matched on.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The path prefix requests must fall under, without a trailing slash, if the target
    /// was a URL with a path.
    pub fn path_prefix(&self) -> Option<&str> {
        self.prefix.as_deref()
    }

    /// The scheme used by [`url`](Target::url): the one the target was written with, or
    /// https for port 443 and http otherwise.
    pub fn scheme(&self) -> Scheme {
        self.scheme.unwrap_or(if self.port == 443 {
            Scheme::Https
        } else {
            Scheme::Http
        })
    }

    /// A base URL for the target, without a trailing slash: the default port is left
    /// out and the path prefix is included.
    pub fn url(&self) -> String {
        let scheme = self.scheme();
        let mut url = format!("{}://{}", scheme.as_str(), self.host);
        if self.port != scheme.default_port() {
            url.push_str(&format!(":{}", self.port));
        }
        if let Some(prefix) = &self.prefix {
            url.push_str(prefix);
        }
        url
    }
}

impl PartialEq for Target {
    fn eq(&self, other: &Target) -> bool {
        self.host == other.host && self.port == other.port && self.prefix == other.prefix
    }
}

impl Eq for Target {}

impl std::hash::Hash for Target {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.host.hash(state);
        self.port.hash(state);
        self.prefix.hash(state);
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.prefix, self.scheme) {
            (None, None) => write!(f, "{}:{}", self.host, self.port),
            _ => f.write_str(&self.url()),
        }
    }
}

/// Everything [`add`](crate::add) and [`remove`](crate::remove) accept as a target:
/// strings (parsed by [`Target::parse`]), a [`Target`], a [`SocketAddr`], a
/// `(host, port)` pair, and an [`http::Uri`].
///
/// This trait is sealed; parse into a [`Target`] for anything else.
pub trait IntoTarget: sealed::Sealed {
    /// Converts into a [`Target`].
    ///
    /// # Errors
    ///
    /// Returns an error naming the input if it is not a valid target.
    fn into_target(self) -> Result<Target, Error>;

    /// The `host:port` a request to this would connect to: like
    /// [`into_target`](IntoTarget::into_target), but a full URL's query, fragment and
    /// user info are ignored (for look-ups such as
    /// [`Registry::contains`](crate::Registry::contains)).
    #[doc(hidden)]
    fn into_authority(self) -> Option<String>
    where
        Self: Sized,
    {
        self.into_target().ok().map(|t| t.authority())
    }
}

/// The `host:port` a request URL connects to: `http(s)://[user@]host[:port][/path][?query][#fragment]`.
fn url_authority(input: &str) -> Option<String> {
    if let Ok(target) = Target::parse(input) {
        return Some(target.authority());
    }
    let without_fragment = input.split('#').next().unwrap_or(input);
    let uri: http::Uri = without_fragment.parse().ok()?;
    let scheme = uri.scheme_str()?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    uri_target(&uri).map(|t| t.authority())
}

mod sealed {
    pub trait Sealed {}
}

impl sealed::Sealed for &str {}
impl IntoTarget for &str {
    fn into_target(self) -> Result<Target, Error> {
        Target::parse(self)
    }
    fn into_authority(self) -> Option<String> {
        url_authority(self)
    }
}

impl sealed::Sealed for String {}
impl IntoTarget for String {
    fn into_target(self) -> Result<Target, Error> {
        Target::parse(&self)
    }
    fn into_authority(self) -> Option<String> {
        url_authority(&self)
    }
}

impl sealed::Sealed for &String {}
impl IntoTarget for &String {
    fn into_target(self) -> Result<Target, Error> {
        Target::parse(self)
    }
    fn into_authority(self) -> Option<String> {
        url_authority(self)
    }
}

impl sealed::Sealed for Target {}
impl IntoTarget for Target {
    fn into_target(self) -> Result<Target, Error> {
        Ok(self)
    }
}

impl sealed::Sealed for &Target {}
impl IntoTarget for &Target {
    fn into_target(self) -> Result<Target, Error> {
        Ok(self.clone())
    }
}

impl sealed::Sealed for SocketAddr {}
impl IntoTarget for SocketAddr {
    fn into_target(self) -> Result<Target, Error> {
        if self.port() == 0 {
            return Err(Error::invalid_target(
                &self.to_string(),
                "port 0 cannot be intercepted (ports are 1-65535)",
            ));
        }
        Ok(Target::from_parts(ip_host(self.ip()), self.port(), None))
    }
}

impl sealed::Sealed for (&str, u16) {}
impl IntoTarget for (&str, u16) {
    fn into_target(self) -> Result<Target, Error> {
        let input = format!("{}:{}", self.0, self.1);
        let host = normalize_host(self.0).map_err(|r| Error::invalid_target(&input, r))?;
        if self.1 == 0 {
            return Err(Error::invalid_target(
                &input,
                "port 0 cannot be intercepted (ports are 1-65535)",
            ));
        }
        Ok(Target::from_parts(host, self.1, None))
    }
}

impl sealed::Sealed for http::Uri {}
impl IntoTarget for http::Uri {
    fn into_target(self) -> Result<Target, Error> {
        Target::parse(&self.to_string())
    }

    fn into_authority(self) -> Option<String> {
        url_authority(&self.to_string())
    }
}

impl sealed::Sealed for &http::Uri {}
impl IntoTarget for &http::Uri {
    fn into_target(self) -> Result<Target, Error> {
        Target::parse(&self.to_string())
    }

    fn into_authority(self) -> Option<String> {
        url_authority(&self.to_string())
    }
}

fn ip_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// The target a client connects to for `uri` (its scheme, normalised host and
/// port), or `None` if it has no usable host.
pub(crate) fn uri_target(uri: &http::Uri) -> Option<Target> {
    let host = normalize_host(uri.host()?).ok()?;
    let scheme = Scheme::from_uri(uri);
    let port = uri.port_u16().unwrap_or_else(|| scheme.default_port());
    Some(Target::from_parts(host, port, Some(scheme)))
}

fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    if authority.is_empty() {
        return Err("the target has no host".into());
    }
    if let Some(rest) = authority.strip_prefix('[') {
        let end = rest
            .find(']')
            .ok_or("an IPv6 address is missing its closing bracket")?;
        let host = &authority[..end + 2];
        return match &rest[end + 1..] {
            "" => Ok((host, None)),
            after => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(format!("unexpected {after:?} after the IPv6 address")),
            },
        };
    }
    if authority.matches(':').count() > 1 {
        return Err("IPv6 addresses must be written in brackets, like [::1]:8080".into());
    }
    Ok(match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

fn parse_port(port: &str) -> Result<u16, String> {
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("invalid port {port:?}: ports are numbers 1-65535"));
    }
    match port.parse::<u32>() {
        Ok(0) => Err("port 0 cannot be intercepted (ports are 1-65535)".into()),
        Ok(p) if p <= u32::from(u16::MAX) => Ok(p as u16),
        _ => Err(format!("port {port} is out of range (ports are 1-65535)")),
    }
}

/// Lowercases a host, drops a trailing dot, checks its characters and writes IPv6
/// addresses in canonical bracketed form.
pub(crate) fn normalize_host(host: &str) -> Result<String, String> {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let ip: Ipv6Addr = inner
            .parse()
            .map_err(|_| format!("{inner:?} is not an IPv6 address"))?;
        return Ok(format!("[{ip}]"));
    }
    let host = host.strip_suffix('.').unwrap_or(host);
    if host.is_empty() {
        return Err("the target has no host".into());
    }
    if host.len() > 253 {
        return Err("the host name is longer than 253 characters".into());
    }
    if let Some(bad) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return Err(format!(
            "invalid host {host:?}: {bad:?} cannot appear in a host name"
        ));
    }
    if host.split('.').any(str::is_empty) {
        return Err(format!("invalid host {host:?}: empty label"));
    }
    Ok(host.to_ascii_lowercase())
}

fn normalize_prefix(path: &str) -> Option<String> {
    let trimmed = path.trim_end_matches('/');
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_urls_name_the_authority_they_connect_to() {
        for (url, authority) in [
            ("https://api.test/search?q=1&page=2", "api.test:443"),
            ("http://API.test:8080/a/b#frag", "api.test:8080"),
            ("https://user:pw@api.test/x?y", "api.test:443"),
            ("http://[::1]:9/?", "[::1]:9"),
            ("api.test:81", "api.test:81"),
        ] {
            assert_eq!(url.into_authority().as_deref(), Some(authority), "{url}");
            let uri: http::Uri = url.split('#').next().unwrap().parse().unwrap();
            if uri.scheme().is_some() {
                assert_eq!(uri.into_authority().as_deref(), Some(authority), "{url}");
            }
        }
        for bad in ["", "ftp://api.test/", "/just/a/path?x", "http://"] {
            assert_eq!(bad.into_authority(), None, "{bad}");
        }
    }

    fn ok(input: &str) -> Target {
        Target::parse(input).unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
    }

    fn err(input: &str) -> String {
        match Target::parse(input) {
            Ok(t) => panic!("{input:?} should not parse, got {t:?}"),
            Err(e) => {
                assert!(e.is_invalid_target());
                e.to_string()
            }
        }
    }

    #[test]
    fn equality_is_what_is_registered() {
        assert_eq!(ok("a.test:443"), ok("https://a.test"));
        assert_eq!(ok("http://a.test/v1/"), ok("http://a.test:80/v1"));
        assert_ne!(ok("http://a.test/v1"), ok("http://a.test"));
    }

    #[test]
    fn host_port() {
        let t = ok("api.example.com:8080");
        assert_eq!(t.authority(), "api.example.com:8080");
        assert_eq!(t.url(), "http://api.example.com:8080");
        assert_eq!(t.path_prefix(), None);
        assert_eq!(ok("secure.test:443").url(), "https://secure.test");
    }

    #[test]
    fn urls_take_default_ports() {
        assert_eq!(ok("http://a.test").authority(), "a.test:80");
        assert_eq!(ok("https://a.test").authority(), "a.test:443");
        assert_eq!(ok("https://a.test:8443").authority(), "a.test:8443");
        assert_eq!(ok("HTTPS://a.test/").url(), "https://a.test");
        assert_eq!(ok("http://a.test:80").url(), "http://a.test");
    }

    #[test]
    fn hosts_are_case_insensitive_and_lose_a_trailing_dot() {
        assert_eq!(ok("API.Example.COM:80").host(), "api.example.com");
        assert_eq!(ok("http://example.com.").authority(), "example.com:80");
    }

    #[test]
    fn ip_literals() {
        assert_eq!(ok("127.0.0.1:3000").authority(), "127.0.0.1:3000");
        assert_eq!(ok("[::1]:80").authority(), "[::1]:80");
        assert_eq!(ok("http://[0:0::1]").authority(), "[::1]:80");
        assert_eq!(
            ok("https://[2001:DB8::1]:8443/x").url(),
            "https://[2001:db8::1]:8443/x"
        );
    }

    #[test]
    fn path_prefixes() {
        let t = ok("http://a.test/api/v1/");
        assert_eq!(t.path_prefix(), Some("/api/v1"));
        assert_eq!(t.url(), "http://a.test/api/v1");
        assert_eq!(t.to_string(), "http://a.test/api/v1");
        assert_eq!(ok("http://a.test/").path_prefix(), None);
    }

    #[test]
    fn other_forms() {
        let sa: SocketAddr = "127.0.0.1:9000".parse().unwrap();
        assert_eq!(sa.into_target().unwrap().authority(), "127.0.0.1:9000");
        let sa: SocketAddr = "[::1]:9000".parse().unwrap();
        assert_eq!(sa.into_target().unwrap().authority(), "[::1]:9000");
        assert_eq!(
            ("A.test", 81).into_target().unwrap().authority(),
            "a.test:81"
        );
        let uri: http::Uri = "https://b.test/p".parse().unwrap();
        assert_eq!(uri.into_target().unwrap().path_prefix(), Some("/p"));
    }

    #[test]
    fn uri_authorities_match_target_authorities() {
        let uri: http::Uri = "https://API.test/users".parse().unwrap();
        assert_eq!(uri_target(&uri).unwrap().authority(), "api.test:443");
        let uri: http::Uri = "http://[::1]:81/".parse().unwrap();
        assert_eq!(uri_target(&uri).unwrap().authority(), "[::1]:81");
    }

    #[test]
    fn out_of_range_port() {
        let e = err("host:99999");
        assert!(e.contains("\"host:99999\""), "{e}");
        assert!(e.contains("port 99999 is out of range"), "{e}");
        assert!(err("host:0").contains("port 0"));
        assert!(err("host:http").contains("invalid port \"http\""));
        assert!(err("host:").contains("invalid port \"\""));
    }

    #[test]
    fn unsupported_scheme() {
        let e = err("ftp://x");
        assert!(e.contains("unsupported scheme \"ftp\""), "{e}");
    }

    #[test]
    fn empty() {
        assert!(err("").contains("the target is empty"));
        assert!(err("   ").contains("the target is empty"));
        assert!(err("http://").contains("no host"));
    }

    #[test]
    fn spaces_and_bad_characters() {
        assert!(err("a b:80").contains("whitespace"));
        let e = err("a*b:80");
        assert!(e.contains("'*' cannot appear in a host name"), "{e}");
        assert!(err("a..b:80").contains("empty label"));
    }

    #[test]
    fn missing_port() {
        assert!(err("example.com").contains("missing port"));
    }

    #[test]
    fn bad_url_parts() {
        assert!(err("http://a.test/?q=1").contains("query"));
        assert!(err("http://user@a.test").contains("user info"));
        assert!(err("a.test:80/path").contains("needs a URL target"));
    }

    #[test]
    fn bad_ipv6() {
        assert!(err("::1:80").contains("brackets"));
        assert!(err("[::1:80").contains("closing bracket"));
        assert!(err("[zz::1]:80").contains("not an IPv6 address"));
        assert!(err("[::1]x").contains("after the IPv6 address"));
    }
}
