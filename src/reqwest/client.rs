//! `.intercept()` for reqwest's async and blocking client builders.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use base64::Engine as _;
use hyper_util::client::proxy::matcher::{Intercept as ProxyHit, Matcher};

use crate::connect::Policy;
use crate::gateway::server::{credentials, gateway, local_url, note_direct, Holder};
use crate::registry::Registry;
use crate::scope::Lookup;
use crate::target::uri_target;

/// Routes a reqwest client's requests for registered targets into their services.
///
/// Implemented for `reqwest::ClientBuilder` and `reqwest::blocking::ClientBuilder`.
/// It adds, in this order:
///
/// 1. a `Proxy::custom` that sends requests for targets registered at the time of the
///    request to the crate's loopback gateway, with credentials only this process
///    knows, and everything else direct (for an `http://` host, the client's first
///    decision sticks, so the credentials never travel over a direct connection: a host
///    first reached direct stays direct; one first reached through the gateway stays
///    with it, which sends it on to the real host once it is unregistered);
/// 2. the system proxies (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`), which
///    reqwest would otherwise drop once any proxy is added;
/// 3. trust in the process's in-memory CA, on top of the usual roots, for the
///    certificates the gateway presents for `https://` targets.
///
/// reqwest uses the first proxy that matches, in the order they were added: call
/// `.intercept()` before a `.proxy(...)` of your own, which then applies to everything
/// that is not intercepted (with `HTTP_PROXY` set, the environment's proxy comes
/// before yours).
///
/// # Examples
///
/// ```no_run
/// use http_intercept::reqwest::ClientBuilderExt;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = reqwest::Client::builder().intercept().build()?;
/// let blocking = reqwest::blocking::Client::builder().intercept().build()?;
/// # drop((client, blocking));
/// # Ok(())
/// # }
/// ```
pub trait ClientBuilderExt: sealed::Sealed + Sized {
    /// Intercepts the targets registered in [`Registry::global`], checked per request:
    /// targets registered after the client was built are intercepted too.
    fn intercept(self) -> Self {
        self.intercept_with(Registry::global())
    }

    /// Intercepts the targets registered in `registry`.
    fn intercept_with(self, registry: &Registry) -> Self {
        self.intercept_with_policy(registry, Policy::PassThrough)
    }

    /// Intercepts the targets registered in `registry`, and refuses what `policy`
    /// refuses of the rest, as a [`Connector`](crate::Connector) with that policy does:
    /// the client gets a `502 Bad Gateway` whose body and
    /// [`ERROR_HEADER`](crate::ERROR_HEADER) (`denied`) name the target and how to
    /// register it, for `https://` too (answered inside the tunnel, over TLS with the
    /// in-memory CA). Default of the other methods: [`Policy::PassThrough`].
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::reqwest::ClientBuilderExt;
    /// use http_intercept::{Policy, Registry};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    /// let client = reqwest::Client::builder()
    ///     .intercept_with_policy(Registry::global(), Policy::Deny)
    ///     .build()?;
    /// let res = client.get("https://not-registered.policy-example.test/").send().await?;
    /// assert_eq!(res.status(), 502);
    /// assert_eq!(res.headers()[http_intercept::ERROR_HEADER], "denied");
    /// assert!(res.text().await?.contains("not-registered.policy-example.test:443"));
    /// # Ok(())
    /// # }
    /// ```
    fn intercept_with_policy(self, registry: &Registry, policy: Policy) -> Self;
}

mod sealed {
    pub trait Sealed {}
}

/// The implementations for one reqwest version: `$krate` is its crate; `$trust` adds
/// the CA certificate `$ca` to the builder `$b`.
macro_rules! implement {
    ($feature:literal, $version:ident, $krate:ident, |$b:ident, $ca:ident| $trust:expr) => {
        #[cfg(feature = $feature)]
        mod $version {
            use ::$krate as rq;
            use hyper_util::client::proxy::matcher::Matcher;
            use rq::{Proxy, Url};

            use super::{gateway_route, system_hit, ClientBuilderExt};
            use crate::connect::Policy;
            use crate::registry::Registry;

            impl super::sealed::Sealed for rq::ClientBuilder {}
            impl super::sealed::Sealed for rq::blocking::ClientBuilder {}

            impl ClientBuilderExt for rq::ClientBuilder {
                fn intercept_with_policy(self, registry: &Registry, policy: Policy) -> Self {
                    let $b = self
                        .proxy(gateway_proxy(registry, policy, true))
                        .proxy(system_proxy());
                    let $ca = ca_certificate();
                    $trust
                }
            }

            impl ClientBuilderExt for rq::blocking::ClientBuilder {
                fn intercept_with_policy(self, registry: &Registry, policy: Policy) -> Self {
                    // The shared gateway: the client's internal runtime serves every
                    // thread that uses it, and a blocking service would stall them all.
                    let $b = self
                        .proxy(gateway_proxy(registry, policy, false))
                        .proxy(system_proxy());
                    let $ca = ca_certificate();
                    $trust
                }
            }

            fn gateway_proxy(registry: &Registry, policy: Policy, local: bool) -> Proxy {
                let (route, user, password) = gateway_route(registry, policy, local);
                Proxy::custom(move |url: &Url| route(url.as_str()))
                    // Sent both on absolute-form `http://` requests and on the CONNECT
                    // of tunnels.
                    .basic_auth(&user, password)
            }

            /// reqwest's automatic system proxy, which it drops once any proxy is added
            /// and has no public constructor for, rebuilt from the matcher reqwest
            /// itself uses. Like reqwest, it reads the environment once, when the
            /// client is configured.
            fn system_proxy() -> Proxy {
                let matcher = Matcher::from_system();
                Proxy::custom(move |url: &Url| {
                    let (uri, credentials) = system_hit(&matcher, url.as_str())?;
                    let Ok(mut url) = Url::parse(&uri) else {
                        return Some(uri);
                    };
                    if let Some((user, password)) = credentials {
                        let _ = url.set_username(&user);
                        let _ = url.set_password(Some(&password));
                    }
                    Some(String::from(url))
                })
            }

            /// The process's CA as a reqwest certificate (made on first use: tens of
            /// milliseconds, once).
            fn ca_certificate() -> rq::Certificate {
                rq::Certificate::from_der(&crate::tls::ca_cert_der())
                    .expect("http-intercept: its own CA certificate parses")
            }
        }
    };
}

implement!("reqwest", v013, reqwest, |builder, ca| builder
    .tls_certs_merge([ca]));
implement!("reqwest012", v012, reqwest012, |builder, ca| {
    super::install_provider();
    builder.add_root_certificate(ca)
});

/// reqwest 0.12's rustls backend, built without a provider of its own (its `ring` one
/// is left out), uses the process default: install aws-lc-rs there unless the program
/// installed one.
#[cfg(feature = "reqwest012")]
fn install_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Lost a race with another installer: theirs is as good.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}

/// The route of the gateway proxy, with the credentials it carries: the gateway for
/// targets registered in `registry`, nothing for the rest. reqwest calls the route with `scheme://host[:port]` when it
/// decides on proxy credentials for an `http://` request (twice per request) and when
/// it opens a new connection.
///
/// With `local`, the gateway is the listener of the runtime the connection is opened
/// on, which serves it on that runtime ([`local_url`]); else, or outside a runtime, the
/// shared one.
///
/// The client sees the registrations of the scope it is built in (see
/// [`Scope`](crate::Scope)), wherever its requests are served.
///
/// The last answer is kept while the registry's generation, the runtime and the URL
/// are the same: a client's requests mostly go to one target, and reqwest asks per
/// request.
fn gateway_route(
    registry: &Registry,
    policy: Policy,
    local: bool,
) -> (
    impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    String,
    &'static str,
) {
    let weak = registry.downgrade();
    let lookup = Lookup::here();
    let (user, password) = credentials(registry, &lookup, Holder::Client(policy));
    // The first answer for an `http://` authority sticks for the client's life, either
    // way. reqwest asks twice: when it adds the proxy credentials to a request (as it
    // executes it), and again when it opens a connection for it; and it sends a request
    // over any connection pooled for its destination.
    // - Direct first (nothing registered then): a direct connection may be pooled, and
    //   the credentials would reach the real host over it. The host stays direct.
    // - Gateway first: a removal between the two questions would send the request,
    //   credentials added, over a new direct connection. The host stays with the
    //   gateway, which forwards what is no longer registered to the real host.
    // `https://` is free of both: its credentials travel in the CONNECT only.
    let sticky = Mutex::new((HashSet::<String>::new(), HashSet::<String>::new()));
    let gateway_url = move || {
        local
            .then(local_url)
            .flatten()
            .unwrap_or_else(|| gateway().url().to_owned())
    };
    let decide = move |registry: Option<&Registry>, url: &str| {
        let uri: http::Uri = url.parse().ok()?;
        let target = uri_target(&uri)?;
        let authority = target.authority();
        let http = uri.scheme() == Some(&http::uri::Scheme::HTTP);
        let mut sticky = sticky.lock().unwrap_or_else(PoisonError::into_inner);
        let (direct, via_gateway) = &mut *sticky;
        if http && direct.contains(&authority) {
            note_direct(&authority, local);
            return None;
        }
        if http && via_gateway.contains(&authority) {
            return Some(gateway_url());
        }
        let registered =
            registry.is_some_and(|registry| registry.host(&lookup, &authority).is_some());
        // What the policy refuses goes to the gateway too, which answers the refusal.
        let hit = (registered || !policy.allows(&target)).then(gateway_url);
        if http {
            if hit.is_some() {
                via_gateway.insert(authority);
            } else {
                note_direct(&authority, local);
                direct.insert(authority);
            }
        }
        hit
    };
    let last = Mutex::new(None::<Decided>);
    let route = move |url: &str| {
        let registry = weak.upgrade();
        let generation = registry.as_ref().map_or(0, Registry::generation);
        let runtime = tokio::runtime::Handle::try_current().ok().map(|h| h.id());
        {
            let last = last.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(last) = last.as_ref().filter(|last| {
                last.generation == generation && last.runtime == runtime && last.url == url
            }) {
                return last.hit.clone();
            }
        }
        let hit = decide(registry.as_ref(), url);
        *last.lock().unwrap_or_else(PoisonError::into_inner) = Some(Decided {
            url: url.to_owned(),
            generation,
            runtime,
            hit: hit.clone(),
        });
        hit
    };
    (route, user, password)
}

/// A route's last answer, and what it holds for.
struct Decided {
    url: String,
    generation: u64,
    runtime: Option<tokio::runtime::Id>,
    hit: Option<String>,
}

/// The system proxy for `url`, if any: its URL and its credentials.
fn system_hit(matcher: &Matcher, url: &str) -> Option<(String, Option<(String, String)>)> {
    let uri: http::Uri = url.parse().ok()?;
    let hit = matcher.intercept(&uri)?;
    Some((hit.uri().to_string(), hit_credentials(&hit)))
}

/// A matcher hit's credentials, decoded.
fn hit_credentials(hit: &ProxyHit) -> Option<(String, String)> {
    match hit.basic_auth() {
        Some(basic) => basic
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|s| s.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned()))),
        None => hit.raw_auth().map(|(u, p)| (u.to_owned(), p.to_owned())),
    }
}
