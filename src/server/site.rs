//! What substitutions read: the site's configuration (primary host, subdomains,
//! alternate hosts, ports, extra keys: wptserve's config) and the request.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use http::request::Parts;
use http::HeaderMap;

use crate::server::query;

/// The configuration substitutions read, set with the `Files::with_*` methods.
#[derive(Debug, Clone, Default)]
pub(crate) struct Site {
    /// The root as given to `Files::new` (relative to the current directory).
    pub(crate) root: PathBuf,
    /// `{{host}}`: the primary host; `None` is the request's own host.
    pub(crate) host: Option<String>,
    /// The subdomains `{{domains[..]}}` and `{{hosts[..][..]}}` know; empty is any.
    pub(crate) subdomains: Vec<String>,
    /// `{{hosts[name][..]}}`: alternate hosts by name.
    pub(crate) alternate_hosts: BTreeMap<String, String>,
    /// Ports by scheme, as configured with `Files::with_port`.
    pub(crate) ports: BTreeMap<String, Vec<u16>>,
    /// Other `{{key}}` values.
    pub(crate) values: BTreeMap<String, String>,
}

impl Site {
    /// The domain of `subdomain` under `host` (`""` is the host itself).
    ///
    /// # Errors
    ///
    /// When subdomains are configured and `subdomain` is not one of them.
    pub(crate) fn domain(&self, host: &str, subdomain: &str) -> Result<String, String> {
        if subdomain.is_empty() {
            return Ok(host.to_owned());
        }
        if !self.subdomains.is_empty() && !self.subdomains.iter().any(|s| s == subdomain) {
            return Err(format!(
                "{subdomain:?} is not a configured subdomain (Files::with_subdomain); \
                 configured: {}",
                self.subdomains.join(", ")
            ));
        }
        Ok(format!("{subdomain}.{host}"))
    }
}

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
    pub(crate) site: Arc<Site>,
}

impl RequestInfo {
    pub(crate) fn new(parts: &Parts, site: &Arc<Site>) -> RequestInfo {
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
            site: site.clone(),
        }
    }

    pub(crate) fn host_port(&self) -> String {
        format!("{}:{}", self.hostname, self.port)
    }

    /// `{{host}}`: the configured primary host, or the request's.
    pub(crate) fn primary_host(&self) -> &str {
        self.site.host.as_deref().unwrap_or(&self.hostname)
    }

    /// The configured ports for `scheme`, or the request's own port for its scheme.
    pub(crate) fn port(&self, scheme: &str, index: usize) -> Option<u16> {
        match self.site.ports.get(scheme) {
            Some(ports) => ports.get(index).copied(),
            None if scheme == self.scheme && index == 0 => Some(self.port),
            None => None,
        }
    }
}
