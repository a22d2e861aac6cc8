#![allow(non_camel_case_types)]
// C names: the header is the API people read.
// The entry points take raw pointers from C, where `unsafe` means nothing; Rust code uses the safe API instead.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

//! The C ABI. Each `extern "C"` function checks its pointers, converts, calls the safe API and converts back,
//! inside `boundary`, which turns errors into an `x8_status` plus an optional `x8_error` and stops panics from
//! crossing into C. Ownership, in one rule: what comes back through a `T **out` is the caller's and has one
//! matching `_free` (strings: `x8_free`); a `const char *` return is borrowed from the handle it came from.

mod boundary;
mod client;
mod options;
mod request;
mod store;
mod token;
mod version;

pub use boundary::{
    x8_error, x8_error_code, x8_error_free, x8_error_http_status, x8_error_message, x8_free,
    x8_status, x8_status_str,
};
pub use client::*;
pub use options::*;
pub use request::*;
pub use store::*;
pub use token::*;
pub use version::*;
