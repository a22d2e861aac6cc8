//! Clocks. Token freshness is decided on a monotonic clock so that a wall-clock jump (NTP step, a VM resumed
//! from suspend with the wall clock set back) neither expires a good token nor keeps a dead one. The cache-hit
//! path reads the *coarse* monotonic clock: a precise read costs ~60 ns on these VMs, more than the whole hit,
//! while refresh margins are measured in seconds to minutes, so a few milliseconds of resolution is plenty.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds on a monotonic clock with an arbitrary origin; cheap enough for every cache hit.
#[inline]
pub fn monotonic_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; clock_gettime only writes to it.
    let rc = unsafe { libc::clock_gettime(COARSE_CLOCK, &mut ts) };
    if rc != 0 {
        // Cannot happen for a clock the kernel supports; fall back to the precise clock rather than lie.
        // SAFETY: as above.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    }
    (ts.tv_sec as u64) * 1000 + (ts.tv_nsec as u64) / 1_000_000
}

#[cfg(any(target_os = "linux", target_os = "android"))]
const COARSE_CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC_COARSE;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const COARSE_CLOCK: libc::clockid_t = libc::CLOCK_MONOTONIC;

/// Milliseconds since the Unix epoch on the wall clock: only for reporting expiry to people and for the
/// cross-process cache, never for deciding freshness inside one process.
pub fn wall_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

/// The point in time by which one whole library call must be done.
#[derive(Clone, Copy, Debug)]
pub struct Deadline(Instant);

impl Deadline {
    pub fn after(d: Duration) -> Deadline {
        Deadline(Instant::now() + d)
    }

    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    pub fn instant(&self) -> Instant {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_never_goes_back() {
        let mut last = monotonic_ms();
        for _ in 0..10_000 {
            let now = monotonic_ms();
            assert!(now >= last);
            last = now;
        }
    }

    #[test]
    fn wall_clock_is_after_2020() {
        assert!(wall_ms() > 1_577_836_800_000);
    }
}
