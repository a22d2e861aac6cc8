//! `x8_status` and `x8_error`: what every fallible call returns and the details it hands back.

use std::ffi::{c_char, CString};

use super::args::handle;
use super::boundary::boundary_or;
use super::own::{c_string, take, Boxed};
use crate::error::Error;

/// The C API's status codes: the table in src/error/statuses.rs (build.rs writes it into the header).
pub use crate::error::Status as x8_status;

/// The details of a failed call: its status, a message for people, and the HTTP status if a server answered.
/// Created by the library, owned by the caller, freed with `x8_error_free`. Immutable, so any thread may read it.
pub struct x8_error {
    status: x8_status,
    http_status: u16,
    message: CString,
}

impl Boxed for x8_error {}

impl x8_error {
    pub(crate) fn from_error(e: &Error) -> x8_error {
        x8_error {
            status: e.kind().status(),
            http_status: e.http_status(),
            message: c_string(e.message()),
        }
    }
}

/// The status code (never `X8_STATUS_OK`) of an error; `X8_STATUS_INVALID_ARGUMENT` for NULL.
///
/// Thread safety: any thread.
#[no_mangle]
pub extern "C" fn x8_error_code(err: *const x8_error) -> x8_status {
    boundary_or(
        x8_status::InvalidArgument,
        || Ok(handle(err, "err")?.status),
    )
}

/// The error's message: what happened and what to do. Never contains the secret or a token. Borrowed: valid
/// until `x8_error_free(err)`. Returns "" for NULL.
///
/// Thread safety: any thread.
#[no_mangle]
pub extern "C" fn x8_error_message(err: *const x8_error) -> *const c_char {
    boundary_or(c"".as_ptr(), || Ok(handle(err, "err")?.message.as_ptr()))
}

/// The HTTP status behind the error (e.g. 401 from the token endpoint), or 0 when no server answered.
///
/// Thread safety: any thread.
#[no_mangle]
pub extern "C" fn x8_error_http_status(err: *const x8_error) -> u16 {
    boundary_or(0, || Ok(handle(err, "err")?.http_status))
}

/// Frees an error. NULL is ignored. Any thread.
#[no_mangle]
pub extern "C" fn x8_error_free(err: *mut x8_error) {
    boundary_or((), || {
        drop(take(err));
        Ok(())
    })
}

const UNKNOWN: *const c_char = c"X8_STATUS_UNKNOWN".as_ptr();

/// A static, NUL-terminated name for a status code, e.g. "X8_STATUS_AUTH"; "X8_STATUS_UNKNOWN" for values that
/// are not a status. Never freed. Any thread.
#[no_mangle]
pub extern "C" fn x8_status_str(status: i32) -> *const c_char {
    boundary_or(UNKNOWN, || {
        Ok(x8_status::from_code(status).map_or(UNKNOWN, |s| s.name().as_ptr()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    #[test]
    fn every_status_has_its_name_and_others_are_unknown() {
        for s in x8_status::ALL {
            let name = unsafe { CStr::from_ptr(x8_status_str(*s as i32)) };
            assert_eq!(name, s.name(), "{s:?}");
        }
        // The first code the table does not use (the next status to be added would take it).
        let free = (0..)
            .find(|c| x8_status::ALL.iter().all(|s| *s as i32 != *c))
            .unwrap();
        let unknown = unsafe { CStr::from_ptr(x8_status_str(free)) };
        assert_eq!(unknown, c"X8_STATUS_UNKNOWN");
    }

    #[test]
    fn null_errors_answer_the_documented_defaults() {
        assert_eq!(x8_error_code(std::ptr::null()), x8_status::InvalidArgument);
        assert_eq!(
            unsafe { CStr::from_ptr(x8_error_message(std::ptr::null())) },
            c""
        );
        assert_eq!(x8_error_http_status(std::ptr::null()), 0);
        x8_error_free(std::ptr::null_mut());
    }
}
