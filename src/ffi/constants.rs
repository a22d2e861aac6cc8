//! The header's constants, as Rust `pub const`s that cbindgen writes into include/x8.h, each tied to what it
//! describes by a compile-time check, so the header cannot disagree with the code.

use crate::rt::log::Level;
use crate::token::MAX_TOKEN_LEN;

/// A buffer this large always holds a token and its NUL (x8_get_token).
pub const X8_TOKEN_BUFFER_SIZE: usize = 4096;
const _: () = assert!(X8_TOKEN_BUFFER_SIZE == MAX_TOKEN_LEN + 1);

/// Log level for x8_options_set_log_callback: errors only.
pub const X8_LOG_ERROR: i32 = 1;
/// Log level: warnings and errors.
pub const X8_LOG_WARN: i32 = 2;
/// Log level: information, warnings and errors.
pub const X8_LOG_INFO: i32 = 3;
/// Log level: everything, including debug messages.
pub const X8_LOG_DEBUG: i32 = 4;
const _: () = assert!(
    X8_LOG_ERROR == Level::Error as i32
        && X8_LOG_WARN == Level::Warn as i32
        && X8_LOG_INFO == Level::Info as i32
        && X8_LOG_DEBUG == Level::Debug as i32
);
