//! The header's constants, as Rust `pub const`s that cbindgen writes into include/x8.h, each tied to what it
//! describes by a compile-time check, so the header cannot disagree with the code.

use crate::config::{CaMode, ClientAuth, TlsRoots};
use crate::http::BodyRoute;
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

/// Client authentication style for x8_options_set_client_auth: 8x8's `Basic base64(id:secret)`, raw (default).
pub const X8_CLIENT_AUTH_BASIC: i32 = 0;
/// RFC 6749 §2.3.1: `Basic` with the id and secret form-urlencoded before base64 (an id may then hold ':').
pub const X8_CLIENT_AUTH_BASIC_RFC6749: i32 = 1;
/// `client_secret_post`: the id and secret in the form body, no Authorization header.
pub const X8_CLIENT_AUTH_POST: i32 = 2;
const _: () = assert!(
    X8_CLIENT_AUTH_BASIC == ClientAuth::Basic as i32
        && X8_CLIENT_AUTH_BASIC_RFC6749 == ClientAuth::BasicRfc6749 as i32
        && X8_CLIENT_AUTH_POST == ClientAuth::Post as i32
);

/// Trusted roots for x8_options_set_tls_roots: the platform's verifier (the OS store; default).
pub const X8_ROOTS_PLATFORM: i32 = 0;
/// Trusted roots: Mozilla's roots compiled into x8, whatever the system holds.
pub const X8_ROOTS_COMPILED_IN: i32 = 1;
const _: () = assert!(
    X8_ROOTS_PLATFORM == TlsRoots::Platform as i32
        && X8_ROOTS_COMPILED_IN == TlsRoots::CompiledIn as i32
);

/// CA file mode for x8_options_set_ca_mode: its certificates are trusted besides the roots (default).
pub const X8_CA_ADD: i32 = 0;
/// CA file mode: only its certificates are trusted.
pub const X8_CA_REPLACE: i32 = 1;
const _: () = assert!(X8_CA_ADD == CaMode::Add as i32 && X8_CA_REPLACE == CaMode::Replace as i32);

/// What an `x8_head_fn` (x8_request_opts.head) returns to have the body streamed to `write` as it arrives.
pub const X8_HEAD_STREAM: i32 = 0;
/// What an `x8_head_fn` returns to have the body held in the response `*out` instead, as if `write` were NULL
/// (under `max_body_bytes`): nothing is written. For an error reply's body.
pub const X8_HEAD_HOLD: i32 = 1;
const _: () =
    assert!(X8_HEAD_STREAM == BodyRoute::Stream as i32 && X8_HEAD_HOLD == BodyRoute::Hold as i32);
