//! The Windows implementations of `rt::os`, over kernel32 and ws2_32 (both linked by Rust's standard library).

use std::net::TcpStream;
use std::os::windows::io::AsRawSocket;

#[link(name = "kernel32")]
extern "system" {
    fn GetTickCount64() -> u64;
}

#[repr(C)]
struct WsaPollFd {
    fd: usize,
    events: i16,
    revents: i16,
}
const POLLRDNORM: i16 = 0x0100;

#[link(name = "ws2_32")]
extern "system" {
    fn WSAPoll(fds: *mut WsaPollFd, nfds: u32, timeout: i32) -> i32;
}

/// Milliseconds since boot from GetTickCount64, which keeps counting while the machine sleeps or hibernates
/// (QueryUnbiasedInterruptTime does not) and costs a few ns. Its resolution is the timer tick, 10–16 ms: plenty
/// for refresh margins of seconds to minutes.
#[inline]
pub fn monotonic_ms() -> u64 {
    // SAFETY: no arguments, no preconditions.
    unsafe { GetTickCount64() }
}

/// Windows has no fork(): a process starts from its executable, never from a copy of another's memory, so
/// there is nothing to detect and no handler to register.
pub fn register_fork_handlers(
    _prepare: extern "C" fn(),
    _parent: extern "C" fn(),
    _child: extern "C" fn(),
) {
}

/// True when nothing is pending on the socket and the peer has not closed it: WSAPoll with a zero timeout, which
/// reports a pending byte, an end of stream and an error all as readable, and leaves the socket's mode alone.
pub fn socket_is_idle(stream: &TcpStream) -> bool {
    let mut fd = WsaPollFd {
        fd: stream.as_raw_socket() as usize,
        events: POLLRDNORM,
        revents: 0,
    };
    // SAFETY: one valid WSAPOLLFD for a socket that `stream` keeps open during the call; timeout 0 never blocks.
    let n = unsafe { WSAPoll(&mut fd, 1, 0) };
    n == 0
}
