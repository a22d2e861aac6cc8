//! A real `redis-server` (Debian's package; `tests/run.sh` installs it) on a free loopback port, for the
//! tests of the Redis token store: started per test, without persistence, killed when dropped. Shared by
//! tests/redis_store.rs and cli/tests/redis_fleet.rs (included with `#[path]`).
//!
//! A missing `redis-server` fails the test with a message saying what to install: these tests are never
//! skipped.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: std::path::PathBuf,
    /// Extra arguments: a TLS listener, a password.
    extra: Vec<String>,
}

/// A Redis reply.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    Nil,
    Text(String),
    Int(i64),
    Error(String),
    Array(Vec<Reply>),
}

impl RedisServer {
    pub fn start() -> RedisServer {
        RedisServer::start_with(Vec::new())
    }

    /// A server that also listens with TLS on `tls_port()` (`server.pem`, `server.key` and `ca.pem` in
    /// `certs`, as tests/common/test_ca.rs writes them; clients need not present a certificate) and, with `password`, asks clients to AUTH. The plain port stays for the test's own commands.
    pub fn start_tls(certs: &std::path::Path, password: Option<&str>) -> RedisServer {
        let tls_port = {
            let l = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
            l.local_addr().unwrap().port()
        };
        let file = |n: &str| certs.join(n).display().to_string();
        let mut extra = vec![
            "--tls-port".to_owned(),
            tls_port.to_string(),
            "--tls-cert-file".to_owned(),
            file("server.pem"),
            "--tls-key-file".to_owned(),
            file("server.key"),
            "--tls-ca-cert-file".to_owned(),
            file("ca.pem"),
            "--tls-auth-clients".to_owned(),
            "no".to_owned(),
        ];
        if let Some(pw) = password {
            extra.extend(["--requirepass".to_owned(), pw.to_owned()]);
        }
        RedisServer::start_with(extra)
    }

    /// A server that also listens on a Unix socket, `unix_socket()`, only its user may connect to.
    pub fn start_unix() -> RedisServer {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("x8-redis-{}-{n}.sock", std::process::id()));
        RedisServer::start_with(vec![
            "--unixsocket".to_owned(),
            path.display().to_string(),
            "--unixsocketperm".to_owned(),
            "700".to_owned(),
        ])
    }

    /// The socket given to `start_unix`.
    pub fn unix_socket(&self) -> std::path::PathBuf {
        let at = self
            .extra
            .iter()
            .position(|a| a == "--unixsocket")
            .expect("a Unix socket server");
        self.extra[at + 1].clone().into()
    }

    /// The TLS port given to `start_tls`.
    pub fn tls_port(&self) -> u16 {
        let at = self
            .extra
            .iter()
            .position(|a| a == "--tls-port")
            .expect("a TLS server");
        self.extra[at + 1].parse().unwrap()
    }

    fn password(&self) -> Option<&str> {
        let at = self.extra.iter().position(|a| a == "--requirepass")?;
        Some(&self.extra[at + 1])
    }

    fn start_with(extra: Vec<String>) -> RedisServer {
        let mut last_error = String::new();
        // A port found free may be taken before redis-server binds it: try a few.
        for attempt in 0..5 {
            let port = {
                let l = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
                l.local_addr().unwrap().port()
            };
            let dir = std::env::temp_dir()
                .join(format!("x8-redis-{}-{port}-{attempt}", std::process::id()));
            let mut server = RedisServer {
                child: None,
                port,
                dir,
                extra: extra.clone(),
            };
            match server.launch() {
                Ok(()) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("redis-server did not start: {last_error}");
    }

    /// Kills the server and starts a new, empty one on the same port: a Redis restart.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.launch() {
                Ok(()) => return,
                Err(e) if Instant::now() > deadline => panic!("redis-server did not restart: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    fn launch(&mut self) -> Result<(), String> {
        std::fs::create_dir_all(&self.dir).unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                let _ = std::fs::remove_dir_all(&self.dir);
                panic!(
                    "cannot run redis-server ({e}): these tests need a real Redis; install Debian's \
                     redis-server package (apt-get install redis-server), as tests/run.sh does"
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                self.child = None;
                return Err(format!("redis-server exited with {status}"));
            }
            if let Ok(Reply::Text(pong)) = self.try_command(&["PING"]) {
                if pong == "PONG" {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
        Err("redis-server did not answer PING within 10 s".into())
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (SIGKILL: no goodbye to its clients), as a crash or a lost host would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends one command and reads its reply; panics on a connection failure.
    pub fn command(&self, args: &[&str]) -> Reply {
        self.try_command(args)
            .unwrap_or_else(|e| panic!("Redis {args:?}: {e}"))
    }

    pub fn try_command(&self, args: &[&str]) -> std::io::Result<Reply> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut request = String::new();
        if let Some(pw) = self.password() {
            request.push_str(&format!("*2\r\n$4\r\nAUTH\r\n${}\r\n{pw}\r\n", pw.len()));
        }
        request.push_str(&format!("*{}\r\n", args.len()));
        for a in args {
            request.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        stream.write_all(request.as_bytes())?;
        let mut reader = BufReader::new(stream);
        if self.password().is_some() {
            read_reply(&mut reader)?;
        }
        read_reply(&mut reader)
    }

    /// The value of `key` as text, or `None`.
    pub fn get(&self, key: &str) -> Option<String> {
        match self.command(&["GET", key]) {
            Reply::Text(t) => Some(t),
            Reply::Nil => None,
            other => panic!("GET {key}: {other:?}"),
        }
    }

    /// Every key in the server.
    pub fn keys(&self) -> Vec<String> {
        match self.command(&["KEYS", "*"]) {
            Reply::Array(items) => items
                .into_iter()
                .map(|r| match r {
                    Reply::Text(t) => t,
                    other => panic!("KEYS: {other:?}"),
                })
                .collect(),
            other => panic!("KEYS: {other:?}"),
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some(at) = self.extra.iter().position(|a| a == "--unixsocket") {
            let _ = std::fs::remove_file(&self.extra[at + 1]);
        }
    }
}

fn read_reply(r: &mut impl BufRead) -> std::io::Result<Reply> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let line = line.trim_end_matches("\r\n");
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "malformed reply");
    let (kind, rest) = line.split_at(line.len().min(1));
    Ok(match kind {
        "+" => Reply::Text(rest.to_owned()),
        "-" => Reply::Error(rest.to_owned()),
        ":" => Reply::Int(rest.parse().map_err(|_| bad())?),
        "$" => {
            let len: i64 = rest.parse().map_err(|_| bad())?;
            if len < 0 {
                return Ok(Reply::Nil);
            }
            let mut buf = vec![0u8; len as usize + 2];
            r.read_exact(&mut buf)?;
            buf.truncate(len as usize);
            Reply::Text(String::from_utf8(buf).map_err(|_| bad())?)
        }
        "*" => {
            let n: i64 = rest.parse().map_err(|_| bad())?;
            if n < 0 {
                return Ok(Reply::Nil);
            }
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(read_reply(r)?);
            }
            Reply::Array(items)
        }
        _ => return Err(bad()),
    })
}
