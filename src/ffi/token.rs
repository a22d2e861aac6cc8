//! `x8_token`: a snapshot of a token with what the endpoint said about it.

use std::ffi::{c_char, CString};
use std::sync::Arc;

use super::args::{handle, out_arg, str_arg};
use super::boundary::{boundary, boundary_or};
use super::cancel::{cancel_arg, x8_cancel};
use super::client::{timeout_arg, x8_client};
use super::error::{x8_error, x8_status};
use super::own::{c_string, give, take, Boxed, SecretCString};
use crate::token::Token;

/// An immutable snapshot of one token: its value, type, expiry and products. Owned by the caller, freed with
/// `x8_token_free`; it stays valid (and unchanged) after the client renews its token or is freed. Any thread
/// may read it. Its strings are borrowed from it and valid until `x8_token_free`.
pub struct x8_token {
    token: Arc<Token>,
    value: SecretCString,
    token_type: CString,
    products: Vec<CString>,
}

impl Boxed for x8_token {}

/// Gets a valid token as a snapshot (fetching one if needed, as `x8_get_token` does), waiting at most
/// `timeout_ms` (0: the client's timeout). On success `*out` is owned by the caller (free with
/// `x8_token_free`); on failure it is NULL. Errors as for `x8_get_token`. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn x8_client_token(
    client: *const x8_client,
    timeout_ms: u32,
    out: *mut *mut x8_token,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || {
        client_token(client, timeout_ms, std::ptr::null(), out)
    })
}

/// `x8_client_token` with a cancellation handle (NULL: none; borrowed, it must outlive the call): returns
/// X8_STATUS_CANCELLED as soon as `cancel` is triggered — at once when it already was. A cancelled caller stops
/// waiting; the token fetch it waited for goes on for the other callers. Errors as for `x8_client_token`, plus
/// X8_STATUS_CANCELLED. Thread safety: any thread.
#[no_mangle]
pub extern "C" fn x8_client_token_ex(
    client: *const x8_client,
    timeout_ms: u32,
    cancel: *const x8_cancel,
    out: *mut *mut x8_token,
    err: *mut *mut x8_error,
) -> x8_status {
    boundary(err, || client_token(client, timeout_ms, cancel, out))
}

/// The body of `x8_client_token` and `x8_client_token_ex`, inside their boundaries.
fn client_token(
    client: *const x8_client,
    timeout_ms: u32,
    cancel: *const x8_cancel,
    out: *mut *mut x8_token,
) -> crate::error::Result<()> {
    let out = out_arg(out, "out")?;
    *out = std::ptr::null_mut();
    let client = handle(client, "client")?;
    let token = client
        .inner
        .token_cancellable(timeout_arg(timeout_ms), cancel_arg(cancel))?;
    *out = give(x8_token {
        value: SecretCString::new(token.access_token()),
        token_type: c_string(token.token_type()),
        products: token
            .products()
            .iter()
            .map(|p| c_string(p.as_str()))
            .collect(),
        token,
    });
    Ok(())
}

/// The access token (for `Authorization: Bearer <value>`). Borrowed; "" for NULL.
#[no_mangle]
pub extern "C" fn x8_token_value(token: *const x8_token) -> *const c_char {
    boundary_or(c"".as_ptr(), || Ok(handle(token, "token")?.value.as_ptr()))
}

/// The endpoint's `token_type` as sent ("BearerToken" for 8x8). Requests use the `Bearer` scheme regardless.
/// Borrowed; "" for NULL.
#[no_mangle]
pub extern "C" fn x8_token_type(token: *const x8_token) -> *const c_char {
    boundary_or(c"".as_ptr(), || {
        Ok(handle(token, "token")?.token_type.as_ptr())
    })
}

/// When the token expires, in milliseconds since the Unix epoch by the local clock (receipt time plus
/// `expires_in`); 0 for NULL. x8 itself decides freshness on a monotonic clock, so wall-clock jumps do not
/// affect it.
#[no_mangle]
pub extern "C" fn x8_token_expires_at_ms(token: *const x8_token) -> i64 {
    boundary_or(0, || Ok(handle(token, "token")?.token.expires_at_wall_ms()))
}

/// The lifetime the endpoint granted (`expires_in`), in seconds; 0 for NULL.
#[no_mangle]
pub extern "C" fn x8_token_lifetime_secs(token: *const x8_token) -> u64 {
    boundary_or(0, || Ok(handle(token, "token")?.token.lifetime_secs()))
}

/// How many API products the token carries; 0 for NULL.
#[no_mangle]
pub extern "C" fn x8_token_product_count(token: *const x8_token) -> usize {
    boundary_or(0, || Ok(handle(token, "token")?.products.len()))
}

/// The product at `index` (0-based), e.g. "analytics realtime-api". Borrowed; NULL when out of range or NULL.
#[no_mangle]
pub extern "C" fn x8_token_product(token: *const x8_token, index: usize) -> *const c_char {
    boundary_or(std::ptr::null(), || {
        let products = &handle(token, "token")?.products;
        Ok(products.get(index).map_or(std::ptr::null(), |p| p.as_ptr()))
    })
}

/// Whether the token carries `product` (ignoring ASCII case). false for NULL arguments or non-UTF-8 text.
#[no_mangle]
pub extern "C" fn x8_token_has_product(token: *const x8_token, product: *const c_char) -> bool {
    boundary_or(false, || {
        let token = &handle(token, "token")?.token;
        Ok(token.has_product(str_arg(product, "product")?))
    })
}

/// Frees a token snapshot, wiping its copy of the token. NULL is ignored. Any thread.
#[no_mangle]
pub extern "C" fn x8_token_free(token: *mut x8_token) {
    boundary_or((), || {
        drop(take(token));
        Ok(())
    })
}
