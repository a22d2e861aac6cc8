//! How many copies of the access token and of the base64 `id:secret` pair a client leaves in this process's
//! memory, while it lives and after it is freed: counted by reading every writable mapping through
//! `/proc/self/mem`, the way a core dump or a memory-reading attacker would see them (issue 13, defect 12: 4
//! token copies and 2 of the pair while a client lived, one token copy after `x8_client_free`).
//!
//! The token endpoint and the API are a Python fake in a child process, so that the server's copies are not in
//! the address space counted. The needles are never whole in this test's own memory: each is searched as a
//! prefix followed by a suffix kept apart, and the read buffer is a mapping the scan skips.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use x8::{Client, Credentials, Options, Request};

const ID: &str = "mem-client";
// The secret and the token, each split in two so that neither is ever whole in this test's memory. The
// Python server joins the token's halves; the client joins the secret's (that copy is x8's to wipe).
const SECRET_HEAD: &str = "mem-secret-";
const SECRET_TAIL: &str = "Hk29QpZr";
const TOKEN_HEAD: &str = "x8MEMTOKEN";
const TOKEN_TAIL: &str = "r7Wq2Lm9Xc4Vb8Nz";

/// `base64("mem-client:mem-secret-Hk29QpZr")`, split in two the same way.
const PAIR_HEAD: &str = "bWVtLWNsaWVudDpt";
const PAIR_TAIL: &str = "ZW0tc2VjcmV0LUhrMjlRcFpy";

struct Fake {
    child: Child,
    port: u16,
}

impl Drop for Fake {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SERVER: &str = r#"
import http.server, json, socketserver, sys
head, tail = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, body):
        data = body.encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.reply(json.dumps({"access_token": head + tail, "token_type": "BearerToken", "expires_in": "1799"}))
    def do_GET(self):
        self.reply("{}")
    def log_message(self, *a):
        pass
s = socketserver.TCPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;

fn start_fake() -> Fake {
    let mut child = Command::new("python3")
        .args(["-c", SERVER, TOKEN_HEAD, TOKEN_TAIL])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 runs the fake token endpoint");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().parse().expect("the fake prints its port");
    Fake { child, port }
}

/// A read buffer in a mapping of its own, skipped by the scan (it holds copies of what was just read).
struct ScanBuffer {
    ptr: *mut u8,
    len: usize,
}

impl ScanBuffer {
    fn new(len: usize) -> ScanBuffer {
        // SAFETY: an anonymous private mapping, checked below.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(ptr, libc::MAP_FAILED);
        ScanBuffer {
            ptr: ptr.cast(),
            len,
        }
    }
    fn range(&self) -> std::ops::Range<usize> {
        self.ptr as usize..self.ptr as usize + self.len
    }
    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: the mapping is ours, `len` bytes, alive while self is.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for ScanBuffer {
    fn drop(&mut self) {
        // SAFETY: unmapping what `new` mapped.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}

/// Occurrences of `head` immediately followed by `tail` in every writable mapping of this process.
fn count_in_memory(head: &str, tail: &str) -> usize {
    let mut buffer = ScanBuffer::new(1 << 20);
    let skip = buffer.range();
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let mut mem = std::fs::File::open("/proc/self/mem").unwrap();
    let (head, tail) = (head.as_bytes(), tail.as_bytes());
    let overlap = head.len() + tail.len();
    let mut count = 0;
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !perms.starts_with("rw") || line.contains("[vvar") || line.contains("[vsyscall") {
            continue;
        }
        let (lo, hi) = range.split_once('-').unwrap();
        let (lo, hi) = (
            usize::from_str_radix(lo, 16).unwrap(),
            usize::from_str_radix(hi, 16).unwrap(),
        );
        if lo == skip.start {
            continue;
        }
        let mut at = lo;
        while at < hi {
            let want = (hi - at).min(buffer.len);
            let buf = buffer.bytes();
            if mem.seek(SeekFrom::Start(at as u64)).is_err() {
                break;
            }
            let Ok(n) = mem.read(&mut buf[..want]) else {
                break;
            };
            if n == 0 {
                break;
            }
            let chunk = &buf[..n];
            for i in 0..n.saturating_sub(overlap - 1) {
                if chunk[i..].starts_with(head) && chunk[i + head.len()..].starts_with(tail) {
                    count += 1;
                }
            }
            // Step back by a needle so that one straddling two chunks is still seen (and not twice).
            at += if n > overlap { n - overlap + 1 } else { n };
        }
    }
    count
}

#[test]
fn copies_of_the_token_and_the_credentials_left_in_memory() {
    let fake = start_fake();
    let secret = format!("{SECRET_HEAD}{SECRET_TAIL}");
    let credentials = Credentials::new(ID, &secret).unwrap();
    zeroize::Zeroize::zeroize(&mut { secret });
    let client = Client::new(
        credentials,
        Options {
            base_url: format!("http://127.0.0.1:{}", fake.port),
            timeout: Duration::from_secs(10),
            ..Options::default()
        },
    )
    .unwrap();
    for _ in 0..3 {
        let reply = client
            .request(&Request {
                method: "GET",
                path: "/api/x",
                ..Request::default()
            })
            .unwrap();
        assert_eq!(reply.status, 200);
    }
    let live_tokens = count_in_memory(TOKEN_HEAD, TOKEN_TAIL);
    let live_pairs = count_in_memory(PAIR_HEAD, PAIR_TAIL);
    let live_secrets = count_in_memory(SECRET_HEAD, SECRET_TAIL);
    client.close_callbacks();
    drop(client);
    let freed_tokens = count_in_memory(TOKEN_HEAD, TOKEN_TAIL);
    let freed_pairs = count_in_memory(PAIR_HEAD, PAIR_TAIL);
    let freed_secrets = count_in_memory(SECRET_HEAD, SECRET_TAIL);
    eprintln!(
        "copies while the client lives: token {live_tokens}, base64 pair {live_pairs}, secret {live_secrets}; \
         after it is freed: token {freed_tokens}, pair {freed_pairs}, secret {freed_secrets}"
    );
    assert!(
        live_tokens >= 1,
        "the scan must see the token the client holds"
    );
    // The secret and the Basic pair never outlive the client. One token copy sometimes did: the request
    // header value the HTTP layer built from the Authorization header (an `http::HeaderValue` that ureq freed
    // without wiping). That value is now the wiped buffer itself (`http::tests::the_authorization_value_is_its_
    // wiped_buffer_not_a_copy`), and 0 copies are seen here; the bound stays at one because what freed memory
    // holds when we scan is up to the allocator, and CI once saw one we cannot attribute.
    assert_eq!(
        (freed_pairs, freed_secrets),
        (0, 0),
        "left behind after free"
    );
    assert!(
        freed_tokens <= 1,
        "{freed_tokens} token copies left behind after free"
    );
    // The token's own pages and the cache's seqlock slot; sometimes one more, transient (a freed header value
    // or the slot's stack buffer, overwritten by the next request). The issue counted 5 before.
    assert!(
        live_tokens <= 3,
        "{live_tokens} token copies while the client lives"
    );
    assert!(live_pairs <= 1, "{live_pairs} copies of the base64 pair");
    assert!(live_secrets <= 1, "{live_secrets} copies of the secret");
}
