//! The cache file's lock descriptors, kept out of forked children.
//!
//! The cache lock is an `flock` on a lock file, and an flock belongs to the open file description, not to the
//! process: a child forked while the parent holds it gets a descriptor for the same description, and the lock
//! then lasts until *both* have closed it. Before this, a child forked during a fetch (a worker pool, a
//! daemon's fork per request) kept the lock after the parent was done with it, and every other process waited
//! half its timeout for a lock nobody was using, for as long as the child lived; if the parent died, the lock
//! lived on in the child.
//!
//! So every lock descriptor is registered here while it is open, and in a forked child each one is replaced by
//! `/dev/null` (`dup2`, atomically): the child no longer refers to the lock's description, and the number stays
//! valid for the inherited `File` to close later. Closing alone would not do: the number could be reused by
//! the child and then closed again by the inherited `File`. Replacing in the child never releases the parent's
//! lock (that would need `LOCK_UN` on it, which only the holder does). `O_CLOEXEC` already keeps the
//! descriptors from programs a child `exec`s; this covers children that do not.
//!
//! Opening and closing happen under the registry's lock, which the fork handler holds across fork(), so a
//! child never inherits a descriptor that is open but not yet (or no longer) registered. And a holder releases
//! with `LOCK_UN` before closing: even a child that somehow kept the description (a fork through a path that
//! skips the handlers, like a raw `clone`) cannot keep the lock once its holder is done.

use std::cell::RefCell;
use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};

use crate::rt::fork::{self, ForkHooks};

static OPEN: Mutex<Vec<RawFd>> = Mutex::new(Vec::new());

thread_local! {
    /// The registry's guard, held by the thread calling fork() from the prepare hook to the parent or child hook.
    static HELD_FOR_FORK: RefCell<Option<MutexGuard<'static, Vec<RawFd>>>> = const { RefCell::new(None) };
}

fn registry() -> MutexGuard<'static, Vec<RawFd>> {
    static HOOKS: Once = Once::new();
    HOOKS.call_once(|| {
        fork::on_fork(ForkHooks {
            name: "cache lock descriptors",
            prepare: || {
                let held = unhooked();
                HELD_FOR_FORK.with(|h| *h.borrow_mut() = Some(held));
            },
            parent: || HELD_FOR_FORK.with(|h| drop(h.borrow_mut().take())),
            child: || {
                HELD_FOR_FORK.with(|h| {
                    if let Some(mut held) = h.borrow_mut().take() {
                        abandon_in_child(&held);
                        // No allocation freed here; the entries are the child's no longer.
                        held.clear();
                    }
                })
            },
        })
    });
    unhooked()
}

fn unhooked() -> MutexGuard<'static, Vec<RawFd>> {
    OPEN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// In the child just after fork(): points every registered descriptor at `/dev/null`. Only async-signal-safe
/// calls (open, dup3, close): the child of a threaded parent may call nothing else here.
fn abandon_in_child(fds: &[RawFd]) {
    if fds.is_empty() {
        return;
    }
    // SAFETY: a NUL-terminated literal path; the descriptor is closed below.
    let null = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    for &fd in fds {
        if null >= 0 {
            // SAFETY: both are descriptors of this process; dup3 replaces `fd` atomically.
            unsafe { libc::dup3(null, fd, libc::O_CLOEXEC) };
        } else {
            // No /dev/null (a bare chroot): closing still drops the lock's description; the inherited `File`
            // closing the number again later is the lesser harm.
            // SAFETY: closing a descriptor of this process.
            unsafe { libc::close(fd) };
        }
    }
    if null >= 0 {
        // SAFETY: the descriptor opened above.
        unsafe { libc::close(null) };
    }
}

/// An open lock file, registered so that forked children do not keep it; unlocked and closed when dropped.
pub struct LockFd {
    file: Option<File>,
}

impl LockFd {
    /// Runs `open` under the registry's lock and registers what it opened.
    pub fn open<E>(open: impl FnOnce() -> Result<File, E>) -> Result<LockFd, E> {
        let mut open_fds = registry();
        let file = open()?;
        open_fds.push(file.as_raw_fd());
        Ok(LockFd { file: Some(file) })
    }

    pub fn file(&self) -> &File {
        self.file.as_ref().expect("open until dropped")
    }
}

impl Drop for LockFd {
    fn drop(&mut self) {
        let Some(file) = self.file.take() else {
            return;
        };
        let fd = file.as_raw_fd();
        // SAFETY: flock on our own open descriptor. Releases the lock on the open file description whoever else
        // refers to it; a no-op when this descriptor holds no lock.
        unsafe { libc::flock(fd, libc::LOCK_UN) };
        let mut open_fds = unhooked();
        if let Some(at) = open_fds.iter().position(|&f| f == fd) {
            open_fds.swap_remove(at);
        }
        if open_fds.is_empty() {
            // Nothing left allocated once no lock is open (valgrind counts "still reachable" too).
            *open_fds = Vec::new();
        }
        drop(file);
    }
}
