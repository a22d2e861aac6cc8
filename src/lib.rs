//! x8: 8x8 XCaaS OAuth tokens, cached and renewed ahead of expiry, and authenticated HTTPS requests with them.
//!
//! The safe Rust API is [`Client`]; the C ABI in [`ffi`] is a thin layer over it (see `include/x8.h`).

//!
//! The modules are layers, each using only the ones listed before it (a test in `layers.rs` keeps it so):
//! - `error`: the one error type and the status table.
//! - `rt`: runtime primitives with no x8 domain in them: clocks and deadlines, fork detection, logging, counters.
//! - `token`: the token value, parsing the endpoint's reply, and the `TokenSource` trait.
//! - `cache`: the in-process token cache, its lock-free slot and its renewal thread.
//! - `store`: tokens shared between processes (the protocol, its record, the cache file, Redis).
//! - `config`: credentials, options, their validation, and the URL rules (origins).
//! - `http`: the transport (ureq over our TCP layer and resolver) and responses.
//! - `oauth`: the token endpoint, a `TokenSource` over `http`.
//! - `client`: the safe Rust API that ties them together.
//! - `presigned`: token-less fetches of presigned download URLs (`Client::fetch_url`).
//! - `pager`: paged listings over `client`, in each of 8x8's paging styles.
//! - `ffi`: the C ABI, a thin boundary over `client`.

// cbindgen (build.rs) reads only rt and ffi, where the C API's items live (the status enum comes from the table in
// error/, through build.rs): `cbindgen:ignore` hides every other module, so their `pub const`s never reach the
// header. A new module needs the same line; `header_tests` fails when an unprefixed name reaches the header.
/// cbindgen:ignore
mod cache;
/// cbindgen:ignore
mod client;
/// cbindgen:ignore
mod config;
/// cbindgen:ignore
mod error;
pub mod ffi;
/// cbindgen:ignore
mod http;
/// cbindgen:ignore
mod oauth;
// cbindgen reads `pager` for `PageStyle` alone (the header's `x8_page_style`); the rest of it is hidden there.
mod pager;
/// cbindgen:ignore
mod presigned;
mod rt;
/// cbindgen:ignore
mod store;
/// cbindgen:ignore
mod token;

#[cfg(test)]
mod layers;

pub use client::{Client, Request};
pub use config::{
    CaMode, ClientAuth, Credentials, Options, ProxySetting, RateLimit, SharedStoreSetting,
    TlsRoots, DEFAULT_BASE_URL, ENV_BASE_URL, ENV_CLIENT_ID, ENV_CLIENT_SECRET, ENV_REDIS_URL,
    ENV_TOKEN_CACHE, ENV_TOKEN_URL,
};
pub use error::{Error, ErrorKind, Result};
pub use http::{BodyRoute, Response, Streamed, Upload};
pub use pager::{
    items as page_items, items_json as page_items_json, PageStyle, Pager, DEFAULT_MAX_PAGES,
};
pub use rt::cancel::Cancel;
pub use rt::clock::Deadline;
pub use rt::log::{Level, LogFn, Logger};
pub use rt::stats::StatsSnapshot;
#[cfg(feature = "redis")]
pub use store::redis::RedisStore;
pub use store::{store_key, SharedStore, StoreError, StoreResult, SKEW_MARGIN_MS};
pub use token::{parse_token_reply, Fetched, Token, TokenSource};
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

    /// Only the C API reaches the header: an internal `pub const` of a module cbindgen was not told to ignore
    /// would appear as an unprefixed `#define`.
    #[test]
    fn every_name_the_header_defines_is_the_c_apis() {
        let header = include_str!(concat!(env!("OUT_DIR"), "/x8.h"));
        let strays: Vec<&str> = header
            .lines()
            .filter_map(|l| l.strip_prefix("#define "))
            .filter_map(|l| l.split_whitespace().next())
            .filter(|name| !name.starts_with("X8_"))
            .collect();
        assert!(
            strays.is_empty(),
            "the header defines {strays:?}: mark the module that holds them `/// cbindgen:ignore` in lib.rs"
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
