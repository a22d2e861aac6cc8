//! The Unix implementations of `rt::os` (Linux, macOS and the other Unixes).

use std::net::TcpStream;
use std::os::fd::AsRawFd;

/// Milliseconds on a monotonic clock that counts through suspend. Linux: CLOCK_BOOTTIME (CLOCK_MONOTONIC stops
/// while suspended, so a token that expired during a suspend would be served as fresh after resume). It costs
/// ~23 ns through the vDSO here, against ~3 ns for CLOCK_MONOTONIC_COARSE, which has no suspend-counting
/// twin. macOS: CLOCK_MONOTONIC, which counts through sleep there (mach_continuous_time).
#[inline]
pub fn monotonic_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; clock_gettime only writes to it.
    let rc = unsafe { libc::clock_gettime(CLOCK, &mut ts) };
    if rc != 0 {
        // Only a kernel older than 2.6.39 lacks CLOCK_BOOTTIME; fall back to the monotonic clock rather than lie.
        // SAFETY: as above.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    }
    (ts.tv_sec as u64) * 1000 + (ts.tv_nsec as u64) / 1_000_000
}

#[cfg(any(target_os = "linux", target_os = "android"))]
const CLOCK: libc::clockid_t = libc::CLOCK_BOOTTIME;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC;

/// Registers fork handlers: `prepare` runs in the parent just before fork(), `parent` in the parent and
/// `child` in the child after it.
pub fn register_fork_handlers(
    prepare: extern "C" fn(),
    parent: extern "C" fn(),
    child: extern "C" fn(),
) {
    // SAFETY: the handlers are plain functions that live for the whole program, with the signature
    // pthread_atfork expects.
    unsafe { libc::pthread_atfork(Some(prepare), Some(parent), Some(child)) };
}

/// True when nothing is pending on the socket and the peer has not closed it: a single
/// `recv(MSG_PEEK | MSG_DONTWAIT)`, which leaves the data and the descriptor's flags alone.
pub fn socket_is_idle(stream: &TcpStream) -> bool {
    let mut byte = 0u8;
    loop {
        // SAFETY: the descriptor belongs to `stream`, alive for the whole call; the buffer is one writable byte;
        // MSG_PEEK leaves the socket's data and MSG_DONTWAIT makes the call non-blocking without touching the
        // descriptor's flags, which other handles of the same socket share.
        let n = unsafe {
            libc::recv(
                stream.as_raw_fd(),
                (&mut byte as *mut u8).cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        if n >= 0 {
            // 0: the server closed; more: bytes nobody asked for. Neither connection can be reused.
            return false;
        }
        match std::io::Error::last_os_error().kind() {
            std::io::ErrorKind::WouldBlock => return true,
            std::io::ErrorKind::Interrupted => continue,
            _ => return false,
        }
    }
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    #[test]
    fn the_clock_is_boottime_which_counts_through_suspend() {
        let mut boot = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: a valid, writable timespec.
        assert_eq!(
            unsafe { libc::clock_gettime(libc::CLOCK_BOOTTIME, &mut boot) },
            0
        );
        let ours = super::monotonic_ms();
        let boot_ms = (boot.tv_sec as u64) * 1000 + (boot.tv_nsec as u64) / 1_000_000;
        // Read one after the other: equal to within the time between the two reads.
        assert!(
            ours >= boot_ms && ours - boot_ms < 1_000,
            "ours {ours}, CLOCK_BOOTTIME {boot_ms}"
        );
        assert_eq!(super::CLOCK, libc::CLOCK_BOOTTIME);
    }
}
