//! The TCP layer under ureq's connection pool, in place of ureq's own `TcpConnector`, for one reason: the system
//! calls a kept-alive request pays. ureq probes a pooled socket twice per request (when it goes back to the pool
//! and when it is taken out), each time with fcntl(nonblocking) + read + fcntl(blocking), and it re-sets
//! SO_SNDTIMEO and SO_RCVTIMEO whenever the remaining time budget changes, which is on every request. That was 8
//! of the 10 system calls x8 made per keep-alive GET (strace, BENCHMARKS.md), and system calls are most of a
//! loopback GET's CPU. Here the probe is a single `recv(MSG_PEEK | MSG_DONTWAIT)` and a socket timeout is only
//! re-set when it moves by a whole `TIMEOUT_STEP`. ureq keeps its socket type private, so the transport is ours;
//! it mirrors ureq's semantics (per-address connect budgets, EINTR, timeouts reported as ureq's).

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use ureq::unversioned::resolver::ResolvedSocketAddrs;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, ShutdownHandle,
    Transport,
};
use ureq::Timeout;

use crate::rt::inherited_fds::Unshared;
use crate::rt::sockets;

/// Socket timeouts are rounded up to this step, so that a budget which shrank by a few microseconds since the
/// last request does not cost a setsockopt. Up, not down: a timeout may fire a little late, as every timer
/// does, but never before the caller's deadline (a Go context checks that its deadline has passed).
const TIMEOUT_STEP: Duration = Duration::from_millis(10);

/// ureq probes a connection when it goes back to the pool and again when it is taken out. A connection taken
/// again within this time of a probe that found it open is not probed twice: the server closing it in that
/// window is the same race as it closing just after a probe (and far shorter than the round trip a request
/// takes to reach the server, which that race always had).
const PROBE_STILL_FRESH: Duration = Duration::from_millis(1);

#[derive(Debug, Default)]
pub struct TcpConnector;

impl<In: Transport> Connector<In> for TcpConnector {
    type Out = Either<In, TcpTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        if let Some(earlier) = chained {
            // A connector before us (a CONNECT proxy) already made the connection.
            return Ok(Some(Either::A(earlier)));
        }
        super::cancel::check()?;
        let stream = connect_any(&details.addrs, details.timeout)?;
        if details.config.no_delay() {
            stream.set_nodelay(true)?;
        }
        // ureq's Agent::shutdown gets a weak handle to the very socket the transport uses, not a second
        // descriptor of it (try_clone): one descriptor per pooled connection, not two (10,000 clients with a
        // pooled socket each ran into RLIMIT_NOFILE at 20,000, issue 15). The handle upgrades only while the
        // transport holds the socket, so it can never shut down a descriptor number closed and reused since.
        // (A call's cancel holds a strong one, but only until the call returns: see cancel.rs.)
        // The socket was registered when it was made (new_socket), so a child forked meanwhile does not keep
        // the connection open (rt::inherited_fds).
        (details.register_shutdown)(Arc::downgrade(&stream) as Weak<dyn ShutdownHandle>)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TcpTransport {
            stream,
            buffers,
            read_timeout: None,
            write_timeout: None,
            found_open: None,
            answered_before: false,
            read_since_write: false,
        })))
    }
}

/// Tries each resolved address in turn. Every address but the last gets half of the time left (at least
/// `sockets::MIN_CONNECT_PER_ADDRESS`), so a host whose first address blackholes still reaches its second. The call's
/// cancel watches each socket from before its connect: on Linux a shutdown aborts a connect in progress (other
/// systems finish or time out the connect first).
fn connect_any(
    addrs: &ResolvedSocketAddrs,
    timeout: NextTimeout,
) -> Result<Arc<SharedSocket>, ureq::Error> {
    let started = Instant::now();
    let budget = timeout.not_zero().map(|d| *d);
    let mut last_error = None;
    for (i, addr) in addrs.iter().enumerate() {
        let last = i + 1 == addrs.len();
        let share = match budget {
            None => None,
            Some(budget) => {
                let left = budget.saturating_sub(started.elapsed());
                if left.is_zero() {
                    return Err(ureq::Error::Timeout(timeout.reason));
                }
                Some(sockets::share_for_address(left, last))
            }
        };
        let socket = new_socket(addr)?;
        super::cancel::watch(&socket)?;
        let attempt = sockets::connect(
            socket2::SockRef::from(&*socket.stream),
            &(*addr).into(),
            share,
        );
        match attempt {
            Ok(()) => return Ok(socket),
            Err(e) if is_timeout(&e) => {
                last_error = Some(ureq::Error::Timeout(if last {
                    timeout.reason
                } else {
                    Timeout::Connect
                }))
            }
            Err(e) if concerns_only(&e) => last_error = Some(ureq::Error::Io(e)),
            Err(e) => return Err(ureq::Error::Io(e)),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        ureq::Error::Io(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "no address to connect to",
        ))
    }))
}

/// A TCP socket for `addr`, not yet connected (`rt::sockets`: registered from its creation, so even a fork during
/// the connect leaves the child without it). Not `TcpStream::connect_timeout`, which hides the socket until it
/// is connected: a cancel could not reach it.
fn new_socket(addr: &std::net::SocketAddr) -> io::Result<Arc<SharedSocket>> {
    Ok(Arc::new(SharedSocket {
        stream: sockets::unconnected_tcp(addr)?,
        killed: AtomicBool::new(false),
    }))
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// Failures after which the host's next address may still work (refused, or no route for that address family).
fn concerns_only(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::NetworkDown
            | io::ErrorKind::AddrNotAvailable
    )
}

/// The socket as other threads see it: shut down from there to interrupt I/O blocked on it.
#[derive(Debug)]
pub struct SharedSocket {
    /// Registered from its creation: a forked child holds none of the parent's sockets (rt::inherited_fds).
    stream: Unshared<TcpStream>,
    /// Shut down by a cancel: never to be reused.
    killed: AtomicBool,
}

impl SharedSocket {
    /// Shuts the socket down for good (a cancelled call's): the blocked read or write returns, and the pool's
    /// probe refuses the connection even if ureq had already put it back.
    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

impl std::ops::Deref for SharedSocket {
    type Target = TcpStream;

    fn deref(&self) -> &TcpStream {
        &self.stream
    }
}

impl ShutdownHandle for SharedSocket {
    fn shutdown(&self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

pub struct TcpTransport {
    /// Shared only with the shutdown handle registered with the agent (a `Weak`) and, during a call, with that
    /// call's cancel (see cancel.rs).
    stream: Arc<SharedSocket>,
    buffers: LazyBuffers,
    /// What SO_RCVTIMEO / SO_SNDTIMEO are set to now, so that an unchanged value is not set again.
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// When a probe last found the connection open, if nothing was sent or received since.
    found_open: Option<Instant>,
    /// Whether the server ever sent a byte on this connection: then a request on it is on a reused connection.
    answered_before: bool,
    /// Whether anything arrived since the last request bytes went out.
    read_since_write: bool,
}

/// The mark on an error that a reused connection turned out dead before it carried any byte of a reply (the
/// server closed it while idle, as load balancers with short keep-alive timeouts do, and the probe did not see
/// it in time): the request never reached an application, so an idempotent one may be sent again on a fresh
/// connection.
#[derive(Debug)]
pub struct StaleConnection;

impl std::fmt::Display for StaleConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the server had closed the reused connection before the request reached it")
    }
}

impl std::error::Error for StaleConnection {}

/// Whether `e` carries the [`StaleConnection`] mark.
pub fn is_stale_connection(e: &ureq::Error) -> bool {
    matches!(e, ureq::Error::Io(io) if io.get_ref().is_some_and(|inner| inner.is::<StaleConnection>()))
}

/// A closed or reset socket: what a request on a connection the server already closed runs into.
fn is_closed(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof
    )
}

impl std::fmt::Debug for TcpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpTransport")
            .field("peer", &self.stream.peer_addr().ok())
            .finish()
    }
}

/// The socket timeout for what is left of a budget: rounded up to a `TIMEOUT_STEP`, never zero (which would
/// mean "no timeout" to the kernel). `None` is no timeout at all.
fn socket_timeout(timeout: NextTimeout) -> Option<Duration> {
    let left = *timeout.not_zero()?;
    if left <= TIMEOUT_STEP * 2 {
        return Some(left.max(Duration::from_micros(1)));
    }
    let step = TIMEOUT_STEP.as_nanos();
    let rounded = left.as_nanos().div_ceil(step) * step;
    Some(Duration::from_nanos(rounded.min(u64::MAX as u128) as u64))
}

fn set_if_changed(
    current: &mut Option<Duration>,
    wanted: Option<Duration>,
    set: impl FnOnce(Option<Duration>) -> io::Result<()>,
) -> io::Result<()> {
    if *current != wanted {
        set(wanted)?;
        *current = wanted;
    }
    Ok(())
}

fn io_error(e: io::Error, reason: Timeout) -> ureq::Error {
    if is_timeout(&e) {
        ureq::Error::Timeout(reason)
    } else {
        ureq::Error::Io(e)
    }
}

impl Transport for TcpTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = self.begin_io(timeout.for_write(), Direction::Write)?;
        self.read_since_write = false;
        let sent = (&*self.stream.stream).write_all(&self.buffers.output()[..amount]);
        // The request head carried the Authorization header (the token, or the Basic credentials) and a token
        // request's body the form: the buffer is reused for the next request but not wiped by ureq, and the
        // pooled connection may sit idle for long. A memset of a few hundred bytes per request.
        zeroize::Zeroize::zeroize(&mut self.buffers.output()[..amount]);
        sent.map_err(|e| self.io_failure(e, timeout.reason))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = self.begin_io(timeout.for_read(), Direction::Read)?;
        let started = Instant::now();
        let input = self.buffers.input_append_buf();
        let amount = loop {
            match (&*self.stream.stream).read(input) {
                // Linux does not restart a socket read that has SO_RCVTIMEO after a signal: go on with what is
                // left of the budget (no budget: the caller asked to be interruptible).
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    let Some(total) = timeout.not_zero().map(|d| *d) else {
                        return Err(ureq::Error::Io(e));
                    };
                    let left = total.saturating_sub(started.elapsed());
                    if left.is_zero() {
                        return Err(ureq::Error::Timeout(timeout.reason));
                    }
                    self.stream.set_read_timeout(Some(left))?;
                    self.read_timeout = Some(left);
                }
                Err(e) => return Err(self.io_failure(e, timeout.reason)),
                Ok(0) if self.is_stale() => {
                    return Err(ureq::Error::Io(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        StaleConnection,
                    )))
                }
                Ok(n) => break n,
            }
        };
        if amount > 0 {
            self.answered_before = true;
            self.read_since_write = true;
        }
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    /// Whether a pooled connection can carry another request: nothing is waiting to be read (bytes would mean
    /// the server sent more than the last response, or closed). One non-blocking peek, no mode changes.
    fn is_open(&mut self) -> bool {
        if self.stream.killed.load(Ordering::SeqCst) {
            return false;
        }
        if self
            .found_open
            .is_some_and(|at| at.elapsed() < PROBE_STILL_FRESH)
        {
            return true;
        }
        let open = self.probe();
        self.found_open = open.then(Instant::now);
        open
    }
}

#[derive(Clone, Copy)]
enum Direction {
    Read,
    Write,
}

impl TcpTransport {
    /// A request is under way on a connection that carried an earlier reply, and nothing of this one's reply
    /// has arrived.
    fn is_stale(&self) -> bool {
        self.answered_before && !self.read_since_write
    }

    /// `e` as ureq's error, marked [`StaleConnection`] when a reused connection turned out closed before any
    /// byte of the reply came.
    fn io_failure(&self, e: io::Error, reason: Timeout) -> ureq::Error {
        if self.is_stale() && is_closed(&e) {
            return ureq::Error::Io(io::Error::new(e.kind(), StaleConnection));
        }
        io_error(e, reason)
    }

    /// Before a read or write: a spent budget fails now (the kernel takes a zero timeout as none), the last
    /// probe no longer speaks for the connection, and the socket's timeout follows what is left of the budget.
    fn begin_io(
        &mut self,
        timeout: NextTimeout,
        direction: Direction,
    ) -> Result<NextTimeout, ureq::Error> {
        if timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        super::cancel::watch(&self.stream)?;
        self.found_open = None;
        let stream = &self.stream;
        let wanted = socket_timeout(timeout);
        match direction {
            Direction::Read => set_if_changed(&mut self.read_timeout, wanted, |t| {
                stream.set_read_timeout(t)
            }),
            Direction::Write => set_if_changed(&mut self.write_timeout, wanted, |t| {
                stream.set_write_timeout(t)
            }),
        }?;
        Ok(timeout)
    }

    fn probe(&self) -> bool {
        // One non-blocking peek that leaves the socket's flags alone (the shutdown handle shares them).
        crate::rt::os::socket_is_idle(&self.stream)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn budget(d: Duration) -> NextTimeout {
        NextTimeout {
            after: d.into(),
            reason: Timeout::Global,
            per_read: None,
            per_write: None,
        }
    }

    #[test]
    fn socket_timeouts_move_in_steps_and_never_reach_zero() {
        let t = |ms| socket_timeout(budget(Duration::from_micros(ms)));
        assert_eq!(t(29_999_950), Some(Duration::from_millis(30_000)));
        assert_eq!(t(29_990_001), Some(Duration::from_millis(30_000)));
        assert_eq!(t(29_990_000), Some(Duration::from_millis(29_990)));
        assert_eq!(t(29_989_999), Some(Duration::from_millis(29_990)));
        // Short budgets are kept exactly: rounding 15 ms up to 20 would add a third to it.
        assert_eq!(t(15_000), Some(Duration::from_millis(15)));
        assert_eq!(t(1), Some(Duration::from_micros(1)));
        assert_eq!(socket_timeout(NextTimeout::default()), None);
    }

    /// A connected pair: our transport on one end, the raw server socket on the other.
    fn pair() -> (TcpTransport, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let transport = TcpTransport {
            stream: Arc::new(SharedSocket {
                stream: Unshared::register(stream),
                killed: AtomicBool::new(false),
            }),
            buffers: LazyBuffers::new(1024, 1024),
            read_timeout: None,
            write_timeout: None,
            found_open: None,
            answered_before: false,
            read_since_write: false,
        };
        (transport, server)
    }

    #[test]
    fn an_idle_connection_is_open_and_stays_blocking() {
        let (mut transport, mut server) = pair();
        assert!(transport.is_open());
        assert!(transport.is_open(), "the probe must not consume anything");
        // The probe left the socket blocking: a read with a timeout waits for the server's bytes.
        server.write_all(b"hello").unwrap();
        assert!(transport
            .await_input(budget(Duration::from_secs(10)))
            .unwrap());
        assert_eq!(transport.buffers.input(), b"hello");
    }

    #[test]
    fn unexpected_bytes_or_a_close_make_a_connection_unusable() {
        let (transport, mut server) = pair();
        server.write_all(b"x").unwrap();
        // The byte travels over loopback; wait for it rather than for a fixed time.
        while transport.probe() {
            std::thread::yield_now();
        }
        let (closed, server) = pair();
        drop(server);
        while closed.probe() {
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_probe_is_reused_only_until_the_next_io() {
        let (mut transport, mut server) = pair();
        assert!(transport.is_open());
        assert!(transport.found_open.is_some());
        server.write_all(b"x").unwrap();
        while transport.probe() {
            std::thread::yield_now();
        }
        // Reading is I/O: after it, the connection is probed afresh.
        transport
            .await_input(budget(Duration::from_secs(10)))
            .unwrap();
        assert!(transport.found_open.is_none());
        server.write_all(b"y").unwrap();
        while transport.probe() {
            std::thread::yield_now();
        }
        assert!(!transport.is_open());
    }

    #[test]
    fn a_silent_server_times_out_with_the_budgets_reason_never_before_the_deadline() {
        let (mut transport, _server) = pair();
        let started = Instant::now();
        let err = transport
            .await_input(budget(Duration::from_millis(95)))
            .unwrap_err();
        assert!(
            matches!(err, ureq::Error::Timeout(Timeout::Global)),
            "{err:?}"
        );
        // Rounding the socket timeout must not make it fire before the budget is spent.
        assert!(started.elapsed() >= Duration::from_millis(95));
    }

    #[test]
    fn the_socket_timeout_is_set_once_for_a_budget_that_barely_moved() {
        let (mut transport, mut server) = pair();
        server.write_all(b"ab").unwrap();
        transport
            .await_input(budget(Duration::from_micros(29_999_900)))
            .unwrap();
        let first = transport.read_timeout;
        transport
            .buffers
            .input_consume(transport.buffers.input().len());
        server.write_all(b"c").unwrap();
        transport
            .await_input(budget(Duration::from_micros(29_999_100)))
            .unwrap();
        assert_eq!(first, Some(Duration::from_millis(30_000)));
        assert_eq!(transport.read_timeout, first);
    }

    fn no_addresses() -> ResolvedSocketAddrs {
        use ureq::unversioned::resolver::{DefaultResolver, Resolver};
        DefaultResolver::default().empty()
    }

    #[test]
    fn refused_addresses_are_skipped_for_the_next_one() {
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let refused = closed.local_addr().unwrap();
        drop(closed);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut addrs = no_addresses();
        addrs.push(refused);
        addrs.push(listener.local_addr().unwrap());
        let stream = connect_any(&addrs, budget(Duration::from_secs(10))).unwrap();
        assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());

        let mut only_refused = no_addresses();
        only_refused.push(refused);
        let err = connect_any(&only_refused, budget(Duration::from_secs(10))).unwrap_err();
        assert!(
            matches!(&err, ureq::Error::Io(e) if e.kind() == io::ErrorKind::ConnectionRefused),
            "{err:?}"
        );
    }
}
