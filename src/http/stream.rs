//! Bodies too large to hold: an upload read from the caller's source as it is sent, and a reply whose body is
//! read from the connection as the caller consumes it. Memory stays constant whatever the size.

use std::io::{self, Read};

use crate::error::{Error, ErrorKind, Result};

/// An upload body read from `source` while it is sent: with `len` known it goes out with a Content-Length
/// (and a source that ends early or runs on fails the call), without it chunked.
///
/// A source cannot be rewound, so a request whose upload has given any byte is never sent again: not after a
/// stale pooled connection, not after a 401. `started` says whether that point was passed.
pub struct Upload<'a> {
    source: &'a mut dyn Read,
    len: Option<u64>,
    sent: u64,
    /// What the source said when it failed, so the call fails with it rather than with the transport's
    /// rewording of it.
    failure: Option<String>,
}

impl<'a> Upload<'a> {
    pub fn new(source: &'a mut dyn Read, len: Option<u64>) -> Upload<'a> {
        Upload {
            source,
            len,
            sent: 0,
            failure: None,
        }
    }

    pub fn announced_len(&self) -> Option<u64> {
        self.len
    }

    /// Whether the source has given a byte: from then on the request cannot be sent again.
    pub fn started(&self) -> bool {
        self.sent > 0
    }

    /// The source's own failure, if it failed (taken: asked once, after the request failed).
    pub(crate) fn take_failure(&mut self) -> Option<Error> {
        self.failure
            .take()
            .map(|m| Error::new(ErrorKind::Aborted, m))
    }

    fn fail(&mut self, message: String) -> io::Error {
        self.failure = Some(message.clone());
        io::Error::other(message)
    }
}

impl Read for Upload<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = match self.len {
            // One byte more than is left, to see a source that runs on past its length.
            Some(len) => buf
                .len()
                .min(usize::try_from(len.saturating_sub(self.sent) + 1).unwrap_or(usize::MAX)),
            None => buf.len(),
        };
        let n = match self.source.read(&mut buf[..want]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => return Err(self.fail(format!("reading the upload failed: {e}"))),
        };
        self.sent += n as u64;
        if let Some(len) = self.len {
            if self.sent > len {
                return Err(self.fail(format!(
                    "the upload's source gave more than the {len} bytes announced"
                )));
            }
            if n == 0 && want > 0 && self.sent < len {
                return Err(self.fail(format!(
                    "the upload's source ended after {} of the {len} bytes announced",
                    self.sent
                )));
            }
        }
        Ok(n)
    }
}

/// Where a streamed reply's body goes, decided once its status and headers have been seen (`Streamed::deliver`):
/// a caller streaming a download to a file wants a 200's body there, and an error's body held to read instead.
/// The codes are the C header's `X8_HEAD_*` (`ffi/constants.rs`): never renumbered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyRoute {
    /// Into the sink, as it arrives.
    Stream = 0,
    /// Held in the response, under the size limit, as a buffered request's would be.
    Hold = 1,
}

impl BodyRoute {
    const ALL: [BodyRoute; 2] = [BodyRoute::Stream, BodyRoute::Hold];

    /// The route whose code (`BodyRoute::X as i32`) is `code`; `None` for any other value.
    pub fn from_code(code: i32) -> Option<BodyRoute> {
        Self::ALL.into_iter().find(|r| *r as i32 == code)
    }
}

/// A reply whose body has not been read: the status and headers, and the body as it arrives. The deadline of
/// the call that made it keeps running while the body is read.
pub struct Streamed {
    pub status: u16,
    /// As in [`super::Response`].
    pub headers: Vec<(String, String)>,
    body: Box<dyn Read + Send>,
    /// Which limits bounded the call, for a timeout while the body is read to say which one passed.
    limits: super::Limits,
}

/// The copy buffer of `Streamed::copy_to`: big enough that a callback or system call per chunk costs little.
const COPY_CHUNK: usize = 64 * 1024;

impl Streamed {
    pub(crate) fn new(
        status: u16,
        headers: Vec<(String, String)>,
        body: Box<dyn Read + Send>,
        limits: super::Limits,
    ) -> Streamed {
        Streamed {
            status,
            headers,
            body,
            limits,
        }
    }

    /// First value of a header, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Puts `prefix` (bytes already read off the body) back in front of it.
    pub(crate) fn unread(self, prefix: Vec<u8>) -> Streamed {
        Streamed {
            body: Box::new(io::Cursor::new(prefix).chain(self.body)),
            ..self
        }
    }

    /// Reads the rest of the body into `sink`, `COPY_CHUNK` bytes at a time, and returns how many bytes were
    /// written. A failing sink stops the transfer with `Aborted`; a failing connection with its transport error.
    pub fn copy_to(&mut self, sink: &mut dyn io::Write) -> Result<u64> {
        let mut buf = vec![0u8; COPY_CHUNK];
        let mut total = 0u64;
        loop {
            let n = match self.body.read(&mut buf) {
                Ok(0) => return Ok(total),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_error(e, self.limits)),
            };
            sink.write_all(&buf[..n]).map_err(|e| {
                Error::new(
                    ErrorKind::Aborted,
                    format!("writing the body failed after {total} bytes: {e}"),
                )
            })?;
            total += n as u64;
        }
    }

    /// The body where `route` says: streamed into `sink` (the response returned has an empty body), or held in
    /// the response under `limit` (`BodyTooLarge` past it), with nothing written to `sink`.
    pub fn deliver(
        mut self,
        route: BodyRoute,
        sink: &mut dyn io::Write,
        limit: u64,
    ) -> Result<super::Response> {
        match route {
            BodyRoute::Stream => {
                self.copy_to(sink)?;
                Ok(self.into_head())
            }
            BodyRoute::Hold => self.into_response(limit),
        }
    }

    /// Reads the first `n` bytes of the body (fewer if it is shorter), to be put back with `unread`.
    pub(crate) fn read_prefix(&mut self, n: u64) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        (&mut self.body)
            .take(n)
            .read_to_end(&mut buf)
            .map_err(|e| read_error(e, self.limits))?;
        Ok(buf)
    }

    /// Reads the whole body into a response, refusing one of more than `limit` bytes (`BodyTooLarge`).
    pub fn into_response(mut self, limit: u64) -> Result<super::Response> {
        let body = self.read_prefix(limit.saturating_add(1))?;
        if body.len() as u64 > limit {
            return Err(super::too_large(limit));
        }
        Ok(super::Response {
            body,
            ..self.into_head()
        })
    }

    /// The status and headers as a response with an empty body (what is left once the body was consumed).
    pub fn into_head(self) -> super::Response {
        super::Response {
            status: self.status,
            headers: self.headers,
            body: Vec::new(),
        }
    }
}

impl Read for Streamed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.body.read(buf)
    }
}

/// An error met reading a body, as one of ours.
fn read_error(e: io::Error, limits: super::Limits) -> Error {
    super::map_error(ureq::Error::from(e), limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: super::super::Limits = super::super::Limits {
        connect: std::time::Duration::from_secs(1),
        client: None,
    };

    #[test]
    fn a_source_must_give_exactly_its_announced_length() {
        let mut short: &[u8] = b"abc";
        let mut up = Upload::new(&mut short, Some(5));
        let mut out = Vec::new();
        let e = up.read_to_end(&mut out).unwrap_err();
        assert!(e.to_string().contains("ended after 3 of the 5"), "{e}");
        assert_eq!(up.take_failure().unwrap().kind(), ErrorKind::Aborted);

        let mut long: &[u8] = b"abcdef";
        let mut up = Upload::new(&mut long, Some(5));
        let e = up.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(e.to_string().contains("more than the 5"), "{e}");

        let mut exact: &[u8] = b"abcde";
        let mut up = Upload::new(&mut exact, Some(5));
        assert!(!up.started());
        up.read_to_end(&mut out).unwrap();
        assert!(up.started());
        assert!(up.take_failure().is_none());

        let mut any: &[u8] = b"abcdef";
        let mut up = Upload::new(&mut any, None);
        let mut all = Vec::new();
        up.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"abcdef");
    }

    #[test]
    fn copy_to_says_a_failing_sink_aborted_the_transfer() {
        struct Full;
        impl io::Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut s = Streamed::new(
            200,
            vec![],
            Box::new(io::Cursor::new(vec![1u8; 10])),
            LIMITS,
        );
        let e = s.copy_to(&mut Full).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Aborted);
        assert!(e.message().contains("disk full"), "{e}");
        let mut s = Streamed::new(
            200,
            vec![],
            Box::new(io::Cursor::new(vec![1u8; 10])),
            LIMITS,
        )
        .unread(vec![0, 0]);
        let mut out = Vec::new();
        assert_eq!(s.copy_to(&mut out).unwrap(), 12);
        assert_eq!(&out[..3], &[0, 0, 1]);
    }

    fn reply(status: u16, body: &[u8]) -> Streamed {
        Streamed::new(
            status,
            vec![("content-type".into(), "application/json".into())],
            Box::new(io::Cursor::new(body.to_vec())),
            LIMITS,
        )
    }

    #[test]
    fn deliver_streams_or_holds_the_body_and_never_both() {
        let mut sink = Vec::new();
        let head = reply(200, b"object")
            .deliver(BodyRoute::Stream, &mut sink, 3)
            .unwrap();
        assert_eq!(sink, b"object", "streamed past the held limit");
        assert!(head.body.is_empty());
        assert_eq!(head.header("Content-Type"), Some("application/json"));

        let mut sink = Vec::new();
        let held = reply(404, b"{\"error\":1}")
            .deliver(BodyRoute::Hold, &mut sink, 100)
            .unwrap();
        assert_eq!(held.status, 404);
        assert_eq!(held.body, b"{\"error\":1}");
        assert!(sink.is_empty(), "a held body is not written");

        let e = reply(500, b"0123456789")
            .deliver(BodyRoute::Hold, &mut sink, 9)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BodyTooLarge);
        assert!(sink.is_empty());
    }

    #[test]
    fn body_route_codes_round_trip_and_others_are_none() {
        for route in BodyRoute::ALL {
            assert_eq!(BodyRoute::from_code(route as i32), Some(route));
        }
        assert_eq!(BodyRoute::from_code(2), None);
        assert_eq!(BodyRoute::from_code(-1), None);
    }
}
