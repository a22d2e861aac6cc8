//! Streamed bodies against the emulator: downloads read as they arrive (whole, hashed, never held), uploads read
//! from a source (with and without a known length), the retry and replay rules at the first byte, and the
//! caller's side failing in the middle.

mod common;

use std::io::{self, Read, Write};

use common::*;
use x8::{BodyRoute, ErrorKind, Request, Upload};
use x8_emulator::{Fault, FaultTarget};

const STORAGE: &str = "/storage/us-west/v3";

/// A sink that keeps only the SHA-256 and the count of what it was given.
struct Hasher {
    ctx: ring::digest::Context,
    bytes: u64,
    largest_write: usize,
}

impl Hasher {
    fn new() -> Hasher {
        Hasher {
            ctx: ring::digest::Context::new(&ring::digest::SHA256),
            bytes: 0,
            largest_write: 0,
        }
    }

    fn hex(self) -> String {
        self.ctx
            .finish()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.ctx.update(buf);
        self.bytes += buf.len() as u64;
        self.largest_write = self.largest_write.max(buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn sha256(data: &[u8]) -> String {
    let mut h = Hasher::new();
    h.write_all(data).unwrap();
    h.hex()
}

/// `len` bytes of a repeating pattern, made as they are read.
struct Pattern {
    left: u64,
}

impl Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.left as usize);
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = (self.left as usize - i) as u8;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn pattern(len: u64) -> Vec<u8> {
    let mut v = Vec::new();
    Pattern { left: len }.read_to_end(&mut v).unwrap();
    v
}

fn object(emu: &x8_emulator::Emulator, bytes: u64) -> (String, String) {
    let id = emu.add_storage_object(x8_emulator::NewObject {
        bytes,
        ..Default::default()
    });
    let path = format!("{STORAGE}/objects/{id}/content");
    (path, emu.storage_object_sha256(&id).unwrap())
}

#[test]
fn a_download_larger_than_max_body_bytes_streams_whole_into_the_sink() {
    let emu = emulator();
    let c = client_with(&emu, |o| o.max_body_bytes = 1 << 20);
    let (path, expected) = object(&emu, 24 << 20);
    // Buffered, the same object is refused: that is what streaming is for.
    let e = c.request(&get(&path)).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BodyTooLarge);
    let mut sink = Hasher::new();
    let head = c.request_to(&get(&path), None, &mut sink).unwrap();
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), Some("25165824"));
    assert_eq!(sink.bytes, 24 << 20);
    assert!(sink.largest_write <= 64 * 1024, "{}", sink.largest_write);
    assert_eq!(sink.hex(), expected);
}

#[test]
fn the_status_and_headers_come_before_the_body() {
    let emu = emulator();
    let c = client(&emu);
    let (path, expected) = object(&emu, 300_000);
    let mut reply = c.request_reader(&get(&path), None).unwrap();
    assert_eq!(reply.status, 200);
    assert!(reply.header("Content-Disposition").is_some());
    let mut body = Vec::new();
    reply.read_to_end(&mut body).unwrap();
    assert_eq!(sha256(&body), expected);
    // An error reply's body reaches the caller whole too (it was read first to look for a token fault).
    let mut missing = c
        .request_reader(&get(&format!("{STORAGE}/objects/nope/content")), None)
        .unwrap();
    assert_eq!(missing.status, 404);
    let mut text = String::new();
    missing.read_to_string(&mut text).unwrap();
    assert!(text.contains('{'), "{text}");
}

#[test]
fn a_streamed_download_is_replayed_after_a_revoked_token_and_only_the_final_body_is_written() {
    let emu = emulator();
    let c = client(&emu);
    let (path, expected) = object(&emu, 2 << 20);
    c.token(None).unwrap();
    emu.revoke_all_tokens();
    let mut sink = Hasher::new();
    let head = c.request_to(&get(&path), None, &mut sink).unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(
        sink.hex(),
        expected,
        "no byte of the 401's body was written"
    );
    assert_eq!(c.stats().replays_after_401, 1);
}

#[test]
fn a_download_cut_mid_stream_fails_and_is_not_retried() {
    let emu = emulator();
    let c = client(&emu);
    let (path, _) = object(&emu, 1 << 20);
    c.token(None).unwrap();
    emu.push_fault(FaultTarget::Api, Fault::CutBody { after: 100_000 }, 1);
    let mut sink = Hasher::new();
    let e = c.request_to(&get(&path), None, &mut sink).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Transport | ErrorKind::Protocol),
        "{e}"
    );
    assert_eq!(sink.bytes, 100_000, "what arrived was written, once");
}

#[test]
fn a_failing_sink_aborts_the_download() {
    struct FullAfter(u64);
    impl Write for FullAfter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.0 < buf.len() as u64 {
                return Err(io::Error::other("disk full"));
            }
            self.0 -= buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let emu = emulator();
    let c = client(&emu);
    let (path, _) = object(&emu, 4 << 20);
    let e = c
        .request_to(&get(&path), None, &mut FullAfter(1 << 20))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Aborted);
    assert!(e.message().contains("disk full"), "{e}");
    // The client goes on working (the broken connection was not pooled).
    assert_eq!(
        c.request(&get("/storage/us-west/v3/regions"))
            .unwrap()
            .status,
        200
    );
}

fn put(path: &str) -> Request<'_> {
    Request {
        method: "PUT",
        path,
        headers: vec![("Content-Type", "application/octet-stream")],
        ..Request::default()
    }
}

#[test]
fn uploads_stream_from_a_source_with_a_length_or_chunked() {
    let emu = emulator();
    let c = client(&emu);
    let len = 5 << 20;
    let expected = sha256(&pattern(len));

    let mut source = Pattern { left: len };
    let mut up = Upload::new(&mut source, Some(len));
    let r = c
        .request_reader(&put("/upload/known"), Some(&mut up))
        .unwrap()
        .into_response(1 << 20)
        .unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));

    let mut source = Pattern { left: len };
    let mut up = Upload::new(&mut source, None);
    let mut answer = Vec::new();
    let head = c
        .request_to(&put("/upload/chunked"), Some(&mut up), &mut answer)
        .unwrap();
    assert_eq!(head.status, 200, "{}", String::from_utf8_lossy(&answer));

    let uploads = emu.uploads();
    assert_eq!(uploads.len(), 2);
    let (known, chunked) = (&uploads[0], &uploads[1]);
    assert_eq!(known.content_length, Some(len));
    assert_eq!(chunked.content_length, None);
    assert_eq!(chunked.transfer_encoding.as_deref(), Some("chunked"));
    for u in [known, chunked] {
        assert!(u.complete);
        assert_eq!(u.bytes, len);
        assert_eq!(u.sha256, expected);
    }
}

#[test]
fn an_upload_source_that_fails_or_lies_about_its_length_aborts_the_call() {
    struct Broken(u64);
    impl Read for Broken {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0 == 0 {
                return Err(io::Error::other("the file went away"));
            }
            let n = buf.len().min(self.0 as usize);
            self.0 -= n as u64;
            Ok(n)
        }
    }
    let emu = emulator();
    let c = client(&emu);
    let mut source = Broken(200_000);
    let mut up = Upload::new(&mut source, None);
    let e = c
        .request_reader(&put("/upload/broken"), Some(&mut up))
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::Aborted, "{e}");
    assert!(e.message().contains("the file went away"), "{e}");

    let mut short = Pattern { left: 1000 };
    let mut up = Upload::new(&mut short, Some(2000));
    let e = c
        .request_reader(&put("/upload/short"), Some(&mut up))
        .err()
        .unwrap();
    assert_eq!(e.kind(), ErrorKind::Aborted, "{e}");
    assert!(e.message().contains("ended after 1000 of the 2000"), "{e}");

    // A body and an upload at once is a caller bug.
    let mut source = Pattern { left: 1 };
    let mut up = Upload::new(&mut source, None);
    let both = Request {
        body: Some(b"x"),
        ..put("/upload/both")
    };
    let e = c.request_reader(&both, Some(&mut up)).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
}

#[test]
fn an_upload_already_read_is_not_replayed_after_a_401() {
    let emu = emulator();
    let c = client(&emu);
    c.token(None).unwrap();
    emu.revoke_all_tokens();
    let mut source = Pattern { left: 10_000 };
    let mut up = Upload::new(&mut source, Some(10_000));
    let r = c
        .request_reader(&put("/upload/after-revoke"), Some(&mut up))
        .unwrap();
    assert_eq!(r.status, 401, "the rejection is the answer");
    assert_eq!(c.stats().replays_after_401, 0);
    // The rejected token was dropped: the caller's own retry gets a new one.
    let mut source = Pattern { left: 10_000 };
    let mut up = Upload::new(&mut source, Some(10_000));
    let r = c
        .request_reader(&put("/upload/retried"), Some(&mut up))
        .unwrap();
    assert_eq!(r.status, 200);
    // An empty source gave no byte, so it can be replayed.
    emu.revoke_all_tokens();
    let mut empty: &[u8] = &[];
    let mut up = Upload::new(&mut empty, None);
    let r = c
        .request_reader(&put("/upload/empty"), Some(&mut up))
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(c.stats().replays_after_401, 1);
}

#[test]
fn a_presigned_download_streams_without_a_token() {
    let emu = emulator();
    let c = client(&emu);
    let (path, expected) = object(&emu, 3 << 20);
    let link = c.request(&get(&format!("{path}?presignUrl=true"))).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&link.body).unwrap();
    let url = v["presignedUrl"].as_str().unwrap();
    let mut sink = Hasher::new();
    let head = c.fetch_url_to("GET", url, &[], None, &mut sink).unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(sink.hex(), expected);
    let mut reader = c.fetch_url_reader("GET", url, &[], None).unwrap();
    assert_eq!(reader.status, 200);
    let mut sink = Hasher::new();
    io::copy(&mut reader, &mut sink).unwrap();
    assert_eq!(sink.hex(), expected);
    assert!(emu.presigned_requests().iter().all(|r| !r
        .headers
        .keys()
        .any(|h| h.eq_ignore_ascii_case("authorization"))));
}

#[test]
fn a_503_before_the_body_is_retried_and_only_the_final_body_is_written() {
    let emu = emulator();
    let c = client_with(&emu, |o| o.api_retries = 2);
    let (path, expected) = object(&emu, 1 << 20);
    c.token(None).unwrap();
    let unavailable = Fault::Status {
        status: 503,
        retry_after: Some("0".to_owned()),
        body: None,
    };
    emu.push_fault(FaultTarget::Api, unavailable.clone(), 1);
    let mut sink = Hasher::new();
    let head = c.request_to(&get(&path), None, &mut sink).unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(sink.hex(), expected, "the 503's body was not written");
    assert_eq!(c.stats().api_retries, 1);
    // An upload that was read is not sent again: the 503 is the answer.
    emu.push_fault(FaultTarget::Api, unavailable, 1);
    let mut source = Pattern { left: 1000 };
    let mut up = Upload::new(&mut source, Some(1000));
    let r = c
        .request_reader(&put("/upload/after-503"), Some(&mut up))
        .unwrap();
    assert_eq!(r.status, 503);
    assert_eq!(c.stats().api_retries, 1);
}

/// A head that streams a 2xx body and holds any other, as the bindings' does, noting each status it is shown.
fn only_2xx(seen: &mut Vec<u16>) -> impl FnOnce(&x8::Streamed) -> x8::Result<BodyRoute> + '_ {
    move |r| {
        seen.push(r.status);
        Ok(if r.status / 100 == 2 {
            BodyRoute::Stream
        } else {
            BodyRoute::Hold
        })
    }
}

#[test]
fn the_head_sees_the_final_reply_first_and_an_error_body_can_be_held_out_of_the_sink() {
    let emu = emulator();
    let c = client(&emu);
    let (path, expected) = object(&emu, 1 << 20);
    c.token(None).unwrap();
    emu.revoke_all_tokens();
    // The 401 answered by a replay is never shown.
    let mut seen = Vec::new();
    let mut sink = Hasher::new();
    let head = c
        .request_to_with_head(&get(&path), None, &mut sink, only_2xx(&mut seen))
        .unwrap();
    assert_eq!((head.status, seen.as_slice()), (200, &[200][..]));
    assert!(head.body.is_empty());
    assert_eq!(sink.hex(), expected);
    assert_eq!(c.stats().replays_after_401, 1);

    let mut seen = Vec::new();
    let mut sink = Hasher::new();
    let missing_path = format!("{STORAGE}/objects/nope/content");
    let missing = get(&missing_path);
    let held = c
        .request_to_with_head(&missing, None, &mut sink, only_2xx(&mut seen))
        .unwrap();
    assert_eq!((held.status, seen.as_slice()), (404, &[404][..]));
    assert!(held.body.starts_with(b"{"), "{:?}", held.body);
    assert_eq!(sink.bytes, 0, "no byte of the 404 was written");

    // An error from the head ends the call with it, before any byte is written.
    let e = c
        .request_to_with_head(&get(&path), None, &mut sink, |_| {
            Err(x8::Error::new(ErrorKind::Aborted, "not this one"))
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Aborted);
    assert_eq!(sink.bytes, 0);

    // A presigned link whose signature does not match is S3's 403: held, not written.
    let link = c.request(&get(&format!("{path}?presignUrl=true"))).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&link.body).unwrap();
    let url = v["presignedUrl"].as_str().unwrap();
    let bad = url.replace("X-Amz-Signature=", "X-Amz-Signature=0");
    let mut seen = Vec::new();
    let denied = c
        .fetch_url_to_with_head("GET", &bad, &[], None, &mut sink, only_2xx(&mut seen))
        .unwrap();
    assert_eq!((denied.status, seen.as_slice()), (403, &[403][..]));
    assert!(String::from_utf8_lossy(&denied.body).contains("SignatureDoesNotMatch"));
    assert_eq!(sink.bytes, 0);
    let mut seen = Vec::new();
    let ok = c
        .fetch_url_to_with_head("GET", url, &[], None, &mut sink, only_2xx(&mut seen))
        .unwrap();
    assert_eq!((ok.status, seen.as_slice()), (200, &[200][..]));
    assert_eq!(sink.hex(), expected);
}

#[test]
fn a_presigned_head_answers_the_objects_length_without_a_body() {
    let emu = emulator();
    let c = client(&emu);
    let (path, _) = object(&emu, 654_321);
    let link = c.request(&get(&format!("{path}?presignUrl=true"))).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&link.body).unwrap();
    let head = c
        .fetch_url("HEAD", v["presignedUrl"].as_str().unwrap(), &[], None)
        .unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("654321"));
    assert!(head.body.is_empty());
}
