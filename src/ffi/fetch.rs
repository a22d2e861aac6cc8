//! `x8_fetch_url`: a token-less GET/HEAD of a presigned URL (Storage's `?presignUrl=true` downloads), over
//! `Client::fetch_url` (src/presigned.rs, tested in Rust), answered as the same `x8_response` as `x8_request`.

use std::ffi::c_char;

use super::args::{handle, out_arg, str_arg};
use super::boundary::boundary;
use super::client::{timeout_arg, x8_client};
use super::error::{x8_error, x8_status};
use super::own::give;
use super::request::{header_args, opts_arg, x8_request_opts, x8_response, CSink};
use crate::error::Error;

/// Fetches an absolute URL **without** the client's token: no Authorization header and no 8x8 credential is
/// sent, to any origin. For the presigned download links Storage answers `?presignUrl=true` with (an S3 URL
/// whose query is its own credential, valid about 30 minutes). `method` is "GET" or "HEAD"; `url` must be
/// `https://` (`http://` only on loopback: tests, the emulator). Redirects are not followed. The client's proxy,
/// CA settings, connect timeout and maximum body size apply. The URL's query never appears in an error message
/// or a log line (it is shown as `?[query hidden]`).
///
/// `opts` (NULL for none): `headers` and `timeout_ms` as for `x8_request` (an Authorization header is refused);
/// `write`/`write_user` stream the body to a callback as for `x8_request` (presigned recordings are large: no
/// `max_body_bytes` limit, constant memory; `*out` then has an empty body), and `head`/`head_user` see the
/// status and headers first and may hold the body instead (an expired link's 403) or abort, as for
/// `x8_request`; a body or `read` is refused (GET and HEAD carry none), and so is `head` without `write`.
/// Arguments are borrowed for the call only.
///
/// On success `*out` is a new response owned by the caller (free with `x8_response_free`); any HTTP status is a
/// success (an expired link is S3's 403). On failure `*out` is NULL. Errors: X8_STATUS_INVALID_ARGUMENT (NULL,
/// non-UTF-8, another method, a body, a malformed or Authorization header, a URL that is not https or
/// loopback http), X8_STATUS_BODY_TOO_LARGE, X8_STATUS_TRANSPORT / X8_STATUS_TIMEOUT / X8_STATUS_TLS,
/// X8_STATUS_FORKED, X8_STATUS_ABORTED (the `write` callback returned non-zero, or `head` returned neither
/// X8_HEAD_STREAM nor X8_HEAD_HOLD). Never a token error: no token is needed. Thread safety: any thread, like
/// `x8_request`.
#[no_mangle]
pub extern "C" fn x8_fetch_url(
    client: *const x8_client,
    method: *const c_char,
    url: *const c_char,
    opts: *const x8_request_opts,
    out: *mut *mut x8_response,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        let out = out_arg(out, "out")?;
        *out = std::ptr::null_mut();
        let client = handle(client, "client")?;
        let o = opts_arg(opts)?;
        o.check_head()?;
        if !o.body.is_null() || o.body_len != 0 || o.read.is_some() {
            return Err(Error::invalid(
                "opts->body or opts->read is set: a presigned URL is fetched with GET or HEAD, which carry no body",
            ));
        }
        let method = str_arg(method, "method")?;
        let url = str_arg(url, "url")?;
        let headers = header_args(o.headers, o.header_count)?;
        let timeout = timeout_arg(o.timeout_ms);
        let reply = match o.write {
            None => client.inner.fetch_url(method, url, &headers, timeout)?,
            Some(write) => {
                let mut sink = CSink {
                    write,
                    user: o.write_user,
                };
                client.inner.fetch_url_to_with_head(
                    method,
                    url,
                    &headers,
                    timeout,
                    &mut sink,
                    |r| o.route(r),
                )?
            }
        };
        *out = give(x8_response::from_reply(reply));
        Ok(())
    })
}
