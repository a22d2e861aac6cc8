//! The cache file's lock descriptors, kept out of forked children (`rt::inherited_fds`).
//!
//! The cache lock is an `flock` on a lock file, and an flock belongs to the open file description, not to the
//! process: a child forked while the parent held it kept the lock after the parent was done with it. So each
//! lock file is opened under the registry's lock and registered (a forked child gets `/dev/null` in its place).
//! And a holder releases with `LOCK_UN` before closing: even a child that somehow kept the description (a fork
//! through a path that skips the handlers, like a raw `clone`) cannot keep the lock once its holder is done.

use std::fs::File;
use std::os::fd::AsRawFd;

use crate::rt::inherited_fds::Unshared;

/// An open lock file, registered so that forked children do not keep it; unlocked and closed when dropped.
pub struct LockFd {
    file: Unshared<File>,
}

impl LockFd {
    /// Runs `open` under the registry's lock and registers what it opened.
    pub fn open<E>(open: impl FnOnce() -> Result<File, E>) -> Result<LockFd, E> {
        Ok(LockFd {
            file: Unshared::open(open)?,
        })
    }

    pub fn file(&self) -> &File {
        &self.file
    }
}

impl Drop for LockFd {
    fn drop(&mut self) {
        // SAFETY: flock on our own open descriptor. Releases the lock on the open file description whoever else
        // refers to it; a no-op when this descriptor holds no lock. The `Unshared` then closes it.
        unsafe { libc::flock(self.file.as_raw_fd(), libc::LOCK_UN) };
    }
}
