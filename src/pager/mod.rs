//! Paged listings: one `Pager` over a request that yields its pages until the last, for every paging style
//! of 8x8's APIs (see `style`). Each page is an ordinary `Client::request`, so token renewal, the replay after
//! a 401 and the call's timeout apply to every page on its own.
//!
//! What a page reply does to the listing:
//! - 2xx: handed out, and the next page is read from it (or the listing ends);
//! - any other status: handed out as it is, and the listing ends (the caller decides what a 404 means);
//! - an error (network, timeout): returned, and the listing stays on that page, so asking again retries it.
//!
//! A listing starts at the page the request names (`?page=2` starts at page 2, `lastDocumentId=…` at that
//! cursor): the pager never rewinds a caller's request.

/// cbindgen:ignore
mod link;
/// cbindgen:ignore
mod query;
mod style;

use serde_json::Value;
use std::time::Duration;

pub use style::{items, PageStyle};

/// The items of one page's JSON `body` (see `items`) as one JSON array text, and how many there are: what a
/// caller without a JSON parser of its own (C) joins pages with. A body that is not JSON, or holds no list of
/// items, is a protocol error naming which.
pub fn items_json(body: &[u8]) -> Result<(String, usize)> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorKind::Protocol,
            format!("the page is not JSON ({e}), so it has no items"),
        )
    })?;
    let found = items(&value).ok_or_else(|| {
        Error::new(
            ErrorKind::Protocol,
            "the page holds no list of items (neither an array nor content, data or items)",
        )
    })?;
    let text = serde_json::to_string(&found)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("re-encoding the items: {e}")))?;
    Ok((text, found.len()))
}

use crate::client::{Client, Request};
use crate::error::{Error, ErrorKind, Result};
use crate::http::Response;
use style::{detect, next, Next};

/// The most pages one listing reads unless told otherwise: a bound on a server that never says "last".
/// cbindgen:ignore
pub const DEFAULT_MAX_PAGES: u64 = 100_000;

/// A listing in progress. Owns copies of the request's parts, so it may outlive them.
pub struct Pager {
    client: Client,
    method: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    timeout: Option<Duration>,
    style: PageStyle,
    /// The path of the page to ask for next; `None` once the listing is over.
    next: Option<String>,
    /// The path of the page handed out last, for messages.
    last: String,
    pages: u64,
    max_pages: u64,
}

impl std::fmt::Debug for Pager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pager")
            .field("method", &self.method)
            .field("style", &self.style)
            .field("pages", &self.pages)
            .field("done", &self.next.is_none())
            .finish()
    }
}

impl Pager {
    /// A listing of `request`'s pages in `style` (`PageStyle::Auto` reads the style from the first reply).
    /// Nothing is sent until `next_page`.
    pub fn new(client: &Client, request: &Request, style: PageStyle) -> Pager {
        Pager {
            client: client.clone(),
            method: request.method.to_owned(),
            headers: request
                .headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: request.body.map(<[u8]>::to_vec),
            timeout: request.timeout,
            style,
            next: Some(request.path.to_owned()),
            last: String::new(),
            pages: 0,
            max_pages: DEFAULT_MAX_PAGES,
        }
    }

    /// Stops the listing with an error after `max` pages (at least 1).
    pub fn with_max_pages(mut self, max: u64) -> Pager {
        self.max_pages = max.max(1);
        self
    }

    /// Bounds each page asked for from now on (`None`: the client's timeout), e.g. to what is left of a
    /// caller's deadline for the whole listing.
    pub fn set_timeout(&mut self, timeout: Option<Duration>) {
        self.timeout = timeout;
    }

    /// The style: the one asked for, or after the first page the one detected.
    pub fn style(&self) -> PageStyle {
        self.style
    }

    /// Pages handed out so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The path (or same-origin URL) of the page handed out last; empty before the first.
    pub fn last_path(&self) -> &str {
        &self.last
    }

    /// Whether the listing is over (`next_page` would answer `None`).
    pub fn is_done(&self) -> bool {
        self.next.is_none()
    }

    /// The next page, or `None` after the last one.
    pub fn next_page(&mut self) -> Result<Option<Response>> {
        let Some(path) = self.next.clone() else {
            return Ok(None);
        };
        if self.pages >= self.max_pages {
            self.next = None;
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "stopped after {} pages without reaching the last; ask for bigger pages or raise the page limit",
                    self.max_pages
                ),
            ));
        }
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let reply = self.client.request(&Request {
            method: &self.method,
            path: &path,
            headers,
            body: self.body.as_deref(),
            timeout: self.timeout,
        })?;
        self.pages += 1;
        self.last.clone_from(&path);
        if !(200..300).contains(&reply.status) {
            self.next = None;
            return Ok(Some(reply));
        }
        let body: Option<Value> = serde_json::from_slice(&reply.body).ok();
        if self.style == PageStyle::Auto {
            self.style = detect(&reply, body.as_ref());
        }
        self.next = match next(self.style, &path, &reply, body.as_ref()) {
            Next::Done => None,
            Next::Path(p) if p == path => {
                self.next = None;
                return Err(self.unreadable(
                    "the reply points at the page it answered; stopping instead of reading it forever",
                ));
            }
            Next::Path(p) => Some(p),
            Next::Unreadable(why) => {
                self.next = None;
                return Err(self.unreadable(&why));
            }
        };
        Ok(Some(reply))
    }

    fn unreadable(&self, why: &str) -> Error {
        Error::new(
            ErrorKind::Protocol,
            format!(
                "page {} does not read as {} paging: {why}",
                self.pages,
                self.style.name()
            ),
        )
    }
}

/// Pages as an iterator; it ends after the first error.
impl Iterator for Pager {
    type Item = Result<Response>;

    fn next(&mut self) -> Option<Result<Response>> {
        match self.next_page() {
            Ok(Some(page)) => Some(Ok(page)),
            Ok(None) => None,
            Err(e) => {
                self.next = None;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_json_joins_every_apis_shape_into_one_array() {
        let (text, n) = items_json(br#"{"lastPage":true,"content":[{"id":1},{"id":2}]}"#).unwrap();
        assert_eq!((text.as_str(), n), (r#"[{"id":1},{"id":2}]"#, 2));
        let (text, n) = items_json(br#"[{"lastPage":true,"pageKey":3,"content":[7]}]"#).unwrap();
        assert_eq!((text.as_str(), n), ("[7]", 1));
        assert_eq!(items_json(b"[]").unwrap(), ("[]".to_owned(), 0));
        for bad in [&b"not json"[..], br#"{"id":1}"#, b""] {
            assert_eq!(items_json(bad).unwrap_err().kind(), ErrorKind::Protocol);
        }
    }
}
