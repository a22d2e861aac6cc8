//! `x8_client`: the token cache and connection pool for one API key.

use std::ffi::c_char;
use std::time::Duration;

use super::boundary::{
    boundary, boundary_void, buffer_arg, give_string, handle, out_arg, str_arg, too_small,
    x8_error, x8_status,
};
use super::options::{options_arg, x8_options};
use crate::cache::Copied;
use crate::client::Client;
use crate::config::Credentials;
use crate::error::Error;

/// A client for one API key: caches its token, renews it ahead of expiry, keeps connections alive.
/// Thread-safe: every function may be called on the same client from any number of threads at once, except
/// `x8_client_free`, which must be the last call (no other call on the client may be running or follow).
pub struct x8_client {
    pub(crate) inner: Client,
}

/// A snapshot of the client's counters. Set `size` to `sizeof(x8_stats)` before calling `x8_client_stats`: the
/// library fills only the fields that fit, so programs built against an older header keep working.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct x8_stats {
    /// In: sizeof(x8_stats) as the caller knows it.
    pub size: usize,
    /// Token requests answered from the cache.
    pub cache_hits: u64,
    /// Tokens obtained (all kinds): from the token endpoint, or from the shared token store (`store_hits`).
    pub token_fetches: u64,
    /// Of those, renewals done in the background ahead of expiry.
    pub background_refreshes: u64,
    /// Token fetch attempts retried after a transient failure.
    pub fetch_retries: u64,
    /// Requests replayed with a new token after the API rejected the old one.
    pub replays_after_401: u64,
    /// Token fetches that failed because the credentials were refused.
    pub failures_auth: u64,
    /// Token fetches that failed because the endpoint kept answering 5xx/429.
    pub failures_server: u64,
    /// Token fetches that failed on the network (connect, TLS, timeout).
    pub failures_network: u64,
    /// Token fetches that failed on a malformed reply or anything else.
    pub failures_protocol: u64,
    /// Calls to x8_request.
    pub requests: u64,
    /// Seconds the cached token has left (before its safety margin), or -1 when none is cached.
    pub token_seconds_left: i64,
    /// Tokens taken from the shared token store (cache file, Redis, `x8_token_store`) instead of fetched.
    pub store_hits: u64,
    /// Shared-store operations that failed; the client fetched the token itself each time.
    pub store_errors: u64,
}

fn finish_new(
    made: crate::error::Result<Client>,
    out: &mut *mut x8_client,
) -> crate::error::Result<()> {
    *out = Box::into_raw(Box::new(x8_client { inner: made? }));
    Ok(())
}

/// Creates a client for the API key (`client_id`, `secret`, from 8x8 Admin Console) with `opts` (NULL for the
/// defaults; copied, so it may be freed afterwards). No network traffic happens until a token is needed.
///
/// On success `*out` is a new client, owned by the caller, released with `x8_client_free`. On failure `*out` is
/// NULL. Errors: X8_STATUS_INVALID_ARGUMENT (NULL or non-UTF-8 arguments), X8_STATUS_CONFIG (a client id with
/// ':', which Basic authentication cannot carry; empty secret; bad URL, CA file or option). The secret is
/// copied, wiped from x8's memory when the client is freed, and never appears in any message.
/// Thread safety: any thread.
#[no_mangle]
pub extern "C" fn x8_client_new(
    client_id: *const c_char,
    secret: *const c_char,
    opts: *const x8_options,
    out: *mut *mut x8_client,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        let out = out_arg(out, "out")?;
        *out = std::ptr::null_mut();
        let credentials =
            Credentials::new(str_arg(client_id, "client_id")?, str_arg(secret, "secret")?)?;
        finish_new(Client::new(credentials, options_arg(opts)?), out)
    })
}

/// Like `x8_client_new`, with the key from the environment: `X8_CLIENT_ID` and `X8_CLIENT_SECRET` (required),
/// and `X8_BASE_URL`, `X8_TOKEN_URL`, and one of `X8_TOKEN_CACHE` / `X8_REDIS_URL` (optional; they override
/// `opts`). X8_STATUS_CONFIG names a missing variable. Thread safety: any thread (it reads the environment, so not concurrently with setenv).
#[no_mangle]
pub extern "C" fn x8_client_new_from_env(
    opts: *const x8_options,
    out: *mut *mut x8_client,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        let out = out_arg(out, "out")?;
        *out = std::ptr::null_mut();
        finish_new(Client::from_env(options_arg(opts)?), out)
    })
}

/// Frees a client: wipes its secret and token, closes its connections. NULL is ignored. Must be the last call
/// on the client; callable from any thread. After it returns the log callback is never called again for this
/// client, and neither is any callback of its `x8_token_store` (calls in progress are waited for). A background
/// renewal still in flight finishes on the client's renewal thread (bounded by the timeout), which then ends
/// and releases what it holds.
#[no_mangle]
pub extern "C" fn x8_client_free(client: *mut x8_client) {
    boundary_void(|| {
        if !client.is_null() {
            // SAFETY: a client from x8_client_new, freed once, with no call running on it (documented).
            let client = unsafe { Box::from_raw(client) };
            // A background renewal may outlive this call; it must not reach the caller's callbacks any more.
            client.inner.close_callbacks();
            drop(client);
        }
    })
}

/// Copies a valid access token into `buf` (NUL-terminated): the cached one while it is fresh — no lock, no
/// allocation, no network — or, when none is cached or it is expiring, a new one from the token endpoint
/// (one fetch however many threads ask at once; the others wait for it). Inside the refresh margin the cached
/// token is returned at once while one background renewal runs.
///
/// `*token_len` (if `token_len` is not NULL) receives the token's length without the NUL, also when the buffer
/// is too small. A buffer of X8_TOKEN_BUFFER_SIZE bytes always suffices. `buf` is owned by the caller.
/// Errors: X8_STATUS_BUFFER_TOO_SMALL (nothing written), X8_STATUS_AUTH (credentials refused: see the
/// message), X8_STATUS_TOKEN_ENDPOINT, X8_STATUS_TRANSPORT, X8_STATUS_TIMEOUT, X8_STATUS_TLS,
/// X8_STATUS_PROTOCOL, X8_STATUS_INVALID_ARGUMENT, X8_STATUS_FORKED. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn x8_get_token(
    client: *const x8_client,
    buf: *mut c_char,
    buf_len: usize,
    token_len: *mut usize,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        let client = handle(client, "client")?;
        let out = buffer_arg(buf, buf_len)?;
        let (len, result) = match client.inner.copy_token(out)? {
            Copied::Whole(len) => (len, Ok(())),
            Copied::TooSmall(len) => (len, Err(too_small(buf_len, len))),
        };
        if !token_len.is_null() {
            // SAFETY: non-NULL `token_len` points to writable storage for one size_t.
            unsafe { *token_len = len };
        }
        result
    })
}

/// Like `x8_get_token`, but hands out a new NUL-terminated copy in `*out`, which the caller frees with
/// `x8_free` (which wipes it). Simpler; costs an allocation. `*out` is NULL on failure. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn x8_get_token_string(
    client: *const x8_client,
    out: *mut *mut c_char,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        let out = out_arg(out, "out")?;
        *out = std::ptr::null_mut();
        let client = handle(client, "client")?;
        *out = client.inner.with_token(|t| give_string(t.access_token()))?;
        Ok(())
    })
}

/// Sets `*has` to whether the current token (fetched if needed) carries the API product `product`, e.g.
/// "analytics realtime-api" (compared ignoring ASCII case). Errors as for `x8_get_token`. Any thread.
#[no_mangle]
pub extern "C" fn x8_client_has_product(
    client: *const x8_client,
    product: *const c_char,
    has: *mut bool,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        let has = out_arg(has, "has")?;
        let client = handle(client, "client")?;
        let product = str_arg(product, "product")?;
        *has = client.inner.has_product(product)?;
        Ok(())
    })
}

/// Drops the cached token so that the next call fetches a new one: after products were added to or removed
/// from the key in Admin Console (they take minutes to replicate), or when a token is known to be revoked.
/// Also lifts the short backoff after a failed fetch. Errors: X8_STATUS_INVALID_ARGUMENT for NULL. Any thread.
#[no_mangle]
pub extern "C" fn x8_client_invalidate(
    client: *const x8_client,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        handle(client, "client")?.inner.invalidate();
        Ok(())
    })
}

/// Drops the cached token only if it is still `rejected`, a token the API refused (e.g. an HTTP client that
/// attaches x8's token itself and got a 401). When many threads see the same token refused at once, the first
/// call drops it and the others leave its successor alone, so one fetch follows. `*dropped` (if not NULL)
/// says whether it was dropped. Errors: X8_STATUS_INVALID_ARGUMENT for NULL or non-UTF-8. Any thread.
#[no_mangle]
pub extern "C" fn x8_client_invalidate_token(
    client: *const x8_client,
    rejected: *const c_char,
    dropped: *mut bool,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        let client = handle(client, "client")?;
        let was_dropped = client
            .inner
            .invalidate_if_current(str_arg(rejected, "rejected")?);
        if let Ok(out) = out_arg(dropped, "dropped") {
            *out = was_dropped;
        }
        Ok(())
    })
}

/// Fills `*stats` with the client's counters (see `x8_stats`; set `stats->size` first). Cheap: plain atomic
/// reads. Errors: X8_STATUS_INVALID_ARGUMENT for NULL or a `size` smaller than the `size` field. Any thread.
#[no_mangle]
pub extern "C" fn x8_client_stats(
    client: *const x8_client,
    stats: *mut x8_stats,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        let client = handle(client, "client")?;
        let stats = out_arg(stats, "stats")?;
        let caller_size = stats.size;
        if caller_size < std::mem::size_of::<usize>() {
            return Err(Error::invalid(
                "stats->size must be set to sizeof(x8_stats)",
            ));
        }
        let s = client.inner.stats();
        let full = x8_stats {
            size: std::mem::size_of::<x8_stats>().min(caller_size),
            cache_hits: s.cache_hits,
            token_fetches: s.token_fetches,
            background_refreshes: s.background_refreshes,
            fetch_retries: s.fetch_retries,
            replays_after_401: s.replays_after_401,
            failures_auth: s.failures_auth,
            failures_server: s.failures_server,
            failures_network: s.failures_network,
            failures_protocol: s.failures_protocol,
            requests: s.requests,
            token_seconds_left: s.token_seconds_left,
            store_hits: s.store_hits,
            store_errors: s.store_errors,
        };
        let n = full.size;
        // SAFETY: copies the first `n` bytes, where n <= both the caller's declared size and ours.
        unsafe {
            std::ptr::copy_nonoverlapping(
                &full as *const x8_stats as *const u8,
                stats as *mut x8_stats as *mut u8,
                n,
            )
        };
        Ok(())
    })
}

/// The same counters as `x8_client_stats`, as a JSON object (`{"cache_hits":..., "token_seconds_left":...}`),
/// handed out in `*out` for the caller to free with `x8_free`. Handy for logging and for bindings. Any thread.
#[no_mangle]
pub extern "C" fn x8_client_stats_json(
    client: *const x8_client,
    out: *mut *mut c_char,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        let out = out_arg(out, "out")?;
        *out = std::ptr::null_mut();
        let stats = handle(client, "client")?.inner.stats();
        let json = serde_json::to_string(&stats)
            .map_err(|e| Error::new(crate::error::ErrorKind::Internal, e.to_string()))?;
        *out = give_string(&json);
        Ok(())
    })
}

pub(crate) fn timeout_arg(timeout_ms: u32) -> Option<Duration> {
    (timeout_ms != 0).then(|| Duration::from_millis(u64::from(timeout_ms)))
}
