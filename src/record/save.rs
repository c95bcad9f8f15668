//! Writing cassette files so that a save never loses data: an OS file lock held across
//! processes while the file is re-read, merged and replaced; the replacement written to
//! a temporary file, flushed, renamed over the old one and the directory flushed; the
//! old file's permissions kept.

use std::fs;
use std::hash::Hasher;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::Error;

/// What a cassette saw of its file: enough to tell whether another cassette (in this
/// process or another) replaced it since.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    len: u64,
    hash: u64,
}

impl Fingerprint {
    /// The fingerprint of a file's bytes; `None` for no file.
    ///
    /// A multiply-rotate hash over 8-byte words (not SipHash): it runs at memory
    /// speed on a 30 MB cassette, and nobody forges cassettes against it.
    pub(crate) fn of(bytes: Option<&[u8]>) -> Option<Fingerprint> {
        bytes.map(|b| {
            const K: u64 = 0x9E37_79B9_7F4A_7C15;
            let mut hash = b.len() as u64;
            let mut words = b.chunks_exact(8);
            for w in &mut words {
                let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
                hash = (hash ^ w).wrapping_mul(K).rotate_left(29);
            }
            for &byte in words.remainder() {
                hash = (hash ^ u64::from(byte)).wrapping_mul(K).rotate_left(29);
            }
            Fingerprint {
                len: b.len() as u64,
                hash,
            }
        })
    }
}

/// Reads the file at `path`; `Ok(None)` if there is none.
pub(crate) fn read(path: &Path) -> Result<Option<Vec<u8>>, Error> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(path, "read cassette", e)),
    }
}

/// The directory `path` is in (`.` for a bare file name).
fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// An exclusive OS lock (`flock`, `LockFileEx`) that serializes the saves of one
/// cassette path across threads and processes; released when dropped.
///
/// The lock is taken on a file of its own under the system's temporary directory,
/// named after the cassette's canonical path: the cassette file itself is replaced by
/// each save (a lock on it would lock the old inode), and lock files next to the
/// cassettes would show up in the user's repository.
#[derive(Debug)]
pub(crate) struct SaveLock {
    _file: fs::File,
}

impl SaveLock {
    /// Creates the directory of `path` if missing, then waits for the lock.
    pub(crate) fn acquire(path: &Path) -> Result<SaveLock, Error> {
        let dir = parent(path);
        fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, "create the directory of", e))?;
        let canonical = fs::canonicalize(&dir)
            .map_err(|e| Error::io(&dir, "resolve the directory of", e))?
            .join(path.file_name().unwrap_or_default());
        let mut h = std::collections::hash_map::DefaultHasher::new();
        h.write(canonical.as_os_str().as_encoded_bytes());
        let locks = std::env::temp_dir().join("http-intercept-locks");
        fs::create_dir_all(&locks)
            .map_err(|e| Error::io(&locks, "create the lock directory", e))?;
        let lock_path = locks.join(format!("{:016x}.lock", h.finish()));
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io(&lock_path, "open the lock file of", e))?;
        file.lock()
            .map_err(|e| Error::io(path, "lock cassette", e))?;
        Ok(SaveLock { _file: file })
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory with
/// the old file's permissions, flushed to disk, renamed over the target, then the
/// directory flushed so that the rename survives a crash. Creates missing directories.
/// On failure the previous file is untouched and the temporary file removed.
///
/// Callers that may race with other writers hold a [`SaveLock`].
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = parent(path);
    fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, "create the directory of", e))?;
    let name = path
        .file_name()
        .map_or_else(|| "cassette".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(
        ".{name}.{}-{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = fs::File::create(&tmp)?;
        if let Ok(old) = fs::metadata(path) {
            file.set_permissions(old.permissions())?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)
    })();
    written.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path, "write cassette", e)
    })?;
    sync_dir(&dir);
    Ok(())
}

/// Flushes a directory's entries (the rename) to disk. Best effort: the file is
/// already in place, and not every platform or file system can open a directory.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_tell_contents_apart() {
        assert_eq!(Fingerprint::of(None), None);
        assert_eq!(Fingerprint::of(Some(b"a")), Fingerprint::of(Some(b"a")));
        assert_ne!(Fingerprint::of(Some(b"a")), Fingerprint::of(Some(b"b")));
        let long = vec![7u8; 100];
        let mut other = long.clone();
        other[50] = 8;
        assert_ne!(Fingerprint::of(Some(&long)), Fingerprint::of(Some(&other)));
    }

    #[cfg(unix)]
    #[test]
    fn a_save_keeps_the_file_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("http-intercept-perm-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.json");
        fs::write(&path, b"old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        let _ = fs::remove_dir_all(&dir);
    }
}
