//! x8: 8x8 XCaaS OAuth tokens, cached and renewed ahead of expiry, and authenticated HTTPS requests with them.
//!
//! The safe Rust API is [`Client`]; the C ABI in [`ffi`] is a thin layer over it (see `include/x8.h`).

mod cache;
mod client;
mod clock;
mod config;
mod error;
mod file_cache;
mod fork;
mod log;
mod oauth;
mod origin;
#[cfg(feature = "redis")]
mod redis_store;
mod renewer;
mod resolver;
mod response;
mod slot;
mod stats;
mod store;
mod tcp;
mod token;
mod transport;

pub mod ffi;

pub use cache::{Fetched, TokenSource};
pub use client::{Client, Request};
pub use config::{
    Credentials, Options, ProxySetting, DEFAULT_BASE_URL, ENV_BASE_URL, ENV_CLIENT_ID,
    ENV_CLIENT_SECRET, ENV_REDIS_URL, ENV_TOKEN_CACHE, ENV_TOKEN_URL,
};
pub use error::{Error, ErrorKind, Result};
pub use log::{Level, LogFn, Logger};
#[cfg(feature = "redis")]
pub use redis_store::{RedisStore, REDIS_TIMEOUT};
pub use response::Response;
pub use stats::StatsSnapshot;
pub use store::{store_key, SharedStore, StoreError, StoreResult, SKEW_MARGIN_MS};
pub use token::{parse_token_reply, Token};
pub use transport::Deadline;
/// What `SharedStore::load` returns records in: a `String` wiped from memory when dropped (records hold a
/// token).
pub use zeroize::Zeroizing;

#[cfg(test)]
mod header_tests {
    /// The committed header is what users compile against; it must be exactly what the code generates.
    #[test]
    fn committed_header_matches_the_generated_one() {
        let generated = include_str!(concat!(env!("OUT_DIR"), "/x8.h"));
        let committed =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/x8.h"))
                .expect("include/x8.h is missing");
        assert!(
            committed == generated,
            "include/x8.h is stale: regenerate it with `X8_UPDATE_HEADER=1 cargo build` and commit it"
        );
    }

    #[test]
    fn header_version_macros_match_cargo_toml() {
        let header = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/include/x8.h"));
        for (name, value) in [
            ("X8_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
            ("X8_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
            ("X8_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
        ] {
            assert!(
                header.contains(&format!("#define {name} {value}\n")),
                "{name} is not {value}"
            );
        }
    }
}
