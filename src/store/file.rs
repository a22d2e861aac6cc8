//! A token cache shared by the processes of one host, in a file: for short-lived processes (cron jobs, CGI,
//! one process per call) that would otherwise each fetch a token — exactly what 8x8 asks clients not to do.
//!
//! It is one `SharedStore` among others; the protocol (when a stored token is good enough, who fetches, what
//! happens on failure) is `store::StoreSource`'s. Here: one file per token URL and client id (named after the
//! store key, itself a SHA-256 of both), mode 0600 in a 0700 folder, replaced atomically (temporary file +
//! rename), so readers never see half a record and need no lock. The lock that lets one process fetch for all
//! is an exclusive `flock` on a companion lock file, released when its holder exits however it exits. A file
//! owned by someone else or readable by group or others is ignored with a warning and replaced; a folder that
//! cannot be written makes every call fail, so the client fetches on its own.

use parking_lot::Mutex;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

use super::{SharedStore, StoreResult, KEY_PREFIX};
use crate::rt::log::{Level, Logger};

pub struct FileStore {
    dir: PathBuf,
    /// The lock file while this store holds the lock (closing it releases the flock).
    held: Mutex<Option<File>>,
    logger: Logger,
}

impl FileStore {
    pub fn new(dir: &Path, logger: Logger) -> FileStore {
        FileStore {
            dir: dir.to_owned(),
            held: Mutex::new(None),
            logger,
        }
    }

    /// `x8-token-<32 hex digits>.json` and `.lock`: the first half of the key's SHA-256, which is plenty to
    /// tell keys apart in one folder.
    fn paths(&self, key: &str) -> (PathBuf, PathBuf) {
        let id: String = key
            .strip_prefix(KEY_PREFIX)
            .unwrap_or(key)
            .chars()
            .filter(char::is_ascii_hexdigit)
            .take(32)
            .collect();
        (
            self.dir.join(format!("x8-token-{id}.json")),
            self.dir.join(format!("x8-token-{id}.lock")),
        )
    }

    fn open_lock_file(&self, lock: &Path) -> std::io::Result<File> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(lock)
    }

    /// One non-blocking attempt at the exclusive flock: `Ok(false)` when another process holds it.
    fn try_flock(file: &File) -> std::io::Result<bool> {
        // SAFETY: flock on a descriptor we own; released when `file` is closed.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
            Ok(false)
        } else {
            Err(err)
        }
    }
}

impl SharedStore for FileStore {
    fn describe(&self) -> String {
        format!("the token cache {}", self.dir.display())
    }

    fn load(&self, key: &str) -> StoreResult<Option<Zeroizing<String>>> {
        let (file, _) = self.paths(key);
        let meta = match fs::symlink_metadata(&file) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", file.display()).into()),
        };
        // SAFETY: geteuid cannot fail.
        let me = unsafe { libc::geteuid() };
        if !meta.file_type().is_file() || meta.uid() != me || meta.permissions().mode() & 0o077 != 0
        {
            self.logger.log(Level::Warn, || {
                format!(
                    "token cache {} is not a private file of this user (mode {:o}); ignoring and replacing it",
                    file.display(),
                    meta.permissions().mode() & 0o777
                )
            });
            return Ok(None);
        }
        let mut text = Zeroizing::new(String::new());
        match File::open(&file).and_then(|mut f| f.read_to_string(&mut text)) {
            Ok(_) => Ok(Some(text)),
            // Replaced or removed between the two calls: as good as not there.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", file.display()).into()),
        }
    }

    /// Writes the record atomically: a private temporary file renamed over the old one. Expiry is in the
    /// record, so `ttl` is not needed.
    fn store(&self, key: &str, record: &str, _ttl: Duration) -> StoreResult<()> {
        let (file, _) = self.paths(key);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        let tmp = file.with_extension(format!(
            "tmp{}.{:08x}",
            std::process::id(),
            fastrand::u32(..)
        ));
        let result = (|| {
            let mut f = OpenOptions::new()
                .create_new(true)
                .write(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(record.as_bytes())?;
            f.sync_all()?;
            fs::rename(&tmp, &file)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        Ok(result.map_err(|e| format!("{}: {e}", file.display()))?)
    }

    fn lock(&self, key: &str, _ttl: Duration) -> StoreResult<bool> {
        let (_, lock) = self.paths(key);
        let file = self
            .open_lock_file(&lock)
            .map_err(|e| format!("{}: {e}", lock.display()))?;
        if !Self::try_flock(&file).map_err(|e| format!("flock {}: {e}", lock.display()))? {
            return Ok(false);
        }
        *self.held.lock() = Some(file);
        Ok(true)
    }

    fn unlock(&self, _key: &str) -> StoreResult<()> {
        drop(self.held.lock().take());
        Ok(())
    }

    /// Under the lock (waited for up to two seconds: flock has no timeout of its own), so that a record another
    /// process is writing at the same moment is not the one removed.
    fn remove(&self, key: &str, record: &str) -> StoreResult<()> {
        let (file, lock) = self.paths(key);
        let lock_file = self.open_lock_file(&lock)?;
        let give_up = Instant::now() + Duration::from_secs(2);
        while !Self::try_flock(&lock_file)? {
            if Instant::now() >= give_up {
                return Err("the cache lock stayed taken".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if self.load(key)?.is_some_and(|text| *text == record) {
            match fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        Ok(())
    }
}
