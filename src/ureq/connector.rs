//! The ureq connector and resolver, and the agents built with them.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ureq::config::Config;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver as _};
use ureq::unversioned::transport::{
    ConnectionDetails, DefaultConnector, LazyBuffers, NextTimeout, Transport,
};
use ureq::Agent;

use super::transport::{InMemory, PassThrough};
use crate::connect::Policy;
use crate::error::{Error, Kind};
use crate::registry::{Registry, Resolved};
use crate::scope::{Lookup, Scope};
use crate::target::uri_target;

/// A ureq agent that intercepts the targets registered in [`Registry::global`], with
/// ureq's default configuration.
pub fn agent() -> Agent {
    agent_with(Agent::config_builder().build())
}

/// A ureq agent with `config` that intercepts the targets registered in
/// [`Registry::global`]. For another registry or policy, use
/// [`Connector::into_agent`].
pub fn agent_with(config: Config) -> Agent {
    Connector::new().into_agent(config)
}

/// A ureq connector: registered targets go into their service, the rest to ureq's
/// `DefaultConnector`, or are refused per the [`Policy`].
///
/// It sees the registrations of the [`Scope`] it was made in (ureq's requests are
/// blocking calls, often from threads the test did not make), then the process-wide
/// ones.
pub struct Connector {
    registry: Registry,
    policy: Policy,
    lookup: Lookup,
    default: DefaultConnector,
}

impl Connector {
    /// A connector over [`Registry::global`] that passes unregistered targets through.
    pub fn new() -> Connector {
        Connector {
            registry: Registry::global().clone(),
            policy: Policy::PassThrough,
            lookup: Lookup::here(),
            default: DefaultConnector::new(),
        }
    }

    /// Sees the registrations of `scope` (then the process-wide ones) instead of those
    /// of the scope the connector was made in.
    ///
    /// Default: [`Scope::current`] where [`Connector::new`] was called.
    pub fn with_scope(mut self, scope: Scope) -> Connector {
        self.lookup = Lookup::pinned(scope);
        self
    }

    /// Consults `registry` instead of the global one.
    ///
    /// Default: [`Registry::global`].
    pub fn with_registry(mut self, registry: &Registry) -> Connector {
        self.registry = registry.clone();
        self
    }

    /// Sets what happens to connections to targets nothing is registered for.
    ///
    /// Default: [`Policy::PassThrough`].
    pub fn with_policy(mut self, policy: Policy) -> Connector {
        self.policy = policy;
        self
    }

    /// The resolver that goes with this connector: same registry, same policy.
    pub fn resolver(&self) -> Resolver {
        Resolver {
            registry: self.registry.clone(),
            policy: self.policy,
            lookup: self.lookup,
            default: DefaultResolver::default(),
        }
    }

    /// A ureq agent with `config`, this connector and its [`resolver`](Connector::resolver).
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::{ureq::Connector, Policy, Registry};
    ///
    /// let registry = Registry::new();
    /// let agent = Connector::new()
    ///     .with_registry(&registry)
    ///     .with_policy(Policy::Deny)
    ///     .into_agent(ureq::Agent::config_builder().build());
    /// let err = agent.get("http://not-registered.test/").call().unwrap_err();
    /// assert!(err.to_string().contains("real connections are disabled"));
    /// ```
    pub fn into_agent(self, config: Config) -> Agent {
        let resolver = self.resolver();
        Agent::with_parts(config, self, resolver)
    }
}

impl Default for Connector {
    fn default() -> Self {
        Connector::new()
    }
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("registry", &self.registry)
            .field("policy", &self.policy)
            .finish()
    }
}

impl ureq::unversioned::transport::Connector for Connector {
    type Out = Box<dyn Transport>;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        chained: Option<()>,
    ) -> Result<Option<Box<dyn Transport>>, ureq::Error> {
        let Some(target) = uri_target(details.uri) else {
            return self.default.connect(details, chained);
        };
        match self
            .registry
            .resolve(&self.lookup, &target.authority(), false)
        {
            Resolved::InMemory(host, route) => {
                let config = details.config;
                let buffers =
                    LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size());
                let transport = InMemory::open(host, target.scheme(), route, buffers)?;
                Ok(Some(Box::new(transport)))
            }
            Resolved::PassThrough(route) if self.policy.allows(&target) => {
                let inner = if details.addrs.iter().all(|a| a.ip().is_unspecified()) {
                    // Resolved while the target was registered, whose registration is gone
                    // now: resolve for real rather than dial the placeholder address.
                    let addrs = DefaultResolver::default().resolve(
                        details.uri,
                        details.config,
                        details.timeout,
                    )?;
                    let details = ConnectionDetails {
                        uri: details.uri,
                        addrs,
                        config: details.config,
                        request_level: details.request_level,
                        resolver: details.resolver,
                        now: details.now,
                        timeout: details.timeout,
                        current_time: details.current_time.clone(),
                        run_connector: details.run_connector.clone(),
                        register_shutdown: details.register_shutdown.clone(),
                    };
                    self.default.connect(&details, chained)?
                } else {
                    self.default.connect(details, chained)?
                };
                Ok(inner.map(|t| Box::new(PassThrough::new(t, route)) as Box<dyn Transport>))
            }
            Resolved::PassThrough(_) => {
                let denied = Error::new(Kind::Denied {
                    authority: target.authority(),
                    url: target.url(),
                });
                Err(ureq::Error::Io(io::Error::new(
                    io::ErrorKind::ConnectionRefused,
                    denied,
                )))
            }
        }
    }
}

/// A ureq resolver that answers, without DNS, the targets its [`Connector`] will not
/// pass to the network (registered ones, and those its policy refuses, so that the
/// refusal names the target), and asks ureq's `DefaultResolver` for the rest. Get one
/// from [`Connector::resolver`].
pub struct Resolver {
    registry: Registry,
    policy: Policy,
    lookup: Lookup,
    default: DefaultResolver,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("registry", &self.registry)
            .field("policy", &self.policy)
            .finish()
    }
}

impl ureq::unversioned::resolver::Resolver for Resolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        if let Some(target) = uri_target(uri) {
            let registered = self
                .registry
                .host(&self.lookup, &target.authority())
                .is_some();
            if registered || !self.policy.allows(&target) {
                // Never connected to: the connector serves this target in memory, or
                // refuses it.
                let mut addrs = self.empty();
                addrs.push(SocketAddr::new(
                    IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    target.port(),
                ));
                return Ok(addrs);
            }
        }
        self.default.resolve(uri, config, timeout)
    }
}
