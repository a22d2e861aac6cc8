//! The shared token in Redis, for fleets on several hosts: a `SharedStore` speaking RESP (`resp`) over TCP,
//! TLS (`rediss://`) or a Unix socket.
//!
//! - The record under the store key (`x8:token:<sha256>`) with `SET key record PX <ms to expiry>`: Redis
//!   forgets it when the token dies.
//! - The lock under `<key>:lock` with `SET ... NX PX <ttl>`, holding a random value of this client; released by
//!   a script that deletes it only while it still holds that value, so a lock that expired and was taken by
//!   another process is never released by the wrong one. A refused token is removed the same way, only while
//!   the record is still the refused one.
//! - One connection per client, opened on first use and dropped on any error, so the next call reconnects (a
//!   kept connection found dead, as after a Redis restart, is replaced at once and the command sent again).
//!   Every exchange (connecting: TCP, TLS handshake, AUTH, SELECT; then each command), and the wait for the
//!   connection itself, ends by the deadline of the call it serves, however slowly Redis drips its bytes; a
//!   value over 64 KiB is refused from its length alone. The store protocol (`StoreSource`) gives each call at
//!   most a second, and before a fetch at most half of the time left, so a Redis that is down, unreachable or
//!   hostile costs a fetch at most that, and a slow but working one is no longer cut off at 200 ms.
//! - `rediss://` is TLS with the very rustls configuration the client's HTTPS uses (`http::tls::client_config`,
//!   handed in by the client): the platform's trust store by default, the compiled-in roots on request, and the
//!   client's CA file added or in their place. The token and the AUTH password never cross the network in
//!   clear; a certificate that is not trusted fails the connection (the client then fetches on its own).
//! - Every socket is made by `rt::sockets`: registered before its connect, so a child forked while a connect is
//!   under way in another thread holds `/dev/null` in its place, not a live connection to Redis.
//!
//! Why not the `redis` crate: its synchronous client bounds each socket read, not an exchange (a reply
//! trickling a byte per 150 ms held a 2 s call for 40 s), and reads whatever length a reply announces (a 60 MB
//! value was read into memory, twice). The few commands the store needs are a page of code here.
//!
//! No secret goes to Redis: only the token record. The Redis URL's password never appears in a message.

use parking_lot::Mutex;
use std::io::{self, Read, Write};
use std::net::TcpStream;
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

use super::record::MAX_RECORD_BYTES;
use super::resp::{exchange, is_too_large, Bounded, Reply, TimedStream};
use super::{SharedStore, StoreResult};
use crate::error::{Error, ErrorKind, Result};
use crate::rt::clock::Deadline;
use crate::rt::inherited_fds::Unshared;
use crate::rt::lookup;
use crate::rt::sockets;

/// Deletes KEYS[1] only if it still holds ARGV[1].
const DELETE_IF_EQUAL: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

/// Where Redis is and how to log in, from the URL.
struct Target {
    place: Place,
    user: Option<Zeroizing<String>>,
    password: Option<Zeroizing<String>>,
    db: u32,
}

enum Place {
    Tcp {
        host: String,
        port: u16,
        tls: bool,
    },
    /// A Unix socket (`unix:///path`); refused when connecting on systems without them.
    Unix(PathBuf),
}

/// Each socket registered from its creation, before its connect, so that a child forked meanwhile does not keep
/// it open (`rt::sockets`).
enum Connection {
    Tcp(Unshared<TcpStream>),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, Unshared<TcpStream>>>),
    #[cfg(unix)]
    Unix(Unshared<UnixStream>),
}

impl Read for Connection {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Connection::Tcp(s) => s.read(buf),
            Connection::Tls(s) => s.read(buf),
            #[cfg(unix)]
            Connection::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Connection {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Connection::Tcp(s) => s.write(buf),
            Connection::Tls(s) => s.write(buf),
            #[cfg(unix)]
            Connection::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Connection::Tcp(s) => s.flush(),
            Connection::Tls(s) => s.flush(),
            #[cfg(unix)]
            Connection::Unix(s) => s.flush(),
        }
    }
}

/// The TCP socket under a TLS handshake.
impl TimedStream for Unshared<TcpStream> {
    fn set_timeouts(&self, t: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(t))
            .and(self.set_write_timeout(Some(t)))
    }
}

impl TimedStream for Connection {
    fn set_timeouts(&self, t: Duration) -> io::Result<()> {
        match self {
            Connection::Tcp(s) => s
                .set_read_timeout(Some(t))
                .and(s.set_write_timeout(Some(t))),
            Connection::Tls(s) => s
                .sock
                .set_read_timeout(Some(t))
                .and(s.sock.set_write_timeout(Some(t))),
            #[cfg(unix)]
            Connection::Unix(s) => s
                .set_read_timeout(Some(t))
                .and(s.set_write_timeout(Some(t))),
        }
    }
}

pub struct RedisStore {
    target: Target,
    /// For `rediss://`: the TLS settings, made once.
    tls: Option<Arc<rustls::ClientConfig>>,
    connection: Mutex<Option<Connection>>,
    /// This client's lock value.
    owner: String,
    shown: String,
}

fn config(message: String) -> Error {
    Error::new(ErrorKind::Config, message)
}

const URL_FORMS: &str =
    "expected redis://[[user]:password@]host[:port][/db], rediss://... (TLS) or unix:///path";

/// `%xx` escapes decoded, as in a URL's user-info.
fn percent_decoded(text: &str) -> Option<Zeroizing<String>> {
    let bytes = text.as_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out.to_vec()).ok().map(Zeroizing::new)
}

fn parse_url(url: &str) -> Result<Target> {
    let bad = |why: &str| config(format!("the Redis URL is not valid ({why}); {URL_FORMS}"));
    let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("no scheme"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme == "unix" || scheme == "redis+unix" {
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if !path.starts_with('/') {
            return Err(bad("a Unix socket path must be absolute"));
        }
        let db = match query.strip_prefix("db=") {
            Some(n) => n.parse().map_err(|_| bad("db must be a number"))?,
            None if query.is_empty() => 0,
            None => return Err(bad("the only query a Unix socket URL takes is db=N")),
        };
        return Ok(Target {
            place: Place::Unix(PathBuf::from(path)),
            user: None,
            password: None,
            db,
        });
    }
    let tls = match scheme.as_str() {
        "redis" => false,
        "rediss" => true,
        _ => return Err(bad("the scheme must be redis, rediss or unix")),
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(u) => {
            let (user, pass) = u.split_once(':').unwrap_or(("", u));
            let decode = |s: &str| percent_decoded(s).ok_or_else(|| bad("bad %-escape"));
            let user = (!user.is_empty()).then(|| decode(user)).transpose()?;
            let pass = (!pass.is_empty()).then(|| decode(pass)).transpose()?;
            (user, pass)
        }
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed ["))?;
        (h, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let port = match port {
        None | Some("") => 6379,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(bad(&format!("port {p:?} is not a port number"))),
        },
    };
    let db = match path.trim_end_matches('/') {
        "" => 0,
        n => n.parse().map_err(|_| bad("the path must be a db number"))?,
    };
    Ok(Target {
        place: Place::Tcp {
            host: host.to_owned(),
            port,
            tls,
        },
        user,
        password,
        db,
    })
}

impl RedisStore {
    /// Checks the URL (`redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS, or
    /// `unix:///path/to/socket`); connects only when first used. `tls_config` is what `rediss://` verifies and
    /// speaks with: the client's own HTTPS configuration, so Redis is trusted exactly as the API is.
    pub fn open(url: &str, tls_config: Arc<rustls::ClientConfig>) -> Result<RedisStore> {
        let target = parse_url(url)?;
        let (shown, tls) = match &target.place {
            Place::Tcp { host, port, tls } => {
                let host = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.clone()
                };
                let scheme = if *tls { " (TLS)" } else { "" };
                (
                    format!("Redis at {host}:{port}{scheme}"),
                    tls.then(|| tls_config.clone()),
                )
            }
            Place::Unix(path) => (format!("Redis at {}", path.display()), None),
        };
        let shown = match target.db {
            0 => shown,
            db => format!("{shown} db {db}"),
        };
        Ok(RedisStore {
            target,
            tls,
            connection: Mutex::new(None),
            owner: format!(
                "x8:{}:{:016x}{:016x}",
                std::process::id(),
                fastrand::u64(..),
                fastrand::u64(..)
            ),
            shown,
        })
    }

    /// A new connection, logged in and on the right db, by `deadline`.
    fn connect(&self, deadline: Instant) -> io::Result<Connection> {
        let mut connection = match &self.target.place {
            #[cfg(unix)]
            Place::Unix(path) => {
                let socket = sockets::unconnected_unix()?;
                let left = deadline.saturating_duration_since(Instant::now());
                sockets::connect(
                    socket2::SockRef::from(&*socket),
                    &socket2::SockAddr::unix(path)?,
                    Some(left),
                )?;
                Connection::Unix(socket)
            }
            #[cfg(not(unix))]
            Place::Unix(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "Unix sockets are not supported on this system; use redis:// or rediss://",
                ))
            }
            Place::Tcp { host, port, .. } => {
                let tcp = connect_tcp(host, *port, deadline)?;
                tcp.set_nodelay(true)?;
                match &self.tls {
                    None => Connection::Tcp(tcp),
                    Some(config) => {
                        Connection::Tls(Box::new(handshake(config.clone(), host, tcp, deadline)?))
                    }
                }
            }
        };
        let t = &self.target;
        if let Some(password) = &t.password {
            let mut args: Vec<&[u8]> = vec![b"AUTH"];
            if let Some(user) = &t.user {
                args.push(user.as_bytes());
            }
            args.push(password.as_bytes());
            exchange(&mut connection, &args, deadline, 0)?;
        }
        if t.db != 0 {
            let db = t.db.to_string();
            exchange(&mut connection, &[b"SELECT", db.as_bytes()], deadline, 0)?;
        }
        Ok(connection)
    }

    /// Sends one command on the connection, connecting first if needed; any error drops the connection. A
    /// connection kept from an earlier call that turns out to be dead (Redis restarted, a proxy closed it) is
    /// replaced and the command sent once more on a new one; a timeout is not retried.
    ///
    /// All of it by `deadline`: waiting for the connection (another call of this client may be using it), the
    /// connecting, and the exchange.
    fn command(&self, args: &[&[u8]], deadline: Deadline) -> io::Result<Reply> {
        let deadline = deadline.instant();
        let Some(mut slot) = self.connection.try_lock_until(deadline) else {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the Redis connection stayed busy with another call",
            ));
        };
        let reused = slot.is_some();
        match self.run(&mut slot, args, deadline) {
            Err(e) if reused && is_dead_connection(&e) => self.run(&mut slot, args, deadline),
            outcome => outcome,
        }
    }

    fn run(
        &self,
        slot: &mut Option<Connection>,
        args: &[&[u8]],
        deadline: Instant,
    ) -> io::Result<Reply> {
        let connection = match slot {
            Some(c) => c,
            None => slot.insert(self.connect(deadline)?),
        };
        let result = exchange(connection, args, deadline, MAX_RECORD_BYTES);
        if result.is_err() {
            // After a timeout a reply may still be on its way: never reuse such a connection.
            *slot = None;
        }
        result
    }

    fn lock_key(key: &str) -> String {
        format!("{key}:lock")
    }
}

/// A TCP connection to Redis's host by `deadline`: each address in turn, each with its share of the time
/// (`rt::sockets`, as the HTTPS transport connects).
fn connect_tcp(host: &str, port: u16, deadline: Instant) -> io::Result<Unshared<TcpStream>> {
    // Redis calls take no cancel: only the deadline bounds the lookup.
    let addrs = lookup::resolve(host, port, Some(deadline), None, lookup::system)?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host has no address");
    for (i, addr) in addrs.iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connecting to Redis took longer than the call's deadline",
            ));
        }
        let share = sockets::share_for_address(left, i + 1 == addrs.len());
        let socket = sockets::unconnected_tcp(addr)?;
        match sockets::connect(
            socket2::SockRef::from(&*socket),
            &(*addr).into(),
            Some(share),
        ) {
            Ok(()) => return Ok(socket),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// TLS over `tcp`, handshaken by `deadline` (each read and write of it bounded, as an exchange is), so that a
/// certificate Redis's host is not trusted for fails here, with a message that says so.
fn handshake(
    config: Arc<rustls::ClientConfig>,
    host: &str,
    mut tcp: Unshared<TcpStream>,
    deadline: Instant,
) -> io::Result<rustls::StreamOwned<rustls::ClientConnection, Unshared<TcpStream>>> {
    let name = rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut tls = rustls::ClientConnection::new(config, name).map_err(io::Error::other)?;
    while tls.is_handshaking() {
        tls.complete_io(&mut Bounded::new(&mut tcp, deadline))
            .map_err(tls_failure)?;
    }
    Ok(rustls::StreamOwned::new(tls, tcp))
}

/// A TLS failure in words a reader of the log can act on.
fn tls_failure(e: io::Error) -> io::Error {
    let kind = e.kind();
    match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(_)) => io::Error::new(
            kind,
            format!(
                "Redis's TLS certificate is not trusted ({e}): add its CA to the system's trust store or give it \
                 as the client's CA file (x8_options_set_ca_file, X8_CA_FILE)"
            ),
        ),
        Some(_) => io::Error::new(kind, format!("the TLS handshake with Redis failed ({e})")),
        None => e,
    }
}

fn is_dead_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}

fn millis(d: Duration) -> String {
    (d.as_millis().min(u128::from(u64::MAX)) as u64)
        .max(1)
        .to_string()
}

fn unexpected(reply: Reply) -> crate::store::StoreError {
    format!(
        "Redis gave an unexpected reply ({})",
        match reply {
            Reply::Nil => "nil",
            Reply::Status(_) => "a status",
            Reply::Int(_) => "an integer",
            Reply::Bulk(_) => "a value",
        }
    )
    .into()
}

impl SharedStore for RedisStore {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn load(&self, key: &str, deadline: Deadline) -> StoreResult<Option<Zeroizing<String>>> {
        match self.command(&[b"GET", key.as_bytes()], deadline) {
            // Left unread (the connection is dropped with it). Reported as a record that is not one, so that the
            // store's protocol warns and replaces it rather than every process fetching on its own forever.
            Err(e) if is_too_large(&e) => Ok(Some(Zeroizing::new(String::new()))),
            Err(e) => Err(e.into()),
            Ok(Reply::Nil) => Ok(None),
            Ok(Reply::Bulk(value)) => match std::str::from_utf8(&value) {
                Ok(text) => Ok(Some(Zeroizing::new(text.to_owned()))),
                // Not a record either: replaced like a corrupt one.
                Err(_) => Ok(Some(Zeroizing::new(String::new()))),
            },
            Ok(other) => Err(unexpected(other)),
        }
    }

    fn store(&self, key: &str, record: &str, ttl: Duration, deadline: Deadline) -> StoreResult<()> {
        let ms = millis(ttl);
        match self.command(
            &[
                b"SET",
                key.as_bytes(),
                record.as_bytes(),
                b"PX",
                ms.as_bytes(),
            ],
            deadline,
        )? {
            Reply::Status(_) => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    fn lock(&self, key: &str, ttl: Duration, deadline: Deadline) -> StoreResult<bool> {
        let ms = millis(ttl);
        let lock = Self::lock_key(key);
        match self.command(
            &[
                b"SET",
                lock.as_bytes(),
                self.owner.as_bytes(),
                b"NX",
                b"PX",
                ms.as_bytes(),
            ],
            deadline,
        )? {
            Reply::Status(_) => Ok(true),
            Reply::Nil => Ok(false),
            other => Err(unexpected(other)),
        }
    }

    fn unlock(&self, key: &str, deadline: Deadline) -> StoreResult<()> {
        let lock = Self::lock_key(key);
        match self.command(
            &[
                b"EVAL",
                DELETE_IF_EQUAL.as_bytes(),
                b"1",
                lock.as_bytes(),
                self.owner.as_bytes(),
            ],
            deadline,
        )? {
            Reply::Int(_) => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    fn remove(&self, key: &str, record: &str, deadline: Deadline) -> StoreResult<()> {
        match self.command(
            &[
                b"EVAL",
                DELETE_IF_EQUAL.as_bytes(),
                b"1",
                key.as_bytes(),
                record.as_bytes(),
            ],
            deadline,
        )? {
            Reply::Int(_) => Ok(()),
            other => Err(unexpected(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store whose TLS trusts nothing: these tests never get as far as a handshake.
    fn open(url: &str) -> Result<RedisStore> {
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
        RedisStore::open(url, Arc::new(config))
    }

    #[test]
    fn urls_are_checked_without_connecting_and_never_shown_with_their_password() {
        let store = open("redis://:hunter2@127.0.0.1:6399/3").unwrap();
        assert_eq!(store.describe(), "Redis at 127.0.0.1:6399 db 3");
        assert!(!format!("{:?}", &store as &dyn SharedStore).contains("hunter2"));
        for bad in [
            "http://127.0.0.1",
            "redis://",
            "nonsense",
            "redis://h:99999999",
            "redis://h:99999",
            "redis://h:abc",
            "redis://h/x",
            "unix://relative",
            "rediss://user:hunter2@h:abc",
        ] {
            let e = open(bad).err().unwrap();
            assert_eq!(e.kind(), ErrorKind::Config, "{bad}");
            assert!(!e.message().contains("hunter2"), "{}", e.message());
        }
        let tls = open("rediss://user:hunter%32@[::1]:6380").unwrap();
        assert_eq!(tls.describe(), "Redis at [::1]:6380 (TLS)");
        assert_eq!(
            tls.target.password.as_deref().map(|s| s.as_str()),
            Some("hunter2")
        );
        assert_eq!(tls.target.user.as_deref().map(|s| s.as_str()), Some("user"));
        let unix = open("unix:///run/redis.sock?db=2").unwrap();
        assert_eq!(unix.describe(), "Redis at /run/redis.sock db 2");
    }

    /// A Redis stand-in on 127.0.0.1 holding one value: reads each RESP command whole and answers GET with the
    /// value (nil before a SET), SET with OK (NX: nil), EVAL with 1.
    fn fake_redis() -> u16 {
        use std::io::BufRead;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (conn, _) = listener.accept().unwrap();
            let mut writer = conn.try_clone().unwrap();
            let mut reader = io::BufReader::new(conn);
            let mut value: Option<Vec<u8>> = None;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                let n: usize = line.trim()[1..].parse().unwrap();
                let mut args = Vec::new();
                for _ in 0..n {
                    line.clear();
                    reader.read_line(&mut line).unwrap();
                    let len: usize = line.trim()[1..].parse().unwrap();
                    let mut arg = vec![0; len + 2];
                    reader.read_exact(&mut arg).unwrap();
                    arg.truncate(len);
                    args.push(arg);
                }
                line.clear();
                let reply = match &args[0][..] {
                    b"GET" => match &value {
                        Some(v) => [format!("${}\r\n", v.len()).as_bytes(), v, b"\r\n"].concat(),
                        None => b"$-1\r\n".to_vec(),
                    },
                    b"SET" if args.iter().any(|a| a == b"NX") => b"$-1\r\n".to_vec(),
                    b"SET" => {
                        value = Some(args[2].clone());
                        b"+OK\r\n".to_vec()
                    }
                    _ => b":1\r\n".to_vec(),
                };
                writer.write_all(&reply).unwrap();
            }
        });
        port
    }

    /// The whole store over a TCP socket made by `rt::sockets` (run on Windows too, under Wine).
    #[test]
    fn a_record_goes_to_redis_and_comes_back() {
        let store = open(&format!("redis://127.0.0.1:{}", fake_redis())).unwrap();
        let d = || Deadline::after(Duration::from_secs(10));
        assert_eq!(store.load("x8:token:k", d()).unwrap(), None);
        store
            .store("x8:token:k", "a record", Duration::from_secs(60), d())
            .unwrap();
        assert_eq!(
            store
                .load("x8:token:k", d())
                .unwrap()
                .as_deref()
                .map(|s| s.as_str()),
            Some("a record")
        );
        assert!(!store
            .lock("x8:token:k", Duration::from_secs(1), d())
            .unwrap());
        store.unlock("x8:token:k", d()).unwrap();
        store.remove("x8:token:k", "a record", d()).unwrap();
    }

    #[test]
    fn a_redis_that_is_not_there_fails_fast() {
        // A port nothing listens on: refused at once; the call must not hang either way.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let store = open(&format!("redis://127.0.0.1:{port}")).unwrap();
        let started = std::time::Instant::now();
        let d = || Deadline::after(Duration::from_secs(1));
        assert!(store.load("x8:token:k", d()).is_err());
        assert!(store
            .lock("x8:token:k", Duration::from_secs(1), d())
            .is_err());
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
