//! Which cancellation handle the request running on this thread answers to, and the sockets it has touched.
//!
//! ureq's transport calls carry nothing of the request they serve, but ureq runs a request on the calling
//! thread (our resolver reads the handle before its lookup thread starts), so `Transport::send` puts the call's `Cancel` in a
//! thread-local for the request and its body read, and the TCP layer registers each socket it reads or writes
//! meanwhile: a cancel shuts that socket down (shutdown(2), which wakes a read or write blocked on it: ureq's
//! Agent::shutdown relies on the same on every OS, and tests/windows.rs checks it under Wine) and marks it dead, so the pool can never hand it out again. The registrations end with the scope, so a
//! cancel after the call returned touches no socket.

use std::cell::RefCell;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::rt::cancel::{Cancel, OnCancel};

use super::tcp::SharedSocket;

thread_local! {
    static CURRENT: RefCell<Option<Scope>> = const { RefCell::new(None) };
}

struct Scope {
    cancel: Cancel,
    /// The sockets registered with `cancel`, by address (kept alive by their wake-ups until the scope ends).
    watched: Vec<(usize, OnCancel)>,
    /// Set by a wake-up that shut a socket down: whatever ureq made of the EOF that followed, the call was cut.
    cut: Arc<AtomicBool>,
}

/// The mark on an I/O error that the call's handle was cancelled.
#[derive(Debug)]
pub struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the call was cancelled")
    }
}

impl std::error::Error for Cancelled {}

fn cancelled() -> ureq::Error {
    // Not ErrorKind::Interrupted: std's read loops retry that.
    ureq::Error::Io(io::Error::other(Cancelled))
}

/// Runs `f` (one request and its body read, which never sends another request) answering to `cancel`.
/// Returns what `f` returned and whether a cancel shut one of its sockets down.
pub fn scoped<R>(cancel: Option<&Cancel>, f: impl FnOnce() -> R) -> (R, bool) {
    let Some(cancel) = cancel else {
        return (f(), false);
    };
    let scope = Scope {
        cancel: cancel.clone(),
        watched: Vec::new(),
        cut: Arc::new(AtomicBool::new(false)),
    };
    let previous = CURRENT.with(|c| c.replace(Some(scope)));
    // Restored even if `f` unwinds (a panic is caught at the C boundary and the thread lives on).
    struct Restore(Option<Option<Scope>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take().flatten();
            // Dropping the scope's registrations waits for a wake-up in progress: no late shutdown.
            drop(CURRENT.with(|c| c.replace(previous)));
        }
    }
    let restore = Restore(Some(previous));
    let out = f();
    let cut = CURRENT.with(|c| {
        c.borrow()
            .as_ref()
            .is_some_and(|s| s.cut.load(Ordering::SeqCst))
    });
    drop(restore);
    (out, cut)
}

/// The handle of the call running on this thread, if it has one (the resolver's lookups answer to it).
pub fn current() -> Option<Cancel> {
    CURRENT.with(|c| c.borrow().as_ref().map(|scope| scope.cancel.clone()))
}

/// What a call cut by its cancel fails with, for the layers that notice the cancel themselves.
pub fn cancelled_call() -> ureq::Error {
    cancelled()
}

/// Before a connect: fails when the call's handle is cancelled.
pub fn check() -> Result<(), ureq::Error> {
    CURRENT.with(|c| match c.borrow().as_ref() {
        Some(scope) if scope.cancel.is_cancelled() => Err(cancelled()),
        _ => Ok(()),
    })
}

/// Before each read or write on `socket`: fails when the call's handle is cancelled, and otherwise makes sure
/// a cancel shuts this socket down. One thread-local look-up when the socket is registered already.
pub fn watch(socket: &Arc<SharedSocket>) -> Result<(), ureq::Error> {
    CURRENT.with(|c| {
        let mut current = c.borrow_mut();
        let Some(scope) = current.as_mut() else {
            return Ok(());
        };
        if scope.cancel.is_cancelled() {
            return Err(cancelled());
        }
        let key = Arc::as_ptr(socket) as usize;
        if scope.watched.iter().any(|(k, _)| *k == key) {
            return Ok(());
        }
        let (socket, cut) = (socket.clone(), scope.cut.clone());
        let registered = scope.cancel.on_cancel(move || {
            cut.store(true, Ordering::SeqCst);
            socket.kill();
        });
        match registered {
            Some(guard) => {
                scope.watched.push((key, guard));
                Ok(())
            }
            None => Err(cancelled()),
        }
    })
}

/// Whether `e` carries the [`Cancelled`] mark.
pub fn is_cancelled(e: &ureq::Error) -> bool {
    matches!(e, ureq::Error::Io(io) if io.get_ref().is_some_and(|inner| inner.is::<Cancelled>()))
}
