//! `x8_client`: the token cache and connection pool for one API key.

use std::ffi::c_char;
use std::time::Duration;

use super::args::{buffer_arg, handle, out_arg, set_if_asked, str_arg, too_small};
use super::boundary::{boundary, boundary_or};
use super::error::{x8_error, x8_status};
use super::options::{options_arg, x8_options};
use super::own::{give, give_string, take, write_sized, Boxed, SizedStruct};
use crate::cache::Copied;
use crate::client::Client;
use crate::config::Credentials;
use crate::error::{Error, ErrorKind};
use crate::rt::stats::StatsSnapshot;

/// A client for one API key: caches its token, renews it ahead of expiry, keeps connections alive.
/// Thread-safe: every function may be called on the same client from any number of threads at once, except
/// `x8_client_free`, which must be the last call (no other call on the client may be running or follow).
pub struct x8_client {
    pub(crate) inner: Client,
}

impl Boxed for x8_client {}

/// `x8_stats` in the header: one definition, `StatsSnapshot` in src/rt/stats.rs, which cbindgen renames (the
/// signatures below name `StatsSnapshot` so that cbindgen finds it).
/// cbindgen:ignore
pub type x8_stats = StatsSnapshot;

// SAFETY: repr(C), `size: usize` first, then only 64-bit integers; all-zero is a valid snapshot.
unsafe impl SizedStruct for StatsSnapshot {
    const MIN_SIZE: usize = std::mem::size_of::<usize>();
    const NAME: &'static str = "stats";
}

fn finish_new(
    made: crate::error::Result<Client>,
    out: &mut *mut x8_client,
) -> crate::error::Result<()> {
    *out = give(x8_client { inner: made? });
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
/// and `X8_BASE_URL`, `X8_TOKEN_URL`, one of `X8_TOKEN_CACHE` / `X8_REDIS_URL`, `X8_CLIENT_AUTH`,
/// `X8_TOKEN_SCOPE`, `X8_TLS_ROOTS`, `X8_CA_FILE`, `X8_CA_MODE`, `X8_API_RETRIES` and `X8_RATE_LIMIT`
/// (optional; they override `opts`). X8_STATUS_CONFIG names a missing variable. Thread safety: any thread (it reads the environment, so not concurrently with setenv).
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
/// renewal in flight for this client is waited for (at most the client's timeout plus a second); freeing the
/// process's last client ends every thread x8 started. In a fork child, freeing a client made in the parent
/// never blocks and releases only the child's copy of it (no socket, lock or file of the parent is touched).
#[no_mangle]
pub extern "C" fn x8_client_free(client: *mut x8_client) {
    boundary_or((), || {
        if let Some(client) = take(client) {
            // Off the scheduler and its callbacks closed, or (in a fork child) only the child's copy dropped.
            client.inner.release();
        }
        Ok(())
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
/// (A short form: the call every program makes keeps the design's name rather than `x8_client_get_token`.)
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
        set_if_asked(token_len, len);
        result
    })
}

/// Like `x8_get_token`, but hands out a new NUL-terminated copy in `*out`, which the caller frees with
/// `x8_free` (which wipes it). Simpler; costs an allocation. `*out` is NULL on failure. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn x8_client_token_string(
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
/// Also lifts the short backoff after a failed fetch. Errors: X8_STATUS_INVALID_ARGUMENT for NULL,
/// X8_STATUS_FORKED for a client made before fork() (the shared store is not touched). Any thread.
#[no_mangle]
pub extern "C" fn x8_client_invalidate(
    client: *const x8_client,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || handle(client, "client")?.inner.invalidate())
}

/// Drops the cached token only if it is still `rejected`, a token the API refused (e.g. an HTTP client that
/// attaches x8's token itself and got a 401). When many threads see the same token refused at once, the first
/// call drops it and the others leave its successor alone, so one fetch follows. `*dropped` (if not NULL)
/// says whether it was dropped. Errors: X8_STATUS_INVALID_ARGUMENT for NULL or non-UTF-8, X8_STATUS_FORKED
/// for a client made before fork(). Any thread.
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
            .invalidate_if_current(str_arg(rejected, "rejected")?)?;
        set_if_asked(dropped, was_dropped);
        Ok(())
    })
}

/// Counts, in `x8_stats.replays_after_401`, a request that the caller's own HTTP client sent again with a new
/// token after the API rejected x8's (the Go RoundTripper and the .NET handler do this after
/// `x8_client_invalidate_token`), so the counter covers every replay, not only those of `x8_request`.
/// Errors: X8_STATUS_INVALID_ARGUMENT for NULL. Any thread.
#[no_mangle]
pub extern "C" fn x8_client_count_replay(
    client: *const x8_client,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        handle(client, "client")?.inner.count_replay();
        Ok(())
    })
}

/// Fills `*stats` with the client's counters (see `x8_stats`; set `stats->size` first): only the whole fields
/// that fit in `stats->size`, which is then set to the bytes filled. Cheap: plain atomic reads.
/// Errors: X8_STATUS_INVALID_ARGUMENT for NULL or a `size` smaller than the `size` field. Any thread.
#[no_mangle]
pub extern "C" fn x8_client_stats(
    client: *const x8_client,
    stats: *mut StatsSnapshot,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        let client = handle(client, "client")?;
        // Raw-pointer writes: the caller's struct may be smaller than ours (an older header).
        write_sized(stats, &client.inner.stats())
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
            .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
        *out = give_string(&json);
        Ok(())
    })
}

pub(crate) fn timeout_arg(timeout_ms: u32) -> Option<Duration> {
    (timeout_ms != 0).then(|| Duration::from_millis(u64::from(timeout_ms)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offline_client() -> *mut x8_client {
        let opts = crate::ffi::x8_options_new();
        let mut client = std::ptr::null_mut();
        // Loopback and never contacted: stats need no token.
        crate::ffi::x8_options_set_base_url(
            opts,
            c"http://127.0.0.1:9".as_ptr(),
            std::ptr::null_mut(),
        );
        let status = x8_client_new(
            c"id".as_ptr(),
            c"secret".as_ptr(),
            opts,
            &mut client,
            std::ptr::null_mut(),
        );
        crate::ffi::x8_options_free(opts);
        assert_eq!(status, x8_status::Ok);
        client
    }

    #[test]
    fn stats_fill_an_older_smaller_struct_only_as_far_as_its_size() {
        let client = offline_client();
        // An older header's x8_stats: size and three counters, then memory that is not the caller's struct.
        let mut older = [0u64; 5];
        older[0] = 4 * 8;
        older[4] = 0xDEAD_BEEF;
        let status = x8_client_stats(
            client,
            older.as_mut_ptr() as *mut x8_stats,
            std::ptr::null_mut(),
        );
        assert_eq!(status, x8_status::Ok);
        assert_eq!(older[0], 32, "size reports the bytes filled");
        assert_eq!(
            older[4], 0xDEAD_BEEF,
            "nothing past the caller's size is written"
        );
        // A size that ends inside a field: that field is left alone, not half written.
        let mut cut = [0u64, 0, 0xBBBB, 0xAAAA];
        cut[0] = 3 * 8 - 4;
        assert_eq!(
            x8_client_stats(
                client,
                cut.as_mut_ptr() as *mut x8_stats,
                std::ptr::null_mut()
            ),
            x8_status::Ok
        );
        assert_eq!(cut[0], 16);
        assert_eq!((cut[2], cut[3]), (0xBBBB, 0xAAAA));
        let mut full = x8_stats {
            size: std::mem::size_of::<x8_stats>(),
            ..Default::default()
        };
        assert_eq!(
            x8_client_stats(client, &mut full, std::ptr::null_mut()),
            x8_status::Ok
        );
        assert_eq!(full.token_seconds_left, -1);
        assert_eq!(full.size, std::mem::size_of::<x8_stats>());
        x8_client_free(client);
    }
}
