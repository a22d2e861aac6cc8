//! Argument checks shared by the entry points: each turns a raw C argument into a Rust value or an
//! `X8_STATUS_INVALID_ARGUMENT` error naming the argument. Called inside a boundary.

use std::ffi::{c_char, CStr};

use crate::error::{Error, ErrorKind, Result};

/// Lengths no real buffer has: refused rather than trusted.
pub(crate) const MAX_ARG_BYTES: usize = 1 << 30;

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

/// A handle the call may change (`x8_options`, built on one thread): NULL is an error.
pub(crate) fn handle_mut<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T> {
    // SAFETY: non-NULL handles are live pointers from this library, used from one thread at a time (documented).
    unsafe { p.as_mut() }.ok_or_else(|| Error::invalid(format!("{what} is NULL")))
}

/// An out-pointer argument, checked before any work is done so a result is never lost.
pub(crate) fn out_arg<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T> {
    // SAFETY: the caller passed writable storage for one T, or NULL, which is refused.
    unsafe { p.as_mut() }
        .ok_or_else(|| Error::invalid(format!("{what} (the out parameter) is NULL")))
}

/// An optional out-pointer: writes `value` when the caller asked for it (not NULL).
pub(crate) fn set_if_asked<T>(p: *mut T, value: T) {
    // SAFETY: NULL, or writable storage for one T (documented for each optional out parameter).
    if let Some(out) = unsafe { p.as_mut() } {
        *out = value;
    }
}

/// Bytes given as pointer + length. NULL is fine for an empty buffer only; absurd lengths are refused.
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

#[cfg(test)]
mod tests {
    use super::*;

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
