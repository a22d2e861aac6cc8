//! Version reporting, so a program can detect a header/library mismatch at run time.

use std::ffi::c_char;

use super::boundary::boundary_or;

const VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
) {
    Ok(v) => v,
    Err(_) => panic!("version string"),
};

/// The library's version as "MAJOR.MINOR.PATCH". Static; never freed. Any thread.
#[no_mangle]
pub extern "C" fn x8_version() -> *const c_char {
    boundary_or(c"".as_ptr(), || Ok(VERSION.as_ptr()))
}

/// The library's version as one number, MAJOR * 10000 + MINOR * 100 + PATCH, to compare with X8_VERSION_NUM
/// from the header the program was compiled with. Any thread.
#[no_mangle]
pub extern "C" fn x8_version_num() -> u32 {
    boundary_or(0, || {
        let part = |s: &str| s.parse::<u32>().unwrap_or(0);
        Ok(part(env!("CARGO_PKG_VERSION_MAJOR")) * 10000
            + part(env!("CARGO_PKG_VERSION_MINOR")) * 100
            + part(env!("CARGO_PKG_VERSION_PATCH")))
    })
}
