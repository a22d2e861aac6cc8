//! `x8_token_store`: the application's own store for the token shared by its processes and hosts, as C
//! callbacks; and the built-in Redis store.

use std::ffi::{c_char, c_void};
use std::time::Duration;
use zeroize::Zeroizing;

use super::args::str_arg;
use super::error::{x8_error, x8_status};
use super::options::{options_boundary, x8_options};
use super::own::{c_string, read_sized, SecretCString, SizedStruct, UserData};
use crate::config::SharedStoreSetting;
use crate::error::{Error, Result};
use crate::rt::clock::Deadline;
use crate::store::{SharedStore, StoreResult, MAX_RECORD_BYTES};

/// An `x8_token_store` callback succeeded. (Any negative return is a failure.)
pub const X8_STORE_OK: i32 = 0;
/// `load`: there is no record under the key (or it expired).
pub const X8_STORE_NOT_FOUND: i32 = 1;
/// `load`: the record does not fit in the buffer; its length is in `*record_len`.
pub const X8_STORE_BUFFER_TOO_SMALL: i32 = 2;
/// `lock`: someone else holds the lock.
pub const X8_STORE_BUSY: i32 = 3;

/// Loads the record stored under `key` (NUL-terminated). If there is one and its length fits in `buf_len`
/// bytes, copy it into `buf` (no NUL needed), set `*record_len` to its length and return X8_STORE_OK. If it
/// does not fit, set `*record_len` to its length and return X8_STORE_BUFFER_TOO_SMALL: x8 calls again with a
/// buffer that large. X8_STORE_NOT_FOUND when there is no record (or it expired); a negative value on failure.
pub type x8_store_load_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        key: *const c_char,
        buf: *mut c_char,
        buf_len: usize,
        record_len: *mut usize,
    ) -> i32,
>;

/// Stores `record` (NUL-terminated text, at most a few KiB) under `key`, replacing any other, and may forget it
/// after `ttl_ms` milliseconds, when its token expires. X8_STORE_OK, or a negative value on failure.
pub type x8_store_store_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        key: *const c_char,
        record: *const c_char,
        ttl_ms: i64,
    ) -> i32,
>;

/// Tries, without waiting, to take the lock for `key` that lets one process fetch the token for all: X8_STORE_OK
/// when taken, X8_STORE_BUSY when someone else holds it (x8 then polls `load` and tries again), a negative
/// value on failure. The lock must free itself after `ttl_ms` milliseconds even if its holder dies.
pub type x8_store_lock_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, key: *const c_char, ttl_ms: i64) -> i32>;

/// Releases the lock this client took with `lock` (called once after each X8_STORE_OK from `lock`).
/// X8_STORE_OK, or a negative value on failure (the lock then frees itself when its TTL ends).
pub type x8_store_unlock_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, key: *const c_char) -> i32>;

/// Removes the record under `key` only if it is still exactly `record`: the API refused its token. A record
/// that differs (a newer token) must be left alone. X8_STORE_OK (removed or not), or a negative value.
pub type x8_store_remove_fn = Option<
    unsafe extern "C" fn(user_data: *mut c_void, key: *const c_char, record: *const c_char) -> i32,
>;

/// Keeps the token that processes (on one host or many) share in a store the application already runs:
/// Redis, memcached, a database. Set `size` to `sizeof(x8_token_store)` and the callbacks, then pass it to
/// `x8_options_set_token_store`, which copies it.
///
/// How x8 uses it, for each token it needs: `load`; a record with enough life left is used as is. Otherwise
/// `lock`; if busy, `load` again every 25 ms until a usable record appears or the lock is taken (at most half
/// of the call's timeout, then x8 fetches anyway). Holding the lock: `load` once more, else fetch from the token
/// endpoint, `store` the record with its time to expiry, `unlock`. When the API refuses a token, `remove`.
///
/// Keys are short ASCII strings, `x8:token:` and 64 hex digits (a SHA-256 of the token URL and client id): one
/// per API key and region. Records are JSON text holding the access token, its type, products and expiry;
/// never the client secret. Keep them where only the application's processes can read them: the access token
/// is a bearer credential until it expires.
///
/// Failures: any callback that fails (a negative return, a code x8 does not define, a length past the buffer
/// or a buffer asked for again and again) makes the client fetch the token by itself, with a warning through
/// the log callback; a broken store never fails a request. A record that cannot be one (over 64 KiB, which x8
/// refuses from the length `load` reports without reading it, or not UTF-8 text, or not a record) is
/// ignored with a warning and replaced by the next fetch's `store`.
///
/// Threads: callbacks are called from any thread, including x8's background refresh thread, and concurrently
/// (for different clients sharing the store, and within one client), so they must be thread-safe. They must
/// not call x8 functions on the client that calls them. `user_data` is passed back untouched and must stay
/// valid until every client made with these options is freed; after `x8_client_free` returns, no callback
/// runs for that client any more (one in progress is waited for).
///
/// Time: x8 cannot interrupt a callback. One that blocks holds the token fetch it serves: a call with a
/// per-call timeout shorter than the client's gets X8_STATUS_TIMEOUT at its own deadline, but a call whose
/// deadline is the client's timeout waits for the callback. Bound every network exchange in a callback (x8
/// gives its own stores at most a second per call).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct x8_token_store {
    /// `sizeof(x8_token_store)` as the caller knows it, so the struct can grow in later versions.
    pub size: usize,
    /// Passed back to every callback.
    pub user_data: *mut c_void,
    /// Required.
    pub load: x8_store_load_fn,
    /// Required.
    pub store: x8_store_store_fn,
    /// Optional, with `unlock`: without a lock, processes that start together may each fetch once.
    pub lock: x8_store_lock_fn,
    /// Required when `lock` is set.
    pub unlock: x8_store_unlock_fn,
    /// Optional: without it a refused token stays in the store until the next fetch replaces it (x8 never
    /// takes it again itself).
    pub remove: x8_store_remove_fn,
}

/// Keeps the shared token in the application's store (see `x8_token_store`). `*store` is copied; NULL removes
/// a store set before. One shared store per client: this replaces `x8_options_set_token_cache` and
/// `x8_options_set_redis_store`, and `X8_TOKEN_CACHE` or `X8_REDIS_URL` replace it in
/// `x8_client_new_from_env`. Errors: X8_STATUS_INVALID_ARGUMENT when `size` is too small for `load` and
/// `store`, when either is NULL, or when `lock` is set without `unlock`.
#[no_mangle]
pub extern "C" fn x8_options_set_token_store(
    opts: *mut x8_options,
    store: *const x8_token_store,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |opts| {
        if store.is_null() {
            if matches!(opts.shared_store, SharedStoreSetting::Custom(_)) {
                opts.shared_store = SharedStoreSetting::InProcess;
            }
            return Ok(());
        }
        let hooks = copy_store(store)?;
        opts.shared_store = SharedStoreSetting::Custom(std::sync::Arc::new(hooks));
        Ok(())
    })
}

/// Keeps the shared token in Redis, for processes on many hosts (also `X8_REDIS_URL`): `url` is
/// `redis://[[user]:password@]host[:port][/db]`, `rediss://...` (TLS, trusting exactly what the client's HTTPS
/// trusts: `x8_options_set_tls_roots`, `x8_options_set_ca_file` and `x8_options_set_ca_mode`; an untrusted
/// certificate is a Redis failure, never a fall-back to clear text) or `unix:///path/to/redis.sock`. The
/// token is stored under `x8:token:<sha256 of token URL and client id>` with `SET ... PX <ms to expiry>`; a
/// `SET NX PX` lock under that key + `:lock` makes the processes that need a token at the same moment fetch it
/// once. The secret is never stored. Every Redis exchange ends by the call's deadline, and each gets at most a
/// second (before a fetch, at most half of the time left); any Redis failure makes the client fetch by itself (with a warning
/// through the log callback), so a Redis that is down or hangs never fails a request. Replaces any other shared store set on these options. Checked by `x8_client_new`
/// (X8_STATUS_CONFIG). X8_STATUS_CONFIG right away when x8 was built without its `redis` feature.
#[no_mangle]
pub extern "C" fn x8_options_set_redis_store(
    opts: *mut x8_options,
    url: *const c_char,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |opts| {
        let url = str_arg(url, "url")?;
        if url.is_empty() {
            return Err(Error::invalid("url is empty"));
        }
        if !cfg!(feature = "redis") {
            return Err(Error::new(
                crate::error::ErrorKind::Config,
                crate::config::REDIS_MISSING,
            ));
        }
        opts.shared_store = SharedStoreSetting::Redis(url.to_owned());
        Ok(())
    })
}

// SAFETY: repr(C), `size: usize` first, then a pointer and nullable function pointers; all-zero is "no
// callbacks", which copy_store refuses for the required ones.
unsafe impl SizedStruct for x8_token_store {
    const MIN_SIZE: usize =
        std::mem::offset_of!(x8_token_store, store) + std::mem::size_of::<usize>();
    const NAME: &'static str = "store";
}

/// The caller's struct, read only as far as its `size` says; fields it does not have are NULL.
fn copy_store(store: *const x8_token_store) -> Result<CStore> {
    let copy = read_sized(store)?;
    let (Some(load), Some(save)) = (copy.load, copy.store) else {
        return Err(Error::invalid("store->load and store->store are required"));
    };
    if copy.lock.is_some() && copy.unlock.is_none() {
        return Err(Error::invalid(
            "store->lock is set but store->unlock is not",
        ));
    }
    Ok(CStore {
        user_data: UserData::new(copy.user_data),
        load,
        save,
        lock: copy.lock,
        unlock: copy.unlock,
        remove: copy.remove,
    })
}

type LoadFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, *mut c_char, usize, *mut usize) -> i32;
type SaveFn = unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, i64) -> i32;

/// The C callbacks as a `SharedStore`.
struct CStore {
    user_data: UserData,
    load: LoadFn,
    save: SaveFn,
    lock: x8_store_lock_fn,
    unlock: x8_store_unlock_fn,
    remove: x8_store_remove_fn,
}

/// Records are a few hundred bytes; this first buffer almost always fits, and a larger one is asked for.
const FIRST_BUFFER: usize = 4096;

fn failed(callback: &str, rc: i32) -> crate::store::StoreError {
    format!("the {callback} callback returned {rc}").into()
}

fn ttl_ms(ttl: Duration) -> i64 {
    (ttl.as_millis().min(i64::MAX as u128) as i64).max(1)
}

impl SharedStore for CStore {
    fn describe(&self) -> String {
        "the application's token store (x8_token_store)".into()
    }

    fn load(&self, key: &str, _deadline: Deadline) -> StoreResult<Option<Zeroizing<String>>> {
        let key = c_string(key);
        let mut buf = Zeroizing::new(vec![0u8; FIRST_BUFFER]);
        // Twice at most: once with the first buffer, once with the size the callback asked for.
        for _ in 0..2 {
            let mut len = 0usize;
            // SAFETY: the caller's callback, with its user data, a NUL-terminated key and a writable buffer of
            // `buf.len()` bytes, all valid for the call.
            let rc = unsafe {
                (self.load)(
                    self.user_data.get(),
                    key.as_ptr(),
                    buf.as_mut_ptr() as *mut c_char,
                    buf.len(),
                    &mut len,
                )
            };
            match rc {
                X8_STORE_OK if len <= buf.len() => {
                    // Not UTF-8: not a record either; replaced like a corrupt one.
                    let text = std::str::from_utf8(&buf[..len]).unwrap_or("");
                    return Ok(Some(Zeroizing::new(text.to_owned())));
                }
                X8_STORE_OK => {
                    return Err(format!(
                        "the load callback reported {len} bytes in a buffer of {}",
                        buf.len()
                    )
                    .into())
                }
                X8_STORE_NOT_FOUND => return Ok(None),
                // What the store holds cannot be a record: left unread, and reported as a record that is not one
                // so that the next fetch replaces it (rather than every process fetching its own forever).
                X8_STORE_BUFFER_TOO_SMALL if len > MAX_RECORD_BYTES => {
                    return Ok(Some(Zeroizing::new(String::new())))
                }
                X8_STORE_BUFFER_TOO_SMALL if len > buf.len() => {
                    buf = Zeroizing::new(vec![0u8; len]);
                }
                X8_STORE_BUFFER_TOO_SMALL => {
                    return Err(format!(
                        "the load callback asked for {len} bytes with {} given",
                        buf.len()
                    )
                    .into())
                }
                rc => return Err(failed("load", rc)),
            }
        }
        Err("the load callback kept asking for a larger buffer".into())
    }

    fn store(
        &self,
        key: &str,
        record: &str,
        ttl: Duration,
        _deadline: Deadline,
    ) -> StoreResult<()> {
        let key = c_string(key);
        let record = SecretCString::new(record);
        // SAFETY: the caller's callback with NUL-terminated strings valid for the call.
        let rc = unsafe {
            (self.save)(
                self.user_data.get(),
                key.as_ptr(),
                record.as_ptr(),
                ttl_ms(ttl),
            )
        };
        match rc {
            X8_STORE_OK => Ok(()),
            rc => Err(failed("store", rc)),
        }
    }

    fn lock(&self, key: &str, ttl: Duration, _deadline: Deadline) -> StoreResult<bool> {
        let Some(lock) = self.lock else {
            return Ok(true);
        };
        let key = c_string(key);
        // SAFETY: the caller's callback with a NUL-terminated key valid for the call.
        match unsafe { lock(self.user_data.get(), key.as_ptr(), ttl_ms(ttl)) } {
            X8_STORE_OK => Ok(true),
            X8_STORE_BUSY => Ok(false),
            rc => Err(failed("lock", rc)),
        }
    }

    fn unlock(&self, key: &str, _deadline: Deadline) -> StoreResult<()> {
        let Some(unlock) = self.unlock else {
            return Ok(());
        };
        let key = c_string(key);
        // SAFETY: as for lock.
        match unsafe { unlock(self.user_data.get(), key.as_ptr()) } {
            X8_STORE_OK => Ok(()),
            rc => Err(failed("unlock", rc)),
        }
    }

    fn remove(&self, key: &str, record: &str, _deadline: Deadline) -> StoreResult<()> {
        let Some(remove) = self.remove else {
            return Ok(());
        };
        let key = c_string(key);
        let record = SecretCString::new(record);
        // SAFETY: as for store.
        match unsafe { remove(self.user_data.get(), key.as_ptr(), record.as_ptr()) } {
            X8_STORE_OK => Ok(()),
            rc => Err(failed("remove", rc)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::{x8_error_free, x8_options_free, x8_options_new};

    unsafe extern "C" fn load_big(
        _: *mut c_void,
        _: *const c_char,
        buf: *mut c_char,
        buf_len: usize,
        len: *mut usize,
    ) -> i32 {
        let record = vec![b'r'; 10_000];
        *len = record.len();
        if record.len() > buf_len {
            return X8_STORE_BUFFER_TOO_SMALL;
        }
        std::ptr::copy_nonoverlapping(record.as_ptr(), buf as *mut u8, record.len());
        X8_STORE_OK
    }

    unsafe extern "C" fn load_liar(
        _: *mut c_void,
        _: *const c_char,
        _: *mut c_char,
        buf_len: usize,
        len: *mut usize,
    ) -> i32 {
        *len = buf_len + 1;
        X8_STORE_OK
    }

    unsafe extern "C" fn save_fails(
        _: *mut c_void,
        _: *const c_char,
        _: *const c_char,
        _: i64,
    ) -> i32 {
        -5
    }

    unsafe extern "C" fn lock_busy(_: *mut c_void, _: *const c_char, _: i64) -> i32 {
        X8_STORE_BUSY
    }

    fn d() -> Deadline {
        Deadline::after(Duration::from_secs(5))
    }

    fn store_with(load: x8_store_load_fn, lock: x8_store_lock_fn) -> x8_token_store {
        x8_token_store {
            size: std::mem::size_of::<x8_token_store>(),
            user_data: std::ptr::null_mut(),
            load,
            store: Some(save_fails),
            lock,
            unlock: None,
            remove: None,
        }
    }

    #[test]
    fn a_record_larger_than_the_first_buffer_is_loaded_with_a_second_call() {
        let s = copy_store(&store_with(Some(load_big), None)).unwrap();
        assert_eq!(s.load("k", d()).unwrap().unwrap().len(), 10_000);
        assert!(
            s.lock("k", Duration::from_secs(1), d()).unwrap(),
            "no lock: always taken"
        );
        assert_eq!(
            s.store("k", "r", Duration::from_secs(1), d())
                .unwrap_err()
                .to_string(),
            "the store callback returned -5"
        );
    }

    #[test]
    fn a_callback_that_lies_about_lengths_is_a_failure_not_a_read_past_the_buffer() {
        let s = copy_store(&store_with(Some(load_liar), None)).unwrap();
        assert!(s.load("k", d()).is_err());
    }

    #[test]
    fn the_struct_is_checked_when_set() {
        let opts = x8_options_new();
        let mut err = std::ptr::null_mut();
        let good = store_with(Some(load_big), None);
        assert_eq!(
            x8_options_set_token_store(opts, &good, &mut err),
            x8_status::Ok
        );
        for bad in [
            store_with(None, None),
            x8_token_store {
                unlock: None,
                ..store_with(Some(load_big), Some(lock_busy))
            },
            x8_token_store {
                size: 8,
                ..store_with(Some(load_big), None)
            },
        ] {
            assert_eq!(
                x8_options_set_token_store(opts, &bad, &mut err),
                x8_status::InvalidArgument
            );
            x8_error_free(err);
        }
        // An older caller's smaller struct: the fields it lacks are NULL.
        let old = x8_token_store {
            size: std::mem::offset_of!(x8_token_store, lock),
            ..store_with(Some(load_big), Some(lock_busy))
        };
        assert_eq!(
            x8_options_set_token_store(opts, &old, &mut err),
            x8_status::Ok
        );
        assert_eq!(
            x8_options_set_token_store(opts, std::ptr::null(), &mut err),
            x8_status::Ok
        );
        x8_options_free(opts);
    }

    #[test]
    fn the_redis_setter_says_at_once_when_redis_is_not_built_in() {
        let opts = x8_options_new();
        let mut err = std::ptr::null_mut();
        let status = x8_options_set_redis_store(opts, c"redis://127.0.0.1:6379".as_ptr(), &mut err);
        if cfg!(feature = "redis") {
            assert_eq!(status, x8_status::Ok);
        } else {
            assert_eq!(status, x8_status::Config);
        }
        x8_error_free(err);
        assert_eq!(
            x8_options_set_redis_store(opts, c"".as_ptr(), &mut err),
            x8_status::InvalidArgument
        );
        x8_error_free(err);
        x8_options_free(opts);
    }
}
