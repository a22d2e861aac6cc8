//! Clocks. Token freshness is decided on a monotonic clock so that a wall-clock jump (NTP step, a VM resumed
//! from suspend with the wall clock set back) neither expires a good token nor keeps a dead one. The cache-hit
//! path reads the *coarse* monotonic clock: a precise read costs ~60 ns on these VMs, more than the whole hit,
//! while refresh margins are measured in seconds to minutes, so a few milliseconds of resolution is plenty.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Milliseconds on a monotonic clock with an arbitrary origin that keeps counting through suspend; cheap
/// enough for every cache hit (see `rt::os::monotonic_ms` for each OS's clock).
#[inline]
pub fn monotonic_ms() -> u64 {
    super::os::monotonic_ms()
}

/// Milliseconds since the Unix epoch on the wall clock: only for reporting expiry to people and for the
/// cross-process cache, never for deciding freshness inside one process.
pub fn wall_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

/// The point in time by which one whole library call must be done, and whether it is the client's own timeout
/// (so that a timeout can say which limit passed).
#[derive(Clone, Copy, Debug)]
pub struct Deadline(Instant, Option<Duration>);

impl Deadline {
    /// A deadline of the call's own (a per-call timeout, a context, what is left of another deadline).
    pub fn after(d: Duration) -> Deadline {
        Deadline(Instant::now() + d, None)
    }

    /// The client's timeout `d`, from now.
    pub fn client_timeout(d: Duration) -> Deadline {
        Deadline(Instant::now() + d, Some(d))
    }

    pub fn remaining(&self) -> Duration {
        self.0.saturating_duration_since(Instant::now())
    }

    pub fn instant(&self) -> Instant {
        self.0
    }

    /// The client's timeout when this deadline is it; None for a deadline of the call's own.
    pub fn client_limit(&self) -> Option<Duration> {
        self.1
    }

    /// Half of the time left from now, for a step that must leave the rest of the call time to go on without
    /// it (a shared store consulted before a fetch).
    pub fn halfway(&self) -> Deadline {
        Deadline::after(self.remaining() / 2)
    }

    /// The earlier of this deadline and `d` from now (then no longer the client's timeout).
    pub fn at_most(&self, d: Duration) -> Deadline {
        let cap = Instant::now() + d;
        if cap < self.0 {
            Deadline(cap, None)
        } else {
            *self
        }
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
