//! `x8_request` and `x8_response`: an authenticated API call and its answer.

use std::ffi::{c_char, c_int, c_void, CStr, CString};

use super::args::{bytes_arg, handle, out_arg, str_arg};
use super::boundary::{boundary, boundary_or};
use super::cancel::{cancel_arg, x8_cancel};
use super::client::{timeout_arg, x8_client};
use super::error::{x8_error, x8_status};
use super::own::{c_string, give, read_sized, take, Boxed, SizedStruct};
use crate::client::Request;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{BodyRoute, Streamed, Upload};
use std::io::{Read, Write};

/// Most headers one request may carry; more is a caller bug, not a real request.
const MAX_HEADERS: usize = 256;

/// An API's answer: status, headers, body. Owned by the caller, freed with `x8_response_free`. Immutable, so
/// any thread may read it; everything it returns is borrowed from it and valid until `x8_response_free`.
pub struct x8_response {
    status: u16,
    headers: Vec<(CString, CString)>,
    /// The body plus one NUL that is not counted in its length, so a JSON body can be used as a C string.
    body: Vec<u8>,
}

impl Boxed for x8_response {}

impl x8_response {
    /// A reply as the C handle (`x8_fetch_url` and `x8_pager_next` hand out the same type as `x8_request`).
    pub(crate) fn from_reply(reply: crate::http::Response) -> x8_response {
        let mut body = reply.body;
        body.push(0);
        x8_response {
            status: reply.status,
            headers: reply
                .headers
                .into_iter()
                .map(|(n, v)| (c_string(n), c_string(v)))
                .collect(),
            body,
        }
    }

    /// The status and headers of a reply whose body is still unread, with an empty body: what `head` sees.
    fn head_of(reply: &Streamed) -> x8_response {
        x8_response {
            status: reply.status,
            headers: reply
                .headers
                .iter()
                .map(|(n, v)| (c_string(n.clone()), c_string(v.clone())))
                .collect(),
            body: vec![0],
        }
    }

    /// The body without the NUL that follows it.
    pub(crate) fn body_bytes(&self) -> &[u8] {
        &self.body[..self.body.len() - 1]
    }
}

/// What a request carries besides its method and path, all optional: pass NULL to `x8_request` for none (a
/// plain GET). Set `size` to `sizeof(x8_request_opts)` and zero what you do not use, e.g.
/// `x8_request_opts o = {.size = sizeof o}; o.timeout_ms = 2000;` — x8 reads only the fields that fit in `size`, so
/// fields added in later versions are zero for programs built against this header. Borrowed for the call only.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct x8_request_opts {
    /// `sizeof(x8_request_opts)` as the caller knows it.
    pub size: usize,
    /// `header_count` strings "Name: value" (NULL when 0), e.g. "X-Tenant-Info: acme". Authorization, Host,
    /// Content-Length and Transfer-Encoding are set by x8 and refused.
    pub headers: *const *const c_char,
    /// How many strings `headers` holds.
    pub header_count: usize,
    /// The request body (NULL and 0 for none).
    pub body: *const u8,
    /// The body's length in bytes.
    pub body_len: usize,
    /// Bound on the whole call in milliseconds (0: the client's timeout). With `write` or `read` it covers the
    /// whole transfer: set it for a large download or upload.
    pub timeout_ms: u32,
    /// A handle that cancels the call when triggered (see `x8_cancel`), or NULL. Borrowed: it must outlive the
    /// call.
    pub cancel: *const x8_cancel,
    /// Streams the response body instead of holding it (no `max_body_bytes` limit, constant memory): x8 calls
    /// `write(write_user, data, len)` with each chunk as it arrives (`len` > 0; `data` is borrowed for that
    /// call only). Return 0 to go on; anything else stops the transfer and the call fails with
    /// X8_STATUS_ABORTED. Only the final reply's body is written (the body of a 401 that x8 answers by
    /// replaying the request is not), whatever its status unless `head` holds it; the response `*out` then
    /// has the status and headers and an empty body. NULL: the body is held in the response as usual.
    pub write: x8_write_fn,
    /// Passed to `write` as is.
    pub write_user: *mut c_void,
    /// Streams the request body instead of `body` (which must then be NULL): x8 calls `read(read_user, buf,
    /// cap, &len)` for each chunk it sends; the callback writes up to `cap` bytes to `buf`, sets `*len` to
    /// how many, and returns 0; `*len` = 0 ends the body. Anything but 0 stops the transfer and the call fails
    /// with X8_STATUS_ABORTED. Once `read` has given a byte the request is never sent again (a source cannot
    /// be rewound): not on a stale pooled connection, and not after a 401 — that reply is returned (the
    /// rejected token is still dropped, so a new call gets a new one). NULL: `body` is sent.
    pub read: x8_read_fn,
    /// Passed to `read` as is.
    pub read_user: *mut c_void,
    /// With `read`: the upload's length in bytes, sent as Content-Length (a source that gives fewer or more
    /// bytes fails the call with X8_STATUS_ABORTED). 0: unknown, the body is sent chunked.
    pub upload_len: u64,
    /// With `write`: shows the final reply's status and headers before any of its body is written, and says
    /// where the body goes. x8 calls `head(head_user, reply)` once, on the calling thread, after the reply's
    /// head has arrived and before the first `write` (not for a 401 that x8 answers by replaying the request:
    /// only the reply that is the answer). `reply` is borrowed for that call only: a response with the status
    /// and headers and an empty body, read with `x8_response_status`, `x8_response_header` and the other
    /// accessors (never freed by the callback, never kept). The return value:
    /// X8_HEAD_STREAM streams the body to `write` (as without `head`; `*out` has an empty body);
    /// X8_HEAD_HOLD holds the body in `*out` as if `write` were NULL, under `max_body_bytes`
    /// (X8_STATUS_BODY_TOO_LARGE past it), and `write` is never called — what a caller writing a download to
    /// a file wants for a 4xx/5xx; anything else stops the transfer before any byte is written and the call
    /// fails with X8_STATUS_ABORTED (`*out` NULL). It runs as `x8_write_fn` does (any x8 function but freeing
    /// the client). Without `write`, `head` is refused (X8_STATUS_INVALID_ARGUMENT): the body is held anyway.
    /// NULL (or a `size` from before this field): the body goes to `write` whatever the status.
    pub head: x8_head_fn,
    /// Passed to `head` as is.
    pub head_user: *mut c_void,
}

/// The response-body callback of `x8_request_opts.write`. Runs on the thread that called `x8_request`, during
/// the call, never after it returns; x8 holds no lock of its own while it runs, so it may call any x8 function
/// (even on the same client) except freeing that client.
pub type x8_write_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, data: *const u8, len: usize) -> c_int>;

/// The reply-head callback of `x8_request_opts.head`: returns X8_HEAD_STREAM, X8_HEAD_HOLD, or anything else
/// to abort; runs as `x8_write_fn` does.
pub type x8_head_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, head: *const x8_response) -> c_int>;

/// The request-body callback of `x8_request_opts.read`; runs as `x8_write_fn` does.
pub type x8_read_fn = Option<
    unsafe extern "C" fn(user: *mut c_void, buf: *mut u8, cap: usize, len: *mut usize) -> c_int,
>;

// SAFETY: repr(C), `size: usize` first, then pointers, sizes, a u32, a pointer, nullable function pointers
// (`Option<fn>` is a plain pointer, NULL for None), a u64, then a nullable function pointer and a pointer;
// all-zero is "no headers, no body, the client's timeout, not cancellable, nothing streamed, no head callback".
unsafe impl SizedStruct for x8_request_opts {
    const MIN_SIZE: usize = std::mem::size_of::<usize>();
    const NAME: &'static str = "opts";
}

/// Sends an authenticated request to the API: `Authorization: Bearer <token>` is added from the cache (the
/// token is fetched first if needed). `path` is relative to the base URL ("/analytics/cc/v5/realtime-metrics/
/// queues?page=0") or an absolute URL on the base URL's origin; any other origin is refused. `opts`: headers,
/// body and timeout (see `x8_request_opts`), or NULL for none: a GET is one line,
/// `x8_request(client, "GET", "/path", NULL, &response, &err)`. All arguments are borrowed for the call only.
/// (The short form of a client verb: it keeps the design's name rather than `x8_client_request`.)
///
/// Any HTTP status is a successful call: read it with `x8_response_status`. When the API rejects the token (401,
/// or an Apigee invalid/expired-token fault with any status) x8 drops it, fetches a new one and sends the
/// request once more (see `x8_options_set_replay_on_401`); a second rejection is returned as the response.
///
/// On success `*out` is a new response owned by the caller (free with `x8_response_free`); on failure NULL.
/// Large bodies are streamed through `opts->write` (the response) and `opts->read` (the request), see
/// `x8_request_opts`.
///
/// Errors: X8_STATUS_INVALID_ARGUMENT (NULL, non-UTF-8, CR/LF or NUL in method, path or header, malformed
/// header, another origin, absurd sizes, `opts->size` unset, both `body` and `read`, `head` without
/// `write`), X8_STATUS_NOT_ENTITLED (the key lacks the API's product; the message lists the token's
/// products), X8_STATUS_BODY_TOO_LARGE (a held body, `head`'s X8_HEAD_HOLD included, over the limit), the
/// token errors of `x8_get_token`, X8_STATUS_TRANSPORT / X8_STATUS_TIMEOUT / X8_STATUS_TLS for the request
/// itself, and X8_STATUS_ABORTED when a `write` or `read` callback returned non-zero, `head` returned neither
/// X8_HEAD_STREAM nor X8_HEAD_HOLD (or `read` broke its
/// contract: more than `cap` bytes, or not `upload_len` bytes in all), and X8_STATUS_CANCELLED when
/// `opts->cancel` was triggered (before or during the call: a request blocked on the network returns promptly,
/// its connection closed, never reused).
/// Thread safety: any thread; many requests may run on one client at once.
#[no_mangle]
pub extern "C" fn x8_request(
    client: *const x8_client,
    method: *const c_char,
    path: *const c_char,
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
        let request = request_arg(method, path, &o)?;
        let mut source = o.read.map(|read| CSource {
            read,
            user: o.read_user,
        });
        let mut upload = source
            .as_mut()
            .map(|s| Upload::new(s, (o.upload_len > 0).then_some(o.upload_len)));
        let reply = match (o.write, upload.as_mut()) {
            (None, None) => client.inner.request(&request)?,
            (Some(write), upload) => {
                let mut sink = CSink {
                    write,
                    user: o.write_user,
                };
                client
                    .inner
                    .request_to_with_head(&request, upload, &mut sink, |r| o.route(r))?
            }
            // The reply is read here, on this thread: the call's cancel covers it as it covers the upload.
            (None, Some(upload)) => crate::http::cancellable(request.cancel, || {
                client
                    .inner
                    .request_reader(&request, Some(upload))?
                    .into_response(client.inner.options().max_body_bytes)
            })?,
        };
        *out = give(x8_response::from_reply(reply));
        Ok(())
    })
}

/// The caller's options (read as far as its `size`), or none set when `opts` is NULL.
pub(crate) fn opts_arg(opts: *const x8_request_opts) -> Result<x8_request_opts> {
    if opts.is_null() {
        Ok(EMPTY_OPTS)
    } else {
        read_sized(opts)
    }
}

impl x8_request_opts {
    /// `head` is only meaningful with `write`: without it the body is held whatever the callback would say.
    pub(crate) fn check_head(&self) -> Result<()> {
        if self.head.is_some() && self.write.is_none() {
            return Err(Error::invalid(
                "opts->head is set without opts->write: head says where a streamed body goes, and without write the body is held anyway",
            ));
        }
        Ok(())
    }

    /// Where the body of `reply` goes: its head shown to the caller's `head` callback, or streamed when there
    /// is none.
    pub(crate) fn route(&self, reply: &Streamed) -> Result<BodyRoute> {
        let Some(head) = self.head else {
            return Ok(BodyRoute::Stream);
        };
        let shown = x8_response::head_of(reply);
        // SAFETY: the caller's callback with its own pointer; `shown` lives until after it returns.
        let rc = unsafe { head(self.head_user, &shown) };
        BodyRoute::from_code(rc).ok_or_else(|| {
            Error::new(
                ErrorKind::Aborted,
                format!(
                    "the head callback returned {rc} (status {}): the body was not read",
                    reply.status
                ),
            )
        })
    }
}

/// The request `x8_request` and each page of `x8_pager_new` send: borrowed from the caller's arguments.
pub(crate) fn request_arg<'a>(
    method: *const c_char,
    path: *const c_char,
    o: &x8_request_opts,
) -> Result<Request<'a>> {
    Ok(Request {
        method: str_arg(method, "method")?,
        path: str_arg(path, "path")?,
        headers: header_args(o.headers, o.header_count)?,
        body: bytes_arg(o.body, o.body_len, "opts->body")?,
        timeout: timeout_arg(o.timeout_ms),
        cancel: cancel_arg(o.cancel),
    })
}

const EMPTY_OPTS: x8_request_opts = x8_request_opts {
    size: std::mem::size_of::<x8_request_opts>(),
    headers: std::ptr::null(),
    header_count: 0,
    body: std::ptr::null(),
    body_len: 0,
    timeout_ms: 0,
    cancel: std::ptr::null(),
    write: None,
    write_user: std::ptr::null_mut(),
    read: None,
    read_user: std::ptr::null_mut(),
    upload_len: 0,
    head: None,
    head_user: std::ptr::null_mut(),
};

/// The caller's `write` callback as a `Write`.
pub(crate) struct CSink {
    pub(crate) write: unsafe extern "C" fn(*mut c_void, *const u8, usize) -> c_int,
    pub(crate) user: *mut c_void,
}

impl Write for CSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        // SAFETY: the caller's callback with its own pointer; `data` is valid for the call.
        let rc = unsafe { (self.write)(self.user, data.as_ptr(), data.len()) };
        if rc != 0 {
            return Err(std::io::Error::other(format!(
                "the write callback returned {rc}"
            )));
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The caller's `read` callback as a `Read`.
struct CSource {
    read: unsafe extern "C" fn(*mut c_void, *mut u8, usize, *mut usize) -> c_int,
    user: *mut c_void,
}

impl Read for CSource {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut len = 0usize;
        // SAFETY: the caller's callback with its own pointer; `buf` is writable for `buf.len()` bytes.
        let rc = unsafe { (self.read)(self.user, buf.as_mut_ptr(), buf.len(), &mut len) };
        if rc != 0 {
            return Err(std::io::Error::other(format!(
                "the read callback returned {rc}"
            )));
        }
        if len > buf.len() {
            return Err(std::io::Error::other(format!(
                "the read callback reported {len} bytes into a buffer of {}",
                buf.len()
            )));
        }
        Ok(len)
    }
}

pub(crate) fn header_args<'a>(
    headers: *const *const c_char,
    count: usize,
) -> Result<Vec<(&'a str, &'a str)>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if headers.is_null() {
        return Err(Error::invalid(format!(
            "opts->headers is NULL but opts->header_count is {count}"
        )));
    }
    if count > MAX_HEADERS {
        return Err(Error::invalid(format!(
            "opts->header_count {count} is absurd (at most {MAX_HEADERS})"
        )));
    }
    // SAFETY: the caller promises `count` readable pointers at `headers`.
    let items = unsafe { std::slice::from_raw_parts(headers, count) };
    items
        .iter()
        .enumerate()
        .map(|(i, p)| {
            // format_args!: the argument's name is only formatted for an error, not on every call.
            let line = str_arg(*p, format_args!("opts->headers[{i}]"))?;
            let (name, value) = line.split_once(':').ok_or_else(|| {
                Error::invalid(format!("opts->headers[{i}] is not \"Name: value\""))
            })?;
            Ok((name.trim_end(), value.trim_start()))
        })
        .collect()
}

/// The HTTP status code (200, 404, ...); 0 for NULL.
#[no_mangle]
pub extern "C" fn x8_response_status(response: *const x8_response) -> u16 {
    boundary_or(0, || Ok(handle(response, "response")?.status))
}

/// The body: a pointer to `*len` bytes (also written when `len` is not NULL), followed by one NUL byte that is
/// not counted, so a text body can be used as a C string. Borrowed. NULL (and *len 0) for a NULL response.
#[no_mangle]
pub extern "C" fn x8_response_body(response: *const x8_response, len: *mut usize) -> *const u8 {
    boundary_or(std::ptr::null(), || {
        let (ptr, n) = handle(response, "response").map_or((std::ptr::null(), 0), |r| {
            (r.body.as_ptr(), r.body.len() - 1)
        });
        super::args::set_if_asked(len, n);
        Ok(ptr)
    })
}

/// The first value of header `name`, compared case-insensitively ("content-type" finds "Content-Type").
/// Borrowed; NULL when absent or for NULL arguments.
#[no_mangle]
pub extern "C" fn x8_response_header(
    response: *const x8_response,
    name: *const c_char,
) -> *const c_char {
    boundary_or(std::ptr::null(), || {
        let r = handle(response, "response")?;
        if name.is_null() {
            return Ok(std::ptr::null());
        }
        // SAFETY: non-NULL, NUL-terminated per the contract.
        let wanted = unsafe { CStr::from_ptr(name) }.to_bytes();
        Ok(r.headers
            .iter()
            .find(|(n, _)| n.to_bytes().eq_ignore_ascii_case(wanted))
            .map_or(std::ptr::null(), |(_, v)| v.as_ptr()))
    })
}

/// How many header lines the response has; 0 for NULL.
#[no_mangle]
pub extern "C" fn x8_response_header_count(response: *const x8_response) -> usize {
    boundary_or(0, || Ok(handle(response, "response")?.headers.len()))
}

/// The header at `index` (in the order received): `*name` (in lower case, as HTTP/1.1 names are
/// case-insensitive) and `*value` are borrowed. Returns false (and leaves them untouched) when `index` is out
/// of range or an argument is NULL.
#[no_mangle]
pub extern "C" fn x8_response_header_at(
    response: *const x8_response,
    index: usize,
    name: *mut *const c_char,
    value: *mut *const c_char,
) -> bool {
    boundary_or(false, || {
        let r = handle(response, "response")?;
        let (name, value) = (out_arg(name, "name")?, out_arg(value, "value")?);
        Ok(match r.headers.get(index) {
            Some((n, v)) => {
                *name = n.as_ptr();
                *value = v.as_ptr();
                true
            }
            None => false,
        })
    })
}

/// Frees a response. NULL is ignored. Any thread.
#[no_mangle]
pub extern "C" fn x8_response_free(response: *mut x8_response) {
    boundary_or((), || {
        drop(take(response));
        Ok(())
    })
}
