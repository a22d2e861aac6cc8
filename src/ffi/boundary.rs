//! What every entry point shares: status codes, the error object, the panic boundary and argument checks.

use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, ErrorKind, Result};

/// Result of every fallible call. `X8_STATUS_OK` is 0; every other value is a failure whose details are in the
/// `x8_error` the call hands back (when the caller asked for one).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum x8_status {
    /// Success.
    Ok = 0,
    /// A NULL pointer, text that is not UTF-8, a CR/LF in a method, path or header, an absurd size, or a URL on
    /// another origin than the client's. Fix the call.
    InvalidArgument = 1,
    /// The caller's buffer is too small; the needed length was reported. Call again with a larger buffer.
    BufferTooSmall = 2,
    /// Bad options or missing environment (`X8_CLIENT_ID`...). Fix the configuration.
    Config = 3,
    /// The token endpoint refused the credentials (400/401). Check the API key; retrying will not help.
    Auth = 4,
    /// The token endpoint kept failing (5xx/429) through every retry. Try again later.
    TokenEndpoint = 5,
    /// A server broke the protocol (e.g. a malformed token reply).
    Protocol = 6,
    /// Network failure: DNS, connection refused or reset, proxy.
    Transport = 7,
    /// A connect, read or overall timeout passed.
    Timeout = 8,
    /// TLS failed: untrusted or mismatching certificate, bad CA bundle.
    Tls = 9,
    /// The API refused the token because the key lacks the API's product. The message names the token's products.
    NotEntitled = 10,
    /// A response body exceeded the configured maximum.
    BodyTooLarge = 11,
    /// A client created before fork() was used in the child. Create a new client in the child.
    Forked = 12,
    /// A bug in x8 (an internal panic was caught). Please report it with the message.
    Internal = 99,
}

impl x8_status {
    fn of(kind: ErrorKind) -> x8_status {
        match kind {
            ErrorKind::InvalidArgument => x8_status::InvalidArgument,
            ErrorKind::BufferTooSmall => x8_status::BufferTooSmall,
            ErrorKind::Config => x8_status::Config,
            ErrorKind::Auth => x8_status::Auth,
            ErrorKind::TokenEndpoint => x8_status::TokenEndpoint,
            ErrorKind::Protocol => x8_status::Protocol,
            ErrorKind::Transport => x8_status::Transport,
            ErrorKind::Timeout => x8_status::Timeout,
            ErrorKind::Tls => x8_status::Tls,
            ErrorKind::NotEntitled => x8_status::NotEntitled,
            ErrorKind::BodyTooLarge => x8_status::BodyTooLarge,
            ErrorKind::Forked => x8_status::Forked,
            ErrorKind::Internal => x8_status::Internal,
        }
    }
}

/// The details of a failed call: its status, a message for people, and the HTTP status if a server answered.
/// Created by the library, owned by the caller, freed with `x8_error_free`. Immutable, so any thread may read it.
pub struct x8_error {
    status: x8_status,
    http_status: u16,
    message: CString,
}

impl x8_error {
    fn from_error(e: &Error) -> x8_error {
        // Messages are composed by x8 and never hold NUL, but a server's text could: drop it rather than fail.
        let text: String = e.message().chars().filter(|c| *c != '\0').collect();
        x8_error {
            status: x8_status::of(e.kind()),
            http_status: e.http_status(),
            message: CString::new(text).unwrap_or_default(),
        }
    }
}

/// Runs an entry point's body: converts its result into a status, stores the error for the caller, and turns a
/// panic into `X8_STATUS_INTERNAL` so that unwinding never reaches C.
pub(crate) fn boundary(err: *mut *mut x8_error, body: impl FnOnce() -> Result<()>) -> x8_status {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(Error::new(
            ErrorKind::Internal,
            format!("internal error in x8 (please report): {what}"),
        ))
    });
    let status = match &outcome {
        Ok(()) => x8_status::Ok,
        Err(e) => x8_status::of(e.kind()),
    };
    if !err.is_null() {
        let handed_out = match outcome {
            Ok(()) => std::ptr::null_mut(),
            Err(e) => Box::into_raw(Box::new(x8_error::from_error(&e))),
        };
        // SAFETY: the caller passed a non-NULL pointer to writable storage for one `x8_error *`.
        unsafe { *err = handed_out };
    }
    status
}

/// For entry points that return nothing (`_free`): a panic there is swallowed, never propagated.
pub(crate) fn boundary_void(body: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(body));
}

/// A required, borrowed, NUL-terminated UTF-8 string argument.
pub(crate) fn str_arg<'a>(p: *const c_char, what: impl std::fmt::Display) -> Result<&'a str> {
    if p.is_null() {
        return Err(Error::invalid(format!("{what} is NULL")));
    }
    // SAFETY: the caller promises a NUL-terminated string that outlives the call.
    let bytes = unsafe { CStr::from_ptr(p) };
    bytes
        .to_str()
        .map_err(|_| Error::invalid(format!("{what} is not valid UTF-8")))
}

/// A handle argument: NULL is an error, anything else must be a live handle from this library.
pub(crate) fn handle<'a, T>(p: *const T, what: &str) -> Result<&'a T> {
    // SAFETY: non-NULL handles are documented to be live pointers returned by this library.
    unsafe { p.as_ref() }.ok_or_else(|| Error::invalid(format!("{what} is NULL")))
}

/// An out-pointer argument, checked before any work is done so a result is never lost.
pub(crate) fn out_arg<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T> {
    // SAFETY: the caller passed writable storage for one T, or NULL, which is refused.
    unsafe { p.as_mut() }
        .ok_or_else(|| Error::invalid(format!("{what} (the out parameter) is NULL")))
}

/// Bytes given as pointer + length. NULL is fine for an empty buffer only; lengths that no real buffer has
/// are refused rather than trusted.
pub(crate) fn bytes_arg<'a>(p: *const u8, len: usize, what: &str) -> Result<Option<&'a [u8]>> {
    if p.is_null() {
        return if len == 0 {
            Ok(None)
        } else {
            Err(Error::invalid(format!(
                "{what} is NULL but its length is {len}"
            )))
        };
    }
    if len > MAX_ARG_BYTES {
        return Err(Error::invalid(format!(
            "{what} length {len} is absurd (over 1 GiB)"
        )));
    }
    // SAFETY: the caller promises `len` readable bytes at `p` for the duration of the call.
    Ok(Some(unsafe { std::slice::from_raw_parts(p, len) }))
}

pub(crate) const MAX_ARG_BYTES: usize = 1 << 30;

/// A caller-owned output buffer as a slice. NULL is fine with length 0 (a length query).
pub(crate) fn buffer_arg<'a>(buf: *mut c_char, buf_len: usize) -> Result<&'a mut [u8]> {
    if buf.is_null() {
        return if buf_len == 0 {
            Ok(&mut [])
        } else {
            Err(Error::invalid(format!(
                "the buffer is NULL but its length is {buf_len}"
            )))
        };
    }
    if buf_len > MAX_ARG_BYTES {
        return Err(Error::invalid(format!(
            "buffer length {buf_len} is absurd (over 1 GiB)"
        )));
    }
    // SAFETY: the caller promises `buf_len` writable bytes at `buf` for the duration of the call.
    Ok(unsafe { std::slice::from_raw_parts_mut(buf as *mut u8, buf_len) })
}

/// The snprintf contract's failure: the length was reported, nothing was written, so a caller never sees a cut
/// token.
pub(crate) fn too_small(buf_len: usize, len: usize) -> Error {
    Error::new(
        ErrorKind::BufferTooSmall,
        format!("the buffer holds {buf_len} bytes; {} are needed (X8_TOKEN_BUFFER_SIZE always suffices)", len + 1),
    )
}

/// Hands a string to the caller as `char *`, to be released with `x8_free`.
pub(crate) fn give_string(text: &str) -> *mut c_char {
    let clean: Vec<u8> = text.bytes().filter(|b| *b != 0).collect();
    CString::new(clean).unwrap_or_default().into_raw()
}

/// The status code (never `X8_STATUS_OK`) of an error; `X8_STATUS_INVALID_ARGUMENT` for NULL.
///
/// Thread safety: any thread.
#[no_mangle]
pub extern "C" fn x8_error_code(err: *const x8_error) -> x8_status {
    // SAFETY: NULL or a live error from this library.
    unsafe { err.as_ref() }.map_or(x8_status::InvalidArgument, |e| e.status)
}

/// The error's message: what happened and what to do. Never contains the secret or a token. Borrowed: valid
/// until `x8_error_free(err)`. Returns "" for NULL.
///
/// Thread safety: any thread.
#[no_mangle]
pub extern "C" fn x8_error_message(err: *const x8_error) -> *const c_char {
    // SAFETY: NULL or a live error from this library.
    match unsafe { err.as_ref() } {
        Some(e) => e.message.as_ptr(),
        None => c"".as_ptr(),
    }
}

/// The HTTP status behind the error (e.g. 401 from the token endpoint), or 0 when no server answered.
///
/// Thread safety: any thread.
#[no_mangle]
pub extern "C" fn x8_error_http_status(err: *const x8_error) -> u16 {
    // SAFETY: NULL or a live error from this library.
    unsafe { err.as_ref() }.map_or(0, |e| e.http_status)
}

/// Frees an error. NULL is ignored. Any thread.
#[no_mangle]
pub extern "C" fn x8_error_free(err: *mut x8_error) {
    boundary_void(|| {
        if !err.is_null() {
            // SAFETY: a live error from this library, freed once (documented ownership).
            drop(unsafe { Box::from_raw(err) });
        }
    })
}

/// Frees a string the library handed out through a `char **` out parameter (`x8_get_token_string`,
/// `x8_client_stats_json`). The memory is wiped first when it held a token. NULL is ignored. Any thread.
/// Never pass memory from another allocator, and never free these strings with libc `free`.
#[no_mangle]
pub extern "C" fn x8_free(ptr: *mut c_void) {
    boundary_void(|| {
        if !ptr.is_null() {
            // SAFETY: a string from `give_string` (CString::into_raw), freed once.
            let owned = unsafe { CString::from_raw(ptr as *mut c_char) };
            zeroize::Zeroize::zeroize(&mut owned.into_bytes());
        }
    })
}

/// A static, NUL-terminated name for a status code, e.g. "X8_STATUS_AUTH"; "X8_STATUS_UNKNOWN" for values that
/// are not a status. Never freed. Any thread.
#[no_mangle]
pub extern "C" fn x8_status_str(status: i32) -> *const c_char {
    let name: &CStr = match status {
        0 => c"X8_STATUS_OK",
        1 => c"X8_STATUS_INVALID_ARGUMENT",
        2 => c"X8_STATUS_BUFFER_TOO_SMALL",
        3 => c"X8_STATUS_CONFIG",
        4 => c"X8_STATUS_AUTH",
        5 => c"X8_STATUS_TOKEN_ENDPOINT",
        6 => c"X8_STATUS_PROTOCOL",
        7 => c"X8_STATUS_TRANSPORT",
        8 => c"X8_STATUS_TIMEOUT",
        9 => c"X8_STATUS_TLS",
        10 => c"X8_STATUS_NOT_ENTITLED",
        11 => c"X8_STATUS_BODY_TOO_LARGE",
        12 => c"X8_STATUS_FORKED",
        99 => c"X8_STATUS_INTERNAL",
        _ => c"X8_STATUS_UNKNOWN",
    };
    name.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_internal_error() {
        let mut err: *mut x8_error = std::ptr::null_mut();
        let status = boundary(&mut err, || panic!("boom"));
        assert_eq!(status, x8_status::Internal);
        let msg = unsafe { CStr::from_ptr(x8_error_message(err)) }
            .to_str()
            .unwrap();
        assert!(msg.contains("boom"), "{msg}");
        x8_error_free(err);
    }

    #[test]
    fn success_clears_the_error_slot() {
        let mut err: *mut x8_error = std::ptr::dangling_mut();
        assert_eq!(boundary(&mut err, || Ok(())), x8_status::Ok);
        assert!(err.is_null());
    }

    #[test]
    fn status_names_cover_every_variant() {
        for s in [
            x8_status::Ok,
            x8_status::InvalidArgument,
            x8_status::BufferTooSmall,
            x8_status::Config,
            x8_status::Auth,
            x8_status::TokenEndpoint,
            x8_status::Protocol,
            x8_status::Transport,
            x8_status::Timeout,
            x8_status::Tls,
            x8_status::NotEntitled,
            x8_status::BodyTooLarge,
            x8_status::Forked,
            x8_status::Internal,
        ] {
            let name = unsafe { CStr::from_ptr(x8_status_str(s as i32)) }
                .to_str()
                .unwrap();
            assert_ne!(name, "X8_STATUS_UNKNOWN", "{s:?}");
        }
    }

    #[test]
    fn buffer_arg_accepts_a_length_query_and_refuses_null_with_a_length() {
        assert!(buffer_arg(std::ptr::null_mut(), 0).unwrap().is_empty());
        assert_eq!(
            buffer_arg(std::ptr::null_mut(), 4).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
        let mut buf = [0 as c_char; 4];
        assert_eq!(
            buffer_arg(buf.as_mut_ptr(), usize::MAX).unwrap_err().kind(),
            ErrorKind::InvalidArgument
        );
    }
}
