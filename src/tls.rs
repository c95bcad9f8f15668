//! TLS for intercepted `https://` targets: a CA made in memory once per process, a leaf
//! certificate minted (and cached) per CONNECT host, and the rustls `ServerConfig` for it.
//!
//! * One crypto provider: aws-lc-rs, the one reqwest 0.13's default TLS already builds. It is
//!   passed explicitly (`ServerConfig::builder_with_provider`), so rustls never consults the
//!   process default, and a second provider elsewhere in the tree cannot make it panic.
//!   rcgen is built with its `aws_lc_rs` feature (no `ring`).
//! * Nothing is written to disk. The CA is trusted only by clients built with
//!   `.intercept()` (`ClientBuilder::tls_certs_merge`), and by whoever is handed its
//!   certificate.
//! * Key generation is the expensive part (the first aws-lc-rs key generation in a process
//!   costs tens of ms), so it happens once, lazily: one CA key and one leaf key shared by all
//!   leaf certificates. Minting a leaf for a new host is a single ECDSA signature.

// With `tls` alone only the PEM export is used; the gateway and `serve_tls` use the rest.
#![cfg_attr(not(any(feature = "gateway", feature = "server")), allow(dead_code))]

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::ServerConfig;

/// The crypto provider used for everything TLS in this crate.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .clone()
}

/// Cryptographically secure random bytes from the same provider (used for the proxy secret).
pub(crate) fn fill_random(buf: &mut [u8]) {
    provider()
        .secure_random
        .fill(buf)
        .expect("http-intercept: the aws-lc-rs random generator failed");
}

/// How many leaf configs the cache keeps at most.
const CONFIG_CACHE_CAP: usize = 256;

struct Ca {
    /// DER of the self-signed CA certificate: what clients are told to trust.
    cert_der: CertificateDer<'static>,
    /// Subject + key of the CA, to sign leaves with.
    issuer: Issuer<'static, KeyPair>,
    /// One key for every leaf certificate (keys are costly to make; certificates are not).
    leaf_key: KeyPair,
    /// Finished rustls configs, keyed by CONNECT host (lowercase, no brackets for IPv6).
    configs: Mutex<HashMap<String, Arc<ServerConfig>>>,
}

fn ca() -> &'static Ca {
    static CA: OnceLock<Ca> = OnceLock::new();
    CA.get_or_init(|| {
        let ca_key = KeyPair::generate().expect("http-intercept: cannot generate the CA key");
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "http-intercept in-memory test CA");
        dn.push(DnType::OrganizationName, "http-intercept");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params
            .self_signed(&ca_key)
            .expect("http-intercept: cannot self-sign the CA");
        Ca {
            cert_der: cert.der().clone(),
            issuer: Issuer::new(params, ca_key),
            leaf_key: KeyPair::generate().expect("http-intercept: cannot generate the leaf key"),
            configs: Mutex::new(HashMap::new()),
        }
    })
}

/// DER of the process CA certificate (creates the CA on first call).
pub(crate) fn ca_cert_der() -> CertificateDer<'static> {
    ca().cert_der.clone()
}

/// Strip IPv6 brackets and lowercase: `[::1]` -> `::1`, `Example.TEST` -> `example.test`.
fn normalize_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase()
}

/// The rustls server config presenting a certificate for `host` (a DNS name or an IP
/// literal, as it appeared in `CONNECT host:port`). Minted on first use, then cached.
pub(crate) fn server_config(host: &str) -> Result<Arc<ServerConfig>, String> {
    server_config_for(&[host])
}

/// The rustls server config presenting one certificate for all of `hosts` (DNS names
/// or IP literals). Minted on first use, then cached.
pub(crate) fn server_config_for(hosts: &[&str]) -> Result<Arc<ServerConfig>, String> {
    let hosts: Vec<String> = hosts.iter().map(|h| normalize_host(h)).collect();
    let key = hosts.join(",");
    let ca = ca();
    if let Some(cfg) = ca
        .configs
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return Ok(cfg.clone());
    }

    // Minted outside the lock; two racing threads may both mint, the last insert wins.
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, hosts[0].as_str());
    params.distinguished_name = dn;
    params.subject_alt_names = hosts
        .iter()
        .map(|host| match host.parse::<IpAddr>() {
            Ok(ip) => Ok(SanType::IpAddress(ip)),
            Err(_) => host
                .clone()
                .try_into()
                .map(SanType::DnsName)
                .map_err(|e| format!("host {host:?} is not a valid DNS name: {e}")),
        })
        .collect::<Result<_, _>>()?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let leaf = params
        .signed_by(&ca.leaf_key, &ca.issuer)
        .map_err(|e| format!("cannot sign a certificate for {key}: {e}"))?;

    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ca.leaf_key.serialize_der()));
    let mut cfg = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        // The chain: leaf, then the CA (also the trust anchor; sending it is harmless).
        .with_single_cert(vec![leaf.der().clone(), ca.cert_der.clone()], private)
        .map_err(|e| e.to_string())?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let cfg = Arc::new(cfg);
    let mut configs = ca.configs.lock().unwrap_or_else(PoisonError::into_inner);
    // Bounded: a test that CONNECTs to ever new hosts must not grow it forever. Minting
    // again costs one signature, so forgetting everything at the cap is good enough.
    if configs.len() >= CONFIG_CACHE_CAP {
        configs.clear();
    }
    configs.insert(key, cfg.clone());
    Ok(cfg)
}

/// The PEM of the CA made in memory for this process (on first use) that signs the
/// certificates of intercepted and served `https://` targets: hand it to a client that
/// is not built by this crate (a browser, a subprocess's `SSL_CERT_FILE`). Clients built
/// with `.intercept()` already trust it. Nothing is ever written to disk by the crate.
///
/// # Examples
///
/// ```
/// let pem = http_intercept::ca_certificate_pem();
/// assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
/// ```
pub fn ca_certificate_pem() -> String {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(ca_cert_der());
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_leaf_config_cache_is_bounded() {
        for i in 0..CONFIG_CACHE_CAP + 10 {
            server_config(&format!("host-{i}.cache.test")).unwrap();
        }
        let len = ca().configs.lock().unwrap().len();
        assert!(len <= CONFIG_CACHE_CAP, "{len} entries");
        assert!(len > 0);
        // A config is still served, and cached again.
        let a = server_config("again.cache.test").unwrap();
        let b = server_config("again.cache.test").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
    }
}
