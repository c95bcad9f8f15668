//! The crate's one error type.

use std::fmt;

/// A boxed error, as tower and hyper pass them at service edges.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An error from http-intercept.
///
/// The message names the thing at fault: the target that could not be parsed, the
/// authority that is already registered, or the connection that was refused. Use the
/// `is_*` predicates to tell the kinds apart.
pub struct Error {
    kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    /// A target string that could not be parsed.
    InvalidTarget { input: String, reason: String },
    /// A target (authority and path prefix) that is already registered; in the global
    /// registry, in the scope named.
    AlreadyRegistered {
        target: String,
        scope: Option<String>,
    },
    /// A connection refused by the connector's policy.
    Denied { authority: String, url: String },
    /// No tokio runtime to serve an in-memory connection on.
    NoRuntime { authority: String },
}

impl Error {
    pub(crate) fn new(kind: Kind) -> Self {
        Error { kind }
    }

    pub(crate) fn invalid_target(input: &str, reason: impl Into<String>) -> Self {
        Error::new(Kind::InvalidTarget {
            input: input.to_owned(),
            reason: reason.into(),
        })
    }

    /// Returns true if a target could not be parsed.
    pub fn is_invalid_target(&self) -> bool {
        matches!(self.kind, Kind::InvalidTarget { .. })
    }

    /// Returns true if the target was already registered.
    pub fn is_already_registered(&self) -> bool {
        matches!(self.kind, Kind::AlreadyRegistered { .. })
    }

    /// Returns true if a connection was refused because nothing is registered for its
    /// target and the policy denies real connections.
    pub fn is_denied(&self) -> bool {
        matches!(self.kind, Kind::Denied { .. })
    }

    /// Returns true if an in-memory connection was needed outside a tokio runtime.
    pub fn is_no_runtime(&self) -> bool {
        matches!(self.kind, Kind::NoRuntime { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::InvalidTarget { input, reason } => {
                write!(f, "invalid target {input:?}: {reason}")
            }
            Kind::AlreadyRegistered {
                target,
                scope: None,
            } => write!(
                f,
                "{target} is already registered in this registry; \
                 drop its guard or call remove({target:?}) first"
            ),
            Kind::AlreadyRegistered {
                target,
                scope: Some(scope),
            } => write!(
                f,
                "{target} is already registered in this scope ({scope}); other tests' \
                 registrations live in scopes of their own and never collide with yours \
                 (see http_intercept::Scope), so this one was made earlier by this test or by \
                 code sharing its scope: drop that guard or call remove({target:?}) first"
            ),
            Kind::Denied { authority, url } => write!(
                f,
                "real connections are disabled: no service is registered for {authority}; \
                 register one with http_intercept::add({url:?}, service) \
                 or allow real connections with Policy::PassThrough"
            ),
            Kind::NoRuntime { authority } => write!(
                f,
                "cannot serve the in-memory connection to {authority}: \
                 no tokio runtime is running on this thread"
            ),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("http_intercept::Error")
            .field("kind", &self.kind)
            .field("message", &self.to_string())
            .finish()
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_thing_at_fault() {
        let e = Error::new(Kind::AlreadyRegistered {
            target: "api.test:80".into(),
            scope: None,
        });
        assert!(e.is_already_registered());
        assert!(e
            .to_string()
            .starts_with("api.test:80 is already registered"));
        let e = Error::new(Kind::Denied {
            authority: "example.com:443".into(),
            url: "https://example.com".into(),
        });
        assert!(e.is_denied());
        assert!(e.to_string().contains("example.com:443"));
    }
}
