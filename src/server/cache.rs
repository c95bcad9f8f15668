//! The file cache: what [`lookup::find`] found, kept per request path until a file or
//! directory it depends on changes.
//!
//! A miss runs the lookup on tokio's blocking pool, never on the runtime thread. On
//! Linux a hit costs no file-system call: an inotify watch on every directory an entry
//! depends on (each from the root down to the file, and the file's real directory)
//! reports changes, and the cache drains those reports, without blocking, before each
//! lookup; the kernel queues them before the write that caused them returns, so a
//! test that changes a file and then asks for it sees the change. Any change under a
//! watched directory empties the whole cache. Elsewhere (or when inotify is not
//! available) nothing is cached and every request does the lookup on the blocking
//! pool.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use crate::server::lookup::{self, Found};

/// The most entries kept; past it the cache starts over.
const MAX_ENTRIES: usize = 4096;
/// The most content bytes kept; past it the cache starts over.
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// A cache of lookups for one `Files`.
#[derive(Debug)]
pub(crate) struct Cache {
    inner: Mutex<Option<Inner>>,
}

#[derive(Debug)]
struct Inner {
    watcher: watch::Watcher,
    entries: HashMap<String, Found>,
    bytes: u64,
    /// Counts the times the cache was emptied: a lookup that started before one
    /// must not be kept.
    generation: u64,
}

impl Inner {
    /// Drains the change reports; empties the cache when there were any.
    fn refresh(&mut self) {
        if self.watcher.changed() {
            self.entries.clear();
            self.bytes = 0;
            self.generation += 1;
        }
    }
}

impl Cache {
    pub(crate) fn new() -> Cache {
        Cache {
            inner: Mutex::new(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Inner>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What `request_path` names under `root`: from the cache when nothing it depends
    /// on changed since, else looked up on the blocking pool.
    pub(crate) async fn find(self: &Arc<Self>, root: &Path, request_path: &str) -> Found {
        if let Some(found) = self.hit(request_path) {
            return found;
        }
        let (cache, root, path) = (self.clone(), root.to_path_buf(), request_path.to_owned());
        match tokio::task::spawn_blocking(move || cache.miss(&root, &path)).await {
            Ok(found) => found,
            Err(e) => Found::Failed(format!("http-intercept: the file lookup failed: {e}")),
        }
    }

    fn hit(&self, request_path: &str) -> Option<Found> {
        let mut guard = self.lock();
        let inner = guard.as_mut()?;
        inner.refresh();
        inner.entries.get(request_path).cloned()
    }

    /// The blocking lookup, kept when every directory it depends on was watched
    /// before it read anything and nothing changed since.
    fn miss(&self, root: &Path, request_path: &str) -> Found {
        let mut guard = self.lock();
        if guard.is_none() {
            // The watcher (a file descriptor) is made on the first file served.
            *guard = watch::Watcher::new().map(|watcher| Inner {
                watcher,
                entries: HashMap::new(),
                bytes: 0,
                generation: 0,
            });
        }
        drop(guard);
        let Some(generation) = self.lock().as_mut().map(|inner| {
            inner.refresh();
            inner.generation
        }) else {
            return lookup::find(root, request_path);
        };
        let found = lookup::find(root, request_path);
        let Found::File(entry) = &found else {
            return found;
        };
        let newly = {
            let mut guard = self.lock();
            let Some(inner) = guard.as_mut() else {
                return found;
            };
            let mut newly = false;
            for dir in &entry.dirs {
                match inner.watcher.watch(dir) {
                    Some(added) => newly |= added,
                    None => return found,
                }
            }
            newly
        };
        // Read again now that the watches are in place: a change during the first
        // read would otherwise go unreported.
        let (found, generation) = if newly {
            let generation = self.lock().as_mut().map_or(generation, |inner| {
                inner.refresh();
                inner.generation
            });
            (lookup::find(root, request_path), generation)
        } else {
            (found, generation)
        };
        let Found::File(entry) = &found else {
            return found;
        };
        let mut guard = self.lock();
        let Some(inner) = guard.as_mut() else {
            return found;
        };
        inner.refresh();
        let watched = entry.dirs.iter().all(|dir| inner.watcher.is_watched(dir));
        if inner.generation != generation || !watched {
            return found;
        }
        let size = entry.content.as_ref().map_or(0, |c| c.len() as u64);
        if inner.entries.len() >= MAX_ENTRIES || inner.bytes + size > MAX_BYTES {
            inner.entries.clear();
            inner.bytes = 0;
        }
        inner.bytes += size;
        inner.entries.insert(request_path.to_owned(), found.clone());
        found
    }
}

#[cfg(all(target_os = "linux", feature = "server"))]
mod watch {
    use std::collections::HashSet;
    use std::path::{Path, PathBuf};

    use inotify::{Inotify, WatchMask};

    /// Watches directories; reports whether anything in them changed.
    pub(super) struct Watcher {
        inotify: Inotify,
        watched: HashSet<PathBuf>,
        buffer: Vec<u8>,
    }

    impl std::fmt::Debug for Watcher {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Watcher")
                .field("watched", &self.watched.len())
                .finish()
        }
    }

    impl Watcher {
        pub(super) fn new() -> Option<Watcher> {
            Some(Watcher {
                inotify: Inotify::init().ok()?,
                watched: HashSet::new(),
                buffer: vec![0; 4096],
            })
        }

        pub(super) fn is_watched(&self, dir: &Path) -> bool {
            self.watched.contains(dir)
        }

        /// Watches `dir`: whether the watch is new, `None` when it cannot be watched.
        pub(super) fn watch(&mut self, dir: &Path) -> Option<bool> {
            if self.watched.contains(dir) {
                return Some(false);
            }
            let mask = WatchMask::MODIFY
                | WatchMask::ATTRIB
                | WatchMask::CLOSE_WRITE
                | WatchMask::CREATE
                | WatchMask::DELETE
                | WatchMask::DELETE_SELF
                | WatchMask::MOVE_SELF
                | WatchMask::MOVED_FROM
                | WatchMask::MOVED_TO;
            self.inotify.watches().add(dir, mask).ok()?;
            self.watched.insert(dir.to_path_buf());
            Some(true)
        }

        /// Whether anything changed since the last call: drains the queue without
        /// blocking. An error (a full queue included) counts as a change.
        pub(super) fn changed(&mut self) -> bool {
            let mut changed = false;
            loop {
                match self.inotify.read_events(&mut self.buffer) {
                    Ok(mut events) => {
                        if events.next().is_none() {
                            return changed;
                        }
                        changed = true;
                        // A deleted or moved directory loses its watch: watch again.
                        self.watched.clear();
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return changed,
                    Err(_) => return true,
                }
            }
        }
    }
}

#[cfg(not(all(target_os = "linux", feature = "server")))]
mod watch {
    use std::path::Path;

    /// No watcher on this platform: nothing is cached.
    #[derive(Debug)]
    pub(super) struct Watcher;

    impl Watcher {
        pub(super) fn new() -> Option<Watcher> {
            None
        }

        pub(super) fn watch(&mut self, _dir: &Path) -> Option<bool> {
            None
        }

        pub(super) fn is_watched(&self, _dir: &Path) -> bool {
            false
        }

        pub(super) fn changed(&mut self) -> bool {
            true
        }
    }
}
