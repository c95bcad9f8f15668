//! Substitutions: `{{host}}`, `{{ports[http][0]}}`, `{{GET[name]}}` and the rest of
//! wptserve's template language, applied by the `sub` pipe, to `*.sub.*` files and to
//! `.sub.headers` files.
//!
//! An expression is `[$var:]name[key]...[(args)]`. Names, as wptserve resolves them:
//! `$variables` set earlier in the same file, `uuid()`, `file_hash(algorithm, path)`,
//! `fs_path(path)`, `header_or_default(name, default)`, `headers[name]`, `GET[name]`
//! (`""` when absent), `hosts[alternate][subdomain]`, `domains[subdomain]`, `host`,
//! the configuration keys (`browser_host`, `server_host`, `doc_root`, `ports[scheme][i]`
//! and those given with `Files::with_config`), `location[key]` and `url_base`.
//! Where wptserve would raise an exception (an unknown name, a missing header), the
//! answer is a 500 naming the expression.

use std::collections::HashMap;

use crate::server::path;
use crate::server::query;
pub(crate) use crate::server::site::RequestInfo;

/// The most substitutions one template may hold, so that a crafted body cannot make
/// the server loop for long.
const MAX_SUBSTITUTIONS: usize = 100_000;

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
    let limit = content.len().saturating_add(MAX_GROWTH);
    let mut out = Vec::with_capacity(content.len());
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut rest = content;
    let mut count = 0;
    while let Some(start) = find(rest, b"{{") {
        out.extend_from_slice(&rest[..start]);
        let after = &rest[start + 2..];
        // Like wptserve's `{{([^}]*)}}`: the expression holds no `}`.
        let close = after.iter().position(|&b| b == b'}');
        match close {
            Some(end) if after.get(end + 1) == Some(&b'}') => {
                count += 1;
                if count > MAX_SUBSTITUTIONS {
                    return Err(format!(
                        "sub: {label} holds more than {MAX_SUBSTITUTIONS} substitutions"
                    ));
                }
                let expr = String::from_utf8_lossy(&after[..end]);
                let value = evaluate(&expr, info, &mut vars)
                    .map_err(|why| format!("sub: {{{{{expr}}}}} in {label}: {why}"))?;
                match escape {
                    Escape::Html => html_escape(&value, &mut out),
                    Escape::None => out.extend_from_slice(value.as_bytes()),
                }
                if out.len() > limit {
                    return Err(format!(
                        "sub: substituting {label} grows it by more than {MAX_GROWTH} bytes"
                    ));
                }
                rest = &after[end + 2..];
            }
            _ => {
                // No expression starts here; one may start at the next brace.
                out.push(b'{');
                rest = &rest[start + 1..];
            }
        }
    }
    out.extend_from_slice(rest);
    Ok(out)
}

/// How many bytes substitutions may add to a template.
const MAX_GROWTH: usize = 16 * 1024 * 1024;

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
    // `$name:expression` assigns; wptserve's `\$\w+:`.
    if let Some((var, inner)) = expr
        .split_once(':')
        .filter(|(v, _)| v.strip_prefix('$').is_some_and(is_ident))
    {
        let value = evaluate(inner, info, vars)?;
        vars.insert(var.to_owned(), value.clone());
        return Ok(value);
    }
    let parsed = parse(expr)?;
    if let Some(value) = vars.get(parsed.name) {
        if !parsed.keys.is_empty() || parsed.args.is_some() {
            return Err(format!(
                "variable {} is text: it has no [key] or (args)",
                parsed.name
            ));
        }
        return Ok(value.clone());
    }
    if parsed.name.starts_with('$') {
        return Err(format!("variable {} is not defined before", parsed.name));
    }
    let key = |i: usize| {
        parsed
            .keys
            .get(i)
            .copied()
            .ok_or_else(|| format!("{} needs a [key]", parsed.name))
    };
    let keys = |n: usize| {
        if parsed.keys.len() > n {
            Err(format!(
                "{} takes {n} [key]s, got {}",
                parsed.name,
                parsed.keys.len()
            ))
        } else {
            Ok(())
        }
    };
    let no_args = || {
        if parsed.args.is_some() {
            Err(format!("{} takes no arguments", parsed.name))
        } else {
            Ok(())
        }
    };
    let call = |n: usize| match parsed.args.as_deref() {
        Some(args) if args.len() == n && parsed.keys.is_empty() => Ok(args),
        _ => Err(format!(
            "{} is a function of {n} argument{}: write {}({})",
            parsed.name,
            if n == 1 { "" } else { "s" },
            parsed.name,
            match parsed.name {
                "file_hash" => "algorithm, path",
                "fs_path" => "path",
                "header_or_default" => "name, default",
                _ => "",
            }
        )),
    };
    let site = &info.site;
    match parsed.name {
        "uuid" => call(0).map(|_| uuid::Uuid::new_v4().to_string()),
        "file_hash" => {
            let args = call(2)?;
            file_hash(info, args[0], args[1])
        }
        "fs_path" => fs_path(info, call(1)?[0]).map(|p| p.display().to_string()),
        "header_or_default" => {
            let args = call(2)?;
            Ok(header(info, args[0]).unwrap_or_else(|| args[1].to_owned()))
        }
        "headers" => {
            no_args()?;
            keys(1)?;
            let name = key(0)?;
            header(info, name).ok_or_else(|| format!("the request has no header {name:?}"))
        }
        "GET" => {
            no_args()?;
            keys(1)?;
            let name = key(0)?;
            Ok(query::first(&info.query_pairs, name)
                .unwrap_or_default()
                .to_owned())
        }
        "hosts" => {
            no_args()?;
            keys(2)?;
            let alternate = key(0)?;
            let subdomain = key(1)?;
            let host = if alternate.is_empty() {
                info.primary_host()
            } else {
                site.alternate_hosts.get(alternate).ok_or_else(|| {
                    format!("no alternate host {alternate:?} is configured (Files::with_alternate_host)")
                })?
            };
            site.domain(host, subdomain)
        }
        "domains" => {
            no_args()?;
            keys(1)?;
            site.domain(info.primary_host(), key(0)?)
        }
        "host" | "browser_host" | "server_host" => {
            no_args()?;
            keys(0)?;
            Ok(info.primary_host().to_owned())
        }
        "doc_root" => {
            no_args()?;
            keys(0)?;
            std::path::absolute(&site.root)
                .map(|p| p.display().to_string())
                .map_err(|e| format!("the root has no absolute path: {e}"))
        }
        "ports" => {
            no_args()?;
            keys(2)?;
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
        name if site.values.contains_key(name) => {
            no_args()?;
            keys(0)?;
            Ok(site.values[name].clone())
        }
        "location" => {
            no_args()?;
            keys(1)?;
            // wptserve's `"?%s" % query`: a lone `?` when there is none.
            let query = format!("?{}", info.query.as_deref().unwrap_or(""));
            let server = format!("{}://{}", info.scheme, info.host_port());
            Ok(match key(0)? {
                "scheme" => info.scheme.clone(),
                "host" => info.host_port(),
                "hostname" => info.hostname.clone(),
                "port" => info.port.to_string(),
                "path" | "pathname" => info.path.clone(),
                "query" => query,
                "server" => server,
                // Additions of ours.
                "hash" => String::new(),
                "href" => match &info.query {
                    Some(q) => format!("{server}{}?{q}", info.path),
                    None => format!("{server}{}", info.path),
                },
                other => return Err(format!("location has no key {other:?}")),
            })
        }
        "url_base" => no_args().map(|()| "/".to_owned()),
        other => Err(format!(
            "unknown substitution {other:?}; known: host, domains[..], hosts[..][..], \
             ports[..][..], GET[..], headers[..], header_or_default(..), uuid(), \
             file_hash(..), fs_path(..), location[..], url_base, browser_host, server_host, \
             doc_root, keys given with Files::with_config, $variables"
        )),
    }
}

/// `fs_path(path)`: the absolute path of a file under the root, relative to the
/// request's directory unless it starts with `/`; never outside the root.
fn fs_path(info: &RequestInfo, path: &str) -> Result<std::path::PathBuf, String> {
    let request_path = if path.starts_with('/') {
        path.to_owned()
    } else {
        let dir = info.path.rsplit_once('/').map_or("", |(d, _)| d);
        format!("{dir}/{path}")
    };
    let root = std::path::absolute(&info.site.root)
        .map_err(|e| format!("the root has no absolute path: {e}"))?;
    // Percent signs in a file path are literal: encode them so that resolving does not
    // decode them.
    let encoded = request_path.replace('%', "%25");
    path::resolve(&root, &encoded)
        .map(|r| r.full)
        .map_err(|path::Refused(why)| why)
}

/// `file_hash(algorithm, path)`: the base64 digest of a file under the root, `path`
/// relative to the root.
/// Reads the file: blocking, which is why a template that calls it is substituted off
/// the runtime thread.
fn file_hash(info: &RequestInfo, algorithm: &str, path: &str) -> Result<String, String> {
    // wptserve joins the path to the root, relative or not (so `/x` would be the
    // machine's `/x` there; here it is the root's).
    let lexical = fs_path(info, &format!("/{}", path.trim_start_matches('/')))?;
    let root = std::path::absolute(&info.site.root)
        .and_then(std::fs::canonicalize)
        .map_err(|e| format!("cannot read the root: {e}"))?;
    let label = path.to_owned();
    let canonical = path::confine(&root, &lexical, &label)
        .map_err(|path::Refused(why)| why)?
        .ok_or_else(|| format!("there is no file {path:?} to hash"))?;
    let content =
        std::fs::read(&canonical).map_err(|e| format!("cannot read {path:?} to hash it: {e}"))?;
    crate::server::digest::base64_digest(algorithm, &content)
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
    let start = usize::from(expr.starts_with('$'));
    let name_end = expr[start..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(expr.len(), |i| i + start);
    let name = &expr[..name_end];
    if name.len() == start {
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
        let end = after.find(')').ok_or("a ( is not closed")?;
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
    use std::sync::Arc;

    use super::*;
    use crate::server::site::Site;

    fn info_with(url: &str, site: Site) -> RequestInfo {
        let req = http::Request::get(url)
            .header("user-agent", "probe")
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        RequestInfo::new(&parts, &Arc::new(site))
    }

    fn info() -> RequestInfo {
        info_with(
            "http://web.test:8000/a/b.html?x=1&name=a%3Cb",
            Site::default(),
        )
    }

    fn sub(text: &str) -> Result<String, String> {
        substitute(text.as_bytes(), &info(), Escape::Html, "t")
            .map(|b| String::from_utf8(b).unwrap())
    }

    #[test]
    fn substitutes_the_request() {
        assert_eq!(sub("{{host}}:{{ports[http][0]}}").unwrap(), "web.test:8000");
        assert_eq!(sub("{{domains[www]}}").unwrap(), "www.web.test");
        assert_eq!(sub("{{hosts[][www]}}").unwrap(), "www.web.test");
        assert_eq!(sub("{{GET[x]}} {{GET[name]}}").unwrap(), "1 a&lt;b");
        assert_eq!(sub("[{{GET[missing]}}]").unwrap(), "[]");
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
        assert_eq!(sub("{ {{host}}").unwrap(), "{ web.test");
        let none = info_with("http://web.test/p", Site::default());
        let q = substitute(b"{{location[query]}}", &none, Escape::None, "t").unwrap();
        assert_eq!(q, b"?");
    }

    #[test]
    fn reads_the_configuration() {
        let site = Site {
            root: "tests/www".into(),
            host: Some("web-platform.test".into()),
            subdomains: vec!["www".into(), "www1".into()],
            alternate_hosts: [("alt".to_owned(), "not-web-platform.test".to_owned())].into(),
            values: [("flavor".to_owned(), "strict".to_owned())].into(),
            ..Site::default()
        };
        let info = info_with("http://127.0.0.1:9/d/t.html", site);
        let sub = |t: &str| {
            substitute(t.as_bytes(), &info, Escape::None, "t")
                .map(|b| String::from_utf8(b).unwrap())
        };
        assert_eq!(
            sub("{{host}} {{browser_host}}").unwrap(),
            "web-platform.test web-platform.test"
        );
        assert_eq!(sub("{{domains[www1]}}").unwrap(), "www1.web-platform.test");
        assert_eq!(
            sub("{{hosts[alt][www]}}").unwrap(),
            "www.not-web-platform.test"
        );
        assert_eq!(sub("{{hosts[alt][]}}").unwrap(), "not-web-platform.test");
        assert_eq!(sub("{{flavor}}").unwrap(), "strict");
        assert!(sub("{{domains[www2]}}")
            .unwrap_err()
            .contains("not a configured subdomain"));
        assert!(sub("{{hosts[nope][www]}}")
            .unwrap_err()
            .contains("no alternate host"));
        let fs = sub("{{fs_path(hello.txt)}}").unwrap();
        assert!(fs.ends_with("tests/www/d/hello.txt"), "{fs}");
        let fs = sub("{{fs_path(/hello.txt)}}").unwrap();
        assert!(fs.ends_with("tests/www/hello.txt"), "{fs}");
        assert!(sub("{{fs_path(../../x)}}").is_err());
        for path in ["/hello.txt", "hello.txt"] {
            assert_eq!(
                sub(&format!("{{{{file_hash(sha256, {path})}}}}")).unwrap(),
                "hT/5N2Kgbdv3IsTr6d3WbY9j3a6pf1IcPswg2nyXYCA="
            );
        }
        assert!(sub("{{file_hash(crc32, /hello.txt)}}")
            .unwrap_err()
            .contains("crc32"));
    }

    #[test]
    fn errors_name_the_expression() {
        let e = sub("a {{nope}} b").unwrap_err();
        assert!(
            e.contains("{{nope}}") && e.contains("unknown substitution"),
            "{e}"
        );
        assert!(sub("{{headers[missing]}}").unwrap_err().contains("missing"));
        assert!(sub("{{ports[https][0]}}")
            .unwrap_err()
            .contains("no port 0"));
        assert!(sub("{{$undefined}}").unwrap_err().contains("$undefined"));
        assert!(sub("{{uuid}}").is_err());
        assert!(sub("{{headers[x}}").is_err());
    }
}
