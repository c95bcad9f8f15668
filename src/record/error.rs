//! The error of the record module: loading, saving, matching and forwarding.

use std::fmt;
use std::path::{Path, PathBuf};

use super::interaction::FailureKind;

/// An error from a cassette, the recorder or the forwarding proxy.
///
/// The message names the thing at fault: the file (with line and column for a malformed
/// cassette), the request that matched nothing, the upstream host that could not be
/// reached. Use the `is_*` predicates to tell the kinds apart.
pub struct Error {
    kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    /// The cassette file is malformed: not JSON, or a field that cannot be read.
    Malformed {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A HAR entry that cannot be replayed.
    Har {
        path: PathBuf,
        entry: usize,
        message: String,
    },
    /// The cassette was written by a newer format version.
    Version {
        path: PathBuf,
        found: u64,
        supported: u64,
    },
    /// Reading or writing the file failed.
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    /// Mode::Replay and no file.
    Missing { path: PathBuf },
    /// A configured secret was found in what would be saved.
    Secret {
        path: PathBuf,
        secret: usize,
        location: String,
    },
    /// The mode environment variable has a value that is not a mode.
    InvalidMode { value: String },
    /// A request matched no recorded interaction and the mode does not record.
    Unmatched { path: PathBuf, description: String },
    /// Forwarding to the real host failed.
    Upstream {
        uri: String,
        failure: FailureKind,
        message: String,
    },
    /// A replayed interaction that was recorded as a failure.
    Replayed { uri: String, message: String },
    /// Reading a request or response body failed.
    Body { what: &'static str, message: String },
    /// The end-of-test report: unmatched requests, unplayed interactions.
    Report { text: String },
}

impl Error {
    pub(crate) fn new(kind: Kind) -> Self {
        Error { kind }
    }

    pub(crate) fn io(path: &Path, action: &'static str, source: std::io::Error) -> Self {
        Error::new(Kind::Io {
            path: path.to_owned(),
            action,
            source,
        })
    }

    /// Returns true if a cassette file is malformed or truncated (the message names the
    /// file, line and column), or a HAR entry cannot be replayed (the message names
    /// the entry).
    pub fn is_malformed(&self) -> bool {
        matches!(self.kind, Kind::Malformed { .. } | Kind::Har { .. })
    }

    /// Returns true if a cassette was written by a newer format version.
    pub fn is_version(&self) -> bool {
        matches!(self.kind, Kind::Version { .. })
    }

    /// Returns true if reading or writing a file failed.
    pub fn is_io(&self) -> bool {
        matches!(self.kind, Kind::Io { .. })
    }

    /// Returns true if the cassette file does not exist and the mode only replays.
    pub fn is_missing(&self) -> bool {
        matches!(self.kind, Kind::Missing { .. })
    }

    /// Returns true if a save was refused because a configured secret was found.
    pub fn is_secret(&self) -> bool {
        matches!(self.kind, Kind::Secret { .. })
    }

    /// Returns true if the record mode environment variable holds no mode.
    pub fn is_invalid_mode(&self) -> bool {
        matches!(self.kind, Kind::InvalidMode { .. })
    }

    /// Returns true if a request matched no recorded interaction, or, from
    /// [`Cassette::finish`](crate::record::Cassette::finish), if the cassette's report
    /// lists unmatched requests or interactions that were required and not played.
    pub fn is_unmatched(&self) -> bool {
        matches!(self.kind, Kind::Unmatched { .. } | Kind::Report { .. })
    }

    /// Returns true if forwarding a request to the real host failed.
    pub fn is_upstream(&self) -> bool {
        matches!(self.kind, Kind::Upstream { .. })
    }

    /// Returns true if forwarding failed because the real host did not answer in time.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.kind,
            Kind::Upstream {
                failure: FailureKind::Timeout,
                ..
            }
        )
    }

    /// Returns true if forwarding failed to connect (refused, DNS, TLS handshake).
    pub fn is_connect(&self) -> bool {
        matches!(
            self.kind,
            Kind::Upstream {
                failure: FailureKind::Connect | FailureKind::Dns,
                ..
            }
        )
    }

    /// The kind of failure, for an error from forwarding to the real host.
    pub(crate) fn failure_kind(&self) -> Option<FailureKind> {
        match self.kind {
            Kind::Upstream { failure, .. } => Some(failure),
            _ => None,
        }
    }

    /// Returns true if this is a recorded failure, replayed.
    pub fn is_replayed_failure(&self) -> bool {
        matches!(self.kind, Kind::Replayed { .. })
    }

    /// Returns true if reading a request or response body failed.
    pub fn is_body(&self) -> bool {
        matches!(self.kind, Kind::Body { .. })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Malformed {
                path,
                line,
                column,
                message,
            } => write!(
                f,
                "malformed cassette {}: line {line}, column {column}: {message}",
                path.display()
            ),
            Kind::Har {
                path,
                entry,
                message,
            } => write!(
                f,
                "cannot replay HAR file {}: entry {entry} (log.entries[{}]): {message}",
                path.display(),
                entry - 1
            ),
            Kind::Version {
                path,
                found,
                supported,
            } => write!(
                f,
                "cassette {} has format version {found}, newer than the versions this \
                 http-intercept reads (up to {supported}): upgrade http-intercept",
                path.display()
            ),
            Kind::Io {
                path,
                action,
                source,
            } => write!(f, "cannot {action} {}: {source}", path.display()),
            Kind::Missing { path } => write!(
                f,
                "cassette {} does not exist and the mode is replay: record it first \
                 (Mode::Once, or HTTP_INTERCEPT_RECORD_MODE=once)",
                path.display()
            ),
            Kind::Secret {
                path,
                secret,
                location,
            } => write!(
                f,
                "not saving cassette {}: secret #{secret} was found in {location}; \
                 redact it before it is recorded (redact_headers, redact_query_params, \
                 before_record_request, before_record_response)",
                path.display()
            ),
            Kind::InvalidMode { value } => write!(
                f,
                "HTTP_INTERCEPT_RECORD_MODE={value:?} is not a record mode; \
                 use once, replay, record or new_episodes"
            ),
            Kind::Unmatched { path, description } => write!(
                f,
                "cassette {}: no recorded interaction matches {description}",
                path.display()
            ),
            Kind::Upstream {
                uri,
                failure,
                message,
            } => match failure {
                FailureKind::Timeout => write!(f, "forwarding to {uri} timed out: {message}"),
                FailureKind::Dns => {
                    write!(
                        f,
                        "forwarding to {uri} failed: cannot resolve the host: {message}"
                    )
                }
                _ => write!(f, "forwarding to {uri} failed: {message}"),
            },
            Kind::Replayed { uri, message } => {
                write!(f, "replayed a recorded failure for {uri}: {message}")
            }
            Kind::Body { what, message } => write!(f, "cannot read the {what} body: {message}"),
            Kind::Report { text } => f.write_str(text),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("http_intercept::record::Error")
            .field("kind", &self.kind)
            .field("message", &self.to_string())
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
