//! 8x8's five ways of saying "there is another page", and how to read each from a reply.
//!
//! | API | style | next page | last page |
//! |---|---|---|---|
//! | realtime, historical summary | `PageHeaders` | `Link: <…>; rel="next"`, else `page` + 1 | no `Link` next, or `X-Page` + 1 ≥ `X-Total-Pages` |
//! | historical detailed | `HeaderCursor` | `lastDocumentId` = the `Last-Document-Id` header | no `Last-Document-Id` |
//! | storage search | `BodyOffset` | `pageKey` = the body's `pageKey` | `lastPage: true` (never judged by `pageKey`) |
//! | QM | `BodyLinks` | the body's `links[rel=nextUrl]` | no `nextUrl`, or fewer results than the page size |
//! | vcc chat | `PageObject` | `page` = `page.pageIndex` + 1 | `page.pageIndex` + 1 ≥ `page.pageCount` |
//!
//! Where 8x8's specs and guides disagree (a body that is one object or an array of one; numbers that are
//! strings), both forms are read.

use serde_json::Value;

use super::link::next_link;
use super::query::with_param;
use crate::http::Response;

/// How a listing says where its next page is: the style a pager is made with (`x8_pager_new`), or the one it
/// detected (`x8_pager_style`). The codes are ABI: never renumbered.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageStyle {
    /// Detect from the first reply: a `Last-Document-Id` header, then `X-Page`/`X-Total-Pages`/`Link`, then
    /// the body's `lastPage`, `page` object or `links` (a reply with none of them is a single page).
    Auto = 0,
    /// `page`/`size` with `X-Page`, `X-Total-Pages` and `Link: rel="next"` headers (realtime, historical
    /// summary reports).
    PageHeaders = 1,
    /// A cursor in the `Last-Document-Id` response header, sent back as `lastDocumentId` (historical detailed
    /// reports).
    HeaderCursor = 2,
    /// An offset in the body: `pageKey`, until `lastPage` is true (Storage search).
    BodyOffset = 3,
    /// HATEOAS links in the body: `links[rel=nextUrl]` (QM).
    BodyLinks = 4,
    /// A page object in the body: `page.pageIndex` / `page.pageCount` (vcc).
    PageObject = 5,
    /// Not a paged listing: the first reply is all there is.
    Single = 6,
}

impl PageStyle {
    /// The names used by the C API, the bindings and the CLI.
    pub const NAMES: [(&'static str, PageStyle); 7] = [
        ("auto", PageStyle::Auto),
        ("page-headers", PageStyle::PageHeaders),
        ("header-cursor", PageStyle::HeaderCursor),
        ("body-offset", PageStyle::BodyOffset),
        ("body-links", PageStyle::BodyLinks),
        ("page-object", PageStyle::PageObject),
        ("single", PageStyle::Single),
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, s)| *s == self)
            .map(|(n, _)| *n)
            .unwrap_or("auto")
    }

    /// The style whose code (`PageStyle::X as u32`, the C header's `x8_page_style`) is `code`.
    pub fn from_code(code: u32) -> Option<PageStyle> {
        Self::NAMES
            .iter()
            .map(|(_, s)| *s)
            .find(|s| *s as u32 == code)
    }

    pub fn from_name(name: &str) -> Option<PageStyle> {
        Self::NAMES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, s)| *s)
    }
}

/// The style of a listing, read from its first reply.
pub fn detect(reply: &Response, body: Option<&Value>) -> PageStyle {
    // A cursor header is the most specific sign (detailed reports also send `Link` and `X-Total-Pages`).
    if reply.header("last-document-id").is_some() {
        return PageStyle::HeaderCursor;
    }
    if reply.header("x-total-pages").is_some()
        || reply.header("x-page").is_some()
        || reply.header("link").and_then(next_link).is_some()
    {
        return PageStyle::PageHeaders;
    }
    let Some(page) = body.and_then(page_object) else {
        return PageStyle::Single;
    };
    if page.get("lastPage").is_some() {
        PageStyle::BodyOffset
    } else if page.get("page").is_some_and(Value::is_object) {
        PageStyle::PageObject
    } else if page.get("links").is_some_and(Value::is_array) || page.get("pageResultSize").is_some()
    {
        PageStyle::BodyLinks
    } else {
        PageStyle::Single
    }
}

/// The object that describes a page: the body itself, or the first element where a spec declares an array of
/// page objects (storage's `ResponsePage[]`). An array of items is not a page object.
pub fn page_object(body: &Value) -> Option<&serde_json::Map<String, Value>> {
    match body {
        Value::Object(o) => Some(o),
        Value::Array(a) if a.len() == 1 => a[0]
            .as_object()
            .filter(|o| o.contains_key("lastPage") || o.contains_key("pageKey")),
        _ => None,
    }
}

/// What the reply says about the next page, given the style and the path that was asked for.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Ask for this path (relative to the base URL, or an absolute URL that the client checks is its origin).
    Path(String),
    /// That was the last page.
    Done,
    /// The reply does not read as this style says it should.
    Unreadable(String),
}

/// The next page after `reply`, which answered `path`.
pub fn next(style: PageStyle, path: &str, reply: &Response, body: Option<&Value>) -> Next {
    match style {
        PageStyle::Auto | PageStyle::Single => Next::Done,
        PageStyle::PageHeaders => next_by_headers(path, reply),
        PageStyle::HeaderCursor => match reply.header("last-document-id") {
            Some(cursor) if !cursor.trim().is_empty() => {
                Next::Path(with_param(path, "lastDocumentId", cursor.trim()))
            }
            _ => Next::Done,
        },
        PageStyle::BodyOffset => next_by_offset(path, body),
        PageStyle::BodyLinks => next_by_links(path, body),
        PageStyle::PageObject => next_by_page_object(path, body),
    }
}

fn next_by_headers(path: &str, reply: &Response) -> Next {
    if let Some(url) = reply.header("link").and_then(next_link) {
        return Next::Path(url);
    }
    // No `Link`: page numbers from the headers, if both are there. A `Link`-less reply with `X-Page` and
    // `X-Total-Pages` is read by numbers; one with neither ended the listing.
    let number = |name: &str| {
        reply
            .header(name)
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    match (number("x-page"), number("x-total-pages")) {
        (Some(page), Some(total)) if page.saturating_add(1) < total => {
            Next::Path(with_param(path, "page", &(page + 1).to_string()))
        }
        _ => Next::Done,
    }
}

fn next_by_offset(path: &str, body: Option<&Value>) -> Next {
    let Some(page) = body.and_then(page_object) else {
        return Next::Unreadable("the body is not a storage page (no lastPage/pageKey)".into());
    };
    match page.get("lastPage") {
        Some(Value::Bool(true)) => return Next::Done,
        Some(Value::Bool(false)) => {}
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => return Next::Done,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => {}
        _ => return Next::Unreadable("the body has no lastPage true/false".into()),
    }
    match page.get("pageKey").and_then(scalar_text) {
        Some(key) => Next::Path(with_param(path, "pageKey", &key)),
        None => Next::Unreadable("lastPage is false but the body has no pageKey".into()),
    }
}

fn next_by_links(path: &str, body: Option<&Value>) -> Next {
    let Some(page) = body.and_then(page_object) else {
        return Next::Unreadable("the body is not a JSON object with links".into());
    };
    let href = page
        .get("links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|l| {
            l.get("rel").and_then(Value::as_str).is_some_and(|r| {
                r.eq_ignore_ascii_case("nextUrl") || r.eq_ignore_ascii_case("nextPage")
            })
        })
        .and_then(|l| l.get("href"))
        .and_then(Value::as_str);
    let Some(href) = href.filter(|h| !h.trim().is_empty()) else {
        return Next::Done;
    };
    // A short page is the last even if a link says otherwise (QM's guide: stop when pageResultSize < size).
    let results = page.get("pageResultSize").and_then(number);
    let size = page.get("pageSize").and_then(number);
    if let (Some(results), Some(size)) = (results, size) {
        if results < size {
            return Next::Done;
        }
    }
    let _ = path;
    Next::Path(href.trim().to_owned())
}

fn next_by_page_object(path: &str, body: Option<&Value>) -> Next {
    let Some(page) = body
        .and_then(Value::as_object)
        .and_then(|o| o.get("page"))
        .and_then(Value::as_object)
    else {
        return Next::Unreadable("the body has no page object".into());
    };
    match (
        page.get("pageIndex").and_then(number),
        page.get("pageCount").and_then(number),
    ) {
        (Some(index), Some(count)) if index.saturating_add(1) < count => {
            Next::Path(with_param(path, "page", &(index + 1).to_string()))
        }
        (Some(_), Some(_)) => Next::Done,
        _ => Next::Unreadable("the page object has no pageIndex/pageCount".into()),
    }
}

/// A whole number written as a number or a string (8x8 writes both).
fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A number or string as query text.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The items of one page, for joining pages into one list: the body itself when it is an array of items,
/// else the first of `content` (storage, QM), `data` (vcc) or `items` that is an array, in either of the
/// single-object and array-of-pages forms.
pub fn items(body: &Value) -> Option<Vec<&Value>> {
    fn from_page(o: &serde_json::Map<String, Value>) -> Option<Vec<&Value>> {
        ["content", "data", "items"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_array))
            .map(|a| a.iter().collect())
    }
    match body {
        Value::Array(a) => match page_object(body) {
            Some(o) => from_page(o),
            None => Some(a.iter().collect()),
        },
        Value::Object(o) => from_page(o),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reply(headers: &[(&str, &str)]) -> Response {
        Response {
            status: 200,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn every_style_is_detected_from_its_first_reply() {
        let plain = reply(&[]);
        assert_eq!(
            detect(&reply(&[("X-Total-Pages", "3")]), None),
            PageStyle::PageHeaders
        );
        assert_eq!(
            detect(
                &reply(&[("Link", "<https://h/x?page=1>; rel=\"next\"")]),
                None
            ),
            PageStyle::PageHeaders
        );
        assert_eq!(
            detect(
                &reply(&[("Last-Document-Id", "abc"), ("X-Total-Pages", "3")]),
                None
            ),
            PageStyle::HeaderCursor
        );
        let storage = json!({"lastPage": false, "pageKey": 100, "content": []});
        assert_eq!(detect(&plain, Some(&storage)), PageStyle::BodyOffset);
        let storage_as_array = json!([{"lastPage": true, "pageKey": 2, "content": []}]);
        assert_eq!(
            detect(&plain, Some(&storage_as_array)),
            PageStyle::BodyOffset
        );
        let qm = json!({"pageNumber": 0, "pageResultSize": 1, "content": [], "links": []});
        assert_eq!(detect(&plain, Some(&qm)), PageStyle::BodyLinks);
        let vcc = json!({"data": [], "page": {"pageIndex": 0, "pageCount": 0}});
        assert_eq!(detect(&plain, Some(&vcc)), PageStyle::PageObject);
        assert_eq!(detect(&plain, Some(&json!([1, 2]))), PageStyle::Single);
        assert_eq!(detect(&plain, None), PageStyle::Single);
    }

    #[test]
    fn page_headers_follow_link_then_numbers_and_stop_at_the_total() {
        let path = "/q?size=2&page=0";
        let linked = reply(&[("Link", "<http://h/q?page=1&size=2>; rel=\"next\"")]);
        assert_eq!(
            next(PageStyle::PageHeaders, path, &linked, None),
            Next::Path("http://h/q?page=1&size=2".into())
        );
        let numbered = reply(&[("X-Page", "0"), ("X-Total-Pages", "2")]);
        assert_eq!(
            next(PageStyle::PageHeaders, path, &numbered, None),
            Next::Path("/q?size=2&page=1".into())
        );
        let last = reply(&[("X-Page", "1"), ("X-Total-Pages", "2")]);
        assert_eq!(next(PageStyle::PageHeaders, path, &last, None), Next::Done);
        let empty = reply(&[("X-Page", "0"), ("X-Total-Pages", "0")]);
        assert_eq!(next(PageStyle::PageHeaders, path, &empty, None), Next::Done);
    }

    #[test]
    fn a_cursor_is_sent_back_until_it_is_absent() {
        let r = reply(&[("Last-Document-Id", "doc 7/&")]);
        assert_eq!(
            next(PageStyle::HeaderCursor, "/d?size=10", &r, None),
            Next::Path("/d?size=10&lastDocumentId=doc+7%2F%26".into())
        );
        let r2 = reply(&[("Last-Document-Id", "doc8")]);
        assert_eq!(
            next(
                PageStyle::HeaderCursor,
                "/d?size=10&lastDocumentId=doc7",
                &r2,
                None
            ),
            Next::Path("/d?size=10&lastDocumentId=doc8".into())
        );
        assert_eq!(
            next(PageStyle::HeaderCursor, "/d", &reply(&[]), None),
            Next::Done
        );
    }

    #[test]
    fn storage_stops_on_last_page_never_on_page_key() {
        let r = reply(&[]);
        let more = json!({"lastPage": false, "pageKey": 100, "content": [1]});
        assert_eq!(
            next(PageStyle::BodyOffset, "/objects?limit=100", &r, Some(&more)),
            Next::Path("/objects?limit=100&pageKey=100".into())
        );
        // The last page still carries an incremented pageKey: it must not be followed.
        let last = json!([{"lastPage": true, "pageKey": 145, "content": [1]}]);
        assert_eq!(
            next(PageStyle::BodyOffset, "/objects", &r, Some(&last)),
            Next::Done
        );
        let broken = json!({"content": []});
        assert!(matches!(
            next(PageStyle::BodyOffset, "/objects", &r, Some(&broken)),
            Next::Unreadable(_)
        ));
    }

    #[test]
    fn qm_follows_next_url_and_stops_on_a_short_page() {
        let r = reply(&[]);
        let more = json!({"pageSize": 2, "pageResultSize": 2, "content": [1, 2],
            "links": [{"rel": "prevUrl", "href": "http://h/p0"}, {"rel": "nextUrl", "href": "http://h/p2"}]});
        assert_eq!(
            next(PageStyle::BodyLinks, "/i", &r, Some(&more)),
            Next::Path("http://h/p2".into())
        );
        let short = json!({"pageSize": 2, "pageResultSize": 1, "content": [1],
            "links": [{"rel": "nextUrl", "href": "http://h/p3"}]});
        assert_eq!(
            next(PageStyle::BodyLinks, "/i", &r, Some(&short)),
            Next::Done
        );
        let no_link = json!({"pageSize": 2, "pageResultSize": 2, "content": [1, 2], "links": []});
        assert_eq!(
            next(PageStyle::BodyLinks, "/i", &r, Some(&no_link)),
            Next::Done
        );
    }

    #[test]
    fn vcc_counts_pages_from_zero() {
        let r = reply(&[]);
        let first = json!({"data": [1], "page": {"pageIndex": 0, "pageCount": 2}});
        assert_eq!(
            next(PageStyle::PageObject, "/c?size=1", &r, Some(&first)),
            Next::Path("/c?size=1&page=1".into())
        );
        let last = json!({"data": [1], "page": {"pageIndex": "1", "pageCount": "2"}});
        assert_eq!(
            next(PageStyle::PageObject, "/c?size=1&page=1", &r, Some(&last)),
            Next::Done
        );
        let none = json!({"data": [], "page": {"pageIndex": 0, "pageCount": 0}});
        assert_eq!(
            next(PageStyle::PageObject, "/c", &r, Some(&none)),
            Next::Done
        );
    }

    #[test]
    fn items_come_from_arrays_and_from_each_apis_field() {
        assert_eq!(items(&json!([1, 2])).unwrap().len(), 2);
        assert_eq!(items(&json!({"content": [1, 2, 3]})).unwrap().len(), 3);
        assert_eq!(
            items(&json!([{"lastPage": true, "content": [1]}]))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(items(&json!({"data": [1], "page": {}})).unwrap().len(), 1);
        assert!(items(&json!({"id": 1})).is_none());
        assert!(items(&json!("text")).is_none());
    }

    #[test]
    fn style_names_round_trip() {
        for (name, style) in PageStyle::NAMES {
            assert_eq!(PageStyle::from_name(name), Some(style));
            assert_eq!(style.name(), name);
        }
        assert_eq!(PageStyle::from_name("nope"), None);
        for (i, (_, style)) in PageStyle::NAMES.iter().enumerate() {
            assert_eq!(
                PageStyle::from_code(i as u32),
                Some(*style),
                "codes run 0..{}",
                PageStyle::NAMES.len()
            );
        }
        assert_eq!(PageStyle::from_code(PageStyle::NAMES.len() as u32), None);
    }
}
