//! `x8_pager`: a paged listing, one `x8_response` per page, in any of 8x8's paging styles (`x8_page_style`, the
//! one definition being `PageStyle` in src/pager/style.rs); and `x8_page_items`, a page's items as one JSON
//! array. The listing itself is `crate::pager::Pager`, tested in Rust; this only adapts it.

use std::ffi::c_char;

use super::args::{handle, handle_mut, out_arg, set_if_asked};
use super::boundary::{boundary, boundary_or};
use super::client::{timeout_arg, x8_client};
use super::error::{x8_error, x8_status};
use super::own::{give, give_string, take, Boxed};
use super::request::{opts_arg, request_arg, x8_request_opts, x8_response};
use crate::error::Error;
use crate::pager::{items_json, PageStyle, Pager};

/// A listing in progress: the pages of one request, read one at a time with `x8_pager_next`. Created by
/// `x8_pager_new`, freed with `x8_pager_free`. **Not thread-safe**: use a pager from one thread at a time (it
/// may move between threads; `x8_pager_free` may run on any thread). It copies the request it was made from,
/// and keeps its client's connection pool and token cache alive, but it is a user of the client: free every
/// pager of a client before `x8_client_free`, which must be the client's last call.
pub struct x8_pager {
    inner: Pager,
}

impl Boxed for x8_pager {}

/// Starts a paged listing of `method` `path` (like `x8_request`'s: relative to the base URL, or an absolute URL
/// on its origin) with `opts` (headers, body, timeout per page; NULL for none), in `style`: one of the
/// `x8_page_style` values, `X8_PAGE_STYLE_AUTO` to detect it from the first reply. `max_pages` bounds the
/// listing (0: 100000); past it `x8_pager_next` fails with X8_STATUS_PROTOCOL instead of reading a server that
/// never says "last" forever. The listing starts at the page the path names (`?page=2`, `lastDocumentId=…`).
/// Nothing is sent until the first `x8_pager_next`; all arguments are copied, so they may be freed at once.
/// `opts->cancel`, when set, cancels the page in flight and every later `x8_pager_next` (X8_STATUS_CANCELLED);
/// the pager keeps its own reference, so the `x8_cancel` may be freed before the pager.
///
/// On success `*out` is a new pager owned by the caller (free with `x8_pager_free`); on failure NULL.
/// Errors: X8_STATUS_INVALID_ARGUMENT (NULL, non-UTF-8, a malformed header, `opts->size` unset, `opts->write`,
/// `opts->read` or `opts->head` set (pages are held, not streamed), a style that is not an `x8_page_style`
/// value). The method, path and headers are checked when each page is sent, with `x8_request`'s rules.
/// Thread safety: any thread; the client may be shared, the pager may not.
#[no_mangle]
pub extern "C" fn x8_pager_new(
    client: *const x8_client,
    method: *const c_char,
    path: *const c_char,
    opts: *const x8_request_opts,
    style: u32,
    max_pages: u64,
    out: *mut *mut x8_pager,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        let out = out_arg(out, "out")?;
        *out = std::ptr::null_mut();
        let client = handle(client, "client")?;
        let style = PageStyle::from_code(style).ok_or_else(|| {
            Error::invalid(format!(
                "style {style} is not an x8_page_style value (X8_PAGE_STYLE_AUTO is 0)"
            ))
        })?;
        let o = opts_arg(opts)?;
        if o.write.is_some() || o.read.is_some() || o.head.is_some() {
            // Each page is parsed for the next one's position: a page streamed past x8 could not be.
            return Err(Error::invalid(
                "opts->write, opts->read or opts->head is set: a pager's pages are held, not streamed",
            ));
        }
        let request = request_arg(method, path, &o)?;
        let mut pager = Pager::new(&client.inner, &request, style);
        if max_pages != 0 {
            pager = pager.with_max_pages(max_pages);
        }
        *out = give(x8_pager { inner: pager });
        Ok(())
    })
}

/// The next page. Returns X8_STATUS_OK with `*out` set to a new response (free with `x8_response_free`) for a
/// page, and X8_STATUS_OK with `*out` NULL once the listing is over (and on every later call). So a whole
/// listing is:
///
/// ```c
/// x8_response *page;
/// while ((s = x8_pager_next(pager, &page, &err)) == X8_STATUS_OK && page) { ...; x8_response_free(page); }
/// if (s != X8_STATUS_OK) { ... x8_error_free(err); }
/// ```
///
/// Each page is an ordinary `x8_request` (token renewal, the replay after a 401, the timeout apply per page).
/// A page with a 2xx status continues the listing; a page with any other status is handed out as it is and ends
/// the listing (read it with `x8_response_status`). A failed call leaves `*out` NULL: after
/// X8_STATUS_TRANSPORT, X8_STATUS_TIMEOUT or X8_STATUS_TLS the pager stays on that page, so calling again asks
/// for it again; X8_STATUS_PROTOCOL (a reply that does not read as its style, one that points at itself, more
/// than `max_pages` pages) ends the listing. Other errors are `x8_request`'s. Thread safety: one thread at a
/// time per pager.
#[no_mangle]
pub extern "C" fn x8_pager_next(
    pager: *mut x8_pager,
    out: *mut *mut x8_response,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        let out = out_arg(out, "out")?;
        *out = std::ptr::null_mut();
        let pager = handle_mut(pager, "pager")?;
        if let Some(page) = pager.inner.next_page()? {
            *out = give(x8_response::from_reply(page));
        }
        Ok(())
    })
}

/// Bounds each page asked for from now on to `timeout_ms` milliseconds (0: the client's timeout), replacing
/// `opts->timeout_ms` of `x8_pager_new`: a binding passes what is left of its caller's deadline for the whole
/// listing before each page. Errors: X8_STATUS_INVALID_ARGUMENT (NULL). Thread safety: as `x8_pager_next`.
#[no_mangle]
pub extern "C" fn x8_pager_set_timeout(
    pager: *mut x8_pager,
    timeout_ms: u32,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        handle_mut(pager, "pager")?
            .inner
            .set_timeout(timeout_arg(timeout_ms));
        Ok(())
    })
}

/// The pager's style: the one asked for, or after the first page the one detected (`X8_PAGE_STYLE_SINGLE` when
/// the first reply was not paged). `X8_PAGE_STYLE_AUTO` for NULL. Thread safety: as `x8_pager_next`.
#[no_mangle]
pub extern "C" fn x8_pager_style(pager: *const x8_pager) -> PageStyle {
    boundary_or(PageStyle::Auto, || {
        Ok(handle(pager, "pager")?.inner.style())
    })
}

/// Frees a pager (a listing may be abandoned at any page). NULL is ignored. Any thread, but not while another
/// call on the pager runs.
#[no_mangle]
pub extern "C" fn x8_pager_free(pager: *mut x8_pager) {
    boundary_or((), || {
        drop(take(pager));
        Ok(())
    })
}

/// The items of one page as a JSON array, whatever the API's shape: the body itself when it is an array, else
/// its `content` (Storage, QM), `data` (vcc) or `items` array, also where a spec wraps the page object in an
/// array of one. `*json` receives a new NUL-terminated string (free with `x8_free`) and `*count`, if
/// `count` is not NULL, the number of items; joining pages is then text work, with no JSON parser in C.
/// Errors: X8_STATUS_INVALID_ARGUMENT (NULL), X8_STATUS_PROTOCOL (the body is not JSON, or holds no list of
/// items); `*json` is NULL then. Thread safety: any thread (responses are immutable).
#[no_mangle]
pub extern "C" fn x8_page_items(
    page: *const x8_response,
    json: *mut *mut c_char,
    count: *mut usize,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        let out = out_arg(json, "json")?;
        *out = std::ptr::null_mut();
        let page = handle(page, "page")?;
        let (text, n) = items_json(page.body_bytes())?;
        set_if_asked(count, n);
        *out = give_string(&text);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    /// The header states the default page limit in words; it must be the one the pager applies.
    #[test]
    fn the_documented_default_page_limit_is_the_pagers() {
        let header = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/include/x8.h"));
        let stated = format!("(0: {})", crate::pager::DEFAULT_MAX_PAGES);
        assert!(
            header.contains(&stated),
            "x8_pager_new's documentation must say {stated}"
        );
    }
}
