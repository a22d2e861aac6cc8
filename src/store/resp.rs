//! The Redis wire protocol (RESP2), only as much as the token store speaks, with the two bounds a general
//! client does not give: a whole exchange (the command out, its reply in) ends by a deadline however slowly
//! the server drips its bytes, and a value larger than the caller's limit is refused from its length header,
//! before a byte of it is read. (The synchronous `redis` crate bounds each socket read only, so a reply
//! trickling a byte per 150 ms held a call for 40 s, and it reads whatever length a reply announces.)

use std::io::{self, BufRead, BufReader, Read, Write};
use std::time::{Duration, Instant};

/// What a store command can answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    Nil,
    Status(String),
    Int(i64),
    Bulk(zeroize::Zeroizing<Vec<u8>>),
}

/// Longest status, error or integer line: Redis's are a few dozen bytes.
const MAX_LINE: usize = 4096;

/// A byte stream whose socket timeouts can be set: plain TCP, TLS over TCP, or a Unix socket.
pub trait TimedStream: Read + Write {
    fn set_timeouts(&self, timeout: Duration) -> io::Result<()>;
}

/// Reads and writes `inner` only until `deadline`: each system call gets what is left of the time as its
/// socket timeout, and none starts once it is spent. (Also what a TLS handshake with Redis runs over.)
pub struct Bounded<'a, S: TimedStream + ?Sized> {
    inner: &'a mut S,
    deadline: Instant,
}

impl<'a, S: TimedStream + ?Sized> Bounded<'a, S> {
    pub fn new(inner: &'a mut S, deadline: Instant) -> Bounded<'a, S> {
        Bounded { inner, deadline }
    }
}

impl<S: TimedStream + ?Sized> Bounded<'_, S> {
    fn arm(&self) -> io::Result<()> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "Redis did not answer in time",
            ));
        }
        // The kernel takes a zero timeout as none at all.
        self.inner.set_timeouts(left.max(Duration::from_millis(1)))
    }
}

impl<S: TimedStream + ?Sized> Read for Bounded<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm()?;
        self.inner.read(buf)
    }
}

impl<S: TimedStream + ?Sized> Write for Bounded<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm()?;
        self.inner.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.arm()?;
        self.inner.flush()
    }
}

/// The mark on the error for a value over the caller's limit, which was left unread.
#[derive(Debug)]
pub struct TooLarge(pub i64);

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the value in Redis is {} bytes, more than a token record may take; not read",
            self.0
        )
    }
}

impl std::error::Error for TooLarge {}

pub fn is_too_large(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<TooLarge>())
}

fn protocol(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// The command as RESP: an array of bulk strings. Wiped when dropped: it may hold a token or a password.
fn encode(args: &[&[u8]]) -> zeroize::Zeroizing<Vec<u8>> {
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(
        16 + args.iter().map(|a| a.len() + 16).sum::<usize>(),
    ));
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Sends one command and reads its reply, all before `deadline`. A bulk value longer than `max_value` is
/// refused unread. An error reply (`-ERR ...`) is an `Err` of kind `Other` with Redis's text. After any
/// error the connection must be dropped: the rest of a reply may still be on its way.
pub fn exchange<S: TimedStream + ?Sized>(
    stream: &mut S,
    args: &[&[u8]],
    deadline: Instant,
    max_value: usize,
) -> io::Result<Reply> {
    let mut bounded = Bounded::new(stream, deadline);
    bounded.write_all(&encode(args))?;
    bounded.flush()?;
    let mut reader = BufReader::with_capacity(4096, bounded);
    let reply = read_reply(&mut reader, max_value)?;
    if !reader.buffer().is_empty() {
        // Nothing was asked for beyond this reply: a server sending more is not one to keep talking to.
        return Err(protocol("Redis sent more than one reply"));
    }
    Ok(reply)
}

fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = Vec::new();
    reader
        .take(MAX_LINE as u64 + 2)
        .read_until(b'\n', &mut line)?;
    if !line.ends_with(b"\r\n") {
        return Err(if line.len() > MAX_LINE {
            protocol("Redis sent an overlong line")
        } else {
            io::Error::new(io::ErrorKind::UnexpectedEof, "Redis closed the connection")
        });
    }
    line.truncate(line.len() - 2);
    String::from_utf8(line).map_err(|_| protocol("Redis sent a line that is not UTF-8"))
}

/// Redis's error text with every long unbroken run of characters replaced by `[…]`. Redis quotes a command's
/// arguments back in some errors ("ERR unknown command 'EVAL', with args beginning with: …", as a
/// Redis-compatible server without scripting answers a `remove`), and those arguments are the record, with
/// the access token in it, and for AUTH the password; the text then goes to the log. Redis's own words are
/// short; a token, a record or a password of note are not (a record's JSON begins with 29 characters before
/// the token's first).
fn without_echoes(text: &str) -> String {
    const LONGEST_WORD: usize = 24;
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(if word.chars().count() >= LONGEST_WORD {
            "[…]"
        } else {
            word
        });
    }
    out
}

fn read_reply(reader: &mut impl BufRead, max_value: usize) -> io::Result<Reply> {
    let line = read_line(reader)?;
    let (kind, rest) = line.split_at(line.len().min(1));
    match kind {
        "+" => Ok(Reply::Status(rest.to_owned())),
        "-" => Err(io::Error::other(format!(
            "Redis answered {}",
            crate::error::truncate_for_message(&without_echoes(rest), 200)
        ))),
        ":" => rest
            .parse()
            .map(Reply::Int)
            .map_err(|_| protocol("Redis sent a malformed integer")),
        "$" => {
            let len: i64 = rest
                .parse()
                .map_err(|_| protocol("Redis sent a malformed length"))?;
            match len {
                -1 => return Ok(Reply::Nil),
                ..=-2 => return Err(protocol("Redis sent a negative length")),
                _ => {}
            }
            if len as u64 > max_value as u64 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, TooLarge(len)));
            }
            let mut value = zeroize::Zeroizing::new(vec![0u8; len as usize + 2]);
            reader.read_exact(&mut value)?;
            if !value.ends_with(b"\r\n") {
                return Err(protocol("Redis sent a value without its terminator"));
            }
            value.truncate(len as usize);
            Ok(Reply::Bulk(value))
        }
        "*" if rest == "-1" => Ok(Reply::Nil),
        _ => Err(protocol(
            "Redis sent a reply of a kind the token store never asks for",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scripted server: what it will answer, in a buffer; what the client wrote, in another.
    struct Script {
        reply: io::Cursor<Vec<u8>>,
        written: Vec<u8>,
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.reply.read(buf)
        }
    }
    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    impl TimedStream for Script {
        fn set_timeouts(&self, _: Duration) -> io::Result<()> {
            Ok(())
        }
    }

    fn run(reply: &[u8], max: usize) -> io::Result<Reply> {
        let mut s = Script {
            reply: io::Cursor::new(reply.to_vec()),
            written: Vec::new(),
        };
        let out = exchange(
            &mut s,
            &[b"GET", b"k"],
            Instant::now() + Duration::from_secs(5),
            max,
        );
        assert_eq!(s.written, b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        out
    }

    #[test]
    fn parses_the_replies_the_store_gets() {
        assert_eq!(run(b"$-1\r\n", 10).unwrap(), Reply::Nil);
        assert_eq!(run(b"+OK\r\n", 10).unwrap(), Reply::Status("OK".into()));
        assert_eq!(run(b":1\r\n", 10).unwrap(), Reply::Int(1));
        assert_eq!(
            run(b"$3\r\nabc\r\n", 10).unwrap(),
            Reply::Bulk(zeroize::Zeroizing::new(b"abc".to_vec()))
        );
        let e = run(b"-NOAUTH Authentication required.\r\n", 10).unwrap_err();
        assert!(e.to_string().contains("NOAUTH"));
    }

    #[test]
    fn refuses_oversized_values_unread_and_malformed_replies() {
        let e = run(b"$60000000\r\n", 65536).unwrap_err();
        assert!(
            is_too_large(&e) && e.to_string().contains("60000000"),
            "{e}"
        );
        for bad in [
            &b"$3\r\nabcd\r\n"[..],
            b"$x\r\n",
            b"%1\r\n",
            b"+OK",
            b"+OK\r\n+OK\r\n",
        ] {
            assert!(run(bad, 10).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let long = format!("+{}\r\n", "a".repeat(MAX_LINE + 10));
        assert!(run(long.as_bytes(), 10).is_err());
    }

    /// What a hostile or broken server may send in place of a reply the store asked for: none is taken as an
    /// answer, none allocates more than the caller's limit, none reads past a length it refused.
    #[test]
    fn hostile_lengths_arrays_and_types_are_refused() {
        for bad in [
            &b"$-2\r\n"[..],
            b"$-9223372036854775808\r\n",
            b"$99999999999999999999999\r\n",
            b"$ 3\r\nabc\r\n",
            b"$\r\n",
            b"*1\r\n$3\r\nabc\r\n",
            b"*2\r\n*1\r\n*1\r\n:1\r\n:2\r\n",
            b"*-2\r\n",
            b"*0\r\n",
            b"_\r\n",
            b"#t\r\n",
            b"=5\r\ntxt:a\r\n",
            b":1.5\r\n",
            b":99999999999999999999\r\n",
            b"\r\n",
            b"",
        ] {
            assert!(run(bad, 100).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        // The largest length there is: refused from the header, nothing allocated or read.
        let e = run(b"$9223372036854775807\r\n", 65536).unwrap_err();
        assert!(is_too_large(&e), "{e}");
        // One byte over the limit, with the value there to be read: still refused unread.
        let over = format!("$11\r\n{}\r\n", "v".repeat(11));
        assert!(is_too_large(&run(over.as_bytes(), 10).unwrap_err()));
        assert_eq!(
            run(b"$10\r\n0123456789\r\n", 10).unwrap(),
            Reply::Bulk(zeroize::Zeroizing::new(b"0123456789".to_vec()))
        );
    }

    /// An error that quotes the command back (as Redis does for an unknown command) must not carry the record's
    /// token, or a password, into the message that reaches the log.
    #[test]
    fn an_error_quoting_the_command_back_loses_its_long_arguments() {
        let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4OCJ9.c2lnbmF0dXJl";
        let record = format!("{{\"format\":1,\"access_token\":\"{token}\",\"token_type\":\"B\"}}");
        for echoed in [
            record.clone(),
            record[..40].to_owned(),
            "hunter2-but-a-long-password!".to_owned(),
        ] {
            let reply = format!(
                "-ERR unknown command 'EVAL', with args beginning with: 'x' '{echoed}'\r\n"
            );
            let e = run(reply.as_bytes(), 10).unwrap_err().to_string();
            assert!(e.contains("unknown command 'EVAL'"), "{e}");
            assert!(!e.contains(&token[..8]) && !e.contains("hunter2"), "{e}");
        }
        let e = run(b"-NOAUTH Authentication required.\r\n", 10).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Redis answered NOAUTH Authentication required."
        );
    }

    #[test]
    fn a_spent_deadline_sends_nothing() {
        let mut s = Script {
            reply: io::Cursor::new(b"+OK\r\n".to_vec()),
            written: Vec::new(),
        };
        let e = exchange(&mut s, &[b"PING"], Instant::now(), 10).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(s.written.is_empty());
    }
}
