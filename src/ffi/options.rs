//! `x8_options`: a builder for client options. Create, set, pass to `x8_client_new` (which copies it), free.

use std::ffi::{c_char, c_void};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::args::{handle, handle_mut, str_arg};
use super::boundary::{boundary, boundary_or};
use super::error::{x8_error, x8_status};
use super::own::{c_string, give, take, Boxed, UserData};
use crate::config::headers::validate_header;
use crate::config::{
    check_token_param, CaMode, ClientAuth, Options, ProxySetting, RateLimit, SharedStoreSetting,
    TlsRoots,
};
use crate::error::{Error, Result};
use crate::rt::log::{Level, Logger};

/// Client options, all defaulted (see each setter). Not thread-safe: build it on one thread. The client copies
/// what it needs, so the options may be freed (or reused for another client) right after `x8_client_new`.
pub struct x8_options {
    pub(crate) inner: Options,
}

/// Called with each diagnostic message at or below the chosen level (1 error, 2 warn, 3 info, 4 debug).
/// `message` is borrowed for the duration of the call. Called from any thread, including x8's background
/// refresh thread, so it must be thread-safe; it may call x8 functions on the same client (no lock is held).
/// Messages never contain the secret or a token.
pub type x8_log_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, level: i32, message: *const c_char)>;

impl Boxed for x8_options {}

/// The boundary of a setter: `boundary` around resolving the options handle and applying `set` to it.
pub(crate) fn options_boundary(
    opts: *mut x8_options,
    err: *mut *mut x8_error,
    set: impl FnOnce(&mut Options) -> Result<()>,
) -> x8_status {
    boundary(err, || set(&mut handle_mut(opts, "options")?.inner))
}

fn millis(ms: u32, what: &str) -> Result<Duration> {
    if ms == 0 {
        return Err(Error::invalid(format!("{what} must be at least 1 ms")));
    }
    Ok(Duration::from_millis(u64::from(ms)))
}

/// Creates options with every default. Free with `x8_options_free`. Returns NULL only if memory ran out.
#[no_mangle]
pub extern "C" fn x8_options_new() -> *mut x8_options {
    boundary_or(std::ptr::null_mut(), || {
        Ok(give(x8_options {
            inner: Options::default(),
        }))
    })
}

/// Frees options. NULL is ignored.
#[no_mangle]
pub extern "C" fn x8_options_free(opts: *mut x8_options) {
    boundary_or((), || {
        drop(take(opts));
        Ok(())
    })
}

/// Base URL of the APIs (default "https://api.8x8.com"); request paths are relative to it, and the bearer token
/// is only ever sent to its origin. `http://` is accepted for loopback hosts only (the emulator). A path prefix
/// such as "https://api.8x8.com/eu" is kept. Checked fully by `x8_client_new` (X8_STATUS_CONFIG).
#[no_mangle]
pub extern "C" fn x8_options_set_base_url(
    opts: *mut x8_options,
    url: *const c_char,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        o.base_url = str_arg(url, "url")?.to_owned();
        Ok(())
    })
}

/// Token endpoint URL (default: the base URL's origin + "/oauth/v2/token"). The credentials go only here.
#[no_mangle]
pub extern "C" fn x8_options_set_token_url(
    opts: *mut x8_options,
    url: *const c_char,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        o.token_url = Some(str_arg(url, "url")?.to_owned());
        Ok(())
    })
}

/// TCP + TLS connect timeout in milliseconds (default 10000; at least 1).
#[no_mangle]
pub extern "C" fn x8_options_set_connect_timeout_ms(
    opts: *mut x8_options,
    ms: u32,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        o.connect_timeout = millis(ms, "the connect timeout")?;
        Ok(())
    })
}

/// Bound on one whole call in milliseconds (default 30000): a token fetch with its retries, or a request with
/// its token fetch and replay. Nothing x8 does waits longer.
#[no_mangle]
pub extern "C" fn x8_options_set_timeout_ms(
    opts: *mut x8_options,
    ms: u32,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        o.timeout = millis(ms, "the timeout")?;
        Ok(())
    })
}

/// How long before expiry a token is renewed in the background, in milliseconds (default 300000 = 5 minutes;
/// for short-lived tokens at most a fifth of the lifetime). 0 renews only at the expiry safety margin.
#[no_mangle]
pub extern "C" fn x8_options_set_refresh_margin_ms(
    opts: *mut x8_options,
    ms: u32,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        o.refresh_margin = Duration::from_millis(u64::from(ms));
        Ok(())
    })
}

/// The User-Agent header (default "x8/<version>").
#[no_mangle]
pub extern "C" fn x8_options_set_user_agent(
    opts: *mut x8_options,
    user_agent: *const c_char,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        o.user_agent = str_arg(user_agent, "user_agent")?.to_owned();
        Ok(())
    })
}

/// A PEM file of CA certificates to trust, for HTTPS and a `rediss://` store (for corporate TLS inspection or a
/// test CA): besides the roots by default, or instead of them (`x8_options_set_ca_mode`). Read by
/// `x8_client_new` (X8_STATUS_CONFIG when it cannot be read or holds no certificate). Also `X8_CA_FILE` for `x8_client_new_from_env`.
#[no_mangle]
pub extern "C" fn x8_options_set_ca_file(
    opts: *mut x8_options,
    path: *const c_char,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        o.ca_file = Some(PathBuf::from(str_arg(path, "path")?));
        Ok(())
    })
}

/// The HTTP(S) proxy, e.g. "http://proxy:3128". By default the usual environment variables are honoured
/// (`HTTPS_PROXY`, `ALL_PROXY`, `NO_PROXY`...); an empty string disables proxies altogether.
/// SOCKS proxies are not supported: a socks:// URL given here makes x8_client_new fail with X8_STATUS_CONFIG,
/// and one found in the environment is ignored.
#[no_mangle]
pub extern "C" fn x8_options_set_proxy(
    opts: *mut x8_options,
    proxy_url: *const c_char,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        let url = str_arg(proxy_url, "proxy_url")?;
        o.proxy = if url.is_empty() {
            ProxySetting::Disabled
        } else {
            ProxySetting::Url(url.to_owned())
        };
        Ok(())
    })
}

/// Largest response body accepted, in bytes (default 64 MiB). A larger body is cut off with
/// X8_STATUS_BODY_TOO_LARGE.
#[no_mangle]
pub extern "C" fn x8_options_set_max_body_bytes(
    opts: *mut x8_options,
    bytes: u64,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        if bytes == 0 {
            return Err(Error::invalid(
                "the maximum body size must be at least 1 byte",
            ));
        }
        o.max_body_bytes = bytes;
        Ok(())
    })
}

/// Retries of a token fetch that failed transiently (5xx, 429, network), after the first attempt: default 3,
/// at most 20. Waits grow exponentially from `base_delay_ms` to `max_delay_ms` with jitter (defaults 250 and
/// 8000); a `Retry-After` from the server is honoured. All of it stays within the overall timeout.
#[no_mangle]
pub extern "C" fn x8_options_set_retries(
    opts: *mut x8_options,
    max_retries: u32,
    base_delay_ms: u32,
    max_delay_ms: u32,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        if max_retries > 20 || base_delay_ms > max_delay_ms {
            return Err(Error::invalid(
                "retries must be at most 20 and the base delay must not exceed the maximum",
            ));
        }
        o.max_retries = max_retries;
        o.retry_base_delay = Duration::from_millis(u64::from(base_delay_ms));
        o.retry_max_delay = Duration::from_millis(u64::from(max_delay_ms));
        Ok(())
    })
}

/// Whether a request whose token the API rejects (401, or an Apigee invalid/expired-token fault) is sent once
/// more with a new token (default true). With false, the rejected response is returned and the token dropped.
#[no_mangle]
pub extern "C" fn x8_options_set_replay_on_401(
    opts: *mut x8_options,
    enabled: bool,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        o.replay_on_401 = enabled;
        Ok(())
    })
}

/// Keeps the token in a cache file in `dir` shared by this host's processes (also `X8_TOKEN_CACHE`): short-lived
/// processes then reuse one token instead of fetching one each. One file per token URL and client id, mode
/// 0600, written atomically under a file lock, never holding the secret. Files that are corrupt or readable by
/// others are ignored and replaced; a folder that cannot be written falls back to the in-process cache with a
/// warning (never an error). Created with mode 0700 if missing. Replaces any other shared store set on these
/// options (`x8_options_set_redis_store`, `x8_options_set_token_store`).
#[no_mangle]
pub extern "C" fn x8_options_set_token_cache(
    opts: *mut x8_options,
    dir: *const c_char,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        let dir = str_arg(dir, "dir")?;
        if dir.is_empty() {
            return Err(Error::invalid("dir is empty"));
        }
        o.shared_store = SharedStoreSetting::CacheDir(PathBuf::from(dir));
        Ok(())
    })
}

/// Installs a diagnostics callback (see `x8_log_fn`) for messages at `max_level` or more severe (1 error ...
/// 4 debug). NULL `callback` removes it. `user_data` is passed back untouched; it must stay valid for the
/// client's life.
#[no_mangle]
pub extern "C" fn x8_options_set_log_callback(
    opts: *mut x8_options,
    callback: x8_log_fn,
    user_data: *mut c_void,
    max_level: i32,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        let level = Level::from_i32(max_level)
            .ok_or_else(|| Error::invalid("max_level must be 1 (error) to 4 (debug)"))?;
        o.logger = match callback {
            None => Logger::default(),
            Some(cb) => {
                let user_data = UserData::new(user_data);
                Logger::new(
                    Arc::new(move |level: Level, message: &str| {
                        let text = c_string(message);
                        // SAFETY: the caller's callback, with the user data it gave and a message borrowed
                        // for the call.
                        unsafe { cb(user_data.get(), level as i32, text.as_ptr()) };
                    }),
                    level,
                )
            }
        };
        Ok(())
    })
}

/// How the client authenticates at the token endpoint: X8_CLIENT_AUTH_BASIC (8x8's raw
/// `Basic base64(id:secret)`, the default), X8_CLIENT_AUTH_BASIC_RFC6749 (RFC 6749 §2.3.1: id and secret
/// form-urlencoded before base64; an id may then hold ':') or X8_CLIENT_AUTH_POST (`client_secret_post`: both in
/// the form body). Also `X8_CLIENT_AUTH` (basic, basic-rfc6749, post). Errors: X8_STATUS_INVALID_ARGUMENT for
/// another value.
#[no_mangle]
pub extern "C" fn x8_options_set_client_auth(
    opts: *mut x8_options,
    style: i32,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        o.client_auth = ClientAuth::from_code(style)
            .ok_or_else(|| Error::invalid(format!("{style} is not an X8_CLIENT_AUTH_* style")))?;
        Ok(())
    })
}

/// An OAuth `scope` sent with each token request (none by default: 8x8 needs none); "" sends none again.
/// Also `X8_TOKEN_SCOPE`. Checked by `x8_client_new` (X8_STATUS_CONFIG for control characters).
#[no_mangle]
pub extern "C" fn x8_options_set_token_scope(
    opts: *mut x8_options,
    scope: *const c_char,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        let scope = str_arg(scope, "scope")?;
        o.token_scope = (!scope.is_empty()).then(|| scope.to_owned());
        Ok(())
    })
}

/// Adds a form parameter to each token request (`audience`, `resource`...) for servers that need one; none are
/// sent by default. The same name given again replaces its value. Errors: X8_STATUS_CONFIG for an empty name,
/// control characters, or a parameter x8 sets itself (grant_type, client_id, client_secret, scope: use
/// `x8_options_set_token_scope`).
#[no_mangle]
pub extern "C" fn x8_options_add_token_param(
    opts: *mut x8_options,
    name: *const c_char,
    value: *const c_char,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        let (name, value) = (str_arg(name, "name")?, str_arg(value, "value")?);
        check_token_param(name, value)?;
        set_pair(&mut o.token_params, name, value, false);
        Ok(())
    })
}

/// Adds a header sent with every request of the client, e.g. `X-Tenant-Info` for a multi-tenant customer or
/// QM's `pbx`; a header of the same name given per call (`x8_request_opts.headers`) replaces it, and the same
/// name added again replaces its value. Errors: X8_STATUS_INVALID_ARGUMENT for what a per-call header may not
/// be (an invalid name, CR/LF/NUL, or a header x8 sets itself: Authorization, Host, Content-Length,
/// Transfer-Encoding).
#[no_mangle]
pub extern "C" fn x8_options_add_default_header(
    opts: *mut x8_options,
    name: *const c_char,
    value: *const c_char,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        let (name, value) = (str_arg(name, "name")?, str_arg(value, "value")?);
        validate_header(name, value)?;
        set_pair(&mut o.default_headers, name, value, true);
        Ok(())
    })
}

/// Sets `name` to `value` in `pairs`, replacing an earlier value of that name.
fn set_pair(pairs: &mut Vec<(String, String)>, name: &str, value: &str, ignore_case: bool) {
    let same = |n: &String| {
        if ignore_case {
            n.eq_ignore_ascii_case(name)
        } else {
            n == name
        }
    };
    match pairs.iter_mut().find(|(n, _)| same(n)) {
        Some(pair) => pair.1 = value.to_owned(),
        None => pairs.push((name.to_owned(), value.to_owned())),
    }
}

/// Which roots HTTPS (and a `rediss://` store) trusts: X8_ROOTS_PLATFORM (default: the platform's verifier, i.e. the Windows certificate
/// store, or the system bundle on Linux, where `SSL_CERT_FILE`/`SSL_CERT_DIR` are honoured; a Linux without any
/// bundle falls back to the compiled-in roots with a warning; macOS builds, cross-built without a macOS SDK, use
/// the compiled-in roots) or X8_ROOTS_COMPILED_IN (Mozilla's roots built into x8). Also `X8_TLS_ROOTS` (platform, compiled-in). Errors:
/// X8_STATUS_INVALID_ARGUMENT for another value.
#[no_mangle]
pub extern "C" fn x8_options_set_tls_roots(
    opts: *mut x8_options,
    roots: i32,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        o.tls_roots = TlsRoots::from_code(roots)
            .ok_or_else(|| Error::invalid(format!("{roots} is not an X8_ROOTS_* value")))?;
        Ok(())
    })
}

/// What the CA file (`x8_options_set_ca_file`) does: X8_CA_ADD (default: trusted besides the roots) or
/// X8_CA_REPLACE (only its certificates are trusted). Also `X8_CA_MODE` (add, replace). Errors:
/// X8_STATUS_INVALID_ARGUMENT for another value.
#[no_mangle]
pub extern "C" fn x8_options_set_ca_mode(
    opts: *mut x8_options,
    mode: i32,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        o.ca_mode = CaMode::from_code(mode)
            .ok_or_else(|| Error::invalid(format!("{mode} is not an X8_CA_* mode")))?;
        Ok(())
    })
}

/// Opt-in API retries (default 0: each request is sent once): an API request with an idempotent method (GET,
/// HEAD, PUT, DELETE, OPTIONS) answered 429 or 503 is sent again up to `max_retries` times (at most 20), after
/// the reply's `Retry-After` (seconds or an HTTP date) or else a jittered backoff with the delays of
/// `x8_options_set_retries`, within the call's timeout: a wait that would pass it returns the 429/503 at once.
/// POST and PATCH are never retried. Counted in `x8_stats.api_retries`. Also `X8_API_RETRIES`.
#[no_mangle]
pub extern "C" fn x8_options_set_api_retries(
    opts: *mut x8_options,
    max_retries: u32,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        if max_retries > 20 {
            return Err(Error::invalid("API retries must be at most 20"));
        }
        o.api_retries = max_retries;
        Ok(())
    })
}

/// A client-side rate limit: at most `requests` API requests start in any `interval_ms` (for one client and
/// its copies; 8x8 publishes limits such as 10 calls per 60 s). A caller beyond it waits its turn, in the order
/// callers came, rather than earn a 429; one whose turn would come after its call's deadline gets
/// X8_STATUS_TIMEOUT at once and nothing is sent. `requests` 0 removes the limit (the default). Waits are
/// counted in `x8_stats.rate_limit_waits`. Also `X8_RATE_LIMIT` ("10/60": 10 per 60 s). Errors:
/// X8_STATUS_INVALID_ARGUMENT for an interval of 0 or over 24 hours, or more than 100000 requests.
#[no_mangle]
pub extern "C" fn x8_options_set_rate_limit(
    opts: *mut x8_options,
    requests: u32,
    interval_ms: u32,
    err: *mut *mut x8_error,
) -> x8_status {
    options_boundary(opts, err, |o| {
        if requests == 0 {
            o.rate_limit = None;
            return Ok(());
        }
        if requests > MAX_RATE_LIMIT_REQUESTS || interval_ms == 0 || interval_ms > 86_400_000 {
            return Err(Error::invalid(
                "a rate limit needs 1 to 100000 requests per 1 ms to 24 hours",
            ));
        }
        o.rate_limit = Some(RateLimit {
            requests,
            interval: Duration::from_millis(u64::from(interval_ms)),
        });
        Ok(())
    })
}

/// The limiter keeps one timestamp per request of its window.
const MAX_RATE_LIMIT_REQUESTS: u32 = 100_000;

pub(crate) fn options_arg(opts: *const x8_options) -> Result<Options> {
    if opts.is_null() {
        return Ok(Options::default());
    }
    Ok(handle(opts, "options")?.inner.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::x8_options_set_redis_store;

    /// Secrets given through the C setters stay out of every Debug of what the client keeps: the proxy's and
    /// Redis's passwords are inside URLs, which is why Options has a hand-written Debug (see config/mod.rs).
    #[test]
    fn passwords_set_through_the_c_api_never_reach_debug_output() {
        let opts = x8_options_new();
        let mut err = std::ptr::null_mut();
        let proxy = c"http://alice:hunter2-proxy@proxy.corp:3128";
        assert_eq!(
            x8_options_set_proxy(opts, proxy.as_ptr(), &mut err),
            x8_status::Ok
        );
        let shown = format!("{:?}", options_arg(opts).unwrap());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("proxy.corp:3128"),
            "the host stays visible for diagnosis: {shown}"
        );
        let redis = c"redis://:hunter2-redis@10.0.0.1:6379";
        let status = x8_options_set_redis_store(opts, redis.as_ptr(), &mut err);
        if status == x8_status::Ok {
            let shown = format!("{:?}", options_arg(opts).unwrap());
            assert!(!shown.contains("hunter2"), "{shown}");
        } else {
            crate::ffi::x8_error_free(err); // built without the redis feature
        }
        x8_options_free(opts);
    }
}
