//! The token cache: a cached hit is one atomic load, one coarse clock read and a compare; everything else is
//! off that path.
//!
//! A cached token is in one of three states, measured on the monotonic clock from the moment its reply arrived:
//! - fresh: before `refresh_at`. Callers get it; nothing else happens.
//! - stale: between `refresh_at` and `expires_at`. Callers still get it at hit speed; the first one wakes the
//!   cache's renewal thread (see renewer.rs). If the renewal fails, callers keep the still-valid token and the
//!   renewal is retried after a growing backoff, not on every call.
//! - expired: after `expires_at` (a safety margin before the server's expiry). Callers block on a fetch.
//!
//! Fetches are single-flight: however many threads find no valid token, one request goes to the token source
//! and the rest wait for its result or share its error. A failed fetch is remembered for a short backoff so
//! that a thousand callers during an outage do not stampede the endpoint. No lock is held across the fetch.
//!
//! The source is a trait so that shared stores (a cache file, Redis) can sit in front of the token endpoint
//! without the cache knowing.

use arc_swap::ArcSwapOption;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::rt::clock::{monotonic_ms, Deadline};
use crate::rt::log::{Level, Logger};
use crate::rt::stats::Stats;
use crate::token::{Token, TokenSource};

mod renewer;
mod slot;

use renewer::Renewer;
use slot::{SlotRead, TokenSlot};

/// What `copy_token` wrote.
#[derive(Debug, PartialEq, Eq)]
pub enum Copied {
    /// The token (this many bytes) and a NUL.
    Whole(usize),
    /// Nothing: the token is this many bytes and did not fit with its NUL.
    TooSmall(usize),
}

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub refresh_margin_ms: u64,
    pub expiry_safety_ms: u64,
    /// Bound on a fetch started for a caller that is not waiting (background renewal).
    pub background_timeout: Duration,
    pub failure_backoff_min_ms: u64,
    pub failure_backoff_max_ms: u64,
}

struct Entry {
    token: Arc<Token>,
    refresh_at: u64,
    expires_at: u64,
}

impl Entry {
    /// Margins scale down for short lifetimes (a fifth of the lifetime for the refresh margin, a tenth for the
    /// safety margin), so a token that lives less than the configured margin still serves many calls instead
    /// of causing a fetch per call.
    fn new(token: Arc<Token>, valid_for_ms: u64, now: u64, policy: &Policy) -> Entry {
        let lifetime_ms = token.lifetime_secs().saturating_mul(1000);
        let safety = policy.expiry_safety_ms.min(lifetime_ms / 10);
        let margin = policy.refresh_margin_ms.min(lifetime_ms / 5).max(safety);
        Entry {
            token,
            refresh_at: now + valid_for_ms.saturating_sub(margin),
            expires_at: now + valid_for_ms.saturating_sub(safety),
        }
    }
}

#[derive(Default)]
struct Flight {
    /// Bumped each time a fetch finishes, so waiters know theirs has landed.
    generation: u64,
    last_error: Option<Error>,
    /// Until then (monotonic ms), callers with no valid token get `last_error` instead of a new fetch.
    error_until: u64,
    consecutive_failures: u32,
}

pub struct TokenCache {
    source: Box<dyn TokenSource>,
    policy: Policy,
    current: ArcSwapOption<Entry>,
    /// The same token's bytes for `copy_token`, the lock-free path behind `x8_get_token`; written together with
    /// `current`, under the flight lock.
    slot: TokenSlot,
    in_flight: AtomicBool,
    next_background_try: AtomicU64,
    flight: Mutex<Flight>,
    landed: Condvar,
    renewer: Arc<Renewer>,
    stats: Arc<Stats>,
    logger: Logger,
}

impl Drop for TokenCache {
    fn drop(&mut self) {
        self.renewer.stop();
    }
}

impl TokenCache {
    pub fn new(
        source: Box<dyn TokenSource>,
        policy: Policy,
        stats: Arc<Stats>,
        logger: Logger,
    ) -> TokenCache {
        TokenCache {
            source,
            policy,
            current: ArcSwapOption::empty(),
            slot: TokenSlot::default(),
            in_flight: AtomicBool::new(false),
            next_background_try: AtomicU64::new(0),
            flight: Mutex::new(Flight::default()),
            landed: Condvar::new(),
            renewer: Arc::default(),
            stats,
            logger,
        }
    }

    /// Runs `f` on a valid token: the cached one when fresh or stale, else a newly fetched one (waiting at most
    /// `timeout`). The hot path takes no lock and allocates nothing.
    #[inline]
    pub fn with_token<R>(
        self: &Arc<Self>,
        timeout: Duration,
        f: impl FnOnce(&Arc<Token>) -> R,
    ) -> Result<R> {
        let now = monotonic_ms();
        {
            let guard = self.current.load();
            if let Some(entry) = guard.as_ref() {
                if now < entry.refresh_at {
                    self.stats.cache_hits.add();
                    return Ok(f(&entry.token));
                }
                if now < entry.expires_at {
                    self.start_background_refresh(now);
                    self.stats.cache_hits.add();
                    return Ok(f(&entry.token));
                }
            }
        }
        let token = self.fetch_blocking(Deadline::after(timeout))?;
        Ok(f(&token))
    }

    /// Copies a valid token and a NUL into `out`, the way `with_token` finds one, but through the seqlock slot:
    /// no reference count, no thread-local, no allocation on a hit.
    #[inline]
    pub fn copy_token(self: &Arc<Self>, timeout: Duration, out: &mut [u8]) -> Result<Copied> {
        let now = monotonic_ms();
        let (copied, stale) = match self.slot.read_into(now, out) {
            SlotRead::Copied { len, stale } => (Copied::Whole(len), stale),
            SlotRead::TooSmall { len, stale } => (Copied::TooSmall(len), stale),
            SlotRead::Empty => {
                let token = self.fetch_blocking(Deadline::after(timeout))?;
                let bytes = token.access_token().as_bytes();
                if bytes.len() >= out.len() {
                    return Ok(Copied::TooSmall(bytes.len()));
                }
                out[..bytes.len()].copy_from_slice(bytes);
                out[bytes.len()] = 0;
                return Ok(Copied::Whole(bytes.len()));
            }
        };
        if stale {
            self.start_background_refresh(now);
        }
        self.stats.cache_hits.add();
        Ok(copied)
    }

    /// The cached token whatever its state, without fetching.
    pub fn current(&self) -> Option<Arc<Token>> {
        self.peek()
    }

    /// The cached token whatever its state, without fetching.
    pub fn peek(&self) -> Option<Arc<Token>> {
        self.current.load().as_ref().map(|e| e.token.clone())
    }

    /// Seconds until the cached token expires (by our safety-adjusted clock), or -1 when none is cached.
    pub fn seconds_left(&self) -> i64 {
        match self.current.load().as_ref() {
            Some(e) => (e.expires_at.saturating_sub(monotonic_ms()) / 1000) as i64,
            None => -1,
        }
    }

    /// Drops the cached token so the next caller fetches a new one. With `only_if`, drops it only if it is still
    /// that token: when a hundred threads see the same token rejected, the first drops it, the others find a
    /// newer one (or none) and leave it, and one fetch follows. Returns whether a token was dropped.
    pub fn invalidate(&self, only_if: Option<&Arc<Token>>) -> bool {
        // Under the flight lock, so the slot and `current` change together and a fetch landing meanwhile
        // cannot be half undone.
        let mut flight = self.flight.lock();
        let dropped = match only_if {
            None => self.current.swap(None).map(|e| e.token.clone()),
            Some(rejected) => {
                let current = self.current.load();
                match current.as_ref() {
                    Some(entry) if Arc::ptr_eq(&entry.token, rejected) => {
                        self.current.store(None);
                        Some(rejected.clone())
                    }
                    _ => None,
                }
            }
        };
        if dropped.is_some() || only_if.is_none() {
            self.slot.clear();
            // An explicit invalidation means the caller wants a new token now, not after a failure backoff.
            flight.error_until = 0;
            self.next_background_try.store(0, Ordering::Relaxed);
        }
        drop(flight);
        match dropped {
            Some(token) => {
                self.source.rejected(&token);
                true
            }
            None => false,
        }
    }

    /// Makes `entry` the cached token. The caller holds the flight lock.
    fn publish(&self, entry: Entry) {
        self.slot.publish(
            entry.token.access_token().as_bytes(),
            entry.refresh_at,
            entry.expires_at,
        );
        self.current.store(Some(Arc::new(entry)));
    }

    fn begin_flight(&self) -> bool {
        self.in_flight
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    fn start_background_refresh(self: &Arc<Self>, now: u64) {
        if now < self.next_background_try.load(Ordering::Relaxed) || !self.begin_flight() {
            return;
        }
        if self.renewer.wake() {
            return;
        }
        // No renewal thread yet (no caller has waited for a fetch on this cache): this caller starts it.
        let started = self.start_renewer();
        if started.is_ok() && self.renewer.wake() {
            return;
        }
        // No thread to be had: leave the token as it is and let a later caller try again.
        self.logger.log(Level::Warn, || match started {
            Err(e) => format!("could not start a background token refresh: {e}"),
            Ok(()) => {
                "the background token refresh is paused (a fork is in progress); it will be retried"
                    .to_owned()
            }
        });
        self.next_background_try
            .store(now + self.policy.failure_backoff_min_ms, Ordering::Relaxed);
        self.in_flight.store(false, Ordering::Release);
    }

    /// Starts the renewal thread unless it runs. It holds the cache weakly: a freed client ends it.
    fn start_renewer(self: &Arc<Self>) -> std::io::Result<()> {
        let cache = Arc::downgrade(self);
        self.renewer.ensure_running(move || match cache.upgrade() {
            Some(cache) => {
                let deadline = Deadline::after(cache.policy.background_timeout);
                let _ = cache.run_flight(deadline, true);
                true
            }
            None => false,
        })
    }

    fn fetch_blocking(self: &Arc<Self>, deadline: Deadline) -> Result<Arc<Token>> {
        loop {
            let now = monotonic_ms();
            if let Some(entry) = self.current.load().as_ref() {
                if now < entry.expires_at {
                    return Ok(entry.token.clone());
                }
            }
            {
                let flight = self.flight.lock();
                if let (Some(err), true) = (&flight.last_error, now < flight.error_until) {
                    return Err(err.clone());
                }
            }
            if self.begin_flight() {
                // Another thread may have finished a whole fetch between the checks above and winning the
                // flight: look again before going to the network, or two fetches would happen.
                match self.landed_meanwhile() {
                    Some(outcome) => {
                        let flight = self.flight.lock();
                        self.in_flight.store(false, Ordering::Release);
                        drop(flight);
                        self.landed.notify_all();
                        return outcome;
                    }
                    None => {
                        let outcome = self.run_flight(deadline, false);
                        if outcome.is_ok() {
                            // This caller has just waited a network round trip: starting the renewal thread
                            // now goes unnoticed, where starting it in the stale window would not.
                            if let Err(e) = self.start_renewer() {
                                self.logger.log(Level::Warn, || {
                                    format!(
                                        "could not start the background token refresh thread: {e}"
                                    )
                                });
                            }
                        }
                        return outcome;
                    }
                }
            }
            let mut flight = self.flight.lock();
            let generation = flight.generation;
            while self.in_flight.load(Ordering::Acquire) && flight.generation == generation {
                if self
                    .landed
                    .wait_until(&mut flight, deadline.instant())
                    .timed_out()
                {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        "timed out waiting for the token fetch already in progress on another thread",
                    ));
                }
            }
            if flight.generation != generation {
                if let Some(err) = &flight.last_error {
                    return Err(err.clone());
                }
            }
        }
    }

    /// A valid token, or a failure still inside its backoff, that another thread's fetch left behind.
    fn landed_meanwhile(&self) -> Option<Result<Arc<Token>>> {
        let now = monotonic_ms();
        if let Some(entry) = self.current.load().as_ref() {
            if now < entry.expires_at {
                return Some(Ok(entry.token.clone()));
            }
        }
        let flight = self.flight.lock();
        match (&flight.last_error, now < flight.error_until) {
            (Some(err), true) => Some(Err(err.clone())),
            _ => None,
        }
    }

    /// Fetches, publishes the result, and wakes the waiters. Only the thread that won `begin_flight` runs this.
    /// The log callback runs after the lock is released, so a callback may call back into the client.
    fn run_flight(&self, deadline: Deadline, background: bool) -> Result<Arc<Token>> {
        self.logger.log(Level::Debug, || {
            if background {
                "renewing the token ahead of expiry"
            } else {
                "fetching a token"
            }
            .to_owned()
        });
        let result = self.source.fetch(deadline);
        let now = monotonic_ms();
        let mut flight = self.flight.lock();
        flight.generation += 1;
        let outcome = match result {
            Ok(fetched) => {
                let token = Arc::new(fetched.token);
                let entry = Entry::new(token.clone(), fetched.valid_for_ms, now, &self.policy);
                // Counted before publishing, so whoever sees the new token also sees it counted.
                Stats::bump(&self.stats.token_fetches);
                if background {
                    Stats::bump(&self.stats.background_refreshes);
                }
                self.publish(entry);
                flight.last_error = None;
                flight.error_until = 0;
                flight.consecutive_failures = 0;
                self.next_background_try.store(0, Ordering::Relaxed);
                Ok((token, fetched.valid_for_ms))
            }
            Err(err) => {
                flight.consecutive_failures = flight.consecutive_failures.saturating_add(1);
                let backoff = self.failure_backoff_ms(flight.consecutive_failures, &err);
                flight.last_error = Some(err.clone());
                flight.error_until = now + backoff;
                if background {
                    self.next_background_try
                        .store(now + backoff, Ordering::Relaxed);
                }
                self.stats.count_failure(&err);
                Err((err, backoff))
            }
        };
        self.in_flight.store(false, Ordering::Release);
        drop(flight);
        self.landed.notify_all();
        match outcome {
            Ok((token, valid_for_ms)) => {
                self.logger.log(Level::Info, || {
                    format!(
                        "{} a token valid for {} s with products [{}]",
                        if background { "renewed" } else { "fetched" },
                        valid_for_ms / 1000,
                        token.products().join(", ")
                    )
                });
                Ok(token)
            }
            Err((err, backoff)) => {
                self.logger.log(if background { Level::Warn } else { Level::Error }, || {
                    let keep = if background { "; the current token is kept until it expires" } else { "" };
                    format!("token fetch failed ({err}){keep}; next attempt in {backoff} ms at the earliest")
                });
                Err(err)
            }
        }
    }

    fn failure_backoff_ms(&self, failures: u32, err: &Error) -> u64 {
        let grown = self
            .policy
            .failure_backoff_min_ms
            .saturating_mul(1u64 << failures.saturating_sub(1).min(16));
        let backoff = grown.min(self.policy.failure_backoff_max_ms);
        // A server that said when to come back is believed, within reason.
        match err.retry_after() {
            Some(ra) => backoff
                .max(ra.as_millis() as u64)
                .min(self.policy.failure_backoff_max_ms.max(backoff)),
            None => backoff,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::Fetched;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Barrier;

    /// A token source under test control: counts fetches, can fail, can block until released.
    #[derive(Default)]
    struct FakeSource {
        fetches: AtomicUsize,
        fail_with: Mutex<Option<ErrorKind>>,
        lifetime_secs: AtomicU64,
        gate: Mutex<Option<Arc<Barrier>>>,
    }

    impl TokenSource for Arc<FakeSource> {
        fn fetch(&self, _deadline: Deadline) -> Result<Fetched> {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
            let gate = self.gate.lock().clone();
            if let Some(gate) = gate {
                gate.wait();
            }
            if let Some(kind) = *self.fail_with.lock() {
                return Err(Error::new(kind, "fake failure"));
            }
            let life = self.lifetime_secs.load(Ordering::SeqCst).max(1);
            let token = Token::new(
                format!("tok{n}"),
                "BearerToken".into(),
                vec!["vcc".into()],
                life,
                None,
                0,
            )?;
            Ok(Fetched {
                token,
                valid_for_ms: life * 1000,
            })
        }
    }

    fn policy() -> Policy {
        Policy {
            refresh_margin_ms: 300_000,
            expiry_safety_ms: 30_000,
            background_timeout: Duration::from_secs(5),
            failure_backoff_min_ms: 1_000,
            failure_backoff_max_ms: 30_000,
        }
    }

    fn cache_with(lifetime: u64) -> (Arc<TokenCache>, Arc<FakeSource>) {
        let source = Arc::new(FakeSource::default());
        source.lifetime_secs.store(lifetime, Ordering::SeqCst);
        let cache = TokenCache::new(
            Box::new(source.clone()),
            policy(),
            Arc::default(),
            Logger::default(),
        );
        (Arc::new(cache), source)
    }

    fn get(cache: &Arc<TokenCache>) -> Result<String> {
        cache.with_token(Duration::from_secs(5), |t| t.access_token().to_owned())
    }

    /// Rewinds a cached entry's clock marks by `ms`, as if that much time had passed.
    fn age(cache: &TokenCache, ms: u64) {
        let _flight = cache.flight.lock();
        let entry = cache.current.load_full().unwrap();
        cache.publish(Entry {
            token: entry.token.clone(),
            refresh_at: entry.refresh_at.saturating_sub(ms),
            expires_at: entry.expires_at.saturating_sub(ms),
        });
    }

    fn copy(cache: &Arc<TokenCache>) -> Result<String> {
        let mut buf = [0u8; 64];
        match cache.copy_token(Duration::from_secs(5), &mut buf)? {
            Copied::Whole(n) => Ok(String::from_utf8(buf[..n].to_vec()).unwrap()),
            Copied::TooSmall(n) => panic!("{n} bytes do not fit"),
        }
    }

    #[test]
    fn margins_follow_the_lifetime() {
        let now = 1_000_000;
        let t = |life| {
            Arc::new(Token::new("a".into(), "Bearer".into(), vec![], life, None, 0).unwrap())
        };
        let long = Entry::new(t(1799), 1_799_000, now, &policy());
        assert_eq!(long.refresh_at, now + 1_799_000 - 300_000);
        assert_eq!(long.expires_at, now + 1_799_000 - 30_000);
        // 3 s token: refresh in the last fifth (600 ms), expire a tenth (300 ms) early.
        let short = Entry::new(t(3), 3_000, now, &policy());
        assert_eq!(short.refresh_at, now + 2_400);
        assert_eq!(short.expires_at, now + 2_700);
        // A token read from a shared store with 100 s left keeps the margins of its full lifetime.
        let partial = Entry::new(t(1799), 100_000, now, &policy());
        assert_eq!(partial.expires_at, now + 70_000);
        assert_eq!(partial.refresh_at, now);
    }

    #[test]
    fn reuses_the_token_until_the_refresh_margin() {
        let (cache, source) = cache_with(1799);
        for _ in 0..1000 {
            assert_eq!(get(&cache).unwrap(), "tok1");
        }
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
        assert_eq!(cache.stats.cache_hits.sum(), 999);
    }

    #[test]
    fn stale_token_is_served_while_one_background_refresh_runs() {
        let (cache, source) = cache_with(1799);
        get(&cache).unwrap();
        let gate = Arc::new(Barrier::new(2));
        *source.gate.lock() = Some(gate.clone());
        age(&cache, 1_500_000); // into the stale window
        for _ in 0..100 {
            assert_eq!(get(&cache).unwrap(), "tok1", "stale callers must not wait");
        }
        gate.wait(); // let the single background fetch finish
        *source.gate.lock() = None;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while cache.peek().unwrap().access_token() == "tok1" {
            assert!(
                std::time::Instant::now() < deadline,
                "background refresh never landed"
            );
            std::thread::yield_now();
        }
        assert_eq!(get(&cache).unwrap(), "tok2");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
        assert_eq!(cache.stats.background_refreshes.load(Ordering::Relaxed), 1);
    }

    /// Waits (bounded) until the cached token is `want`.
    fn until_cached(cache: &TokenCache, want: &str) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while cache.peek().unwrap().access_token() != want {
            assert!(std::time::Instant::now() < deadline, "{want} never landed");
            std::thread::yield_now();
        }
    }

    #[test]
    fn renewals_reuse_one_thread_started_by_the_first_waited_fetch() {
        let (cache, _source) = cache_with(1799);
        get(&cache).unwrap();
        assert_eq!(cache.renewer.threads_started(), 1);
        for n in 2..=4 {
            age(&cache, 1_500_000);
            get(&cache).unwrap();
            until_cached(&cache, &format!("tok{n}"));
        }
        assert_eq!(cache.stats.background_refreshes.load(Ordering::Relaxed), 3);
        assert_eq!(cache.renewer.threads_started(), 1);
    }

    #[test]
    fn a_token_that_arrived_without_a_waited_fetch_still_gets_renewed() {
        let (cache, _source) = cache_with(1799);
        let _flight = cache.flight.lock();
        let token = Token::new("seeded".into(), "Bearer".into(), vec![], 1799, None, 0).unwrap();
        let entry = Entry::new(Arc::new(token), 1_799_000, monotonic_ms(), &cache.policy);
        cache.publish(entry);
        drop(_flight);
        age(&cache, 1_500_000);
        assert_eq!(get(&cache).unwrap(), "seeded");
        until_cached(&cache, "tok1");
        assert_eq!(cache.renewer.threads_started(), 1);
    }

    #[test]
    fn dropping_the_cache_ends_its_renewal_thread() {
        let (cache, _source) = cache_with(1799);
        get(&cache).unwrap();
        let renewer = Arc::clone(&cache.renewer);
        drop(cache);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while renewer.wake() {
            assert!(
                std::time::Instant::now() < deadline,
                "the thread outlived its cache"
            );
            std::thread::yield_now();
        }
    }

    #[test]
    fn failed_background_refresh_keeps_the_token_and_backs_off() {
        let (cache, source) = cache_with(1799);
        get(&cache).unwrap();
        *source.fail_with.lock() = Some(ErrorKind::TokenEndpoint);
        age(&cache, 1_500_000);
        assert_eq!(get(&cache).unwrap(), "tok1");
        // Wait for the failed renewal to land, then hammer: the backoff must stop further attempts.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while cache.flight.lock().generation == 1 {
            assert!(std::time::Instant::now() < deadline);
            std::thread::yield_now();
        }
        for _ in 0..1000 {
            assert_eq!(get(&cache).unwrap(), "tok1");
        }
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn expired_token_forces_a_fetch_and_its_error_is_reported() {
        let (cache, source) = cache_with(1799);
        get(&cache).unwrap();
        *source.fail_with.lock() = Some(ErrorKind::Auth);
        age(&cache, 1_800_000);
        assert_eq!(get(&cache).unwrap_err().kind(), ErrorKind::Auth);
        // Within the failure backoff the error is served from memory, not by another fetch.
        assert_eq!(get(&cache).unwrap_err().kind(), ErrorKind::Auth);
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
        // An explicit invalidation lifts the backoff.
        *source.fail_with.lock() = None;
        cache.invalidate(None);
        assert_eq!(get(&cache).unwrap(), "tok3");
    }

    #[test]
    fn concurrent_callers_cause_one_fetch_and_share_its_result() {
        let (cache, source) = cache_with(1799);
        let gate = Arc::new(Barrier::new(2));
        *source.gate.lock() = Some(gate.clone());
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let cache = cache.clone();
                std::thread::spawn(move || get(&cache))
            })
            .collect();
        while source.fetches.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        gate.wait();
        *source.gate.lock() = None;
        for t in threads {
            assert_eq!(t.join().unwrap().unwrap(), "tok1");
        }
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn concurrent_callers_share_one_failure() {
        let (cache, source) = cache_with(1799);
        *source.fail_with.lock() = Some(ErrorKind::Transport);
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let cache = cache.clone();
                std::thread::spawn(move || get(&cache))
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap().unwrap_err().kind(), ErrorKind::Transport);
        }
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn invalidate_only_drops_the_rejected_token() {
        let (cache, source) = cache_with(1799);
        get(&cache).unwrap();
        let first = cache.peek().unwrap();
        assert!(cache.invalidate(Some(&first)));
        assert_eq!(get(&cache).unwrap(), "tok2");
        // A second thread that saw the first token rejected must not drop the new one.
        assert!(!cache.invalidate(Some(&first)));
        assert_eq!(get(&cache).unwrap(), "tok2");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_one_second_token_does_not_cause_a_fetch_per_call() {
        let (cache, source) = cache_with(1);
        for _ in 0..10_000 {
            get(&cache).unwrap();
        }
        // 10,000 calls take well under the 800 ms before the first refresh on any machine that runs tests;
        // even a very slow one would see a handful of fetches, never one per call.
        assert!(source.fetches.load(Ordering::SeqCst) < 100);
    }

    #[test]
    fn the_copy_path_agrees_with_the_shared_path() {
        let (cache, source) = cache_with(1799);
        assert_eq!(copy(&cache).unwrap(), "tok1");
        for _ in 0..100 {
            assert_eq!(copy(&cache).unwrap(), get(&cache).unwrap());
        }
        let mut tiny = [0u8; 4];
        assert_eq!(
            cache.copy_token(Duration::from_secs(1), &mut tiny).unwrap(),
            Copied::TooSmall(4)
        );
        // Invalidation empties the slot too, so the next copy fetches.
        cache.invalidate(None);
        assert_eq!(copy(&cache).unwrap(), "tok2");
        age(&cache, 1_800_000);
        assert_eq!(copy(&cache).unwrap(), "tok3");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn the_copy_path_serves_stale_tokens_and_renews_in_the_background() {
        let (cache, source) = cache_with(1799);
        copy(&cache).unwrap();
        age(&cache, 1_500_000);
        assert_eq!(copy(&cache).unwrap(), "tok1");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while copy(&cache).unwrap() == "tok1" {
            assert!(
                std::time::Instant::now() < deadline,
                "background refresh never landed"
            );
            std::thread::yield_now();
        }
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn seconds_left_reports_the_cached_token() {
        let (cache, _) = cache_with(1799);
        assert_eq!(cache.seconds_left(), -1);
        get(&cache).unwrap();
        let left = cache.seconds_left();
        assert!((1700..=1769).contains(&left), "{left}");
    }
}
