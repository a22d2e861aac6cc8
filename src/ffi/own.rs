//! Who owns what crosses the boundary, one helper per kind, so no entry point writes `Box::into_raw`, a NUL-free
//! `CString` or a `Send` wrapper by hand:
//! - boxed handles (`x8_client *`, `x8_response *`, ...): `give` hands one out, `take` takes it back for `_free`;
//! - strings: `c_string` builds what a handle keeps and lends out as `const char *` (valid while the handle
//!   lives), `SecretCString` the same for a token or store record (wiped when dropped), `give_string` hands out a
//!   `char *` the caller releases with `x8_free`;
//! - the caller's `void *user_data`: `UserData`, passed back to its callbacks from any thread;
//! - size-versioned structs (`size` first): `read_sized` and `write_sized` touch only the fields the caller's
//!   `size` covers, so a program built against an older, smaller header keeps working.

use std::ffi::{c_char, c_void, CString};

use super::boundary::boundary_or;
use crate::error::{Error, Result};
use zeroize::{Zeroize, Zeroizing};

/// A type handed to C as a boxed handle and released by its one `_free` function.
pub(crate) trait Boxed: Sized {}

/// Hands a new handle to C; the caller owns it until its `_free`.
pub(crate) fn give<T: Boxed>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Takes a handle back for its `_free`; NULL is `None`. The C contract: `ptr` came from `give` for this type
/// and is freed once, with no call still running on it.
pub(crate) fn take<T: Boxed>(ptr: *mut T) -> Option<Box<T>> {
    // SAFETY: NULL is checked; anything else is a live `give`n handle of type T, freed once (the C contract).
    (!ptr.is_null()).then(|| unsafe { Box::from_raw(ptr) })
}

/// Text as a C string, with any NUL inside dropped: x8 never composes one, but a server's text could hold one,
/// and cutting the string short there would hide the rest.
pub(crate) fn c_string(text: impl Into<Vec<u8>>) -> CString {
    let mut bytes = text.into();
    bytes.retain(|b| *b != 0);
    CString::new(bytes).unwrap_or_default()
}

/// A C string holding a secret (a token, a store record): NUL-terminated like `c_string`, wiped when dropped.
pub(crate) struct SecretCString(Zeroizing<Vec<u8>>);

impl SecretCString {
    pub(crate) fn new(text: &str) -> SecretCString {
        let mut bytes = Zeroizing::new(Vec::with_capacity(text.len() + 1));
        bytes.extend(text.bytes().filter(|b| *b != 0));
        bytes.push(0);
        SecretCString(bytes)
    }

    pub(crate) fn as_ptr(&self) -> *const c_char {
        self.0.as_ptr() as *const c_char
    }
}

/// Hands a string to the caller as `char *`, to be released with `x8_free`.
pub(crate) fn give_string(text: &str) -> *mut c_char {
    c_string(text).into_raw()
}

/// Frees a string the library handed out through a `char **` out parameter (`x8_client_token_string`,
/// `x8_client_stats_json`). The memory is wiped first when it held a token. NULL is ignored. Any thread.
/// Never pass memory from another allocator, and never free these strings with libc `free`.
#[no_mangle]
pub extern "C" fn x8_free(ptr: *mut c_void) {
    boundary_or((), || {
        if !ptr.is_null() {
            // SAFETY: a string from `give_string` (CString::into_raw), freed once (the C contract).
            let owned = unsafe { CString::from_raw(ptr as *mut c_char) };
            owned.into_bytes().zeroize();
        }
        Ok(())
    })
}

/// The caller's opaque `user_data`, passed back to its callbacks. x8 never dereferences it; the caller promises
/// (documented on each callback) that its callbacks may be called with it from any thread.
#[derive(Clone, Copy)]
pub(crate) struct UserData(*mut c_void);
// SAFETY: x8 only passes the pointer back; the thread-safety of what it points to is the caller's documented duty.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

impl UserData {
    pub(crate) fn new(ptr: *mut c_void) -> UserData {
        UserData(ptr)
    }

    pub(crate) fn get(self) -> *mut c_void {
        self.0
    }
}

/// A `repr(C)` struct that starts with `size_t size` so it can grow: the caller sets `size` to the `sizeof` it
/// was compiled with, and x8 touches only the whole fields that fit in it.
///
/// # Safety
/// Implement only for `repr(C)` structs whose first field is `size: usize`, whose every field is a `usize`, a
/// pointer, a nullable function pointer or a 64-bit integer (so a size rounded down to the struct's alignment
/// ends on a field boundary, on 64-bit targets) and for which all-zero bytes are a valid value (NULL / 0).
pub(crate) unsafe trait SizedStruct: Copy {
    /// The smallest `size` accepted: up to the last field every caller must have.
    const MIN_SIZE: usize;
    /// What the caller's struct is called in messages ("stats", "opts").
    const NAME: &'static str;
}

/// The caller's `size`, checked, cut to ours and rounded down to whole fields.
fn usable_size<T: SizedStruct>(caller_size: usize) -> Result<usize> {
    if caller_size < T::MIN_SIZE {
        return Err(Error::invalid(format!(
            "{name}->size is {caller_size}: set it to sizeof({name}) first",
            name = T::NAME
        )));
    }
    let n = caller_size.min(std::mem::size_of::<T>());
    Ok(n - n % std::mem::align_of::<T>())
}

/// Reads the caller's struct as far as its `size` says; the fields it lacks (an older header) are zero/NULL.
/// `p` must not be NULL (checked).
pub(crate) fn read_sized<T: SizedStruct>(p: *const T) -> Result<T> {
    if p.is_null() {
        return Err(Error::invalid(format!("{} is NULL", T::NAME)));
    }
    // SAFETY: the caller's struct starts with its size (a usize); its alignment is not trusted.
    let n = usable_size::<T>(unsafe { std::ptr::read_unaligned(p as *const usize) })?;
    // SAFETY: all-zero bytes are a valid T (the trait's contract).
    let mut copy: T = unsafe { std::mem::zeroed() };
    // SAFETY: `n` is at most the caller's declared size (readable) and ours, and ends on a field boundary.
    unsafe { std::ptr::copy_nonoverlapping(p as *const u8, &mut copy as *mut T as *mut u8, n) };
    Ok(copy)
}

/// Writes `value` into the caller's struct, only the whole fields its `size` covers, through raw pointers (no
/// `&mut` over memory that may be smaller than a `T`), then sets its `size` to the bytes written.
pub(crate) fn write_sized<T: SizedStruct>(p: *mut T, value: &T) -> Result<()> {
    if p.is_null() {
        return Err(Error::invalid(format!(
            "{} (the out parameter) is NULL",
            T::NAME
        )));
    }
    // SAFETY: as in read_sized.
    let n = usable_size::<T>(unsafe { std::ptr::read_unaligned(p as *const usize) })?;
    // SAFETY: `n` is at most the caller's declared (writable) size and ours, and ends on a field boundary; then
    // the size field, which every caller has.
    unsafe {
        std::ptr::copy_nonoverlapping(value as *const T as *const u8, p as *mut u8, n);
        std::ptr::write_unaligned(p as *mut usize, n);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Grown {
        size: usize,
        a: u64,
        b: u64,
        c: *const u8,
    }
    // SAFETY: repr(C), size first, word-sized fields, zero is valid.
    unsafe impl SizedStruct for Grown {
        const MIN_SIZE: usize = std::mem::size_of::<usize>();
        const NAME: &'static str = "grown";
    }

    #[test]
    fn an_older_smaller_struct_is_written_only_as_far_as_its_size_in_whole_fields() {
        let ours = Grown {
            size: 0,
            a: 1,
            b: 2,
            c: std::ptr::dangling(),
        };
        // The caller's struct: size and `a` only (20 bytes claimed: `b` does not fit whole), then a guard word.
        let mut theirs = [20u64, 0, 0xDEAD];
        write_sized(theirs.as_mut_ptr() as *mut Grown, &ours).unwrap();
        assert_eq!(theirs, [16, 1, 0xDEAD]);
    }

    #[test]
    fn an_older_smaller_struct_is_read_with_the_missing_fields_zero() {
        let theirs = [16u64, 7, 0xDEAD, 0xBEEF];
        let got = read_sized(theirs.as_ptr() as *const Grown).unwrap();
        assert_eq!(got.a, 7);
        assert_eq!(got.b, 0);
        assert!(got.c.is_null());
    }

    #[test]
    fn a_size_below_the_minimum_or_null_is_refused() {
        let theirs = [4u64, 0];
        assert!(read_sized(theirs.as_ptr() as *const Grown).is_err());
        assert!(read_sized(std::ptr::null::<Grown>()).is_err());
    }

    #[test]
    fn c_strings_drop_inner_nuls_instead_of_failing() {
        assert_eq!(c_string("a\0b").to_bytes(), b"ab");
        let secret = SecretCString::new("t\0k");
        assert_eq!(
            unsafe { std::ffi::CStr::from_ptr(secret.as_ptr()) }.to_bytes(),
            b"tk"
        );
    }
}
