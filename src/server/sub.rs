//! Substitutions: `{{host}}`, `{{ports[http][0]}}`, `{{GET[name]}}` and the rest of
//! wptserve's template language, applied by the `sub` pipe and to `*.sub.*` files.

use std::collections::{BTreeMap, HashMap};

use http::request::Parts;
use http::HeaderMap;

use crate::server::query;

/// What a substitution can read about the request and the server.
#[derive(Debug, Clone)]
pub(crate) struct RequestInfo {
    pub(crate) scheme: String,
    /// The host name, without the port.
    pub(crate) hostname: String,
    pub(crate) port: u16,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) query_pairs: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    /// Ports by scheme, as configured with `Files::with_port`.
    pub(crate) ports: BTreeMap<String, Vec<u16>>,
}

impl RequestInfo {
    pub(crate) fn new(parts: &Parts, ports: &BTreeMap<String, Vec<u16>>) -> RequestInfo {
        let uri = &parts.uri;
        let scheme = uri.scheme_str().unwrap_or("http").to_owned();
        let authority = uri.authority().map(|a| a.as_str().to_owned()).or_else(|| {
            parts
                .headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        });
        let authority = authority.unwrap_or_else(|| "localhost".to_owned());
        let parsed = authority.parse::<http::uri::Authority>().ok();
        let hostname = parsed
            .as_ref()
            .map_or_else(|| authority.clone(), |a| a.host().to_owned());
        let default_port = if scheme == "https" { 443 } else { 80 };
        let port = parsed.and_then(|a| a.port_u16()).unwrap_or(default_port);
        RequestInfo {
            scheme,
            hostname,
            port,
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
            query_pairs: uri.query().map(query::pairs).unwrap_or_default(),
            headers: parts.headers.clone(),
            ports: ports.clone(),
        }
    }

    fn host_port(&self) -> String {
        format!("{}:{}", self.hostname, self.port)
    }

    /// The configured ports for `scheme`, or the request's own port for its scheme.
    fn port(&self, scheme: &str, index: usize) -> Option<u16> {
        match self.ports.get(scheme) {
            Some(ports) => ports.get(index).copied(),
            None if scheme == self.scheme && index == 0 => Some(self.port),
            None => None,
        }
    }
}

/// How substituted values are escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escape {
    /// `&`, `<`, `>`, `"` and `'` as HTML character references (wptserve's default).
    Html,
    /// As they are.
    None,
}

/// Replaces every `{{expression}}` in `content`. `label` names the file in errors.
///
/// # Errors
///
/// A message naming the expression that is unknown, malformed or has no value.
pub(crate) fn substitute(
    content: &[u8],
    info: &RequestInfo,
    escape: Escape,
    label: &str,
) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(content.len());
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut rest = content;
    while let Some(start) = find(rest, b"{{") {
        out.extend_from_slice(&rest[..start]);
        let after = &rest[start + 2..];
        // Like wptserve's `{{([^}]*)}}`: the expression holds no `}`.
        let close = after.iter().position(|&b| b == b'}');
        match close {
            Some(end) if after.get(end + 1) == Some(&b'}') => {
                let expr = String::from_utf8_lossy(&after[..end]);
                let value = evaluate(&expr, info, &mut vars)
                    .map_err(|why| format!("sub: {{{{{expr}}}}} in {label}: {why}"))?;
                match escape {
                    Escape::Html => html_escape(&value, &mut out),
                    Escape::None => out.extend_from_slice(value.as_bytes()),
                }
                rest = &after[end + 2..];
            }
            _ => {
                out.extend_from_slice(b"{{");
                rest = after;
            }
        }
    }
    out.extend_from_slice(rest);
    Ok(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn html_escape(value: &str, out: &mut Vec<u8>) {
    for c in value.chars() {
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '"' => out.extend_from_slice(b"&quot;"),
            '\'' => out.extend_from_slice(b"&#x27;"),
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
}

/// A parsed expression: `name[key][key](args)`.
#[derive(Debug, PartialEq)]
struct Expr<'a> {
    name: &'a str,
    keys: Vec<&'a str>,
    args: Option<Vec<&'a str>>,
}

fn evaluate(
    expr: &str,
    info: &RequestInfo,
    vars: &mut HashMap<String, String>,
) -> Result<String, String> {
    let expr = expr.trim();
    if let Some(var) = expr.strip_prefix('$') {
        return match var.split_once(':') {
            Some((name, inner)) => {
                let name = name.trim();
                if !is_ident(name) {
                    return Err(format!("{name:?} is not a variable name"));
                }
                let value = evaluate(inner, info, vars)?;
                vars.insert(name.to_owned(), value.clone());
                Ok(value)
            }
            None => vars
                .get(var.trim())
                .cloned()
                .ok_or_else(|| format!("variable ${} is not defined before", var.trim())),
        };
    }
    let parsed = parse(expr)?;
    let key = |i: usize| {
        parsed
            .keys
            .get(i)
            .copied()
            .ok_or_else(|| format!("{} needs a [key]", parsed.name))
    };
    let no_args = || {
        if parsed.args.is_some() {
            Err(format!("{} takes no arguments", parsed.name))
        } else {
            Ok(())
        }
    };
    match parsed.name {
        "host" => no_args().map(|()| info.hostname.clone()),
        "domains" => {
            no_args()?;
            let sub = key(0)?;
            Ok(if sub.is_empty() {
                info.hostname.clone()
            } else {
                format!("{sub}.{}", info.hostname)
            })
        }
        "ports" => {
            no_args()?;
            let scheme = key(0)?;
            let index: usize = key(1)?
                .parse()
                .map_err(|_| format!("port index {:?} is not a number", parsed.keys[1]))?;
            info.port(scheme, index)
                .map(|p| p.to_string())
                .ok_or_else(|| {
                    format!("no port {index} is configured for {scheme} (Files::with_port)")
                })
        }
        "GET" => {
            no_args()?;
            let name = key(0)?;
            query::first(&info.query_pairs, name)
                .map(str::to_owned)
                .ok_or_else(|| format!("the query has no parameter {name:?}"))
        }
        "headers" => {
            no_args()?;
            let name = key(0)?;
            header(info, name).ok_or_else(|| format!("the request has no header {name:?}"))
        }
        "header_or_default" => match parsed.args.as_deref() {
            Some([name, default]) => {
                Ok(header(info, name).unwrap_or_else(|| (*default).to_owned()))
            }
            _ => Err("header_or_default takes two arguments: a name and a default".into()),
        },
        "uuid" => match parsed.args.as_deref() {
            Some([]) => Ok(uuid::Uuid::new_v4().to_string()),
            _ => Err("write uuid() with empty parentheses".into()),
        },
        "url_base" => no_args().map(|()| "/".to_owned()),
        "location" => {
            no_args()?;
            let query = info
                .query
                .as_ref()
                .map(|q| format!("?{q}"))
                .unwrap_or_default();
            let server = format!("{}://{}", info.scheme, info.host_port());
            Ok(match key(0)? {
                "scheme" => info.scheme.clone(),
                "host" => info.host_port(),
                "hostname" => info.hostname.clone(),
                "port" => info.port.to_string(),
                "path" | "pathname" => info.path.clone(),
                "query" => query,
                "hash" => String::new(),
                "server" => server,
                "href" => format!("{server}{}{query}", info.path),
                other => return Err(format!("location has no key {other:?}")),
            })
        }
        other => Err(format!(
            "unknown substitution {other:?}; known: host, domains[..], ports[..][..], GET[..], \
             headers[..], header_or_default(..), uuid(), location[..], url_base, $variables"
        )),
    }
}

fn header(info: &RequestInfo, name: &str) -> Option<String> {
    info.headers
        .get(name.trim())
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse(expr: &str) -> Result<Expr<'_>, String> {
    let name_end = expr
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(expr.len());
    let name = &expr[..name_end];
    if name.is_empty() {
        return Err("expected a name".into());
    }
    let mut rest = expr[name_end..].trim_start();
    let mut keys = Vec::new();
    while let Some(after) = rest.strip_prefix('[') {
        let end = after.find(']').ok_or("a [ is not closed")?;
        keys.push(after[..end].trim());
        rest = after[end + 1..].trim_start();
    }
    let mut args = None;
    if let Some(after) = rest.strip_prefix('(') {
        let end = after.rfind(')').ok_or("a ( is not closed")?;
        let inner = after[..end].trim();
        args = Some(if inner.is_empty() {
            Vec::new()
        } else {
            inner.split(',').map(str::trim).collect()
        });
        rest = after[end + 1..].trim_start();
    }
    if !rest.is_empty() {
        return Err(format!("unexpected {rest:?} after the expression"));
    }
    Ok(Expr { name, keys, args })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> RequestInfo {
        let req = http::Request::get("http://web.test:8000/a/b.html?x=1&name=a%3Cb")
            .header("user-agent", "probe")
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        RequestInfo::new(&parts, &BTreeMap::new())
    }

    fn sub(text: &str) -> Result<String, String> {
        substitute(text.as_bytes(), &info(), Escape::Html, "t")
            .map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn substitutes_the_request() {
        assert_eq!(sub("{{host}}:{{ports[http][0]}}").unwrap(), "web.test:8000");
        assert_eq!(sub("{{domains[www]}}").unwrap(), "www.web.test");
        assert_eq!(sub("{{GET[x]}} {{GET[name]}}").unwrap(), "1 a&lt;b");
        assert_eq!(sub("{{headers[User-Agent]}}").unwrap(), "probe");
        assert_eq!(sub("{{header_or_default(x-missing, d)}}").unwrap(), "d");
        assert_eq!(
            sub("{{location[href]}}").unwrap(),
            "http://web.test:8000/a/b.html?x=1&amp;name=a%3Cb"
        );
        assert_eq!(sub("{{location[path]}}").unwrap(), "/a/b.html");
        let u = sub("{{$id:uuid()}} {{$id}}").unwrap();
        let (a, b) = u.split_once(' ').unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(
            sub("no {{ template } here }}{{").unwrap(),
            "no {{ template } here }}{{"
        );
    }

    #[test]
    fn errors_name_the_expression() {
        let e = sub("a {{nope}} b").unwrap_err();
        assert!(
            e.contains("{{nope}}") && e.contains("unknown substitution"),
            "{e}"
        );
        assert!(sub("{{GET[missing]}}").unwrap_err().contains("missing"));
        assert!(sub("{{ports[https][0]}}")
            .unwrap_err()
            .contains("no port 0"));
        assert!(sub("{{$undefined}}").unwrap_err().contains("$undefined"));
        assert!(sub("{{uuid}}").is_err());
        assert!(sub("{{headers[x}}").is_err());
    }
}
