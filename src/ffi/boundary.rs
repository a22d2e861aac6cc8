//! The panic boundary every `extern "C"` function runs inside (a test in this module checks that each one does).
//! A fallible entry point returns an `x8_status` and hands the details out as an `x8_error`; an accessor returns
//! its value, or a default (0, NULL, "", false) when its arguments are bad or the body panicked. Either way no
//! unwinding ever reaches C.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::error::{x8_error, x8_status};
use super::own::give;
use crate::error::{Error, ErrorKind, Result};

/// Runs a fallible entry point's body: converts its result into a status, hands the error to the caller when it
/// asked for one (`err` not NULL), and turns a panic into `X8_STATUS_INTERNAL`.
pub(crate) fn boundary(err: *mut *mut x8_error, body: impl FnOnce() -> Result<()>) -> x8_status {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|panic| Err(internal(panic)));
    let status = match &outcome {
        Ok(()) => x8_status::Ok,
        Err(e) => e.kind().status(),
    };
    if !err.is_null() {
        let handed_out = match outcome {
            Ok(()) => std::ptr::null_mut(),
            Err(e) => give(x8_error::from_error(&e)),
        };
        // SAFETY: the caller passed a non-NULL pointer to writable storage for one `x8_error *`.
        unsafe { *err = handed_out };
    }
    status
}

/// Runs an accessor's or a `_free`'s body: its value, or `fallback` when the body fails (a NULL handle, ...) or
/// panics. These functions have no error out-parameter; their documented fallback is the failure signal.
pub(crate) fn boundary_or<T>(fallback: T, body: impl FnOnce() -> Result<T>) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => value,
        Ok(Err(_)) | Err(_) => fallback,
    }
}

fn internal(panic: Box<dyn Any + Send>) -> Error {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    Error::new(
        ErrorKind::Internal,
        format!("internal error in x8 (please report): {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::{x8_error_free, x8_error_message};
    use std::ffi::CStr;

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
    fn an_accessor_answers_its_fallback_on_failure_and_on_panic() {
        assert_eq!(boundary_or(7, || Ok(1)), 1);
        assert_eq!(boundary_or(7, || Err(Error::invalid("x"))), 7);
        assert_eq!(boundary_or(7, || panic!("boom")), 7);
    }

    /// The entry points that must run inside a boundary: every `#[no_mangle] extern "C" fn` in src/ffi. Each
    /// body must be exactly one call to a boundary form, so nothing (not even an argument check) runs outside.
    #[test]
    fn every_exported_function_runs_inside_a_boundary() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ffi");
        let mut checked = 0;
        let mut outside = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let code = std::fs::read_to_string(&path).unwrap();
            let code = code.split("#[cfg(test)]").next().unwrap();
            for (name, body) in exported_bodies(code) {
                checked += 1;
                if !BOUNDARY_FORMS
                    .iter()
                    .any(|form| body.starts_with(&format!("{form}(")))
                {
                    outside.push(format!("{}: {name}", path.display()));
                }
            }
        }
        assert!(
            checked > 40,
            "found only {checked} exported functions: is the scan broken?"
        );
        assert!(
            outside.is_empty(),
            "these entry points do not start their body with a call to one of {BOUNDARY_FORMS:?}; wrap the \
             whole body in one: {outside:#?}"
        );
    }

    /// `boundary`, `boundary_or`, and `options_boundary` (options.rs: `boundary` plus the options handle).
    const BOUNDARY_FORMS: [&str; 3] = ["boundary", "boundary_or", "options_boundary"];

    /// (name, body text without leading whitespace) of each `#[no_mangle]` function in `code`.
    fn exported_bodies(code: &str) -> Vec<(String, String)> {
        let mut found = Vec::new();
        for piece in code.split("#[no_mangle]").skip(1) {
            let Some(at) = piece.find("extern \"C\" fn ") else {
                continue;
            };
            let after = &piece[at + "extern \"C\" fn ".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            // The body starts at the first `{` after the parameter list closes.
            let mut depth = 0;
            let mut body_at = None;
            for (i, c) in after.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    '{' if depth == 0 => {
                        body_at = Some(i + 1);
                        break;
                    }
                    _ => {}
                }
            }
            let body = body_at.map_or("", |i| &after[i..]).trim_start();
            found.push((name, body.to_owned()));
        }
        found
    }

    #[test]
    fn the_scan_sees_a_body_outside_the_boundary() {
        let code = "#[no_mangle]\npub extern \"C\" fn x8_bad(p: *const u8) -> u16 {\n    unsafe { *p as u16 }\n}\n\
                    #[no_mangle]\npub extern \"C\" fn x8_good(p: *const u8) -> u16 {\n    boundary_or(0, || Ok(1))\n}";
        let bodies = exported_bodies(code);
        assert_eq!(bodies.len(), 2);
        assert!(bodies[0].1.starts_with("unsafe"));
        assert!(bodies[1].1.starts_with("boundary_or("));
    }
}
