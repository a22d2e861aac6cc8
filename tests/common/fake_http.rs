//! A scriptable HTTP/1.1 server on 127.0.0.1 for the hostile-server tests: each request's head (and body) is
//! read, and a script decides what the server does with it — answer, answer and close without saying so, close
//! without answering, drip bytes. It records every request so a test can count what reached it. Deliberately
//! not the emulator: it misbehaves in ways a real server would not.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

/// A request as the server read it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// Header lines as sent, `Name: value`.
    pub headers: Vec<String>,
    pub body: Vec<u8>,
    /// Which request this was on its connection: 0 for the first.
    pub nth_on_connection: usize,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|h| {
            let (n, v) = h.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// What the server does with a request.
pub enum Action {
    /// Writes these bytes, then reads the next request on the same connection.
    Reply(Vec<u8>),
    /// Writes these bytes, then closes the connection (without having said `Connection: close`).
    ReplyThenClose(Vec<u8>),
    /// Closes the connection without a byte of reply.
    Close,
    /// Writes the bytes one at a time, `gap` apart, then closes (or until the client goes away).
    Trickle(Vec<u8>, std::time::Duration),
}

pub struct FakeHttp {
    pub port: u16,
    pub seen: Arc<parking_lot::Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl FakeHttp {
    pub fn start(script: impl Fn(&Seen) -> Action + Send + Sync + 'static) -> FakeHttp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script = Arc::new(script);
        let (s, st) = (seen.clone(), stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (s, script) = (s.clone(), script.clone());
                thread::spawn(move || serve(conn, &*script, &s));
            }
        });
        FakeHttp { port, seen, stop }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().clone()
    }

    pub fn count(&self, method: &str, path_part: &str) -> usize {
        self.seen
            .lock()
            .iter()
            .filter(|r| r.method == method && r.path.contains(path_part))
            .count()
    }
}

impl Drop for FakeHttp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(
    conn: TcpStream,
    script: &(dyn Fn(&Seen) -> Action + Send + Sync),
    seen: &parking_lot::Mutex<Vec<Seen>>,
) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut writer = conn;
    for nth in 0.. {
        let Some(request) = read_request(&mut reader, nth) else {
            return;
        };
        seen.lock().push(request.clone());
        match script(&request) {
            Action::Reply(bytes) => {
                if writer.write_all(&bytes).is_err() {
                    return;
                }
            }
            Action::ReplyThenClose(bytes) => {
                let _ = writer.write_all(&bytes);
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return;
            }
            Action::Close => {
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return;
            }
            Action::Trickle(bytes, gap) => {
                for b in bytes {
                    if writer.write_all(&[b]).is_err() {
                        return;
                    }
                    thread::sleep(gap);
                }
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return;
            }
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>, nth: usize) -> Option<Seen> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut words = line.split_whitespace();
    let method = words.next()?.to_owned();
    let path = words.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end().to_owned();
        if h.is_empty() {
            break;
        }
        headers.push(h);
    }
    let mut request = Seen {
        method,
        path,
        headers,
        body: Vec::new(),
        nth_on_connection: nth,
    };
    let length: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    request.body = vec![0; length];
    reader.read_exact(&mut request.body).ok()?;
    Some(request)
}

/// A complete response with a body and its Content-Length (and no `Connection: close`).
pub fn response(status: u16, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The token endpoint's 200 reply, in 8x8's shape.
pub fn token_reply(token: &str) -> Vec<u8> {
    response(
        200,
        &format!(
            r#"{{"access_token":"{token}","token_type":"BearerToken","expires_in":"1799","issued_at":"1700000000000"}}"#
        ),
    )
}

pub fn is_token_request(r: &Seen) -> bool {
    r.path.contains("/oauth/v2/token")
}
