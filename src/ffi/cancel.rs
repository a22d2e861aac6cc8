//! `x8_cancel`: a handle a caller triggers from another thread to make a blocked call return.

use super::args::handle;
use super::boundary::boundary_or;
use super::own::{give, take, Boxed};
use crate::rt::cancel::Cancel;

/// A cancellation handle: created by the caller with `x8_cancel_new`, passed to calls (`x8_request_opts.cancel`,
/// `x8_get_token_ex`, `x8_client_token_ex`), and triggered with `x8_cancel_trigger` from any thread to make those
/// calls return X8_STATUS_CANCELLED promptly. One handle may be passed to any number of calls, on any clients,
/// at once; a trigger cancels all of them and every later call given it (there is no reset: make a new one).
///
/// Thread safety: `x8_cancel_trigger` and `x8_cancel_is_triggered` may be called from any thread at any time,
/// also while calls using the handle run. `x8_cancel_free` must come last: after every call given the handle
/// has returned and no trigger is running.
pub struct x8_cancel {
    pub(crate) inner: Cancel,
}

impl Boxed for x8_cancel {}

/// The cancel a call was given: `None` for NULL (the call cannot be cancelled).
pub(crate) fn cancel_arg<'a>(cancel: *const x8_cancel) -> Option<&'a Cancel> {
    handle(cancel, "cancel").ok().map(|c| &c.inner)
}

/// Creates a cancellation handle, not triggered. Owned by the caller, released with `x8_cancel_free`. Never
/// NULL. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn x8_cancel_new() -> *mut x8_cancel {
    boundary_or(std::ptr::null_mut(), || {
        Ok(give(x8_cancel {
            inner: Cancel::new(),
        }))
    })
}

/// Triggers the handle: every call given it that is running returns X8_STATUS_CANCELLED promptly (a request
/// blocked on the network has its connection shut down, and that connection is never reused; a caller waiting
/// for the shared token fetch stops waiting, while the fetch goes on for the other callers), and every call
/// given it later fails with X8_STATUS_CANCELLED at once. A call that returned before the trigger is not affected,
/// nor is its connection.
/// Idempotent; NULL is ignored. Thread safety: any thread, also while calls using the handle run (it does not
/// wait for them to return).
#[no_mangle]
pub extern "C" fn x8_cancel_trigger(cancel: *const x8_cancel) {
    boundary_or((), || {
        if let Ok(c) = handle(cancel, "cancel") {
            c.inner.cancel();
        }
        Ok(())
    })
}

/// Whether the handle was triggered; false for NULL. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn x8_cancel_is_triggered(cancel: *const x8_cancel) -> bool {
    boundary_or(false, || {
        Ok(handle(cancel, "cancel").is_ok_and(|c| c.inner.is_cancelled()))
    })
}

/// Frees a cancellation handle. NULL is ignored. Must be the last use: no call given the handle may still run
/// and no `x8_cancel_trigger` on it may be in progress. Any thread.
#[no_mangle]
pub extern "C" fn x8_cancel_free(cancel: *mut x8_cancel) {
    boundary_or((), || {
        drop(take(cancel));
        Ok(())
    })
}
