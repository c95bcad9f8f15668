//! Configuring a cassette: mode, matchers, repeats, redaction and where it records
//! from; opening it loads the file and builds the index.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::header::HeaderName;
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;

use super::cassette::{Cassette, Entry, Shared, State};
use super::error::{Error, Kind};
use super::format;
use super::har;
use super::index::Index;
use super::interaction::Interaction;
use super::matcher::{Match, Matchers};
use super::mode::Mode;
use super::not_found::NotFound;
use super::proxy::Proxy;
use super::redact::Redaction;
use super::save::{self, Fingerprint};
use super::upstream::Upstream;
use super::yaml;
use crate::error::BoxError;

/// Configures and opens a [`Cassette`]; see [`Cassette::builder`].
#[must_use = "call open() to open the cassette"]
pub struct CassetteBuilder {
    path: PathBuf,
    mode: Mode,
    mode_from_env: bool,
    matchers: Matchers,
    matchers_set: bool,
    repeats: Option<bool>,
    not_found: Option<NotFound>,
    require_all_played: bool,
    save_on_drop: bool,
    re_record_after: Option<Duration>,
    redaction: Redaction,
    upstream: Option<Upstream>,
}

impl fmt::Debug for CassetteBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CassetteBuilder")
            .field("path", &self.path)
            .field("mode", &self.mode)
            .field("mode_from_env", &self.mode_from_env)
            .field("matchers", &self.matchers)
            .field("allow_playback_repeats", &self.repeats)
            .field("not_found", &self.not_found)
            .field("require_all_played", &self.require_all_played)
            .field("save_on_drop", &self.save_on_drop)
            .field("re_record_after", &self.re_record_after)
            .field("redaction", &self.redaction)
            .finish()
    }
}

impl CassetteBuilder {
    pub(crate) fn new(path: PathBuf) -> CassetteBuilder {
        CassetteBuilder {
            path,
            mode: Mode::Once,
            mode_from_env: true,
            matchers: Matchers::default(),
            matchers_set: false,
            repeats: None,
            not_found: None,
            require_all_played: false,
            save_on_drop: false,
            re_record_after: None,
            redaction: Redaction::default(),
            upstream: None,
        }
    }

    /// Sets the mode.
    ///
    /// Default: [`Mode::Once`]. The [`MODE_ENV`](crate::record::MODE_ENV) environment
    /// variable overrides it, unless [`mode_from_env(false)`](Self::mode_from_env).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Whether the [`MODE_ENV`](crate::record::MODE_ENV) environment variable, when
    /// set, overrides the mode.
    ///
    /// Default: true.
    pub fn mode_from_env(mut self, yes: bool) -> Self {
        self.mode_from_env = yes;
        self
    }

    /// Sets the parts of a request that must equal a recorded one's for it to match.
    ///
    /// Default: [`Match::defaults`] (method, scheme, host, port, path, query).
    pub fn match_on(mut self, on: impl IntoIterator<Item = Match>) -> Self {
        self.matchers.on = on.into_iter().collect();
        self.matchers_set = true;
        self
    }

    /// Also matches on the header `name`.
    ///
    /// # Panics
    ///
    /// If `name` is not a valid header name.
    pub fn match_header(mut self, name: &str) -> Self {
        self.matchers.on.push(Match::header(name));
        self.matchers_set = true;
        self
    }

    /// Also matches on the body, byte for byte.
    pub fn match_body(mut self) -> Self {
        self.matchers.on.push(Match::Body);
        self.matchers_set = true;
        self
    }

    /// Also matches on the body as JSON (key order and whitespace do not matter).
    pub fn match_json_body(mut self) -> Self {
        self.matchers.on.push(Match::JsonBody);
        self.matchers_set = true;
        self
    }

    /// Adds a custom matcher, applied after the indexed ones: `f(request, recorded)`
    /// returns whether `recorded` may answer `request`. `name` appears in the
    /// unmatched report when it rejects the nearest candidate.
    ///
    /// Both requests have their whole body, and have been through the redaction and
    /// [`before_record_request`](Self::before_record_request).
    ///
    /// Default: none.
    pub fn matcher<F>(mut self, name: &str, f: F) -> Self
    where
        F: Fn(&Request<Bytes>, &Request<Bytes>) -> bool + Send + Sync + 'static,
    {
        self.matchers.custom.push((name.to_owned(), Arc::new(f)));
        self
    }

    /// Whether a request whose matching interactions were all played is served the
    /// last of them again.
    ///
    /// Default: false, each recorded interaction is served at most once, in recorded
    /// order for identical requests; true for [HAR files](crate::record::har).
    pub fn allow_playback_repeats(mut self, yes: bool) -> Self {
        self.repeats = Some(yes);
        self
    }

    /// What a cassette that does not record does with a request that matches
    /// nothing (a cassette that records forwards and records it).
    ///
    /// Default: [`NotFound::Report`]; [`NotFound::Abort`] for
    /// [HAR files](crate::record::har).
    pub fn not_found(mut self, not_found: NotFound) -> Self {
        self.not_found = Some(not_found);
        self
    }

    /// Whether the end-of-test report also fails when a recorded interaction was
    /// never played.
    ///
    /// Default: false.
    pub fn require_all_played(mut self, yes: bool) -> Self {
        self.require_all_played = yes;
        self
    }

    /// Re-records a cassette whose oldest interaction was recorded more than `age`
    /// ago (VCR's `re_record_interval`, Polly's `expiresIn`): in [`Mode::Once`] and
    /// [`Mode::NewEpisodes`] such a cassette opens in [`Mode::Record`], so that the
    /// run records everything again and its save replaces the file. The age comes from
    /// the interactions' `recorded_at` (see [the format](crate::record::format)), or,
    /// for files without it, the file's modification time. [`Mode::Replay`] never
    /// records: an expired cassette still replays there (CI keeps working offline).
    ///
    /// Default: never.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use http_intercept::record::Cassette;
    ///
    /// let dir = std::env::temp_dir().join("http-intercept-doc-re-record");
    /// let week = Duration::from_secs(7 * 24 * 3600);
    /// let cassette = Cassette::builder(dir.join("api.json")).re_record_after(week).open()?;
    /// # drop(cassette);
    /// # Ok::<(), http_intercept::record::Error>(())
    /// ```
    pub fn re_record_after(mut self, age: Duration) -> Self {
        self.re_record_after = Some(age);
        self
    }

    /// Whether dropping the cassette without [`finish`](Cassette::finish) saves it
    /// (unless the thread is panicking).
    ///
    /// Default: false. A test that fails by returning `Err` drops its cassette
    /// without panicking, so a drop cannot tell a passing test from a failing one;
    /// only `finish()` at the end of the test saves. Turn this on only for tests that
    /// can fail by panicking alone.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::record::Cassette;
    ///
    /// let dir = std::env::temp_dir().join("http-intercept-doc-save-on-drop");
    /// let cassette = Cassette::builder(dir.join("api.json")).save_on_drop(true).open()?;
    /// drop(cassette); // nothing recorded: nothing to save
    /// # Ok::<(), http_intercept::record::Error>(())
    /// ```
    pub fn save_on_drop(mut self, yes: bool) -> Self {
        self.save_on_drop = yes;
        self
    }

    /// Redacts these headers too (their values become
    /// [`REDACTED`](crate::record::REDACTED)), in requests and responses.
    ///
    /// Default: `authorization`, `proxy-authorization`, `cookie`, `set-cookie` and
    /// `x-api-key`.
    ///
    /// # Panics
    ///
    /// If a name is not a valid header name.
    pub fn redact_headers<I>(mut self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        for name in names {
            let name = name.as_ref();
            match HeaderName::from_bytes(name.as_bytes()) {
                Ok(name) => self.redaction.headers.push(name),
                Err(_) => panic!("redact_headers: invalid header name {name:?}"),
            }
        }
        self
    }

    /// Redacts the values of these query parameters too in recorded URIs (names
    /// compared case-insensitively, after percent-decoding).
    ///
    /// Default: `access_token`, `api_key` and `token`.
    pub fn redact_query_params<I>(mut self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.redaction
            .query
            .extend(names.into_iter().map(|n| n.as_ref().to_owned()));
        self
    }

    /// Records the query parameters `access_token`, `api_key` and `token` as they are
    /// (names given to [`redact_query_params`](Self::redact_query_params) stay
    /// redacted).
    pub fn keep_sensitive_query_params(mut self) -> Self {
        let defaults = super::redact::DEFAULT_QUERY;
        self.redaction
            .query
            .retain(|q| !defaults.contains(&q.as_str()));
        self
    }

    /// Redacts the string values of these keys too in JSON bodies (at any depth) and
    /// form bodies (`application/x-www-form-urlencoded`) of requests and responses
    /// that are not content-encoded; `content-length` is kept true.
    ///
    /// Default: `access_token`, `refresh_token`, `id_token` and `client_secret`, so
    /// that OAuth token requests and responses are recorded without their tokens.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::record::Cassette;
    ///
    /// let dir = std::env::temp_dir().join("http-intercept-doc-body-keys");
    /// let cassette = Cassette::builder(dir.join("oauth.json"))
    ///     .redact_body_keys(["password", "otp"])
    ///     .open()?;
    /// # drop(cassette);
    /// # Ok::<(), http_intercept::record::Error>(())
    /// ```
    pub fn redact_body_keys<I>(mut self, keys: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        self.redaction
            .body_keys
            .extend(keys.into_iter().map(|k| k.as_ref().to_owned()));
        self
    }

    /// Records the body keys `access_token`, `refresh_token`, `id_token` and
    /// `client_secret` as they are (keys given to
    /// [`redact_body_keys`](Self::redact_body_keys) stay redacted).
    pub fn keep_sensitive_body_keys(mut self) -> Self {
        let defaults = super::redact::DEFAULT_BODY_KEYS;
        self.redaction
            .body_keys
            .retain(|k| !defaults.contains(&k.as_str()));
        self
    }

    /// Records `authorization`, `proxy-authorization`, `cookie`, `set-cookie` and
    /// `x-api-key` as they are (headers given to [`redact_headers`](Self::redact_headers) stay
    /// redacted).
    pub fn keep_sensitive_headers(mut self) -> Self {
        let defaults = super::redact::default_headers();
        self.redaction.headers.retain(|h| !defaults.contains(h));
        self
    }

    /// A secret value that must never be saved: a save that would write it anywhere
    /// (URI, header, body, failure message), as given or percent-encoded (`a b/c`
    /// found as `a%20b%2Fc`, `a%20b%2fc` or `a+b%2Fc`, as URIs and form bodies carry
    /// it), fails with an error naming where it was found, and the file is left as it
    /// was. Compressed bodies are not searched. Empty values are ignored.
    ///
    /// Default: none.
    pub fn secret(mut self, value: impl Into<String>) -> Self {
        let value = value.into();
        if !value.is_empty() {
            self.redaction.secrets.push(value);
        }
        self
    }

    /// Rewrites each request before it is recorded and before it is matched; return
    /// `None` to not record it (it then cannot be replayed either). It runs after the
    /// header and query redaction. The real host still gets the original request.
    ///
    /// Default: none.
    pub fn before_record_request<F>(mut self, f: F) -> Self
    where
        F: Fn(Request<Bytes>) -> Option<Request<Bytes>> + Send + Sync + 'static,
    {
        self.redaction.before_request = Some(Arc::new(f));
        self
    }

    /// Rewrites each response before it is recorded; return `None` to not record the
    /// interaction. The client still gets the original response.
    ///
    /// Default: none.
    pub fn before_record_response<F>(mut self, f: F) -> Self
    where
        F: Fn(Response<Bytes>) -> Option<Response<Bytes>> + Send + Sync + 'static,
    {
        self.redaction.before_response = Some(Arc::new(f));
        self
    }

    /// Records through this proxy (to set its timeout or TLS configuration).
    ///
    /// Default: [`Proxy::new()`].
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.upstream = Some(Upstream::new(proxy));
        self
    }

    /// Records from any tower service instead of the network: an in-process app, a
    /// [`Record`](crate::record::Record)-wrapped service, a stub.
    ///
    /// Default: a [`Proxy`] to the real host.
    pub fn upstream<S, B>(mut self, service: S) -> Self
    where
        S: tower_service::Service<Request<Full<Bytes>>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.upstream = Some(Upstream::new(service));
        self
    }

    /// Opens the cassette: reads the file if the mode replays (or to see whether it
    /// expired, with [`re_record_after`](Self::re_record_after)). A path ending in
    /// `.har` opens a [HAR file](crate::record::har), one ending in `.yaml` or `.yml`
    /// a [vcrpy or Ruby VCR cassette](crate::record::yaml); both only replay, and must
    /// exist.
    ///
    /// # Errors
    ///
    /// If the file is malformed or truncated (the error names the file, line and
    /// column), was written by a newer format version, cannot be read, or does not
    /// exist in [`Mode::Replay`]; if [`MODE_ENV`](crate::record::MODE_ENV) holds no
    /// mode. A file that failed to load is never overwritten by this cassette.
    pub fn open(self) -> Result<Cassette, Error> {
        let mode = match self.mode_from_env {
            true => Mode::from_env()?.unwrap_or(self.mode),
            false => self.mode,
        };
        if har::is_har(&self.path) {
            return self.open_har();
        }
        if yaml::is_yaml(&self.path) {
            return self.open_yaml();
        }
        let bytes = save::read(&self.path)?;
        let disk = Fingerprint::of(bytes.as_deref());
        let mut loaded = match (mode, bytes) {
            (Mode::Record, _) | (_, None) => None,
            (_, Some(bytes)) => {
                // Indexed as they are read, while each is still in the cache.
                let mut loaded = Loaded::with_capacity(bytes.len() / 256);
                format::parse_each(&self.path, bytes.into(), |i| loaded.push(&self.matchers, i))?;
                Some(loaded)
            }
        };
        let mut mode = mode;
        if let (Some(age), Some(file), Mode::Once | Mode::NewEpisodes) =
            (self.re_record_after, &loaded, mode)
        {
            let recorded = file
                .entries
                .iter()
                .filter_map(|e| e.interaction.recorded_at)
                .min()
                .or_else(|| {
                    std::fs::metadata(&self.path)
                        .and_then(|m| m.modified())
                        .ok()
                });
            let expired = recorded
                .and_then(|at| SystemTime::now().duration_since(at).ok())
                .is_some_and(|elapsed| elapsed > age);
            if expired {
                mode = Mode::Record;
                loaded = None;
            }
        }
        let (replay, record) = match (mode, loaded.is_some()) {
            (Mode::Once, true) | (Mode::Replay, true) => (true, false),
            (Mode::Once, false) | (Mode::Record, _) => (false, true),
            (Mode::NewEpisodes, _) => (true, true),
            (Mode::Replay, false) => {
                return Err(Error::new(Kind::Missing { path: self.path }));
            }
        };
        let not_found = self.not_found.unwrap_or(NotFound::Report);
        self.build_loaded(
            mode,
            replay,
            record,
            loaded.unwrap_or_else(|| Loaded::with_capacity(0)),
            disk,
            not_found,
        )
    }

    /// A HAR file: replay only, with Playwright's defaults.
    fn open_har(mut self) -> Result<Cassette, Error> {
        let interactions = har::load(&self.path)?.ok_or_else(|| {
            Error::new(Kind::Missing {
                path: self.path.clone(),
            })
        })?;
        if !self.matchers_set {
            self.matchers.on.push(Match::Body);
        }
        self.repeats = Some(self.repeats.unwrap_or(true));
        let not_found = self.not_found.unwrap_or(NotFound::Abort);
        self.build(Mode::Replay, true, false, interactions, None, not_found)
    }

    /// A vcrpy or Ruby VCR cassette: replay only, with the defaults both tools share.
    fn open_yaml(self) -> Result<Cassette, Error> {
        let interactions = yaml::load(&self.path)?.ok_or_else(|| {
            Error::new(Kind::Missing {
                path: self.path.clone(),
            })
        })?;
        let not_found = self.not_found.unwrap_or(NotFound::Report);
        self.build(Mode::Replay, true, false, interactions, None, not_found)
    }

    fn build(
        self,
        mode: Mode,
        replay: bool,
        record: bool,
        interactions: Vec<Interaction>,
        disk: Option<Fingerprint>,
        not_found: NotFound,
    ) -> Result<Cassette, Error> {
        let mut loaded = Loaded::with_capacity(interactions.len());
        for interaction in interactions {
            loaded.push(&self.matchers, interaction);
        }
        self.build_loaded(mode, replay, record, loaded, disk, not_found)
    }

    fn build_loaded(
        self,
        mode: Mode,
        replay: bool,
        record: bool,
        loaded: Loaded,
        disk: Option<Fingerprint>,
        not_found: NotFound,
    ) -> Result<Cassette, Error> {
        let state = State {
            saved_upto: loaded.entries.len(),
            entries: loaded.entries,
            index: loaded.index,
            dirty: false,
            misses: Vec::new(),
            disk,
            merged: false,
        };
        let upstream = self.upstream.unwrap_or_else(|| Upstream::new(Proxy::new()));
        Ok(Cassette::from_shared(Arc::new(Shared {
            path: self.path,
            mode,
            replay,
            record,
            repeats: self.repeats.unwrap_or(false),
            not_found,
            require_all_played: self.require_all_played,
            save_on_drop: self.save_on_drop,
            matchers: self.matchers,
            redaction: self.redaction,
            upstream,
            state: Mutex::new(state),
        })))
    }
}

/// Interactions read from a file, indexed, as a cassette starts with them.
struct Loaded {
    entries: Vec<Arc<Entry>>,
    index: Index,
}

impl Loaded {
    fn with_capacity(n: usize) -> Loaded {
        Loaded {
            entries: Vec::with_capacity(n),
            index: Index::with_capacity(n),
        }
    }

    fn push(&mut self, matchers: &Matchers, interaction: Interaction) {
        let fields = matchers.hashes(&interaction.request);
        self.index.push(fields.key(), 0);
        self.entries.push(Arc::new(Entry {
            interaction,
            fields,
        }));
    }
}
