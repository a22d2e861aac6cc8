//! A token shared by many processes, possibly on many hosts, through a store they already run: a cache file
//! (`file`), Redis (`redis`), or the application's own (`SharedStore`, or `x8_token_store` in C).
//!
//! The protocol lives here, once, for every store ([`StoreSource`]):
//! 1. Load the record under the key. A record that parses and still has its refresh margin plus
//!    [`SKEW_MARGIN_MS`] of wall-clock life is the answer: no fetch.
//! 2. Otherwise take the store's lock (short, with a TTL). If another process holds it, poll the record until
//!    a usable one appears or the lock frees, for at most half of the caller's time; then fetch anyway.
//! 3. Holding the lock, load again (the holder before us may just have stored one), else fetch from the token
//!    endpoint, store the record with a TTL of the token's time to expiry, and unlock.
//!
//! Every store call is given a deadline: the fetch's, cut to half of the time left before the fetch (so a store
//! that hangs leaves time to fetch without it) and to at most a second (`source::STORE_CALL_MAX`).
//!
//! Any store failure (unreachable, timing out, failing callbacks, corrupt records, even a panicking store) is
//! logged as a warning and the token is fetched directly: a broken store never fails a request. Records hold
//! the access token and what the endpoint said about it, never the client secret. Expiry in a record is
//! wall-clock time, since processes share no monotonic clock; the skew margin absorbs clocks that disagree.

use std::fmt;
use std::time::Duration;
use zeroize::Zeroizing;

use crate::rt::clock::Deadline;

// The shared cache file relies on Unix ownership and permission bits; Windows refuses it (client.rs).
#[cfg(unix)]
pub mod file;
#[cfg(unix)]
mod lock_fds;
#[cfg(unix)]
mod private_dir;
mod record;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "redis")]
mod resp;
mod source;

pub(crate) use record::MAX_RECORD_BYTES;
pub(crate) use source::{Gate, StoreSource};

/// Wall-clock slack between processes: a token must have this much more than its refresh margin left to be
/// taken from a shared store.
pub const SKEW_MARGIN_MS: i64 = 30_000;

/// What a store's failure carries: any error, for the warning x8 logs before fetching without the store.
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;
pub type StoreResult<T> = std::result::Result<T, StoreError>;

/// A place where processes share the token: implement it to keep the token in a store you already run.
///
/// x8 calls it from any thread, including its background refresh thread, and from several threads at once
/// (one client's fetch and another's, or a fetch and a rejected token). Every method gets the `deadline` by
/// which it must be done: a slow store delays token fetches, so bound every network exchange by it (or by
/// something shorter) and give up with an error when it passes. x8 gives each call at most a second, and
/// before a fetch at most half of the time left, so that a store that hangs still leaves time to fetch
/// without it. An error is never passed on to x8's caller: x8 logs a warning and fetches the token itself.
pub trait SharedStore: Send + Sync {
    /// Where the token is kept, for log messages: e.g. "Redis at 10.0.0.5:6379". Must not hold a password.
    fn describe(&self) -> String;

    /// The record stored under `key`, or `None`.
    fn load(&self, key: &str, deadline: Deadline) -> StoreResult<Option<Zeroizing<String>>>;

    /// Stores `record` under `key`, replacing any other; the store may forget it after `ttl` (the token's
    /// time to expiry).
    fn store(&self, key: &str, record: &str, ttl: Duration, deadline: Deadline) -> StoreResult<()>;

    /// Tries to take the lock that lets one process fetch for all: `Ok(true)` when taken, `Ok(false)` when
    /// someone else holds it. It must free itself after `ttl` even if its holder dies. Without an
    /// implementation there is no lock (`Ok(true)`): processes starting together may each fetch once.
    fn lock(&self, _key: &str, _ttl: Duration, _deadline: Deadline) -> StoreResult<bool> {
        Ok(true)
    }

    /// Releases the lock taken by `lock`. Called once after each successful `lock`.
    fn unlock(&self, _key: &str, _deadline: Deadline) -> StoreResult<()> {
        Ok(())
    }

    /// Removes the record under `key` if it is still exactly `record` (the API refused its token); leaves a
    /// newer one alone. Optional: without it, x8 stops using the refused token in this process and the next
    /// fetch replaces the record.
    fn remove(&self, _key: &str, _record: &str, _deadline: Deadline) -> StoreResult<()> {
        Ok(())
    }
}

impl fmt::Debug for dyn SharedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SharedStore")
            .field(&self.describe())
            .finish()
    }
}

/// The key of the shared token for one token endpoint and API key: `x8:token:` and the hex SHA-256 of the
/// token URL, a newline and the client id. It names the key without revealing it, and different keys or
/// regions never share a token.
pub fn store_key(token_url: &str, client_id: &str) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("{token_url}\n{client_id}").as_bytes(),
    );
    let mut key = String::with_capacity(KEY_PREFIX.len() + 64);
    key.push_str(KEY_PREFIX);
    for b in digest.as_ref() {
        key.push_str(&format!("{b:02x}"));
    }
    key
}

pub(crate) const KEY_PREFIX: &str = "x8:token:";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_a_sha256_of_token_url_and_client_id() {
        let key = store_key("https://api.8x8.com/oauth/v2/token", "id");
        assert!(key.starts_with("x8:token:"));
        assert_eq!(key.len(), "x8:token:".len() + 64);
        assert_ne!(key, store_key("https://api.8x8.com/oauth/v2/token", "id2"));
        assert_ne!(
            key,
            store_key("https://api.8x8.com/eu/oauth/v2/token", "id")
        );
    }
}
