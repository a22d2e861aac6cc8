//! What differs between operating systems, each a small function with one implementation per OS family
//! (`unix.rs`, `windows.rs`), so the layers above stay free of `cfg`s:
//! - `monotonic_ms`: a cheap monotonic clock that keeps counting while the machine is suspended, so a token
//!   that expired during a suspend is not served as fresh after resume;
//! - `register_fork_handlers`: fork detection (`pthread_atfork`); Windows has no fork(), so nothing to detect;
//! - `socket_is_idle`: whether a pooled TCP connection can be reused (no bytes pending, not closed), without
//!   blocking and without changing the socket's flags.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_ms_counts_in_milliseconds() {
        let first = monotonic_ms();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let elapsed = monotonic_ms() - first;
        // At least the sleep (less the clock's resolution: 16 ms on Windows), and not wildly more.
        assert!((30..5_000).contains(&elapsed), "{elapsed} ms");
    }

    #[test]
    fn a_socket_with_nothing_pending_is_idle_and_one_with_data_or_closed_is_not() {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        assert!(socket_is_idle(&client));
        server.write_all(b"x").unwrap();
        // The byte arrives asynchronously: wait for it by blocking on a peek, not by sleeping.
        client.peek(&mut [0u8; 1]).unwrap();
        assert!(!socket_is_idle(&client));
        let other = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server2, _) = listener.accept().unwrap();
        drop(server2);
        // The close arrives asynchronously too: a blocking peek returns 0 once it has.
        assert_eq!(other.peek(&mut [0u8; 1]).unwrap(), 0);
        assert!(!socket_is_idle(&other));
    }
}
