//! Reaching the sockets tiny_http keeps to itself, to drop a connection without a reply and to
//! close every connection when the emulator stops.

use std::net::SocketAddr;

/// Shuts down (both ways) the server's accepted connections to `peer`, or all of them when
/// `peer` is None; returns how many. The client then reads end-of-stream, as from a gateway
/// that dropped it.
///
/// tiny_http never hands out its sockets, so they are found among the process's open
/// descriptors by their addresses: an accepted connection's local address is the listening one.
#[cfg(unix)]
pub(crate) fn shutdown(server: SocketAddr, peer: Option<SocketAddr>) -> usize {
    use std::net::{Shutdown, TcpStream};
    use std::os::fd::BorrowedFd;

    let Ok(fds) = std::fs::read_dir("/dev/fd") else {
        return 0;
    };
    let numbers: Vec<i32> = fds
        .flatten()
        .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
        .collect();
    let mut done = 0;
    for fd in numbers {
        // SAFETY: the descriptor was listed as open a moment ago and is only duplicated; the
        // duplicate (closed on drop) is acted on only if it is a TCP socket with the server's
        // address on one end and the wanted peer on the other. If another thread closed the
        // number meanwhile, dup fails or yields some other descriptor, which the checks reject.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let Ok(owned) = borrowed.try_clone_to_owned() else {
            continue;
        };
        let stream = TcpStream::from(owned);
        if stream.local_addr().ok() != Some(server) {
            continue;
        }
        // The listening socket shares the address but has no peer.
        let Ok(other_end) = stream.peer_addr() else {
            continue;
        };
        if peer.is_none_or(|p| p == other_end) && stream.shutdown(Shutdown::Both).is_ok() {
            done += 1;
        }
    }
    done
}

/// Elsewhere a dropped connection just gets no answer until the client's own timeout, which
/// still exercises that path.
#[cfg(not(unix))]
pub(crate) fn shutdown(_server: SocketAddr, _peer: Option<SocketAddr>) -> usize {
    0
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Read;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn shuts_down_only_the_named_connection() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = listener.local_addr().unwrap();
        let mut a = TcpStream::connect(server).unwrap();
        let b = TcpStream::connect(server).unwrap();
        let (_a_end, a_peer) = listener.accept().unwrap();
        let (_b_end, _) = listener.accept().unwrap();
        assert_eq!(super::shutdown(server, Some(a_peer)), 1);
        let mut buf = [0u8; 1];
        assert_eq!(a.read(&mut buf).unwrap(), 0);
        b.set_nonblocking(true).unwrap();
        assert_eq!(
            (&b).read(&mut buf).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock
        );
        assert_eq!(super::shutdown(server, None), 1 + 1);
    }
}
