//! `--all-pages`: every page of a listing, in any of 8x8's paging styles (x8's `Pager` follows them), with
//! the items of all pages joined into one JSON array byte for byte: re-serialising would reorder keys and
//! round large numbers.

use serde_json::value::RawValue;
use std::collections::HashMap;

use crate::exit::{Exit, Failure};
use crate::progress::Progress;

/// A bound on a runaway server (a total that keeps growing): 10,000 pages of up to 1,000 items each.
const MAX_PAGES: u64 = 10_000;

/// The items of every page so far, as the text between the outer brackets of one JSON array.
#[derive(Default)]
pub struct Items {
    joined: Vec<u8>,
}

impl Items {
    /// Appends the items of a page's body: the body itself when it is a JSON array of items, else its
    /// `content` (storage, QM), `data` (vcc) or `items` array, in the single-object or the array-of-one-page
    /// form. Err says why the body has no items.
    pub fn append(&mut self, body: &[u8]) -> Result<(), String> {
        let raw = items_of(body)?;
        let array = raw.get().as_bytes();
        // A valid array's first and last non-blank bytes are its brackets.
        let start = array.iter().position(|b| *b == b'[').unwrap_or(0) + 1;
        let end = array
            .iter()
            .rposition(|b| *b == b']')
            .unwrap_or(array.len());
        let inner = array[start..end].trim_ascii();
        if !inner.is_empty() {
            if !self.joined.is_empty() {
                self.joined.push(b',');
            }
            self.joined.extend_from_slice(inner);
        }
        Ok(())
    }

    pub fn into_json(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.joined.len() + 3);
        out.push(b'[');
        out.extend_from_slice(&self.joined);
        out.extend_from_slice(b"]\n");
        out
    }
}

/// The raw JSON array of a page's items (see `Items::append`).
fn items_of(body: &[u8]) -> Result<&RawValue, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8 JSON".to_owned())?;
    let whole: &RawValue =
        serde_json::from_str(text).map_err(|e| format!("the body is not JSON ({e})"))?;
    let page = if starts_with(whole, '{') {
        whole
    } else if starts_with(whole, '[') {
        // Storage's spec form is an array of one page object; any other array is the items themselves.
        let elements: Vec<&RawValue> =
            serde_json::from_str(whole.get()).map_err(|e| e.to_string())?;
        match elements.as_slice() {
            [only] if is_page_object(only) => *only,
            _ => return Ok(whole),
        }
    } else {
        return Err("the body is neither a JSON array nor an object with items".to_owned());
    };
    let fields: HashMap<&str, &RawValue> =
        serde_json::from_str(page.get()).map_err(|e| e.to_string())?;
    ["content", "data", "items"]
        .iter()
        .filter_map(|k| fields.get(k).copied())
        .find(|v| starts_with(v, '['))
        .ok_or_else(|| "the body has no content, data or items array".to_owned())
}

fn starts_with(raw: &RawValue, c: char) -> bool {
    raw.get().trim_start().starts_with(c)
}

fn is_page_object(raw: &RawValue) -> bool {
    starts_with(raw, '{')
        && serde_json::from_str::<HashMap<&str, &RawValue>>(raw.get())
            .is_ok_and(|f| f.contains_key("lastPage") || f.contains_key("pageKey"))
}

/// Reads every page of `pager` (from where its request starts). `check` turns a page with an error status
/// into a failure, so one failed page fails the whole run and nothing partial is printed.
pub fn collect(
    pager: x8::Pager,
    mut check: impl FnMut(x8::Response, &str) -> Result<x8::Response, Failure>,
    progress: &mut Progress,
) -> Result<Vec<u8>, Failure> {
    let mut pager = pager.with_max_pages(MAX_PAGES);
    let mut items = Items::default();
    while let Some(reply) = pager.next_page()? {
        let n = pager.pages();
        let reply = check(reply, pager.last_path())?;
        items.append(&reply.body).map_err(|why| {
            Failure::new(
                Exit::Unavailable,
                format!(
                    "page {n} ({} paging): {why}; --all-pages joins the items of JSON listings",
                    pager.style().name()
                ),
            )
        })?;
        let total = reply
            .header("X-Total-Pages")
            .and_then(|t| t.trim().parse::<u64>().ok())
            .or_else(|| pager.is_done().then_some(n));
        progress.show(n, total);
    }
    progress.clear();
    Ok(items.into_json())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_arrays_byte_for_byte() {
        let mut items = Items::default();
        items
            .append(b" [ {\"z\":1,\"a\":12345678901234567890} ] ")
            .unwrap();
        items.append(b"[]").unwrap();
        items.append(b"[2,\n3]").unwrap();
        assert_eq!(
            items.into_json(),
            b"[{\"z\":1,\"a\":12345678901234567890},2,\n3]\n"
        );
        assert_eq!(Items::default().into_json(), b"[]\n");
        let mut items = Items::default();
        assert!(items.append(b"{\"a\":[1]}").is_err());
        assert!(items.append(b"[1,").is_err());
    }

    #[test]
    fn takes_the_items_of_each_apis_page_shape() {
        let mut items = Items::default();
        items
            .append(br#"{"lastPage":false,"pageKey":2,"content":[{"id":"a","n":1.50}]}"#)
            .unwrap();
        items
            .append(br#"[{"lastPage":true,"pageKey":3,"content":[{"id":"b"}]}]"#)
            .unwrap();
        items
            .append(br#"{"data":[{"id":"c"}],"page":{"pageIndex":0,"pageCount":1}}"#)
            .unwrap();
        items
            .append(br#"{"pageResultSize":0,"content":[],"links":[]}"#)
            .unwrap();
        assert_eq!(
            items.into_json(),
            br#"[{"id":"a","n":1.50},{"id":"b"},{"id":"c"}]"#
                .iter()
                .copied()
                .chain(*b"\n")
                .collect::<Vec<u8>>()
        );
        let mut items = Items::default();
        assert!(items.append(br#"{"id":1}"#).is_err());
        assert!(items.append(b"\"text\"").is_err());
    }
}
