//! Token-less fetches: the presigned download URLs that 8x8's Cloud Storage hands out (`?presignUrl=true`) point
//! at another host (an S3 bucket) and carry their own credential in the query (`X-Amz-Signature`, valid for
//! `X-Amz-Expires` seconds). x8 never sends its bearer token off the API origin (`Client::request` refuses), so
//! these are fetched by a separate, explicit call that sends **no** Authorization header and no 8x8 credential
//! to any origin, through the same transport (proxy, CA settings, timeouts, size limit).
//!
//! The query of such a URL is a credential: it never appears in an error message or a log line of x8's.

use std::time::Duration;

use crate::client::Client;
use crate::config::headers::validate_header;
use crate::config::origin::check_fetch_url;
use crate::error::{Error, Result};
use crate::http::{BodyRoute, Response, Streamed};
use crate::rt::clock::Deadline;
use crate::rt::log::Level;

impl Client {
    /// `GET` (or `HEAD`) of an absolute `https` URL with no Authorization header: for presigned download links.
    /// `http://` is accepted on loopback only (tests, the emulator). Redirects are not followed. Headers are
    /// checked like `request`'s (`Authorization` is refused). The timeout defaults to the client's.
    pub fn fetch_url(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        timeout: Option<Duration>,
    ) -> Result<Response> {
        let (uri, deadline, shown) = self.prepare_fetch(method, url, headers, timeout)?;
        self.transport()
            .send(method, uri, headers, None, deadline, None)
            .map_err(|e| hide_query(e, url).context(&format!("fetching {shown}")))
    }

    /// As `fetch_url`, but the reply comes back once its status and headers have arrived, with its body unread
    /// (constant memory, no size limit: presigned recordings are large). The timeout covers reading the body.
    pub fn fetch_url_reader(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        timeout: Option<Duration>,
    ) -> Result<Streamed> {
        let (uri, deadline, shown) = self.prepare_fetch(method, url, headers, timeout)?;
        self.transport()
            .open(method, uri, headers, None, deadline, None)
            .map_err(|e| hide_query(e, url).context(&format!("fetching {shown}")))
    }

    /// As `fetch_url_reader`, writing the body to `sink`; the response returned has an empty body.
    pub fn fetch_url_to(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        timeout: Option<Duration>,
        sink: &mut dyn std::io::Write,
    ) -> Result<Response> {
        self.fetch_url_to_with_head(method, url, headers, timeout, sink, |_| {
            Ok(BodyRoute::Stream)
        })
    }

    /// As `fetch_url_to`, but `head` sees the status and headers first and says where the body goes, as in
    /// `Client::request_to_with_head` (an expired link's 403 body held, not written into the caller's file).
    pub fn fetch_url_to_with_head(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        timeout: Option<Duration>,
        sink: &mut dyn std::io::Write,
        head: impl FnOnce(&Streamed) -> Result<BodyRoute>,
    ) -> Result<Response> {
        let reply = self.fetch_url_reader(method, url, headers, timeout)?;
        let route = head(&reply)?;
        reply.deliver(route, sink, self.options().max_body_bytes)
    }

    /// The checks of a token-less fetch: the method, the URL (whose query is never shown), the headers.
    fn prepare_fetch(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        timeout: Option<Duration>,
    ) -> Result<(ureq::http::Uri, Deadline, String)> {
        self.check_fork()?;
        if method != "GET" && method != "HEAD" {
            return Err(Error::invalid(format!(
                "{method:?}: a presigned URL is fetched with GET or HEAD"
            )));
        }
        let uri = check_fetch_url(url).map_err(|e| hide_query(e, url))?;
        for (name, value) in headers {
            validate_header(name, value)?;
        }
        let options = self.options();
        let deadline = match timeout {
            Some(t) => Deadline::after(t),
            None => Deadline::client_timeout(options.timeout),
        };
        let shown = without_query(url);
        options
            .logger
            .log(Level::Debug, || format!("fetching {shown} without a token"));
        Ok((uri, deadline, shown))
    }
}

/// `url` up to its query: what may be shown of a presigned URL.
pub fn without_query(url: &str) -> String {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let mut shown = url[..end].to_owned();
    if end < url.len() {
        shown.push_str("?[query hidden]");
    }
    shown
}

/// `e` with any trace of `url`'s query taken out of its message.
fn hide_query(e: Error, url: &str) -> Error {
    let Some(start) = url.find('?') else {
        return e;
    };
    let query = &url[start + 1..];
    if query.is_empty() || !e.message().contains(query) {
        return e;
    }
    let message = e.message().replace(query, "[query hidden]");
    e.with_message(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn the_query_is_never_shown() {
        assert_eq!(
            without_query("https://b.s3.amazonaws.com/o?X-Amz-Signature=abc"),
            "https://b.s3.amazonaws.com/o?[query hidden]"
        );
        assert_eq!(without_query("https://h/o"), "https://h/o");
        let e = Error::invalid("bad https://h/o?X-Amz-Signature=abc here");
        let e = hide_query(e, "https://h/o?X-Amz-Signature=abc");
        assert!(!e.message().contains("abc"), "{e}");
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }
}
