#![allow(non_camel_case_types)]
// C names: the header is the API people read.
// The entry points take raw pointers from C, where `unsafe` means nothing; Rust code uses the safe API instead.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

//! The C ABI. Each `extern "C"` function runs its whole body inside a boundary (`boundary` for calls that return
//! an `x8_status`, `boundary_or` for accessors and `_free`s, which return a documented default), checks its
//! pointers (`args`), converts, calls the safe API and converts back; a test in `boundary.rs` fails when an
//! exported function does not. Ownership, in one rule, with one helper per kind in `own`: what comes back
//! through a `T **out` is the caller's and has one matching `_free` (strings: `x8_free`); a `const char *`
//! return is borrowed from the handle it came from.
//!
//! Naming: `x8_<object>_<verb>` (`x8_client_new`, `x8_response_header`, `x8_options_set_proxy`), except the
//! design's short forms for the calls every program makes: `x8_get_token`, `x8_request` and `x8_free`.

mod args;
mod boundary;
mod client;
mod constants;
mod error;
mod fetch;
mod options;
mod own;
mod pager;
mod request;
mod store;
mod token;
mod version;

pub use client::*;
pub use constants::*;
pub use error::*;
pub use fetch::*;
pub use options::*;
pub use own::x8_free;
pub use pager::*;
pub use request::*;
pub use store::*;
pub use token::*;
pub use version::*;
