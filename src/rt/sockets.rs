//! Sockets as x8 makes them, for the HTTPS transport and the Redis store alike: created (socket2) under the
//! inherited-descriptor registry's lock and registered before their connect, so a child forked at any moment,
//! even while a connect is under way in another thread, holds `/dev/null` in their place (`inherited_fds`);
//! and connected with a bound, one address at a time, each given a share of the caller's time.
//!
//! std's `TcpStream::connect_timeout` and `UnixStream::connect` hide the socket until it is connected: a fork
//! during a connect that hangs (a full listen queue, a blackholed address) left the child a live socket to the
//! server. (And std's Unix connect has no timeout at all: a Redis socket whose listen queue is full held a call
//! past its deadline.)

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use socket2::{Domain, SockAddr, SockRef, Socket, Type};

use super::inherited_fds::Unshared;

/// The least time one address of a multi-address host is given to connect.
pub const MIN_CONNECT_PER_ADDRESS: Duration = Duration::from_millis(10);

/// A TCP socket for `addr`, not yet connected, registered from its creation. Close-on-exec (Unix) and not
/// inheritable (Windows), as std's sockets: socket2 sets both, with the calls each system has (macOS has no
/// `SOCK_CLOEXEC`; socket2 sets `FD_CLOEXEC` there, still under the registry's lock).
pub fn unconnected_tcp(addr: &SocketAddr) -> io::Result<Unshared<TcpStream>> {
    Unshared::open(|| {
        Socket::new(
            Domain::for_address(*addr),
            Type::STREAM,
            Some(socket2::Protocol::TCP),
        )
        .map(TcpStream::from)
    })
}

/// A Unix stream socket, not yet connected, registered from its creation (close-on-exec).
#[cfg(unix)]
pub fn unconnected_unix() -> io::Result<Unshared<std::os::unix::net::UnixStream>> {
    Unshared::open(|| {
        Socket::new(Domain::UNIX, Type::STREAM, None)
            .map(|s| std::os::unix::net::UnixStream::from(std::os::fd::OwnedFd::from(s)))
    })
}

/// Connects a socket from `unconnected_*` to `addr`, waiting at most `within` (`None`: as long as the system
/// lets a connect take). The socket is left blocking either way.
pub fn connect(socket: SockRef<'_>, addr: &SockAddr, within: Option<Duration>) -> io::Result<()> {
    match within {
        None => socket.connect(addr),
        Some(within) => socket.connect_timeout(addr, within.max(Duration::from_millis(1))),
    }
}

/// How much of the `left` time one address gets: every address but the last half of it (at least
/// `MIN_CONNECT_PER_ADDRESS`), so a host whose first address blackholes still reaches its second.
pub fn share_for_address(left: Duration, last: bool) -> Duration {
    let share = if last { left } else { left / 2 };
    share.max(MIN_CONNECT_PER_ADDRESS).min(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_share_the_time_left_and_the_last_gets_all_of_it() {
        let s = Duration::from_secs;
        assert_eq!(share_for_address(s(2), false), s(1));
        assert_eq!(share_for_address(s(2), true), s(2));
        let ms = Duration::from_millis;
        assert_eq!(share_for_address(ms(12), false), ms(10));
        assert_eq!(share_for_address(ms(4), false), ms(4));
    }

    #[test]
    fn a_tcp_socket_connects_within_its_share() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let socket = unconnected_tcp(&addr).unwrap();
        connect(
            SockRef::from(&*socket),
            &addr.into(),
            Some(Duration::from_secs(10)),
        )
        .unwrap();
        assert_eq!(socket.peer_addr().unwrap(), addr);
    }

    /// Registered before they connect: that is what keeps a child forked during the connect from holding them.
    #[cfg(unix)]
    #[test]
    fn sockets_are_registered_before_their_connect() {
        use super::super::inherited_fds::is_registered;
        use std::os::fd::AsRawFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let tcp = unconnected_tcp(&listener.local_addr().unwrap()).unwrap();
        assert!(is_registered(tcp.as_raw_fd()));
        let unix = unconnected_unix().unwrap();
        assert!(is_registered(unix.as_raw_fd()));
        // And a Unix socket connects within its bound, too.
        let dir = std::env::temp_dir().join(format!("x8-sockets-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("s");
        let _server = std::os::unix::net::UnixListener::bind(&path).unwrap();
        connect(
            SockRef::from(&*unix),
            &SockAddr::unix(&path).unwrap(),
            Some(Duration::from_secs(10)),
        )
        .unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
