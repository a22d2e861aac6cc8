//! The replies handlers build and the requests they read, and their translation to and from
//! hyper, including the replies no well-behaved server sends (endless, dropped).

use bytes::Bytes;
use hyper::body::{Body as _, Frame, SizeHint};
use hyper::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use std::convert::Infallible;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Bodies are read up to this size: enough for any form or echo test, and a bound on memory.
const MAX_BODY: usize = 1 << 20;

pub(crate) enum Body {
    Bytes(Vec<u8>),
    /// `len` filler bytes, generated as they are written.
    Sized(u64),
    /// Bytes until the client goes away or the emulator stops.
    Endless,
    /// `len` bytes made as they are sent (object content, zips), in the chunks given.
    Stream {
        len: u64,
        chunks: Box<dyn Iterator<Item = Bytes> + Send>,
    },
    /// No reply at all: the connection is shut down.
    Close,
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) content_type: String,
    pub(crate) body: Body,
}

impl Reply {
    /// Serialized as given: a struct keeps its field order, where a serde_json::Value sorts keys.
    pub(crate) fn json(status: u16, value: &impl serde::Serialize) -> Reply {
        let body = serde_json::to_vec(value).expect("replies are plain data");
        Reply::raw(status, "application/json", body)
    }

    pub(crate) fn raw(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            content_type: content_type.to_string(),
            body: Body::Bytes(body.into()),
        }
    }

    /// `{"message": text}`, the error body of 8x8's analytics APIs.
    pub(crate) fn message(status: u16, text: &str) -> Reply {
        #[derive(serde::Serialize)]
        struct Message<'a> {
            message: &'a str,
        }
        Reply::json(status, &Message { message: text })
    }

    /// A streamed body of exactly `len` bytes, sent with a Content-Length.
    pub(crate) fn stream(
        content_type: &str,
        len: u64,
        chunks: impl Iterator<Item = Bytes> + Send + 'static,
    ) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            content_type: content_type.to_string(),
            body: Body::Stream {
                len,
                chunks: Box::new(chunks),
            },
        }
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// The same filler shape for every generated body: it starts like a token reply, so a client
    /// that parses as it reads sees JSON until its size limit or timeout cuts in.
    pub(crate) fn generated(body: Body) -> Reply {
        Reply {
            status: 200,
            headers: Vec::new(),
            content_type: "application/json".to_string(),
            body,
        }
    }
}

/// The parts of a request the handlers look at, read once.
pub(crate) struct Incoming {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    pub(crate) headers: Vec<(String, String)>,
    /// The number of the connection that carried it, for the connection count.
    pub(crate) connection: u64,
}

impl Incoming {
    pub(crate) fn of(request: &hyper::http::request::Parts, connection: u64) -> Incoming {
        Incoming {
            method: request.method.as_str().to_string(),
            path: request.uri.path().to_string(),
            query: request.uri.query().unwrap_or_default().to_string(),
            headers: request
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_string(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            connection,
        }
    }

    /// The first header of that name, names compared as HTTP does, without case.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a query parameter, decoded.
    pub(crate) fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Headers by lower-cased name, repeated ones joined with ", " as HTTP allows.
    pub(crate) fn headers_joined(&self) -> std::collections::BTreeMap<String, String> {
        let mut headers = std::collections::BTreeMap::<String, String>::new();
        for (name, value) in &self.headers {
            headers
                .entry(name.to_ascii_lowercase())
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(value);
                })
                .or_insert_with(|| value.clone());
        }
        headers
    }

    /// `scheme://host` the client addressed, for the absolute URLs in paging links.
    pub(crate) fn origin(&self, tls: bool) -> String {
        let scheme = if tls { "https" } else { "http" };
        let host = self.header("Host").unwrap_or("127.0.0.1");
        format!("{scheme}://{host}")
    }

    pub(crate) fn query_pairs(&self) -> impl Iterator<Item = (String, String)> + '_ {
        form_urlencoded::parse(self.query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned()))
    }
}

/// A client that sends more than [`MAX_BODY`], or whose body breaks off, only gets a shorter
/// body here; the handlers then judge what arrived.
pub(crate) async fn read_body(mut body: hyper::body::Incoming) -> Vec<u8> {
    let mut read = Vec::new();
    while let Some(Ok(frame)) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        if let Ok(data) = frame.into_data() {
            read.extend_from_slice(&data[..data.len().min(MAX_BODY - read.len())]);
            if read.len() == MAX_BODY {
                break;
            }
        }
    }
    read
}

/// The hyper response for `reply`, or an error for [`Body::Close`]: hyper then drops the
/// connection without writing anything, so the client reads end-of-stream as from a gateway
/// that hung up.
pub(crate) fn response(reply: Reply) -> io::Result<Response<Outgoing>> {
    let body = match reply.body {
        Body::Bytes(bytes) => Outgoing::Bytes(Some(bytes.into())),
        Body::Sized(len) => Outgoing::Filler {
            left: Some(len),
            prefix: 0,
        },
        Body::Endless => Outgoing::Filler {
            left: None,
            prefix: 0,
        },
        Body::Stream { len, chunks } => Outgoing::Stream { left: len, chunks },
        Body::Close => return Err(io::Error::other("the reply is a dropped connection")),
    };
    let mut response = Response::new(body);
    // hyper cannot write a status outside 100-999; a Raw fault asking for one gets a 500.
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&reply.content_type) {
        headers.insert(CONTENT_TYPE, v);
    }
    // A header no HTTP/1 message can carry is left out, as before.
    for (name, value) in reply.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(n, v);
        }
    }
    Ok(response)
}

/// A reply body as hyper sends it. An exact size hint makes hyper send a Content-Length, which a
/// client's size checks read up front; the endless body has none, so it goes out chunked.
pub(crate) enum Outgoing {
    Bytes(Option<Bytes>),
    /// Filler shaped like the start of a token reply: `left` more bytes, or without end. It ends
    /// early only when the client goes away or the emulator stops, both of which drop it.
    Filler {
        left: Option<u64>,
        prefix: usize,
    },
    /// Generated chunks; `left` is what the Content-Length still promises.
    Stream {
        left: u64,
        chunks: Box<dyn Iterator<Item = Bytes> + Send>,
    },
}

const FILLER_PREFIX: &[u8] = br#"{"access_token":""#;
/// Filler goes out in chunks this big; hyper holds off asking for more while the client is
/// slow to read, so a stalled client costs no more than its socket buffers.
const FILLER_CHUNK: usize = 16 * 1024;
static FILLER: [u8; FILLER_CHUNK] = [b'x'; FILLER_CHUNK];

impl hyper::body::Body for Outgoing {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let chunk = match self.get_mut() {
            Outgoing::Bytes(bytes) => bytes.take(),
            Outgoing::Filler { left, prefix } => {
                // What is left of the prefix goes in a chunk of its own, so that every chunk is
                // a static slice.
                let source = match FILLER_PREFIX.get(*prefix..) {
                    Some(rest) if !rest.is_empty() => rest,
                    _ => &FILLER[..],
                };
                let n = match left {
                    Some(left) => source
                        .len()
                        .min(usize::try_from(*left).unwrap_or(usize::MAX)),
                    None => source.len(),
                };
                if let Some(left) = left {
                    *left -= n as u64;
                }
                *prefix += n.min(FILLER_PREFIX.len() - *prefix);
                (n > 0).then(|| Bytes::from_static(&source[..n]))
            }
            Outgoing::Stream { left, chunks } => {
                // A generator that ends early or runs long would break the Content-Length; it is
                // cut to what was announced.
                let chunk = (*left > 0).then(|| chunks.next()).flatten();
                chunk.map(|mut c| {
                    c.truncate(usize::try_from(*left).unwrap_or(usize::MAX).min(c.len()));
                    *left -= c.len() as u64;
                    c
                })
            }
        };
        Poll::Ready(chunk.map(|c| Ok(Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Outgoing::Bytes(bytes) => bytes.is_none(),
            Outgoing::Filler { left, .. } => *left == Some(0),
            Outgoing::Stream { left, .. } => *left == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Outgoing::Bytes(bytes) => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Outgoing::Filler {
                left: Some(left), ..
            } => SizeHint::with_exact(*left),
            Outgoing::Filler { left: None, .. } => SizeHint::default(),
            Outgoing::Stream { left, .. } => SizeHint::with_exact(*left),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls `body` to its end, at most `limit` bytes.
    fn drain(mut body: Outgoing, limit: usize) -> Vec<u8> {
        let mut out = Vec::new();
        let mut cx = Context::from_waker(std::task::Waker::noop());
        while out.len() < limit {
            match Pin::new(&mut body).poll_frame(&mut cx) {
                Poll::Ready(Some(Ok(frame))) => out.extend_from_slice(&frame.into_data().unwrap()),
                Poll::Ready(None) => break,
                Poll::Pending => unreachable!("filler is always ready"),
            }
        }
        out
    }

    #[test]
    fn filler_starts_like_json_and_has_its_announced_length() {
        for len in [0, 5, 17, 18, 40_000] {
            let body = Outgoing::Filler {
                left: Some(len),
                prefix: 0,
            };
            assert_eq!(body.size_hint().exact(), Some(len));
            let got = drain(body, usize::MAX);
            assert_eq!(got.len() as u64, len);
            let want: Vec<u8> = FILLER_PREFIX
                .iter()
                .copied()
                .chain(std::iter::repeat(b'x'))
                .take(len as usize)
                .collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn endless_filler_has_no_length_and_keeps_going() {
        let body = Outgoing::Filler {
            left: None,
            prefix: 0,
        };
        assert_eq!(body.size_hint().exact(), None);
        assert!(!body.is_end_stream());
        let got = drain(body, 1 << 20);
        assert!(got.len() >= 1 << 20);
        assert!(got.starts_with(br#"{"access_token":"xx"#));
    }
}
