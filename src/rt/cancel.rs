//! Cancellation: a flag any thread may raise, and the wake-ups that make a call blocked in the kernel or on a
//! condition variable notice it at once instead of at its deadline.
//!
//! A blocked call registers a wake-up (`on_cancel`) for what it is blocked on: shutting down its socket, waking
//! the condition variable it sleeps on. `cancel` raises the flag and runs the wake-ups registered at that
//! moment on the cancelling thread. A wake-up runs at most once and never after its `OnCancel` guard was
//! dropped: dropping the guard waits for a wake-up in progress, so a socket that went back to the pool after
//! its request is never shut down by a late cancel.

use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

type Wake = Box<dyn FnOnce() + Send>;

/// A cancellation handle: cheap to clone (clones share one flag), `cancel` from any thread, any number of
/// times. A call given a cancelled handle fails with `ErrorKind::Cancelled`; a call blocked when it is
/// cancelled returns with it promptly.
#[derive(Clone, Default)]
pub struct Cancel {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    cancelled: AtomicBool,
    /// The wake-ups of the calls blocked on this handle now; taken by the first `cancel`.
    waiting: Mutex<Vec<Arc<Registered>>>,
}

/// One wake-up. Its lock is held while it runs, which is what `OnCancel::drop` waits on.
struct Registered {
    wake: Mutex<Option<Wake>>,
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Raises the flag and wakes every call blocked on this handle. Idempotent; any thread.
    pub fn cancel(&self) {
        if self.shared.cancelled.swap(true, Ordering::SeqCst) {
            return;
        }
        // Taken out under the lock and run outside it: a wake-up may take other locks, and a guard being
        // dropped meanwhile must be able to take this one.
        let waiting = std::mem::take(&mut *self.shared.waiting.lock());
        for registered in waiting {
            let mut wake = registered.wake.lock();
            if let Some(wake) = wake.take() {
                wake();
            }
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.shared.cancelled.load(Ordering::SeqCst)
    }

    /// Registers `wake` to run (once, on the cancelling thread) if this handle is cancelled while the returned
    /// guard lives. `None` when it is cancelled already: then `wake` is dropped unrun and the caller should
    /// give up instead of blocking. `wake` must not wait for anything the guard's owner holds when it drops
    /// the guard.
    pub fn on_cancel(&self, wake: impl FnOnce() + Send + 'static) -> Option<OnCancel> {
        let registered = Arc::new(Registered {
            wake: Mutex::new(Some(Box::new(wake))),
        });
        {
            // The flag is read under the lock `cancel` takes after raising it: either `cancel` finds this
            // wake-up in the list, or this sees the flag.
            let mut waiting = self.shared.waiting.lock();
            if self.is_cancelled() {
                return None;
            }
            waiting.push(registered.clone());
        }
        Some(OnCancel {
            shared: self.shared.clone(),
            registered,
        })
    }

    /// Whether two handles are clones of one another.
    pub fn same_as(&self, other: &Cancel) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

/// Sleeps for `d`, or until `cancel` is cancelled (a retry's Retry-After, a rate limit's turn: waits of seconds
/// that a cancel must end at once). Returns whether the call was cancelled.
pub fn sleep_unless_cancelled(cancel: Option<&Cancel>, d: Duration) -> bool {
    let Some(cancel) = cancel else {
        std::thread::sleep(d);
        return false;
    };
    let woken = Arc::new((Mutex::new(false), Condvar::new()));
    let Some(_registered) = cancel.on_cancel({
        let woken = woken.clone();
        move || {
            *woken.0.lock() = true;
            woken.1.notify_all();
        }
    }) else {
        return true;
    };
    let until = Instant::now() + d;
    let mut flag = woken.0.lock();
    while !*flag && !woken.1.wait_until(&mut flag, until).timed_out() {}
    // Released before the registration is dropped: dropping it waits for a wake-up in progress, which takes
    // this lock.
    drop(flag);
    cancel.is_cancelled()
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancel")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// A registered wake-up; dropping it unregisters it, waiting for it if it is running.
pub struct OnCancel {
    shared: Arc<Shared>,
    registered: Arc<Registered>,
}

impl Drop for OnCancel {
    fn drop(&mut self) {
        self.shared
            .waiting
            .lock()
            .retain(|r| !Arc::ptr_eq(r, &self.registered));
        // A `cancel` that took the list before the line above may be running this wake-up: its lock waits
        // for it; after this, it can no longer run.
        drop(self.registered.wake.lock().take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn cancel_runs_each_registered_wake_up_once_and_is_idempotent() {
        let cancel = Cancel::new();
        let runs = Arc::new(AtomicUsize::new(0));
        let guards: Vec<OnCancel> = (0..3)
            .map(|_| {
                let runs = runs.clone();
                cancel
                    .on_cancel(move || {
                        runs.fetch_add(1, Ordering::SeqCst);
                    })
                    .unwrap()
            })
            .collect();
        assert!(!cancel.is_cancelled());
        cancel.clone().cancel();
        cancel.cancel();
        assert!(cancel.is_cancelled());
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        drop(guards);
        assert!(cancel.on_cancel(|| panic!("must not run")).is_none());
    }

    #[test]
    fn a_dropped_guard_never_wakes() {
        let cancel = Cancel::new();
        let guard = cancel.on_cancel(|| panic!("ran after its guard was dropped"));
        drop(guard);
        cancel.cancel();
        assert!(cancel.shared.waiting.lock().is_empty());
    }

    #[test]
    fn dropping_a_guard_waits_for_its_wake_up_in_progress() {
        let cancel = Cancel::new();
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let done = Arc::new(AtomicBool::new(false));
        let done_in_wake = done.clone();
        let guard = cancel
            .on_cancel(move || {
                entered_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                done_in_wake.store(true, Ordering::SeqCst);
            })
            .unwrap();
        let canceller = {
            let cancel = cancel.clone();
            std::thread::spawn(move || cancel.cancel())
        };
        entered_rx.recv().unwrap();
        let dropper = std::thread::spawn(move || {
            drop(guard);
            done.load(Ordering::SeqCst)
        });
        // Time for a drop that did not wait to return before the wake-up finishes (and fail below).
        std::thread::sleep(std::time::Duration::from_millis(50));
        release_tx.send(()).unwrap();
        assert!(
            dropper.join().unwrap(),
            "the guard's drop returned while its wake-up was still running"
        );
        canceller.join().unwrap();
    }

    #[test]
    fn clones_share_one_flag() {
        let a = Cancel::new();
        let b = a.clone();
        assert!(a.same_as(&b) && !a.same_as(&Cancel::new()));
        b.cancel();
        assert!(a.is_cancelled());
    }
}
