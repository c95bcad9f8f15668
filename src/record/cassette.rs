//! The cassette: recorded interactions loaded from a file, the service that replays
//! and records them, and saving them back.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use http::Request;

use super::builder::CassetteBuilder;
use super::error::{Error, Kind};
use super::format;
use super::index::{Index, Lookup};
use super::interaction::Interaction;
use super::matcher::{Hashes, Matchers};
use super::mode::Mode;
use super::redact::Redaction;
use super::report::{self, Miss};
use super::save::{self, Fingerprint, SaveLock};
use super::service::CassetteService;
use super::upstream::Upstream;

/// A recorded interaction with the hashes of its matcher fields, as the index holds it.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) interaction: Interaction,
    pub(crate) fields: Hashes,
}

/// A file of recorded HTTP interactions that stands in for a real host: it replays
/// what was recorded, and records what was not (per its [`Mode`]) through a
/// [`Proxy`](super::Proxy) to the real host.
///
/// Register its [`service`](Cassette::service) for the hosts it covers, and end the
/// test with [`finish`](Cassette::finish): it saves what was recorded, then fails with
/// a report if a request matched nothing. Only `finish()` saves: a test that fails,
/// by panicking or by returning `Err` before it reaches `finish()`, never writes its
/// cassette. A cassette dropped without `finish()` saves nothing (a note on stderr
/// says what was dropped) and still panics with the report of unmatched requests,
/// unless the thread is already panicking; [`CassetteBuilder::save_on_drop`] brings
/// back saving on drop for tests that can fail by panicking alone.
///
/// Saves never lose what another cassette wrote: two cassettes on one file, in one
/// process or in several (two test binaries in [`Mode::NewEpisodes`]), take an OS file
/// lock in turn, and the second one re-reads the file and adds what it recorded to it.
///
/// # Examples
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
/// use http_intercept::record::{Cassette, Mode};
///
/// // Mode::Once: records on the first run, replays from the file afterwards.
/// let cassette = Cassette::open("tests/cassettes/github_user.json")?;
/// let github = http_intercept::add("https://api.github.com", cassette.service())?;
/// // ... the code under test calls https://api.github.com; any `?` that returns early
/// // leaves the cassette unsaved ...
/// drop(github);
/// cassette.finish()?; // the test got here: save, and check every request matched
/// # Ok(())
/// # }
/// ```
#[must_use = "end the test with finish(): only it saves the cassette"]
pub struct Cassette {
    shared: Arc<Shared>,
    finished: bool,
}

/// What a cassette and its services share.
pub(crate) struct Shared {
    pub(crate) path: PathBuf,
    pub(crate) mode: Mode,
    pub(crate) replay: bool,
    pub(crate) record: bool,
    pub(crate) repeats: bool,
    pub(crate) not_found: super::not_found::NotFound,
    pub(crate) require_all_played: bool,
    pub(crate) save_on_drop: bool,
    pub(crate) matchers: Matchers,
    pub(crate) redaction: Redaction,
    pub(crate) upstream: Upstream,
    pub(crate) state: Mutex<State>,
}

pub(crate) struct State {
    pub(crate) entries: Vec<Arc<Entry>>,
    pub(crate) index: Index,
    pub(crate) dirty: bool,
    pub(crate) misses: Vec<Miss>,
    /// Entries from this position on were recorded since the last save.
    pub(crate) saved_upto: usize,
    /// The file as this cassette last read or wrote it.
    pub(crate) disk: Option<Fingerprint>,
    /// Whether a save found the file replaced by another writer and merged: later
    /// saves append to the file rather than write the entries.
    pub(crate) merged: bool,
}

impl Cassette {
    /// Opens the cassette at `path` with the defaults: [`Mode::Once`] (or the mode in
    /// [`MODE_ENV`](crate::record::MODE_ENV)), default matchers and redaction.
    ///
    /// # Errors
    ///
    /// As [`CassetteBuilder::open`].
    pub fn open(path: impl AsRef<Path>) -> Result<Cassette, Error> {
        Cassette::builder(path).open()
    }

    /// A builder for the cassette at `path`.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::record::{Cassette, Match, Mode};
    ///
    /// let dir = std::env::temp_dir().join("http-intercept-doc-builder");
    /// let cassette = Cassette::builder(dir.join("api.json"))
    ///     .mode(Mode::NewEpisodes)
    ///     .mode_from_env(false)
    ///     .match_on([Match::Method, Match::Path])
    ///     .match_json_body()
    ///     .redact_headers(["x-api-key"])
    ///     .redact_query_params(["token"])
    ///     .allow_playback_repeats(true)
    ///     .open()?;
    /// assert_eq!(cassette.mode(), Mode::NewEpisodes);
    /// # Ok::<(), http_intercept::record::Error>(())
    /// ```
    pub fn builder(path: impl AsRef<Path>) -> CassetteBuilder {
        CassetteBuilder::new(path.as_ref().to_owned())
    }

    pub(crate) fn from_shared(shared: Arc<Shared>) -> Cassette {
        Cassette {
            shared,
            finished: false,
        }
    }

    /// The service to register for the hosts the cassette covers. Clones share the
    /// cassette.
    pub fn service(&self) -> CassetteService {
        CassetteService::new(self.shared.clone())
    }

    /// Registers the cassette's service for `target` in the global registry; see
    /// [`add`](crate::add).
    ///
    /// # Errors
    ///
    /// If the target cannot be parsed or is already registered.
    pub fn add<T: crate::IntoTarget>(&self, target: T) -> Result<crate::Intercept, crate::Error> {
        crate::add(target, self.service())
    }

    /// The origins (`https://api.test`, `http://127.0.0.1:8080`) the recorded
    /// requests name, in the order they first appear.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use http_intercept::record::{Cassette, Interaction, Mode, Recording};
    ///
    /// let dir = std::env::temp_dir().join(format!("http-intercept-doc-origins-{}", std::process::id()));
    /// let recording = Recording::new();
    /// for url in ["https://www.site.test/", "https://cdn.site.test/app.js", "https://www.site.test/a"] {
    ///     let req = http::Request::get(url).body(Bytes::new()).unwrap();
    ///     recording.push(Interaction::new(req, http::Response::new(Bytes::new())));
    /// }
    /// recording.save(dir.join("page.json"))?;
    /// let cassette = Cassette::builder(dir.join("page.json")).mode(Mode::Replay).open()?;
    /// assert_eq!(cassette.origins(), ["https://www.site.test", "https://cdn.site.test"]);
    /// # Ok::<(), http_intercept::record::Error>(())
    /// ```
    pub fn origins(&self) -> Vec<String> {
        let state = self.shared.state();
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for e in &state.entries {
            let uri = e.interaction.request.uri();
            if let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) {
                let origin = format!("{scheme}://{}", authority.as_str().to_ascii_lowercase());
                if seen.insert(origin.clone()) {
                    out.push(origin);
                }
            }
        }
        out
    }

    /// Registers the cassette's service in the global registry for every origin its
    /// interactions name ([`origins`](Self::origins)): one service for a whole page
    /// load. Dropping the returned guards removes them all.
    ///
    /// # Errors
    ///
    /// If an origin is already registered; those registered before it are removed.
    pub fn add_all(&self) -> Result<crate::Intercepts, crate::Error> {
        let mut intercepts = crate::Intercepts::new();
        for origin in self.origins() {
            intercepts.push(self.add(origin.as_str())?);
        }
        Ok(intercepts)
    }

    /// Writes the interactions (loaded and recorded) as a HAR 1.2 file (see
    /// [the `har` module](super::har)), atomically.
    ///
    /// # Errors
    ///
    /// If the file cannot be written; the previous file is then left intact.
    pub fn export_har(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let interactions = self.interactions();
        let path = path.as_ref();
        let _lock = SaveLock::acquire(path)?;
        save::write_atomic(path, &super::har::to_bytes(&interactions))
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// The mode in force: the environment variable applied, and [`Mode::Record`] for a
    /// cassette that expired (see [`CassetteBuilder::re_record_after`]).
    pub fn mode(&self) -> Mode {
        self.shared.mode
    }

    /// Whether requests are answered from recorded interactions.
    pub fn is_replaying(&self) -> bool {
        self.shared.replay
    }

    /// Whether requests that match nothing are forwarded and recorded.
    pub fn is_recording(&self) -> bool {
        self.shared.record
    }

    /// How many interactions the cassette holds (loaded and recorded).
    pub fn len(&self) -> usize {
        self.shared.state().entries.len()
    }

    /// Whether the cassette holds no interaction.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of the interactions, in recorded order.
    pub fn interactions(&self) -> Vec<Interaction> {
        self.shared
            .state()
            .entries
            .iter()
            .map(|e| e.interaction.clone())
            .collect()
    }

    /// How often interaction `index` (from 0, in recorded order) was played or
    /// recorded.
    pub fn play_count(&self, index: usize) -> u32 {
        self.shared.state().index.plays(index)
    }

    /// Whether every interaction was played.
    pub fn all_played(&self) -> bool {
        let state = self.shared.state();
        (0..state.index.len()).all(|i| state.index.plays(i) > 0)
    }

    /// Whether something was recorded that is not saved yet.
    pub fn is_dirty(&self) -> bool {
        self.shared.state().dirty
    }

    /// The requests that matched nothing so far, as `METHOD uri` lines.
    pub fn unmatched(&self) -> Vec<String> {
        self.shared
            .state()
            .misses
            .iter()
            .map(|m| m.line.clone())
            .collect()
    }

    /// The report [`finish`](Self::finish) and the drop would give, if any.
    pub fn report(&self) -> Option<String> {
        let state = self.shared.state();
        let unplayed: Vec<String> = if self.shared.require_all_played {
            state
                .entries
                .iter()
                .enumerate()
                .filter(|(i, _)| state.index.plays(*i) == 0)
                .map(|(i, e)| format!("#{} {}", i + 1, e.interaction.request_line()))
                .collect()
        } else {
            Vec::new()
        };
        report::report(
            &self.shared.path,
            self.shared.mode.as_str(),
            &state.misses,
            &unplayed,
        )
    }

    /// Saves the cassette if something was recorded since it was opened or saved.
    /// Returns whether it wrote the file. [`finish`](Self::finish) calls it.
    ///
    /// It holds an OS file lock on the cassette's path (shared by every process) while
    /// it saves. If another cassette replaced the file since this one read it, the
    /// file is read again and what this cassette recorded since its last save is added
    /// to it, so that neither loses its interactions. The file is written atomically (a
    /// temporary file in the same directory with the old file's permissions, flushed,
    /// renamed over it, the directory flushed), its directory created if missing. On
    /// failure the previous file is left intact.
    ///
    /// # Errors
    ///
    /// If a configured [`secret`](CassetteBuilder::secret) would be saved (the error
    /// names the interaction and where in it), the file cannot be locked or written,
    /// or the file another cassette wrote meanwhile cannot be read back.
    pub fn save(&self) -> Result<bool, Error> {
        self.shared.save()
    }

    /// Ends the cassette, the commit at the end of a test that passed: saves it if
    /// needed, then fails with the report if a request matched nothing (or, with
    /// [`require_all_played`](CassetteBuilder::require_all_played), an interaction
    /// was never played). Dropping a cassette without `finish()` does not save.
    ///
    /// # Examples
    ///
    /// ```
    /// use http_intercept::record::Cassette;
    ///
    /// let dir = std::env::temp_dir().join("http-intercept-doc-finish");
    /// let cassette = Cassette::open(dir.join("api.json"))?;
    /// // ... requests ...
    /// cassette.finish()?;
    /// # Ok::<(), http_intercept::record::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`save`](Self::save); and an error for which
    /// [`Error::is_unmatched`] is true, whose message is the report.
    pub fn finish(mut self) -> Result<(), Error> {
        self.finished = true;
        self.end()
    }

    fn end(&self) -> Result<(), Error> {
        self.save()?;
        match self.report() {
            Some(text) => Err(Error::new(Kind::Report { text })),
            None => Ok(()),
        }
    }
}

impl Drop for Cassette {
    /// Without [`finish`](Cassette::finish) (or
    /// [`save_on_drop`](CassetteBuilder::save_on_drop)), nothing is saved: the test
    /// may have failed by returning `Err`. A note on stderr says what was not saved;
    /// the report of unmatched requests still panics (unless already panicking).
    fn drop(&mut self) {
        if self.finished || std::thread::panicking() {
            return;
        }
        if self.shared.save_on_drop {
            if let Err(err) = self.end() {
                panic!("{err}");
            }
            return;
        }
        let unsaved = {
            let state = self.shared.state();
            state.entries.len() - state.saved_upto
        };
        if unsaved > 0 {
            eprintln!(
                "http-intercept: cassette {} not saved: {unsaved} recorded interaction(s) \
                 dropped because the cassette ended without finish() (a test that \
                 returned Err, or forgot to call finish)",
                self.shared.path.display()
            );
        }
        if let Some(text) = self.report() {
            panic!("{text}");
        }
    }
}

impl fmt::Debug for Cassette {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cassette")
            .field("path", &self.shared.path)
            .field("mode", &self.shared.mode)
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Finds the recorded interaction for `req` (already redacted) and counts it
    /// played; on a miss, returns why.
    pub(crate) fn lookup(&self, req: &Request<Bytes>) -> Result<Arc<Entry>, String> {
        let fields = self.matchers.fields(req);
        let mut state = self.state();
        let State { entries, index, .. } = &mut *state;
        let found = index.find(fields.key(), self.repeats, |id| {
            let e = &entries[id];
            self.matchers.matches(&fields, &e.interaction.request)
                && self.matchers.custom_match(req, &e.interaction.request)
        });
        match found {
            Lookup::Found(id) => Ok(entries[id].clone()),
            Lookup::AllPlayed(ids) => Err(report::describe_miss(
                &self.matchers,
                req,
                &fields,
                entries,
                &ids,
            )),
            Lookup::None => Err(report::describe_miss(
                &self.matchers,
                req,
                &fields,
                entries,
                &[],
            )),
        }
    }

    /// Notes a request that matched nothing, for the report.
    pub(crate) fn miss(&self, line: String, detail: String) {
        self.state().misses.push(Miss { line, detail });
    }

    /// Adds a recorded interaction (counted as played).
    pub(crate) fn push(&self, interaction: Interaction) {
        let interaction = interaction.with_recorded_at(std::time::SystemTime::now());
        let fields = self.matchers.hashes(&interaction.request);
        let mut state = self.state();
        state.index.push(fields.key(), 1);
        state.entries.push(Arc::new(Entry {
            interaction,
            fields,
        }));
        state.dirty = true;
    }

    fn save(&self) -> Result<bool, Error> {
        let mut state = self.state();
        if !state.dirty {
            return Ok(false);
        }
        let _lock = SaveLock::acquire(&self.path)?;
        let disk = save::read(&self.path)?;
        let found = Fingerprint::of(disk.as_deref());
        let fresh = state.entries[state.saved_upto..]
            .iter()
            .map(|e| e.interaction.clone());
        let merge = state.merged || found != state.disk;
        let interactions: Vec<Interaction> = if merge {
            // Another cassette saved this file since it was read: keep what it wrote
            // and add what this one recorded since its last save.
            let mut on_disk = match disk {
                Some(bytes) => format::parse(&self.path, bytes.into())?,
                None => Vec::new(),
            };
            on_disk.extend(fresh);
            on_disk
        } else {
            state
                .entries
                .iter()
                .map(|e| e.interaction.clone())
                .collect()
        };
        if let Some((secret, location)) = self.redaction.find_secret(&interactions) {
            return Err(Error::new(Kind::Secret {
                path: self.path.clone(),
                secret,
                location,
            }));
        }
        let bytes = format::to_bytes(&interactions);
        save::write_atomic(&self.path, &bytes)?;
        state.disk = Fingerprint::of(Some(&bytes));
        state.merged = merge;
        state.saved_upto = state.entries.len();
        state.dirty = false;
        Ok(true)
    }
}

#[allow(dead_code)]
fn _assert_impls() {
    use super::*;
    fn send_sync<T: Send + Sync>() {}
    fn clone<T: Clone>() {}
    send_sync::<Cassette>();
    send_sync::<CassetteService>();
    clone::<CassetteService>();
    send_sync::<Proxy>();
    clone::<Proxy>();
    send_sync::<Recording>();
    clone::<Recording>();
    send_sync::<Error>();
    send_sync::<Interaction>();
    send_sync::<ReplayBody>();
    send_sync::<CassetteGuard>();
}
