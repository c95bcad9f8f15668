//! The record mode of a cassette, and the environment variable that overrides it.

use std::fmt;
use std::str::FromStr;

use super::error::{Error, Kind};

/// The environment variable that forces a [`Mode`] on every cassette of a test run:
/// `once`, `replay`, `record` or `new_episodes` (`none` and `all` are accepted as in
/// VCR). Set it to `record` to refresh all cassettes:
///
/// ```sh
/// HTTP_INTERCEPT_RECORD_MODE=record cargo test
/// ```
///
/// A cassette built with
/// [`CassetteBuilder::mode_from_env(false)`](crate::record::CassetteBuilder::mode_from_env)
/// ignores it.
pub const MODE_ENV: &str = "HTTP_INTERCEPT_RECORD_MODE";

/// When a cassette replays and when it records.
///
/// # Examples
///
/// ```
/// use http_intercept::record::Mode;
///
/// assert_eq!("new_episodes".parse::<Mode>().unwrap(), Mode::NewEpisodes);
/// assert_eq!(Mode::default(), Mode::Once);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Replay if the file exists, else record every request (the default). With an
    /// existing file, a request that matches nothing fails and is reported.
    #[default]
    Once,
    /// Only replay: never touch the network. The file must exist; a request that
    /// matches nothing fails and is reported.
    Replay,
    /// Record every request again, ignoring what the file holds; it is replaced when
    /// the test passes.
    Record,
    /// Replay what matches, record the rest and add it to the file.
    NewEpisodes,
}

impl Mode {
    /// The mode named by [`MODE_ENV`], if it is set.
    ///
    /// # Errors
    ///
    /// If it is set to something that is not a mode (the error names the value).
    pub fn from_env() -> Result<Option<Mode>, Error> {
        match std::env::var(MODE_ENV) {
            Ok(value) if value.trim().is_empty() => Ok(None),
            Ok(value) => value.parse().map(Some),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(v)) => Err(Error::new(Kind::InvalidMode {
                value: v.to_string_lossy().into_owned(),
            })),
        }
    }

    /// The name used by [`MODE_ENV`].
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Once => "once",
            Mode::Replay => "replay",
            Mode::Record => "record",
            Mode::NewEpisodes => "new_episodes",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = Error;

    /// Parses `once`, `replay` (or `none`), `record` (or `all`), `new_episodes` (or
    /// `new-episodes`), case-insensitively.
    fn from_str(s: &str) -> Result<Mode, Error> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "once" => Mode::Once,
            "replay" | "none" => Mode::Replay,
            "record" | "all" => Mode::Record,
            "new_episodes" | "new-episodes" | "newepisodes" => Mode::NewEpisodes,
            _ => {
                return Err(Error::new(Kind::InvalidMode {
                    value: s.to_owned(),
                }))
            }
        })
    }
}
