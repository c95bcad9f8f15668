//! Converting a vcrpy or Ruby VCR cassette to this crate's format.

use std::path::Path;

use crate::record::error::Error;
use crate::record::save::{self, SaveLock};

/// Converts the vcrpy or Ruby VCR cassette at `from` to a cassette in this crate's
/// [format](crate::record::format) at `to`, and returns how many interactions it
/// holds. The interactions are the ones a YAML cassette replays (see
/// [the module](crate::record::yaml)): bodies byte-exact, headers made true to the recorded bodies.
/// `to` is written atomically, as a save is, its directory created if missing.
///
/// `from` is read as YAML whatever its extension, so the cassettes vcrpy's JSON
/// serializer (`serializer="json"`) writes convert too.
///
/// The same in two steps: [`Recording::load`](crate::record::Recording::load) reads
/// `.yaml` and `.yml` files, and [`Recording::save`](crate::record::Recording::save)
/// writes the cassette format.
///
/// # Examples
///
/// ```
/// use http_intercept::record::{yaml, Cassette, Mode};
///
/// let dir = std::env::temp_dir().join(format!("http-intercept-doc-yaml-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("users.yaml"), "\
/// interactions:
/// - request:
///     body: null
///     headers: {}
///     method: GET
///     uri: https://api.test/users/7
///   response:
///     body: {string: '{\"id\": 7}'}
///     headers:
///       Content-Type: [application/json]
///     status: {code: 200, message: OK}
/// version: 1
/// ").unwrap();
/// let n = yaml::convert(dir.join("users.yaml"), dir.join("users.json"))?;
/// assert_eq!(n, 1);
/// let cassette = Cassette::builder(dir.join("users.json")).mode(Mode::Replay).open()?;
/// assert_eq!(cassette.interactions()[0].response().unwrap().body(), r#"{"id": 7}"#);
/// # cassette.finish()?;
/// # Ok::<(), http_intercept::record::Error>(())
/// ```
///
/// # Errors
///
/// If `from` does not exist or cannot be read, is not a vcrpy or VCR cassette (the
/// error names the file, the line and the column, as [`Error::is_malformed`] tells),
/// or `to` cannot be written; the previous file at `to` is then left intact.
pub fn convert(from: impl AsRef<Path>, to: impl AsRef<Path>) -> Result<usize, Error> {
    let from = from.as_ref();
    let interactions = super::import::load(from)?.ok_or_else(|| {
        Error::io(
            from,
            "read cassette",
            std::io::Error::from(std::io::ErrorKind::NotFound),
        )
    })?;
    let to = to.as_ref();
    let _lock = SaveLock::acquire(to)?;
    save::write_atomic(to, &crate::record::format::to_bytes(&interactions))?;
    Ok(interactions.len())
}
