//! A token cache shared by the processes of one host, in a file: for short-lived processes (cron jobs, CGI,
//! one process per call) that would otherwise each fetch a token — exactly what 8x8 asks clients not to do.
//!
//! It is one `SharedStore` among others; the protocol (when a stored token is good enough, who fetches, what
//! happens on failure) is `store::StoreSource`'s. Here: one file per token URL and client id (named after the
//! store key, itself a SHA-256 of both), mode 0600 in a 0700 folder, replaced atomically (temporary file +
//! rename), so readers never see half a record and need no lock. The lock that lets one process fetch for all
//! is an exclusive `flock` on a companion lock file, released when its holder exits however it exits.
//!
//! The folder and every file are opened as `private_dir` says (no links followed, each descriptor checked):
//! a folder that is not ours alone is refused (the client then keeps its token in-process, with a warning);
//! a record or lock that is a symlink, FIFO, device, someone else's or readable by others is ignored with a
//! warning and replaced; a record is read up to 64 KiB.

use parking_lot::Mutex;
use std::fs::File;
use std::io::Write;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeroize::Zeroizing;

use super::lock_fds::LockFd;
use super::private_dir::{PrivateDir, Refusal};
use super::{SharedStore, StoreResult, KEY_PREFIX};
use crate::rt::clock::Deadline;
use crate::rt::log::{Level, Logger};

pub struct FileStore {
    dir: PathBuf,
    /// The lock file while this store holds the lock (dropping it releases the flock).
    held: Mutex<Option<LockFd>>,
    logger: Logger,
}

impl FileStore {
    /// The store in `dir`, created (mode 0700) when missing. Refused when the folder is not a directory of
    /// this user that no one else can write: anyone who can write it could plant a token for us.
    pub fn open(dir: &Path, logger: Logger) -> Result<FileStore, Refusal> {
        PrivateDir::open(dir)?;
        Ok(FileStore {
            dir: dir.to_owned(),
            held: Mutex::new(None),
            logger,
        })
    }

    /// Checked again at every operation: the folder may have been replaced or changed since.
    fn folder(&self) -> StoreResult<PrivateDir> {
        PrivateDir::open(&self.dir)
            .map_err(|e| format!("the cache folder {} is refused: {e}", self.dir.display()).into())
    }

    /// `x8-token-<32 hex digits>.json` and `.lock`: the first half of the key's SHA-256, which is plenty to
    /// tell keys apart in one folder.
    fn names(key: &str) -> (String, String) {
        let id: String = key
            .strip_prefix(KEY_PREFIX)
            .unwrap_or(key)
            .chars()
            .filter(char::is_ascii_hexdigit)
            .take(32)
            .collect();
        (
            format!("{RECORD_PREFIX}{id}.json"),
            format!("{RECORD_PREFIX}{id}.lock"),
        )
    }

    fn distrusted(&self, why: &Refusal) {
        self.logger.log(Level::Warn, || {
            format!(
                "token cache {}: {why}; ignoring and replacing it",
                self.dir.display()
            )
        });
    }

    /// The lock file, created when missing. One that cannot be trusted (a symlink, a FIFO, another user's) is
    /// removed — the entry itself, which the folder being ours allows — and made anew.
    /// Registered with `rt::inherited_fds` (`LockFd`), so that a forked child does not keep the lock alive.
    fn open_lock_file(&self, dir: &PrivateDir, name: &str) -> StoreResult<LockFd> {
        match LockFd::open(|| dir.open_lock(name)) {
            Ok(f) => Ok(f),
            Err(Refusal::Untrusted(why)) => {
                self.distrusted(&Refusal::Untrusted(why));
                dir.remove(name)?;
                Ok(LockFd::open(|| dir.open_lock(name))?)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// One non-blocking attempt at the exclusive flock: `Ok(false)` when another process holds it.
    fn try_flock(file: &File) -> std::io::Result<bool> {
        // SAFETY: flock on a descriptor we own; released when its `LockFd` is dropped.
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

    fn load_from(&self, dir: &PrivateDir, name: &str) -> StoreResult<Option<Zeroizing<String>>> {
        match dir.read(name) {
            Ok(found) => Ok(found),
            Err(Refusal::Untrusted(why)) => {
                self.distrusted(&Refusal::Untrusted(why));
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// What every file of the store is named with.
const RECORD_PREFIX: &str = "x8-token-";

/// How old a temporary record must be to be taken for abandoned: a write takes milliseconds, so one this old
/// belongs to a writer that died between creating and renaming it.
const ABANDONED_AFTER: Duration = Duration::from_secs(60);

/// The private temporary file a record `name` is written to before it is renamed into place.
fn temporary_name(name: &str) -> String {
    format!("{name}.tmp{}.{:08x}", std::process::id(), fastrand::u32(..))
}

/// Whether `entry` is named as [`temporary_name`] names a record's temporary file.
fn is_temporary_name(entry: &str) -> bool {
    let Some((record, rest)) = entry.split_once(".json.tmp") else {
        return false;
    };
    let Some((pid, suffix)) = rest.split_once('.') else {
        return false;
    };
    record.starts_with(RECORD_PREFIX)
        && !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && suffix.len() == 8
        && suffix.bytes().all(|b| b.is_ascii_hexdigit())
}

impl FileStore {
    /// Removes the temporary records that writers killed mid-write left behind (each holds a token): regular
    /// files of ours, named as x8 names them, unchanged for [`ABANDONED_AFTER`]. Best effort: a folder that
    /// cannot be listed costs a debug line, never the write that just succeeded.
    fn remove_abandoned_temporaries(&self, dir: &PrivateDir) {
        let names = match dir.names() {
            Ok(names) => names,
            Err(e) => {
                self.logger.log(Level::Debug, || {
                    format!("listing {}: {e}", self.dir.display())
                });
                return;
            }
        };
        for entry in names.iter().filter(|n| is_temporary_name(n)) {
            if dir
                .is_own_file_older_than(entry, ABANDONED_AFTER)
                .unwrap_or(false)
                && dir.remove(entry).is_ok()
            {
                self.logger.log(Level::Info, || {
                    format!(
                        "removed {}/{entry}, a temporary token record a writer left unfinished",
                        self.dir.display()
                    )
                });
            }
        }
    }
}

impl SharedStore for FileStore {
    fn describe(&self) -> String {
        format!("the token cache {}", self.dir.display())
    }

    fn load(&self, key: &str, _deadline: Deadline) -> StoreResult<Option<Zeroizing<String>>> {
        let (record, _) = Self::names(key);
        self.load_from(&self.folder()?, &record)
    }

    /// Writes the record atomically: a private temporary file renamed over the old one (or over whatever
    /// stood there: a symlink is replaced, not followed). Expiry is in the record, so `ttl` is not needed.
    fn store(
        &self,
        key: &str,
        record: &str,
        _ttl: Duration,
        _deadline: Deadline,
    ) -> StoreResult<()> {
        let (name, _) = Self::names(key);
        let dir = self.folder()?;
        let tmp = temporary_name(&name);
        let result = (|| {
            let mut f = dir.create_new(&tmp)?;
            f.write_all(record.as_bytes())?;
            f.sync_all()?;
            dir.rename(&tmp, &name)
        })();
        if result.is_err() {
            let _ = dir.remove(&tmp);
        } else {
            self.remove_abandoned_temporaries(&dir);
        }
        Ok(result.map_err(|e| format!("{}/{name}: {e}", self.dir.display()))?)
    }

    fn lock(&self, key: &str, _ttl: Duration, _deadline: Deadline) -> StoreResult<bool> {
        let (_, lock) = Self::names(key);
        let file = self
            .open_lock_file(&self.folder()?, &lock)
            .map_err(|e| format!("{}/{lock}: {e}", self.dir.display()))?;
        if !Self::try_flock(file.file()).map_err(|e| format!("flock {lock}: {e}"))? {
            return Ok(false);
        }
        *self.held.lock() = Some(file);
        Ok(true)
    }

    fn unlock(&self, _key: &str, _deadline: Deadline) -> StoreResult<()> {
        drop(self.held.lock().take());
        Ok(())
    }

    /// Under the lock (waited for until `deadline`: flock has no timeout of its own), so that a record another
    /// process is writing at the same moment is not the one removed.
    fn remove(&self, key: &str, record: &str, deadline: Deadline) -> StoreResult<()> {
        let (name, lock) = Self::names(key);
        let dir = self.folder()?;
        let lock_file = self.open_lock_file(&dir, &lock)?;
        while !Self::try_flock(lock_file.file())? {
            if deadline.remaining().is_zero() {
                return Err("the cache lock stayed taken".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if self
            .load_from(&dir, &name)?
            .is_some_and(|text| *text == record)
        {
            dir.remove(&name)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_names_of_record_temporaries_are_taken_for_them() {
        let (record, lock) = FileStore::names("x8:v1:0123456789abcdef0123456789abcdef0123");
        let made = temporary_name(&record);
        assert!(is_temporary_name(&made), "{made}");
        for other in [
            record.clone(),
            lock,
            format!("{record}.tmp"),
            format!("{record}.tmp12.xyz00000"),
            format!("{record}.tmp.0badc0de"),
            format!("{record}.tmp12.0badc0de1"),
            "notes.json.tmp12.0badc0de".to_owned(),
            "x8-token-.json.tmpab.0badc0de".to_owned(),
        ] {
            assert!(!is_temporary_name(&other), "{other}");
        }
    }
}
