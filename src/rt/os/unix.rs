//! The Unix implementations of `rt::os` (Linux, macOS and the other Unixes).

use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Milliseconds on a monotonic clock that counts through suspend, cheap enough for every cache hit.
///
/// Linux: CLOCK_BOOTTIME's meaning at CLOCK_MONOTONIC_COARSE's price. CLOCK_MONOTONIC stops while the machine is
/// suspended, so a token that expired during a suspend would be served as fresh after resume; CLOCK_BOOTTIME
/// counts on, but has no coarse twin and costs ~23 ns through the vDSO here, twice the whole cached hit. So the
/// hit reads the two coarse clocks (~3 ns each) and adds the time spent suspended, which is measured again
/// (CLOCK_BOOTTIME − CLOCK_MONOTONIC) only when the wall clock has moved against the monotonic one — what a
/// resume does (and an NTP step, which costs one more measurement and nothing else).
///
/// macOS: CLOCK_MONOTONIC, which counts through sleep there (mach_continuous_time).
#[cfg(any(target_os = "linux", target_os = "android"))]
#[inline]
pub fn monotonic_ms() -> u64 {
    static CLOCK: SuspendAwareClock = SuspendAwareClock::new();
    CLOCK.now(
        read_ms(libc::CLOCK_MONOTONIC_COARSE),
        read_ms(libc::CLOCK_REALTIME_COARSE),
        || read_ms(libc::CLOCK_BOOTTIME) - read_ms(libc::CLOCK_MONOTONIC),
    )
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[inline]
pub fn monotonic_ms() -> u64 {
    read_ms(libc::CLOCK_MONOTONIC).max(0) as u64
}

/// A clock's reading in milliseconds.
#[inline]
// time_t and c_long are 32 bits on some targets: the casts are not no-ops everywhere.
#[allow(clippy::unnecessary_cast)]
fn read_ms(clock: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; clock_gettime only writes to it.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        // Every clock named here is in Linux since 2.6.39 and in macOS; fall back to the monotonic clock
        // rather than lie.
        // SAFETY: as above.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    }
    (ts.tv_sec as i64) * 1000 + (ts.tv_nsec as i64) / 1_000_000
}

/// The monotonic clock plus the time spent suspended (see `monotonic_ms`).
#[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
pub(crate) struct SuspendAwareClock {
    /// Milliseconds spent suspended since boot, as last measured; only ever raised.
    suspended_ms: AtomicU64,
    /// Wall minus monotonic at that measurement; `i64::MIN` before the first.
    wall_minus_mono: AtomicI64,
}

/// How far the wall clock may move against the monotonic one before the suspended time is measured again:
/// far above NTP's slewing (at most 0.5 ms a second) between two hits, far below any suspend worth noticing.
const DRIFT_MS: i64 = 200;

#[cfg_attr(not(any(target_os = "linux", target_os = "android")), allow(dead_code))]
impl SuspendAwareClock {
    pub(crate) const fn new() -> SuspendAwareClock {
        SuspendAwareClock {
            suspended_ms: AtomicU64::new(0),
            wall_minus_mono: AtomicI64::new(i64::MIN),
        }
    }

    /// The time from readings of the coarse monotonic and wall clocks; `suspended` measures the time spent
    /// suspended (boot-time minus monotonic), called only when the wall clock moved against the monotonic one.
    #[inline]
    pub(crate) fn now(&self, mono: i64, wall: i64, suspended: impl FnOnce() -> i64) -> u64 {
        let delta = wall.wrapping_sub(mono);
        let last = self.wall_minus_mono.load(Ordering::Acquire);
        if last == i64::MIN || delta.abs_diff(last) > DRIFT_MS as u64 {
            self.remeasure(delta, suspended());
        }
        (mono.max(0) as u64).saturating_add(self.suspended_ms.load(Ordering::Relaxed))
    }

    #[cold]
    fn remeasure(&self, delta: i64, suspended: i64) {
        self.suspended_ms
            .fetch_max(suspended.max(0) as u64, Ordering::Relaxed);
        // Release: a thread that sees this delta also sees the suspended time measured with it.
        self.wall_minus_mono.store(delta, Ordering::Release);
    }
}

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
        // Read one after the other, ours from coarse clocks (a tick behind at most): equal to within a second.
        assert!(
            ours.abs_diff(boot_ms) < 1_000,
            "ours {ours}, CLOCK_BOOTTIME {boot_ms}"
        );
    }
}

#[cfg(test)]
mod clock_tests {
    use super::*;

    #[test]
    fn a_suspend_moves_the_clock_on_by_the_time_suspended() {
        let clock = SuspendAwareClock::new();
        let measured = std::cell::Cell::new(0);
        let now = |mono, wall, suspended| {
            clock.now(mono, wall, || {
                measured.set(measured.get() + 1);
                suspended
            })
        };
        assert_eq!(now(10_000, 1_000_000, 0), 10_000);
        // Time passes; wall and monotonic move together: no new measurement, no jump.
        assert_eq!(now(70_000, 1_060_000, 0), 70_000);
        // An hour suspended: the monotonic clock moved 1 s, the wall clock an hour and a second.
        let after = now(71_000, 1_061_000 + 3_600_000, 3_600_000);
        assert_eq!(after, 71_000 + 3_600_000);
        assert_eq!(
            measured.get(),
            2,
            "measured at the first reading and after the resume only"
        );
        // Slewing within the drift bound measures nothing again.
        assert_eq!(
            now(72_000, 1_062_000 + 3_600_000 + 150, 3_600_000),
            72_000 + 3_600_000
        );
        assert_eq!(measured.get(), 2);
    }

    #[test]
    fn an_ntp_step_costs_a_measurement_but_never_moves_the_clock_back() {
        let clock = SuspendAwareClock::new();
        assert_eq!(clock.now(5_000, 9_000_000, || 100), 5_100);
        // The wall clock is stepped back a day: measured again, nothing suspended since, no jump either way.
        assert_eq!(clock.now(6_000, 9_001_000 - 86_400_000, || 100), 6_100);
        // A measurement that comes out lower (rounding) never lowers the suspended time.
        assert_eq!(clock.now(7_000, 1_000, || 99), 7_100);
    }

    #[test]
    fn the_real_clock_never_goes_back_and_counts_milliseconds() {
        let mut last = monotonic_ms();
        let start = last;
        for _ in 0..100_000 {
            let now = monotonic_ms();
            assert!(now >= last);
            last = now;
        }
        std::thread::sleep(std::time::Duration::from_millis(30));
        assert!(monotonic_ms() >= start + 20);
    }
}
