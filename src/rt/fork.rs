//! fork(), in one place: the one `pthread_atfork` registration of the library.
//!
//! A child process inherits the client's memory but not its threads: a lock held by the parent's background
//! refresh would never be released, and pooled connections would be shared with the parent. So a client made
//! before fork() refuses to work in the child, with a clear error, instead of deadlocking or corrupting the
//! parent's connections (`generation`, `changed_since`). Freeing it in the child is safe.
//!
//! Layers above may also ask to run a hook in the parent just before fork() (`run_before_fork`): the cache's
//! renewal threads end themselves there, so a child inherits no memory of threads it does not have.

use parking_lot::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

static FORKS: AtomicU64 = AtomicU64::new(0);
static REGISTER: Once = Once::new();
static BEFORE_FORK: Mutex<Vec<fn()>> = Mutex::new(Vec::new());

extern "C" fn in_child_after_fork() {
    FORKS.fetch_add(1, Ordering::Relaxed);
}

extern "C" fn in_parent_before_fork() {
    // A panic must not unwind into libc's fork(). The hooks are copied out so none runs under our lock.
    let _ = std::panic::catch_unwind(|| {
        let hooks: Vec<fn()> = BEFORE_FORK.lock().clone();
        for hook in hooks {
            hook();
        }
    });
}

fn register() {
    REGISTER.call_once(|| {
        // The child handler only touches an atomic (async-signal-safe); the prepare handler runs in the forking
        // thread before fork(), with no lock of ours held. A no-op on Windows, which has no fork().
        super::os::register_fork_handlers(in_parent_before_fork, in_child_after_fork);
    });
}

/// The current fork generation; registers the fork handlers on first use.
pub fn generation() -> u64 {
    register();
    FORKS.load(Ordering::Relaxed)
}

/// Cheap check for the hot path: one relaxed load.
#[inline]
pub fn changed_since(created: u64) -> bool {
    FORKS.load(Ordering::Relaxed) != created
}

/// Runs `hook` in the parent just before every later fork(); registering the same hook twice runs it once.
pub fn run_before_fork(hook: fn()) {
    register();
    let mut hooks = BEFORE_FORK.lock();
    if !hooks.contains(&hook) {
        hooks.push(hook);
    }
}
