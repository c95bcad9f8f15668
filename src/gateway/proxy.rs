//! The gateway's proxy URL, for clients that take a proxy.

use super::server::{credentials, gateway};
use crate::registry::Registry;

/// The gateway's proxy URL, with the credentials for the targets of `registry`, for
/// clients that are not built by this crate but take a proxy (curl's `--proxy`, a
/// child process's `HTTP_PROXY` / `HTTPS_PROXY`):
/// `http://registry-N-SCOPES:SECRET@127.0.0.1:PORT`. Starts the gateway.
///
/// The URL sees the registrations of the caller's scope (see
/// [`Scope`](crate::Scope)), then the process-wide ones, whoever uses it. Requests for
/// targets that are not registered get a 403 from the gateway: point such a client at
/// it only for the hosts you intercept (`NO_PROXY` for the rest), or intercept them all.
///
/// Such a client must also trust [`ca_certificate_pem`](crate::ca_certificate_pem) for
/// `https://` targets (curl's `--cacert`, Python's `SSL_CERT_FILE` /
/// `REQUESTS_CA_BUNDLE`, Node's `NODE_EXTRA_CA_CERTS`).
///
/// # Examples
///
/// ```
/// let url = http_intercept::proxy_url(http_intercept::Registry::global());
/// assert!(url.starts_with("http://registry-"));
/// assert!(url.contains("@127.0.0.1:"));
/// ```
pub fn proxy_url(registry: &Registry) -> String {
    let (user, password) = credentials(
        registry,
        &crate::scope::Lookup::here(),
        super::server::Holder::ProxyUrl,
    );
    let url = gateway().url();
    url.replacen("http://", &format!("http://{user}:{password}@"), 1)
}
