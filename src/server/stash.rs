//! The stash: values shared by handlers across requests, each taken once.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

/// How long a value waits to be taken, unless [`Stash::with_timeout`] says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// State shared by handlers and across requests, as in wptserve: [`put`](Stash::put) a
/// value under a key (typically a UUID the test carries in its requests),
/// [`take`](Stash::take) it once. A value nobody takes within the timeout is dropped.
///
/// A `Stash` is a cheap handle: clones share the same values. Every
/// [`Files`](crate::server::Files) has one ([`Files::stash`](crate::server::Files::stash)),
/// which its handlers reach through [`Request::stash`](crate::server::Request::stash).
///
/// Time is tokio's, so a test with paused time controls the timeout.
///
/// # Examples
///
/// ```
/// use http_intercept::server::Stash;
///
/// let stash = Stash::new();
/// stash.put("5f0c", "seen")?;
/// assert!(stash.put("5f0c", "again").is_err()); // an untaken value is never overwritten
/// assert_eq!(stash.take("5f0c").as_deref(), Some(&b"seen"[..]));
/// assert_eq!(stash.take("5f0c"), None); // taken once
/// # Ok::<(), http_intercept::server::StashError>(())
/// ```
#[derive(Clone)]
pub struct Stash {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    timeout: Duration,
    values: HashMap<String, (Bytes, Instant)>,
}

impl Stash {
    /// An empty stash whose values wait 60 seconds to be taken.
    pub fn new() -> Stash {
        Stash {
            inner: Arc::new(Mutex::new(Inner {
                timeout: DEFAULT_TIMEOUT,
                values: HashMap::new(),
            })),
        }
    }

    /// Sets how long a value waits to be taken before it is dropped.
    ///
    /// Default: 60 seconds. Applies to the values put from now on, through every clone.
    pub fn with_timeout(self, timeout: Duration) -> Stash {
        self.lock().timeout = timeout;
        self
    }

    /// Stores `value` under `key` until it is taken or its timeout passes.
    ///
    /// # Errors
    ///
    /// Returns an error naming the key if it already holds a value that was not taken
    /// (wptserve refuses this too: two tests using one key is a bug).
    pub fn put(&self, key: impl Into<String>, value: impl Into<Bytes>) -> Result<(), StashError> {
        let key = key.into();
        let mut inner = self.lock();
        inner.sweep();
        if inner.values.contains_key(&key) {
            return Err(StashError { key });
        }
        let deadline = Instant::now() + inner.timeout;
        inner.values.insert(key, (value.into(), deadline));
        Ok(())
    }

    /// Removes and returns the value under `key`, if one was put and has not been
    /// taken or dropped for its timeout.
    pub fn take(&self, key: &str) -> Option<Bytes> {
        let mut inner = self.lock();
        inner.sweep();
        inner.values.remove(key).map(|(value, _)| value)
    }

    /// The number of values waiting to be taken.
    pub fn len(&self) -> usize {
        let mut inner = self.lock();
        inner.sweep();
        inner.values.len()
    }

    /// Whether no value is waiting to be taken.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    /// Drops the values whose timeout has passed.
    fn sweep(&mut self) {
        let now = Instant::now();
        self.values.retain(|_, (_, deadline)| *deadline > now);
    }
}

impl Default for Stash {
    fn default() -> Stash {
        Stash::new()
    }
}

impl fmt::Debug for Stash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        let mut keys: Vec<&String> = inner.values.keys().collect();
        keys.sort();
        f.debug_struct("Stash")
            .field("timeout", &inner.timeout)
            .field("keys", &keys)
            .finish()
    }
}

/// The error of [`Stash::put`]: the key already holds a value nobody took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StashError {
    key: String,
}

impl StashError {
    /// The key at fault.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl fmt::Display for StashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stash key {:?} already holds a value that was not taken",
            self.key
        )
    }
}

impl std::error::Error for StashError {}
