//! fork(), in one place: the one `pthread_atfork` registration of the library.
//!
//! A child process inherits the client's memory but not its threads: a lock held by a parent thread would never
//! be released, and pooled connections would be shared with the parent. So a client made before fork() refuses
//! to work in the child, with a clear error, instead of deadlocking or corrupting the parent's connections
//! (`generation`, `changed_since`). Freeing it in the child releases only memory and never waits for a lock.
//!
//! Layers above may register hooks (`on_fork`) run around every fork(): `prepare` in the parent just before,
//! then `parent` in the parent or `child` in the child just after. The renewal scheduler uses them to end its
//! idle threads before fork(), to hold its lock across it (so the child never inherits it half-taken), and to
//! start afresh in the child. The registry of descriptors a child must not hold (`inherited_fds`) is handled
//! last before fork() and first after it. The hook list itself is locked by `prepare` and released by `parent`/`child`, so a
//! registration racing a fork cannot leave the child a lock it cannot take.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};

static FORKS: AtomicU64 = AtomicU64::new(0);
static REGISTER: Once = Once::new();

/// What a layer runs around fork(); see the module comment.
#[derive(Clone, Copy)]
pub struct ForkHooks {
    /// Who registers them: registering under the same name again changes nothing.
    pub name: &'static str,
    pub prepare: fn(),
    pub parent: fn(),
    pub child: fn(),
}

// A std mutex (a futex word): released in the child, it wakes nobody and needs no other lock, where
// parking_lot's slow unlock path would take its global parking table's bucket locks, which a parent thread may
// have held at fork().
// A fixed table rather than a Vec: nothing allocated that would outlive the last client.
static HOOKS: Mutex<[Option<ForkHooks>; MAX_HOOKS]> = Mutex::new([None; MAX_HOOKS]);
const MAX_HOOKS: usize = 4;

thread_local! {
    /// The hook list's guard, held from the prepare handler to the parent or child handler: fork() runs all
    /// three in the thread that called it.
    static HELD: RefCell<Option<MutexGuard<'static, [Option<ForkHooks>; MAX_HOOKS]>>> = const { RefCell::new(None) };
}

fn hooks() -> MutexGuard<'static, [Option<ForkHooks>; MAX_HOOKS]> {
    HOOKS.lock().unwrap_or_else(PoisonError::into_inner)
}

extern "C" fn before_fork() {
    // A panic must not unwind into libc's fork().
    let _ = std::panic::catch_unwind(|| {
        let list = hooks();
        for hook in list.iter().flatten() {
            (hook.prepare)();
        }
        // Last, so that a hook waiting for a thread that closes a descriptor is not waiting on this lock.
        super::inherited_fds::before_fork();
        HELD.with(|held| *held.borrow_mut() = Some(list));
    });
}

/// Runs `fds` (the descriptor registry's handler, taken last before fork()), then the `parent` or `child` hooks
/// (in reverse order of registration), and releases the hook list.
fn after_fork(pick: fn(&ForkHooks) -> fn(), fds: fn()) {
    let _ = std::panic::catch_unwind(|| {
        fds();
        HELD.with(|held| {
            if let Some(list) = held.borrow_mut().take() {
                for hook in list.iter().rev().flatten() {
                    pick(hook)();
                }
            }
        });
    });
}

extern "C" fn in_parent_after_fork() {
    after_fork(|h| h.parent, super::inherited_fds::after_fork_in_parent);
}

extern "C" fn in_child_after_fork() {
    FORKS.fetch_add(1, Ordering::Relaxed);
    after_fork(|h| h.child, super::inherited_fds::after_fork_in_child);
}

fn register() {
    REGISTER.call_once(|| {
        // A no-op on Windows, which has no fork().
        super::os::register_fork_handlers(before_fork, in_parent_after_fork, in_child_after_fork);
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

/// Runs `hooks` around every later fork(); registering the same name twice runs them once.
pub fn on_fork(hooks: ForkHooks) {
    register();
    let mut list = self::hooks();
    if list.iter().flatten().any(|h| h.name == hooks.name) {
        return;
    }
    let free = list.iter_mut().find(|h| h.is_none());
    *free.expect("more fork hooks than MAX_HOOKS") = Some(hooks);
}
