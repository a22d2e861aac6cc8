//! Reading requests and writing replies over tiny_http, including the replies no well-behaved
//! server sends (endless, dropped), which tiny_http has no API for.

use crate::sockets;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tiny_http::{Header, Request, Response, StatusCode};

/// Bodies are read up to this size: enough for any form or echo test, and a bound on memory.
const MAX_BODY: u64 = 1 << 20;

pub(crate) enum Body {
    Bytes(Vec<u8>),
    /// `len` filler bytes, generated as they are written.
    Sized(u64),
    /// Bytes until the client goes away or the emulator stops.
    Endless,
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
    pub(crate) peer: Option<SocketAddr>,
}

impl Incoming {
    pub(crate) fn of(request: &Request) -> Incoming {
        let url = request.url();
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        Incoming {
            method: request.method().as_str().to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers: request
                .headers()
                .iter()
                .map(|h| {
                    (
                        h.field.as_str().as_str().to_string(),
                        h.value.as_str().to_string(),
                    )
                })
                .collect(),
            peer: request.remote_addr().copied(),
        }
    }

    /// The first header of that name, names compared as HTTP does, without case.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn query_pairs(&self) -> impl Iterator<Item = (String, String)> + '_ {
        form_urlencoded::parse(self.query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned()))
    }
}

pub(crate) fn read_body(request: &mut Request) -> Vec<u8> {
    let mut body = Vec::new();
    // A client that lies about its body length only gets a shorter body here; the handlers then
    // judge what arrived.
    let _ = request.as_reader().take(MAX_BODY).read_to_end(&mut body);
    body
}

/// What writing replies needs to know about the server they belong to.
pub(crate) struct Wire {
    /// The listening address, which is also the local address of every accepted connection.
    server: SocketAddr,
    /// Set when the emulator stops; generated bodies end when they see it.
    stop: Arc<AtomicBool>,
}

impl Wire {
    pub(crate) fn new(server: SocketAddr) -> Wire {
        Wire {
            server,
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Ends generated bodies, then every connection, so that no worker stays blocked writing to
    /// a client that stopped reading.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.close_connections();
    }

    /// Shuts down every connection the server accepted, idle keep-alive ones included: tiny_http
    /// would keep reading them after the server is gone, and queue requests nobody answers.
    pub(crate) fn close_connections(&self) {
        sockets::shutdown(self.server, None);
    }
}

/// Writes `reply` and gives back the status for the log (0 when the connection was dropped).
pub(crate) fn send(request: Request, reply: Reply, wire: &Wire) -> u16 {
    let status = reply.status;
    let headers: Vec<Header> = std::iter::once(("Content-Type".to_string(), reply.content_type))
        .chain(reply.headers)
        .filter_map(|(n, v)| Header::from_bytes(n.as_bytes(), v.as_bytes()).ok())
        .collect();
    match reply.body {
        Body::Bytes(bytes) => {
            let len = bytes.len();
            respond(request, status, headers, io::Cursor::new(bytes), len)
        }
        Body::Sized(len) => respond(
            request,
            status,
            headers,
            Filler::new(wire.stop.clone()).take(len),
            usize::try_from(len).unwrap_or(usize::MAX),
        ),
        Body::Endless => {
            stream_endless(request, status, &headers, wire);
            status
        }
        Body::Close => {
            drop_connection(request, wire.server);
            0
        }
    }
}

fn respond<R: Read>(
    request: Request,
    status: u16,
    headers: Vec<Header>,
    body: R,
    len: usize,
) -> u16 {
    let response = Response::new(StatusCode(status), headers, body, Some(len), None)
        // Always a Content-Length, never chunked: a client's size checks read it up front.
        .with_chunked_threshold(usize::MAX);
    let _ = request.respond(response);
    status
}

/// tiny_http frames every reply, so the endless body is written on the raw connection: headers
/// without a length, then a close-delimited body that never closes.
fn stream_endless(request: Request, status: u16, headers: &[Header], wire: &Wire) {
    let peer = request.remote_addr().copied();
    let mut writer = request.into_writer();
    let mut head = format!("HTTP/1.1 {status} OK\r\nConnection: close\r\n");
    for h in headers {
        head.push_str(&format!("{}: {}\r\n", h.field, h.value));
    }
    head.push_str("\r\n");
    let mut filler = Filler::new(wire.stop.clone());
    let mut chunk = [0u8; 16 * 1024];
    let written = writer.write_all(head.as_bytes()).and_then(|_| loop {
        let n = filler.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        writer.write_all(&chunk[..n])?;
        writer.flush()?;
    });
    // Stopped rather than failed: end the connection too, so the client is not left waiting on
    // a server that is gone.
    if written.is_ok() {
        if let Some(peer) = peer {
            sockets::shutdown(wire.server, Some(peer));
        }
    }
}

fn drop_connection(request: Request, server: SocketAddr) {
    if let Some(peer) = request.remote_addr().copied() {
        sockets::shutdown(server, Some(peer));
    }
    // Taking the writer keeps tiny_http from answering 500 when the request is dropped.
    drop(request.into_writer());
}

/// An unbounded stream shaped like the start of a token reply, ending only when the emulator stops.
struct Filler {
    prefix: &'static [u8],
    sent: usize,
    stop: Arc<AtomicBool>,
}

impl Filler {
    fn new(stop: Arc<AtomicBool>) -> Filler {
        Filler {
            prefix: br#"{"access_token":""#,
            sent: 0,
            stop,
        }
    }
}

impl Read for Filler {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Ok(0);
        }
        let mut n = 0;
        while n < buf.len() && self.sent < self.prefix.len() {
            buf[n] = self.prefix[self.sent];
            n += 1;
            self.sent += 1;
        }
        buf[n..].fill(b'x');
        Ok(buf.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filler_starts_like_json_and_stops_with_the_emulator() {
        let stop = Arc::new(AtomicBool::new(false));
        let mut f = Filler::new(stop.clone());
        let mut buf = [0u8; 24];
        assert_eq!(f.read(&mut buf).unwrap(), 24);
        assert_eq!(&buf, br#"{"access_token":"xxxxxxx"#);
        stop.store(true, Ordering::Relaxed);
        assert_eq!(f.read(&mut buf).unwrap(), 0);
    }
}
