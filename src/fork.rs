//! fork() detection. A child process inherits the client's memory but not its threads: a lock held by the
//! parent's background refresh would never be released, and pooled connections would be shared with the
//! parent. So a client made before fork() refuses to work in the child, with a clear error, instead of
//! deadlocking or corrupting the parent's connections. Freeing it in the child is safe.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

static FORKS: AtomicU64 = AtomicU64::new(0);
static REGISTER: Once = Once::new();

extern "C" fn in_child_after_fork() {
    FORKS.fetch_add(1, Ordering::Relaxed);
}

/// The current fork generation; registers the fork handler on first use.
pub fn generation() -> u64 {
    REGISTER.call_once(|| {
        // SAFETY: registers a handler that only touches an atomic, which is async-signal-safe.
        unsafe { libc::pthread_atfork(None, None, Some(in_child_after_fork)) };
    });
    FORKS.load(Ordering::Relaxed)
}

/// Cheap check for the hot path: one relaxed load.
#[inline]
pub fn changed_since(created: u64) -> bool {
    FORKS.load(Ordering::Relaxed) != created
}
