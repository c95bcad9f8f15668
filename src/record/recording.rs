//! A shared, growing list of recorded exchanges: what [`Record`](super::Record) fills,
//! saved in the cassette format and printed with filters.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::header::CONTENT_TYPE;

use super::error::Error;
use super::format;
use super::interaction::{Interaction, Outcome};

/// The exchanges a [`Record`](super::Record) service saw, in the order they started.
/// Clones share the same list.
///
/// An exchange shows once it is complete (its response body ended, failed or was
/// dropped). `Display` prints one line per exchange, only the "primary pages" by
/// default; [`display`](Recording::display) chooses other filters, or none.
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use http_intercept::record::{Interaction, Recording};
///
/// let recording = Recording::new();
/// let page = |path: &str, ty: &str| {
///     let req = http::Request::get(format!("http://site.test{path}")).body(Bytes::new()).unwrap();
///     let res = http::Response::builder().header("content-type", ty).body(Bytes::from("x")).unwrap();
///     Interaction::new(req, res)
/// };
/// recording.push(page("/", "text/html"));
/// recording.push(page("/logo.png", "image/png"));
/// assert_eq!(recording.to_string(), "GET http://site.test/ -> 200 text/html (1 bytes)\n");
/// assert_eq!(recording.display().all().to_string().lines().count(), 2);
/// ```
#[derive(Clone, Default)]
pub struct Recording {
    inner: Arc<Mutex<Vec<Option<Interaction>>>>,
}

impl fmt::Debug for Recording {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recording")
            .field("len", &self.len())
            .finish()
    }
}

impl Recording {
    /// An empty recording.
    pub fn new() -> Recording {
        Recording::default()
    }

    /// Reads a recording from a cassette file, from a HAR file when its name ends in
    /// `.har` (see [the `har` module](super::har)), or from a vcrpy or Ruby VCR
    /// cassette when it ends in `.yaml` or `.yml` (see [the `yaml` module](super::yaml)), for
    /// [`Playback`](super::Playback) or to convert it.
    ///
    /// # Errors
    ///
    /// If the file cannot be read, is malformed (the error names the line and column)
    /// or has a newer format version.
    pub fn load(path: impl AsRef<Path>) -> Result<Recording, Error> {
        let path = path.as_ref();
        let loaded = if super::har::is_har(path) {
            super::har::load(path)?
        } else if super::yaml::is_yaml(path) {
            super::yaml::load(path)?
        } else {
            format::load(path)?
        };
        let interactions = loaded.ok_or_else(|| {
            Error::io(
                path,
                "read cassette",
                std::io::Error::from(std::io::ErrorKind::NotFound),
            )
        })?;
        Ok(Recording {
            inner: Arc::new(Mutex::new(interactions.into_iter().map(Some).collect())),
        })
    }

    fn list(&self) -> MutexGuard<'_, Vec<Option<Interaction>>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn reserve(&self) -> usize {
        let mut list = self.list();
        list.push(None);
        list.len() - 1
    }

    pub(crate) fn fill(&self, place: usize, interaction: Interaction) {
        if let Some(slot) = self.list().get_mut(place) {
            *slot = Some(interaction);
        }
    }

    /// Adds a complete interaction.
    pub fn push(&self, interaction: Interaction) {
        self.list().push(Some(interaction));
    }

    /// How many exchanges are complete.
    pub fn len(&self) -> usize {
        self.list().iter().filter(|i| i.is_some()).count()
    }

    /// Whether no exchange is complete.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A copy of the complete exchanges, in the order they started.
    pub fn interactions(&self) -> Vec<Interaction> {
        self.list().iter().flatten().cloned().collect()
    }

    /// Forgets every exchange.
    pub fn clear(&self) {
        self.list().clear();
    }

    /// Saves the complete exchanges as a cassette file (see
    /// [`Cassette`](super::Cassette)), atomically, creating missing directories.
    ///
    /// # Errors
    ///
    /// If the file cannot be written; the previous file is then left intact.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        // Written from the list itself, not a copy of it.
        let bytes = format::to_bytes(self.list().iter().flatten());
        let path = path.as_ref();
        let _lock = super::save::SaveLock::acquire(path)?;
        super::save::write_atomic(path, &bytes)
    }

    /// Saves the complete exchanges as a HAR 1.2 file (see
    /// [the `har` module](super::har)), atomically, creating missing directories.
    ///
    /// # Errors
    ///
    /// If the file cannot be written; the previous file is then left intact.
    pub fn save_har(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let interactions = self.interactions();
        let path = path.as_ref();
        let _lock = super::save::SaveLock::acquire(path)?;
        super::save::write_atomic(path, &super::har::to_bytes(&interactions))
    }

    /// A display of the recording with the default filter (primary pages only), to
    /// change: [`RecordingDisplay::all`] removes every filter.
    pub fn display(&self) -> RecordingDisplay {
        RecordingDisplay {
            interactions: self.interactions(),
            filters: vec![Box::new(is_primary_page)],
        }
    }
}

impl fmt::Display for Recording {
    /// One line per primary page; with `{:#}`, their headers and text bodies too.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.display(), f)
    }
}

type Filter = Box<dyn Fn(&Interaction) -> bool + Send + Sync>;

/// A printable view of a [`Recording`] with filters; see [`Recording::display`].
///
/// Prints one line per exchange: `GET uri -> 200 content-type (N bytes)` or
/// `GET uri -> failed: ...`; with `{:#}` the request and response headers and text
/// bodies follow each line.
#[must_use = "print it"]
pub struct RecordingDisplay {
    interactions: Vec<Interaction>,
    filters: Vec<Filter>,
}

impl fmt::Debug for RecordingDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordingDisplay")
            .field("interactions", &self.interactions.len())
            .field("filters", &self.filters.len())
            .finish()
    }
}

impl RecordingDisplay {
    /// Removes every filter: prints every exchange.
    pub fn all(mut self) -> Self {
        self.filters.clear();
        self
    }

    /// Adds a filter: only exchanges for which `f` is true are printed.
    pub fn filter<F>(mut self, f: F) -> Self
    where
        F: Fn(&Interaction) -> bool + Send + Sync + 'static,
    {
        self.filters.push(Box::new(f));
        self
    }

    /// Adds the primary pages filter (the default): see [`is_primary_page`].
    pub fn primary_pages(self) -> Self {
        self.filter(is_primary_page)
    }

    /// The exchanges that pass the filters.
    pub fn shown(&self) -> impl Iterator<Item = &Interaction> {
        self.interactions
            .iter()
            .filter(|i| self.filters.iter().all(|f| f(i)))
    }
}

impl fmt::Display for RecordingDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in self.shown() {
            write!(f, "{}", i.request_line())?;
            match i.outcome() {
                Outcome::Response(res) => {
                    write!(f, " -> {}", res.status().as_u16())?;
                    if let Some(ty) = res.headers().get(CONTENT_TYPE) {
                        write!(f, " {}", String::from_utf8_lossy(ty.as_bytes()))?;
                    }
                    writeln!(f, " ({} bytes)", res.body().len())?;
                }
                Outcome::Failure(failure) => writeln!(f, " -> failed: {failure}")?,
            }
            if f.alternate() {
                details(f, i)?;
            }
        }
        Ok(())
    }
}

fn details(f: &mut fmt::Formatter<'_>, i: &Interaction) -> fmt::Result {
    let req = i.request();
    for (name, value) in req.headers() {
        writeln!(
            f,
            "    > {name}: {}",
            String::from_utf8_lossy(value.as_bytes())
        )?;
    }
    body(f, "    > ", req.body())?;
    if let Some(res) = i.response() {
        for (name, value) in res.headers() {
            writeln!(
                f,
                "    < {name}: {}",
                String::from_utf8_lossy(value.as_bytes())
            )?;
        }
        body(f, "    < ", res.body())?;
    }
    Ok(())
}

fn body(f: &mut fmt::Formatter<'_>, prefix: &str, body: &[u8]) -> fmt::Result {
    const MAX: usize = 2048;
    if body.is_empty() {
        return Ok(());
    }
    match std::str::from_utf8(body) {
        Ok(text) if text.len() <= MAX => {
            for line in text.lines() {
                writeln!(f, "{prefix}{line}")?;
            }
            Ok(())
        }
        _ => writeln!(f, "{prefix}<{} bytes>", body.len()),
    }
}

/// Whether an exchange is a "primary page", a document rather than what a page loads:
/// true unless its response's `content-type` is an image, a font, audio, video, CSS,
/// JavaScript, WebAssembly or a source map, or, without a `content-type`, its path
/// ends in such an extension. Failures are always shown.
pub fn is_primary_page(i: &Interaction) -> bool {
    let Some(res) = i.response() else {
        return true;
    };
    if let Some(ty) = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        let ty = ty
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let (top, sub) = ty.split_once('/').unwrap_or((ty.as_str(), ""));
        return !(matches!(top, "image" | "font" | "audio" | "video")
            || matches!(
                sub,
                "css"
                    | "javascript"
                    | "x-javascript"
                    | "ecmascript"
                    | "wasm"
                    | "font-woff"
                    | "font-woff2"
                    | "vnd.ms-fontobject"
            ));
    }
    let path = i.request().uri().path().to_ascii_lowercase();
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    !matches!(
        ext,
        "png"
            | "jpg"
            | "jpeg"
            | "gif"
            | "webp"
            | "avif"
            | "svg"
            | "ico"
            | "bmp"
            | "css"
            | "js"
            | "mjs"
            | "map"
            | "woff"
            | "woff2"
            | "ttf"
            | "otf"
            | "eot"
            | "wasm"
            | "mp3"
            | "mp4"
            | "webm"
            | "ogg"
    )
}
