//! Descriptors a forked child must not hold: the cache file's lock descriptors, every HTTP socket, the Redis
//! connection.
//!
//! A child forked by the application inherits every descriptor of the parent. The child never uses them (a
//! client made before fork() answers FORKED there), but holding them is harm enough:
//! - an `flock` belongs to the open file description, not to the process, so a child forked while the parent
//!   holds the cache lock kept it after the parent was done with it (every other process waited half its
//!   timeout for a lock nobody was using, for as long as the child lived);
//! - a socket is closed, and its server sees the FIN, only once the last descriptor of it is closed: a pooled
//!   connection the parent dropped stayed open at the server until every child forked meanwhile had exited.
//!
//! So every such descriptor is registered here while it is open, and in a forked child each one is replaced by
//! `/dev/null` (`dup2`, atomically): the child no longer refers to the lock's description or the socket, and
//! the number stays valid for the inherited object to close later. Closing alone would not do: the number could
//! be reused by the child and then closed again by the inherited object. Replacing in the child never touches
//! the parent's use of it (a socket is shut down or a lock released only by an explicit call, not by a close).
//! `O_CLOEXEC`, which std sets on every descriptor, already keeps them from programs a child `exec`s; this
//! covers children that do not.
//!
//! Closing happens under the registry's lock, which the fork handler holds across fork() (taken after every
//! other layer's prepare hook, so a hook that waits for a thread closing a descriptor cannot deadlock), so a
//! child never inherits a descriptor that is no longer registered, nor has a number replaced that was closed and
//! reused. Opening happens under the lock too (`open`), so no fork comes between a descriptor's creation and its
//! registration: a lock file, and every socket (TCP or Unix), which is created unconnected and connected after, outside
//! the lock (`sockets`: a connect may block for seconds and must not hold up every other connect and fork).
//! The cost: one uncontended lock per descriptor opened and one per descriptor closed, nothing per request.
//!
//! Unix only: Windows has no fork(), and there `Unshared` only wraps.

use std::io::{self, Read, Write};
use std::mem::ManuallyDrop;
use std::ops::Deref;

#[cfg(unix)]
pub use unix::{after_fork_in_child, after_fork_in_parent, before_fork};

// Never called: Windows has no fork().
#[cfg(not(unix))]
pub fn before_fork() {}
#[cfg(not(unix))]
pub fn after_fork_in_parent() {}
#[cfg(not(unix))]
pub fn after_fork_in_child() {}

/// `T` (a `File`, a `TcpStream`, ...) with its descriptor registered while it is open; closed under the
/// registry's lock when dropped.
pub struct Unshared<T> {
    inner: ManuallyDrop<T>,
    #[cfg(unix)]
    fd: std::os::fd::RawFd,
}

#[cfg(unix)]
impl<T: std::os::fd::AsRawFd> Unshared<T> {
    /// Runs `open` under the registry's lock and registers what it opened: no fork can come in between.
    pub fn open<E>(open: impl FnOnce() -> Result<T, E>) -> Result<Unshared<T>, E> {
        let mut fds = unix::registry();
        let inner = open()?;
        let fd = inner.as_raw_fd();
        fds.push(fd);
        Ok(Unshared {
            inner: ManuallyDrop::new(inner),
            fd,
        })
    }

    /// Registers what is already open, for tests: everything x8 opens is registered as it is made (`open`).
    #[cfg(test)]
    pub fn register(inner: T) -> Unshared<T> {
        Unshared::open(|| Ok::<T, std::convert::Infallible>(inner))
            .unwrap_or_else(|never| match never {})
    }
}

#[cfg(not(unix))]
impl<T> Unshared<T> {
    /// No fork here: only wraps what `open` made.
    pub fn open<E>(open: impl FnOnce() -> Result<T, E>) -> Result<Unshared<T>, E> {
        open().map(Unshared::register)
    }

    pub fn register(inner: T) -> Unshared<T> {
        Unshared {
            inner: ManuallyDrop::new(inner),
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Unshared<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T> Deref for Unshared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> Drop for Unshared<T> {
    fn drop(&mut self) {
        #[cfg(unix)]
        let _fds = unix::unregistered(self.fd);
        // SAFETY: dropped once, here, and never used again.
        unsafe { ManuallyDrop::drop(&mut self.inner) };
    }
}

impl<T: Read> Read for Unshared<T> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<T: Write> Write for Unshared<T> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(unix)]
mod unix {
    use std::cell::RefCell;
    use std::os::fd::RawFd;
    use std::sync::{Mutex, MutexGuard, PoisonError};

    // A Vec, not a set: removing scans it, a few microseconds with 10,000 open; a set allocates per entry or
    // cannot be made in a static.
    static OPEN: Mutex<Vec<RawFd>> = Mutex::new(Vec::new());

    thread_local! {
        /// The registry's guard, held by the thread calling fork() from the prepare handler to the parent or
        /// child handler.
        static HELD_FOR_FORK: RefCell<Option<MutexGuard<'static, Vec<RawFd>>>> = const { RefCell::new(None) };
    }

    pub(super) fn registry() -> MutexGuard<'static, Vec<RawFd>> {
        // Makes sure the fork handlers are in place before the first descriptor is.
        crate::rt::fork::generation();
        OPEN.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The registry without `fd`, locked: the caller closes `fd` before releasing it.
    pub(super) fn unregistered(fd: RawFd) -> MutexGuard<'static, Vec<RawFd>> {
        let mut fds = OPEN.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = fds.iter().rposition(|&f| f == fd) {
            fds.swap_remove(at);
        }
        if fds.is_empty() {
            // Nothing left allocated once nothing is open (valgrind counts "still reachable" too).
            *fds = Vec::new();
        }
        fds
    }

    /// Called by the fork handler after every other prepare hook.
    pub fn before_fork() {
        let held = OPEN.lock().unwrap_or_else(PoisonError::into_inner);
        HELD_FOR_FORK.with(|h| *h.borrow_mut() = Some(held));
    }

    pub fn after_fork_in_parent() {
        HELD_FOR_FORK.with(|h| drop(h.borrow_mut().take()));
    }

    pub fn after_fork_in_child() {
        HELD_FOR_FORK.with(|h| {
            if let Some(mut held) = h.borrow_mut().take() {
                abandon_in_child(&held);
                // No allocation freed here; the entries are the child's no longer.
                held.clear();
            }
        })
    }

    /// In the child just after fork(): points every registered descriptor at `/dev/null`. Only
    /// async-signal-safe calls (open, dup2, fcntl, close): the child of a threaded parent may call nothing else here.
    fn abandon_in_child(fds: &[RawFd]) {
        if fds.is_empty() {
            return;
        }
        // SAFETY: a NUL-terminated literal path; the descriptor is closed below.
        let null = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        for &fd in fds {
            if null >= 0 {
                // SAFETY: both are descriptors of this process; dup2 replaces `fd` atomically (dup3, which would
                // set close-on-exec in the same call, is not on macOS), then `fd` gets close-on-exec back.
                unsafe {
                    libc::dup2(null, fd);
                    libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
                }
            } else {
                // No /dev/null (a bare chroot): closing still lets go of the lock or socket; the inherited
                // object closing the number again later is the lesser harm.
                // SAFETY: closing a descriptor of this process.
                unsafe { libc::close(fd) };
            }
        }
        if null >= 0 {
            // SAFETY: the descriptor opened above.
            unsafe { libc::close(null) };
        }
    }
}

/// Whether `fd` is registered now.
#[cfg(all(test, unix))]
pub(crate) fn is_registered(fd: std::os::fd::RawFd) -> bool {
    unix::registry().contains(&fd)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    fn registered(fd: std::os::fd::RawFd) -> bool {
        is_registered(fd)
    }

    #[test]
    fn a_descriptor_is_registered_while_open() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = Unshared::register(
            std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap(),
        );
        assert!(registered(stream.as_raw_fd()));
        let file = Unshared::open(|| std::fs::File::open("/dev/null")).unwrap();
        assert!(registered(file.as_raw_fd()));
        // That they are no longer once closed is not checked here: the other tests of this process open
        // descriptors meanwhile and may get the same numbers. tests/c/test_fork.c checks it in a child.
    }
}
