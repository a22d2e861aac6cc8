//! A client-side rate limit: at most N requests start in any interval. Each caller reserves the next free turn
//! under a short lock and sleeps outside it, so callers go in the order they asked (no stampede when a turn
//! frees up) and a caller whose turn would come after its deadline is refused at once, reserving nothing.
//!
//! The reservations are the last N turns handed out (some in the future): a new turn is at least one interval
//! after the turn N places before it, so no interval holds more than N.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::rt::cancel::{sleep_unless_cancelled, Cancel};
use crate::rt::clock::Deadline;

pub struct RateLimiter {
    requests: usize,
    interval: Duration,
    turns: Mutex<VecDeque<Instant>>,
}

/// What `RateLimiter::acquire` did.
#[derive(Debug, PartialEq, Eq)]
pub enum Turn {
    /// A turn was free: go now.
    Now,
    /// The caller waited this long for its turn.
    Waited(Duration),
    /// The next free turn comes after the caller's deadline, in this long; nothing was reserved.
    TooLate(Duration),
    /// The caller's cancel ended its wait (its reserved turn goes unused).
    Cancelled,
}

impl RateLimiter {
    pub fn new(requests: u32, interval: Duration) -> RateLimiter {
        RateLimiter {
            requests: (requests as usize).max(1),
            interval,
            turns: Mutex::new(VecDeque::new()),
        }
    }

    /// Waits for this caller's turn, at most until `deadline`.
    pub fn acquire(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Turn {
        let turn = match self.reserve(Instant::now(), deadline.instant()) {
            Ok(turn) => turn,
            Err(wait) => return Turn::TooLate(wait),
        };
        let now = Instant::now();
        if turn <= now {
            return Turn::Now;
        }
        if sleep_unless_cancelled(cancel, turn - now) {
            return Turn::Cancelled;
        }
        Turn::Waited(turn - now)
    }

    /// The caller's turn (now or later), reserved; or how long it would have to wait when that passes `deadline`.
    fn reserve(&self, now: Instant, deadline: Instant) -> Result<Instant, Duration> {
        let mut turns = self.turns.lock();
        let turn = if turns.len() < self.requests {
            now
        } else {
            // The turn N places back (the oldest kept) plus one interval, and never before now.
            (turns[turns.len() - self.requests] + self.interval).max(now)
        };
        if turn > deadline {
            return Err(turn - now);
        }
        turns.push_back(turn);
        while turns.len() > self.requests {
            turns.pop_front();
        }
        Ok(turn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_interval_holds_more_than_n_turns_and_callers_go_in_order() {
        let l = RateLimiter::new(5, Duration::from_secs(1));
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(3600);
        let turns: Vec<Instant> = (0..20).map(|_| l.reserve(t0, far).unwrap()).collect();
        assert!(turns.windows(2).all(|w| w[0] <= w[1]), "in order");
        for (i, t) in turns.iter().enumerate() {
            // The i-th call goes in the (i / 5)-th second.
            assert_eq!(*t - t0, Duration::from_secs((i / 5) as u64), "call {i}");
        }
        for (i, t) in turns.iter().enumerate().skip(5) {
            assert!(*t - turns[i - 5] >= Duration::from_secs(1));
        }
    }

    #[test]
    fn a_turn_past_the_deadline_is_refused_and_reserves_nothing() {
        let l = RateLimiter::new(1, Duration::from_secs(10));
        let t0 = Instant::now();
        assert_eq!(l.reserve(t0, t0), Ok(t0));
        let wait = l.reserve(t0, t0 + Duration::from_secs(5)).unwrap_err();
        assert_eq!(wait, Duration::from_secs(10));
        // The refused caller took no turn: the next one still gets the turn at +10 s, not +20 s.
        let far = t0 + Duration::from_secs(60);
        assert_eq!(l.reserve(t0, far), Ok(t0 + Duration::from_secs(10)));
    }

    #[test]
    fn turns_that_passed_free_their_places() {
        let l = RateLimiter::new(2, Duration::from_millis(100));
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(60);
        l.reserve(t0, far).unwrap();
        l.reserve(t0, far).unwrap();
        let later = t0 + Duration::from_millis(150);
        assert_eq!(l.reserve(later, far), Ok(later));
    }
}
