//! `--all-pages`: 8x8's list endpoints take a `page` query parameter (from 0) and say how many pages there
//! are in `X-Total-Pages`. We request page after page and join their JSON arrays into one, byte for byte:
//! re-serialising would reorder keys and round large numbers.

use serde::de::IgnoredAny;

use crate::exit::{Exit, Failure};
use crate::progress::Progress;

/// A bound on a runaway server (a total that keeps growing): 10,000 pages of up to 1,000 items each.
const MAX_PAGES: u64 = 10_000;

/// A request path with its `page` parameter taken out, so any page of it can be asked for.
#[derive(Debug)]
pub struct PagedPath {
    before_query: String,
    other_params: Vec<String>,
    /// The page the user asked for (`?page=3`), else 0: paging starts there.
    pub first_page: u64,
}

impl PagedPath {
    pub fn parse(path: &str) -> Result<PagedPath, Failure> {
        let (before_query, query) = path.split_once('?').unwrap_or((path, ""));
        let mut first_page = 0;
        let mut other_params = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("page", value)) => {
                    first_page = value.parse().map_err(|_| {
                        Failure::usage(format!("page={value} is not a page number (0, 1, 2...)"))
                    })?;
                }
                _ => other_params.push(pair.to_owned()),
            }
        }
        Ok(PagedPath {
            before_query: before_query.to_owned(),
            other_params,
            first_page,
        })
    }

    /// The path for one page; the user's other parameters keep their order and spelling.
    pub fn at(&self, page: u64) -> String {
        let mut params = self.other_params.clone();
        params.push(format!("page={page}"));
        format!("{}?{}", self.before_query, params.join("&"))
    }
}

/// The items of every page so far, as the text between the outer brackets of one JSON array.
#[derive(Default)]
pub struct Items {
    joined: Vec<u8>,
}

impl Items {
    /// Appends a page's items; Err says why the body is not a JSON array.
    pub fn append(&mut self, body: &[u8]) -> Result<(), String> {
        serde_json::from_slice::<Vec<IgnoredAny>>(body)
            .map_err(|e| format!("the body is not a JSON array ({e})"))?;
        // A valid array's first and last non-blank bytes are its brackets.
        let start = body.iter().position(|b| *b == b'[').unwrap_or(0) + 1;
        let end = body.iter().rposition(|b| *b == b']').unwrap_or(body.len());
        let inner = body[start..end].trim_ascii();
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

/// Fetches from `path.first_page` to the last page. `fetch` returns successful replies only (it turns an
/// HTTP error into a failure), so one failed page fails the whole run and nothing partial is printed.
pub fn collect(
    path: &PagedPath,
    mut fetch: impl FnMut(&str) -> Result<x8::Response, Failure>,
    progress: &mut Progress,
) -> Result<Vec<u8>, Failure> {
    let first = path.first_page;
    let mut items = Items::default();
    let mut page = first;
    loop {
        let reply = fetch(&path.at(page))?;
        items.append(&reply.body).map_err(|why| {
            Failure::new(
                Exit::Unavailable,
                format!(
                    "page {page}: {why}; --all-pages works on endpoints that answer a JSON array"
                ),
            )
        })?;
        // Read on every page: the data (and so the page count) may change while we read.
        let Some(total) = total_pages(&reply)? else {
            break; // Not a paged endpoint: its one answer is all there is.
        };
        page += 1;
        if page >= total {
            break;
        }
        progress.show(page - first, total - first);
        if page - first >= MAX_PAGES {
            return Err(Failure::new(
                Exit::Unavailable,
                format!("stopped after {MAX_PAGES} pages (the server says {total}); ask for bigger pages with size=1000"),
            ));
        }
    }
    progress.clear();
    Ok(items.into_json())
}

fn total_pages(reply: &x8::Response) -> Result<Option<u64>, Failure> {
    reply
        .header("X-Total-Pages")
        .map(|v| {
            v.trim().parse().map_err(|_| {
                Failure::new(
                    Exit::Unavailable,
                    format!("the X-Total-Pages header {v:?} is not a number"),
                )
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_parameter_is_replaced_and_others_kept() {
        let p = PagedPath::parse("/q?size=3&metrics=a&page=2&metrics=b").unwrap();
        assert_eq!(p.first_page, 2);
        assert_eq!(p.at(5), "/q?size=3&metrics=a&metrics=b&page=5");
        let p = PagedPath::parse("/q").unwrap();
        assert_eq!((p.first_page, p.at(0)), (0, "/q?page=0".to_owned()));
        assert!(PagedPath::parse("/q?page=-1").is_err());
        assert!(PagedPath::parse("/q?page=x").is_err());
    }

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

    fn reply(body: &str, total: Option<&str>) -> x8::Response {
        x8::Response {
            status: 200,
            headers: total
                .map(|t| vec![("X-Total-Pages".to_owned(), t.to_owned())])
                .unwrap_or_default(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn follows_the_total_even_when_it_shrinks() {
        let mut asked = Vec::new();
        let path = PagedPath::parse("/q?size=1").unwrap();
        let out = collect(
            &path,
            |p| {
                asked.push(p.to_owned());
                Ok(match asked.len() {
                    1 => reply("[1]", Some("4")),
                    _ => reply("[2]", Some("2")),
                })
            },
            &mut Progress::on_stderr(true),
        )
        .unwrap();
        assert_eq!(out, b"[1,2]\n");
        assert_eq!(asked, ["/q?size=1&page=0", "/q?size=1&page=1"]);
    }

    #[test]
    fn an_unpaged_reply_is_one_page_and_a_bad_total_fails() {
        let path = PagedPath::parse("/q").unwrap();
        let out = collect(
            &path,
            |_| Ok(reply("[1]", None)),
            &mut Progress::on_stderr(true),
        )
        .unwrap();
        assert_eq!(out, b"[1]\n");
        let err = collect(
            &path,
            |_| Ok(reply("[1]", Some("many"))),
            &mut Progress::on_stderr(true),
        )
        .unwrap_err();
        assert_eq!(err.code, Exit::Unavailable);
    }
}
