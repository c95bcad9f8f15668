//! The test fixture: a cassette named after the calling test, in one line.

use std::ops::Deref;

use super::cassette::Cassette;
use crate::Intercepts;

/// The path of the calling test's cassette:
/// `<crate root>/tests/cassettes/<test crate>/<modules>/<test function>.json`.
///
/// The path follows the function's full path, so that tests of the same name in two
/// test files or two modules never share (and overwrite) a cassette: `fn github_user`
/// at the top of `tests/api.rs` records to `tests/cassettes/api/github_user.json`. An
/// `async` test's closure is skipped. Use it with [`Cassette::builder`] to configure
/// the cassette.
///
/// # Examples
///
/// ```
/// fn github_user() -> std::path::PathBuf {
///     http_intercept::cassette_path!()
/// }
/// let path = github_user();
/// assert!(path.ends_with("github_user.json"));
/// assert!(path.to_string_lossy().contains("tests/cassettes/"));
/// ```
#[macro_export]
macro_rules! cassette_path {
    () => {{
        fn __cassette_path_marker() {}
        $crate::record::__fixture_path(
            ::core::env!("CARGO_MANIFEST_DIR"),
            ::core::any::type_name_of_val(&__cassette_path_marker),
        )
    }};
}

/// Opens the calling test's cassette (see [`cassette_path!`]) with the defaults, and,
/// given targets, registers it for them in the global registry.
///
/// - `cassette!()` returns the [`Cassette`](crate::record::Cassette);
/// - `cassette!("https://api.github.com", ...)` returns a
///   [`CassetteGuard`](crate::record::CassetteGuard) holding the registrations; its
///   [`finish`](crate::record::CassetteGuard::finish) removes them and ends the
///   cassette (save and report).
///
/// End the test with `finish()`: only it saves (see
/// [`Cassette`](crate::record::Cassette)).
///
/// # Examples
///
/// ```no_run
/// #[tokio::test]
/// async fn github_user() -> Result<(), Box<dyn std::error::Error>> {
///     let cassette = http_intercept::cassette!("https://api.github.com");
///     // ... in tests/api.rs, requests to https://api.github.com replay
///     // tests/cassettes/api/github_user.json ...
///     cassette.finish()?;
///     Ok(())
/// }
/// ```
///
/// # Panics
///
/// If the cassette cannot be opened or a target cannot be registered (the message
/// says why).
#[macro_export]
macro_rules! cassette {
    () => {
        match $crate::record::Cassette::open($crate::cassette_path!()) {
            ::core::result::Result::Ok(cassette) => cassette,
            ::core::result::Result::Err(err) => ::core::panic!("cassette!: {}", err),
        }
    };
    ($($target:expr),+ $(,)?) => {{
        let cassette = $crate::cassette!();
        let mut intercepts = $crate::Intercepts::new();
        $(
            match cassette.add($target) {
                ::core::result::Result::Ok(guard) => intercepts.push(guard),
                ::core::result::Result::Err(err) => ::core::panic!("cassette!: {}", err),
            }
        )+
        $crate::record::CassetteGuard::new(cassette, intercepts)
    }};
}

#[doc(hidden)]
pub fn __fixture_path(manifest_dir: &str, marker: &str) -> std::path::PathBuf {
    let segments: Vec<&str> = marker
        .split("::")
        .filter(|s| !s.is_empty() && !s.starts_with('{') && *s != "__cassette_path_marker")
        .collect();
    let mut path = std::path::Path::new(manifest_dir)
        .join("tests")
        .join("cassettes");
    match segments.split_last() {
        Some((name, modules)) => {
            path.extend(modules);
            path.join(format!("{name}.json"))
        }
        None => path.join("cassette.json"),
    }
}

/// A cassette and the registrations of its service, from [`cassette!`]:
/// [`finish`](Self::finish) removes the registrations, then ends the cassette (save
/// and report); dropping it removes the registrations, then drops the cassette
/// (which does not save).
///
/// Derefs to the [`Cassette`].
#[must_use = "end the test with finish(): dropping it removes the intercepts and saves nothing"]
#[derive(Debug)]
pub struct CassetteGuard {
    // Fields drop in order: the intercepts go first.
    intercepts: Intercepts,
    cassette: Cassette,
}

impl CassetteGuard {
    /// Holds `cassette` and the `intercepts` registered for it.
    pub fn new(cassette: Cassette, intercepts: Intercepts) -> Self {
        CassetteGuard {
            intercepts,
            cassette,
        }
    }

    /// The registrations.
    pub fn intercepts(&self) -> &Intercepts {
        &self.intercepts
    }

    /// Removes the registrations, then ends the cassette: see [`Cassette::finish`].
    ///
    /// # Errors
    ///
    /// As [`Cassette::finish`].
    pub fn finish(self) -> Result<(), crate::record::Error> {
        self.into_cassette().finish()
    }

    /// Removes the registrations and returns the cassette.
    pub fn into_cassette(self) -> Cassette {
        drop(self.intercepts);
        self.cassette
    }
}

impl Deref for CassetteGuard {
    type Target = Cassette;

    fn deref(&self) -> &Cassette {
        &self.cassette
    }
}
