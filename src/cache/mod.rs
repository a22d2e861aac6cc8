//! The token cache: a cached hit is one atomic load, one coarse clock read and a compare; everything else is
//! off that path.
//!
//! A cached token is in one of three states, measured on the monotonic clock from the moment its reply arrived:
//! - fresh: before `refresh_at`. Callers get it; nothing else happens.
//! - stale: between `refresh_at` and `expires_at`. Callers still get it at hit speed while one background
//!   renewal runs on the process's renewal scheduler (see scheduler.rs). If the renewal fails, callers keep the
//!   still-valid token and the renewal is retried after a growing backoff, not on every call.
//! - expired: after `expires_at` (a safety margin before the server's expiry). Callers block on a fetch.
//!
//! `refresh_at` is drawn for each token at a random point in the first half of its refresh window (jitter.rs),
//! so clients created together do not all renew at one instant.
//!
//! Renewal ahead of expiry happens when the renewal deadline comes due on the scheduler's timer, or when a caller
//! finds the token stale, whichever is first, and only for a cache that was used since its token arrived: a key
//! nobody calls lets its token lapse instead of costing a token request every lifetime, and its next caller
//! fetches (one round trip once, where a renewal every half hour for an idle key would cost 8x8 and the key's
//! rate limit for nothing).
//!
//! Fetches are single-flight: however many threads find no valid token, one request goes to the token source
//! and the rest wait for its result or share its error. The fetch runs under the client's own timeout
//! (`Policy::fetch_timeout`), never under the deadline of whichever caller happened to start it: a caller that
//! cannot wait that long hands the fetch to the scheduler and waits only until its own deadline, then gets
//! TIMEOUT alone; that timeout is neither remembered as the endpoint's failure nor counted in the backoff. A
//! failed fetch is remembered for a short backoff so that a thousand callers during an outage do not stampede
//! the endpoint. No lock is held across the fetch. A panic inside a fetch ends the flight (an internal error
//! for its waiters) instead of leaving every later caller waiting for a fetch that will never land.
//!
//! The source is a trait so that shared stores (a cache file, Redis) can sit in front of the token endpoint
//! without the cache knowing.

use arc_swap::ArcSwapOption;
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::rt::cancel::Cancel;
use crate::rt::clock::{monotonic_ms, Deadline};
use crate::rt::log::{Level, Logger};
use crate::rt::stats::Stats;
use crate::token::{Token, TokenSource};

mod jitter;
#[cfg(test)]
mod model_tests;
mod scheduler;
mod slot;

use jitter::Jitter;
use scheduler::Scheduler;
#[cfg(test)]
use scheduler::MAX_WORKERS as RENEWAL_WORKERS;
use scheduler::{Job, Task};
use slot::{SlotRead, TokenSlot};

/// A caller whose deadline is at most this much shorter than the client's timeout runs the fetch itself, under
/// its own deadline: a call given the client's timeout has used a few microseconds of it before it gets here.
const INLINE_SLACK: Duration = Duration::from_millis(100);

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
    /// Bound on every fetch, whoever starts it: the client's own timeout.
    pub fetch_timeout: Duration,
    pub failure_backoff_min_ms: u64,
    pub failure_backoff_max_ms: u64,
    /// Renew at a random point in the first half of the refresh window (false: at its start).
    pub jitter: bool,
}

struct Entry {
    token: Arc<Token>,
    refresh_at: u64,
    expires_at: u64,
}

impl Entry {
    /// Margins scale down for short lifetimes (a fifth of the lifetime for the refresh margin, a tenth for the
    /// safety margin), so a token that lives less than the configured margin still serves many calls instead
    /// of causing a fetch per call. `publish` then moves `refresh_at` into the window by the jitter.
    fn new(token: Arc<Token>, valid_for_ms: u64, now: u64, policy: &Policy) -> Entry {
        let lifetime_ms = token.lifetime_secs().saturating_mul(1000);
        let safety = policy.expiry_safety_ms.min(lifetime_ms / 10);
        let margin = policy.refresh_margin_ms.min(lifetime_ms / 5).max(safety);
        Entry {
            token,
            refresh_at: now.saturating_add(valid_for_ms.saturating_sub(margin)),
            expires_at: now.saturating_add(valid_for_ms.saturating_sub(safety)),
        }
    }

    /// How far into its window the renewal may be moved: the window's first half, leaving the second for
    /// retries after a failed renewal.
    fn jitter_range(&self) -> u64 {
        self.expires_at.saturating_sub(self.refresh_at) / 2
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
    /// A caller got the current token: its renewal is wanted. Cleared when a token lands.
    used: AtomicBool,
    flight: Mutex<Flight>,
    landed: Condvar,
    scheduler: &'static Scheduler,
    /// This cache's entry in `scheduler`.
    ticket: u64,
    jitter: Jitter,
    stats: Arc<Stats>,
    logger: Logger,
    /// This cache, for the wake-ups a waiter's cancel runs on another thread.
    me: Weak<TokenCache>,
    /// A simulated clock for the model-based tests; the library itself always reads `monotonic_ms`.
    #[cfg(test)]
    clock: Option<Arc<AtomicU64>>,
    /// Callers waiting for a flight, for tests that must act while one waits.
    #[cfg(test)]
    waiting: std::sync::atomic::AtomicUsize,
}

impl Drop for TokenCache {
    fn drop(&mut self) {
        self.scheduler.cancel(self.ticket, None);
    }
}

impl Task for TokenCache {
    fn run(&self, job: Job) {
        match job {
            Job::Flight { background } => {
                let guard = FlightGuard::new(self);
                let _ = self.run_flight(
                    Deadline::client_timeout(self.policy.fetch_timeout),
                    background,
                    guard,
                );
            }
            Job::Due => self.renewal_due(),
        }
    }
}

/// Ends a flight that did not end normally (its fetch panicked): the waiters are woken with an internal error
/// and the next caller may try again after the backoff, instead of every later caller waiting for a fetch that
/// will never land.
struct FlightGuard<'a> {
    cache: &'a TokenCache,
    armed: bool,
}

impl<'a> FlightGuard<'a> {
    /// Taken by the thread that won `begin_flight`.
    fn new(cache: &'a TokenCache) -> FlightGuard<'a> {
        FlightGuard { cache, armed: true }
    }
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let cache = self.cache;
        let now = cache.now();
        let mut flight = cache.flight.lock();
        flight.generation += 1;
        flight.consecutive_failures = flight.consecutive_failures.saturating_add(1);
        let err = Error::new(
            ErrorKind::Internal,
            "the token fetch panicked (a bug in x8 or in a callback); it will be tried again",
        );
        let backoff = cache.failure_backoff_ms(flight.consecutive_failures, &err);
        flight.last_error = Some(err);
        flight.error_until = now + backoff;
        cache
            .next_background_try
            .store(now + backoff, Ordering::Relaxed);
        cache.in_flight.store(false, Ordering::Release);
        drop(flight);
        cache.landed.notify_all();
    }
}

impl TokenCache {
    pub fn new(
        source: Box<dyn TokenSource>,
        policy: Policy,
        stats: Arc<Stats>,
        logger: Logger,
    ) -> Arc<TokenCache> {
        TokenCache::on(
            Scheduler::global(),
            Jitter::next_in_process(),
            source,
            policy,
            stats,
            logger,
            #[cfg(test)]
            None,
        )
    }

    /// A cache on a given scheduler with given jitter draws (tests).
    fn on(
        scheduler: &'static Scheduler,
        jitter: Jitter,
        source: Box<dyn TokenSource>,
        policy: Policy,
        stats: Arc<Stats>,
        logger: Logger,
        #[cfg(test)] clock: Option<Arc<AtomicU64>>,
    ) -> Arc<TokenCache> {
        Arc::new_cyclic(|me: &Weak<TokenCache>| {
            let task: Weak<dyn Task> = me.clone();
            let ticket = scheduler.register(task);
            TokenCache {
                source,
                policy,
                current: ArcSwapOption::empty(),
                slot: TokenSlot::default(),
                in_flight: AtomicBool::new(false),
                next_background_try: AtomicU64::new(0),
                used: AtomicBool::new(false),
                flight: Mutex::new(Flight::default()),
                landed: Condvar::new(),
                scheduler,
                ticket,
                jitter,
                stats,
                logger,
                me: me.clone(),
                #[cfg(test)]
                clock,
                #[cfg(test)]
                waiting: Default::default(),
            }
        })
    }

    #[inline]
    fn now(&self) -> u64 {
        #[cfg(test)]
        if let Some(clock) = &self.clock {
            return clock.load(Ordering::SeqCst);
        }
        monotonic_ms()
    }

    /// Marks the current token as used, so its renewal is wanted. A load first: on a hit the flag is almost
    /// always set already, and a plain store from every thread would bounce its cache line between cores.
    #[inline]
    fn note_use(&self) {
        if !self.used.load(Ordering::Relaxed) {
            self.used.store(true, Ordering::Relaxed);
        }
    }

    /// Runs `f` on a valid token: the cached one when fresh or stale, else a newly fetched one (waiting at most
    /// `timeout`). The hot path takes no lock and allocates nothing.
    #[inline]
    pub fn with_token<R>(&self, timeout: Duration, f: impl FnOnce(&Arc<Token>) -> R) -> Result<R> {
        self.with_token_cancellable(timeout, None, f)
    }

    /// As `with_token`; a wait for a fetch also ends, with CANCELLED, when `cancel` is cancelled. A cancelled
    /// caller never cancels the fetch itself, which goes on for the other waiters: a caller with a `cancel`
    /// leaves the fetch to the scheduler instead of running it on its own thread.
    #[inline]
    pub fn with_token_cancellable<R>(
        &self,
        timeout: Duration,
        cancel: Option<&Cancel>,
        f: impl FnOnce(&Arc<Token>) -> R,
    ) -> Result<R> {
        let now = self.now();
        {
            let guard = self.current.load();
            if let Some(entry) = guard.as_ref() {
                if now < entry.refresh_at {
                    self.note_use();
                    self.stats.cache_hits.add();
                    return Ok(f(&entry.token));
                }
                if now < entry.expires_at {
                    self.note_use();
                    self.start_background_refresh(now);
                    self.stats.cache_hits.add();
                    return Ok(f(&entry.token));
                }
            }
        }
        let token = self.fetch_blocking(Deadline::after(timeout), cancel)?;
        Ok(f(&token))
    }

    /// Copies a valid token and a NUL into `out`, the way `with_token` finds one, but through the seqlock slot:
    /// no reference count, no thread-local, no allocation on a hit.
    #[inline]
    pub fn copy_token(&self, timeout: Duration, out: &mut [u8]) -> Result<Copied> {
        self.copy_token_cancellable(timeout, None, out)
    }

    /// As `copy_token`, a wait for a fetch ending with CANCELLED when `cancel` is (see
    /// `with_token_cancellable`).
    #[inline]
    pub fn copy_token_cancellable(
        &self,
        timeout: Duration,
        cancel: Option<&Cancel>,
        out: &mut [u8],
    ) -> Result<Copied> {
        let now = self.now();
        let (copied, stale) = match self.slot.read_into(now, out) {
            SlotRead::Copied { len, stale } => (Copied::Whole(len), stale),
            SlotRead::TooSmall { len, stale } => (Copied::TooSmall(len), stale),
            SlotRead::Empty => {
                let token = self.fetch_blocking(Deadline::after(timeout), cancel)?;
                let bytes = token.access_token().as_bytes();
                if bytes.len() >= out.len() {
                    return Ok(Copied::TooSmall(bytes.len()));
                }
                out[..bytes.len()].copy_from_slice(bytes);
                out[bytes.len()] = 0;
                return Ok(Copied::Whole(bytes.len()));
            }
        };
        self.note_use();
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
            Some(e) => (e.expires_at.saturating_sub(self.now()) / 1000) as i64,
            None => -1,
        }
    }

    /// Takes the cache off the renewal scheduler for good, waiting (bounded by the fetch timeout) for a renewal
    /// a worker is running for it, so that nothing of this cache runs on another thread once this returns. When
    /// it was the process's last cache, the scheduler's threads are ended and joined. `x8_client_free` calls it.
    pub fn shutdown(&self) {
        self.scheduler.cancel(
            self.ticket,
            Some(self.policy.fetch_timeout + Duration::from_secs(1)),
        );
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

    /// Makes `entry` the cached token and sets its renewal deadline. The caller holds the flight lock.
    fn publish(&self, mut entry: Entry, now: u64) {
        if self.policy.jitter {
            entry.refresh_at += self.jitter.below(entry.jitter_range());
        }
        self.slot.publish(
            entry.token.access_token().as_bytes(),
            entry.refresh_at,
            entry.expires_at,
        );
        self.used.store(false, Ordering::Relaxed);
        self.set_renewal_timer(entry.refresh_at, now);
        self.current.store(Some(Arc::new(entry)));
    }

    /// Sets the scheduler's timer for `at` on this cache's clock. Under the flight lock, so no log here: a
    /// failure to start the timer thread only means the renewal starts when a caller finds the token stale.
    fn set_renewal_timer(&self, at: u64, now: u64) {
        let _ = self
            .scheduler
            .schedule(self.ticket, monotonic_ms() + at.saturating_sub(now));
    }

    fn begin_flight(&self) -> bool {
        self.in_flight
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    /// Gives up a flight this thread won without fetching: clears it under the flight lock, where waiters
    /// look, and wakes them, so none sleeps its whole timeout for a fetch that is not coming.
    fn abandon_flight(&self) {
        let flight = self.flight.lock();
        self.in_flight.store(false, Ordering::Release);
        drop(flight);
        self.landed.notify_all();
    }

    fn start_background_refresh(&self, now: u64) {
        if now < self.next_background_try.load(Ordering::Relaxed) || !self.begin_flight() {
            return;
        }
        let started = self
            .scheduler
            .run_now(self.ticket, Job::Flight { background: true });
        if let Err(e) = started {
            // No worker to be had: leave the token as it is, and let a caller after the backoff try again.
            self.next_background_try
                .store(now + self.policy.failure_backoff_min_ms, Ordering::Relaxed);
            self.abandon_flight();
            self.logger.log(Level::Warn, || {
                format!("could not start a background token refresh: {e}")
            });
        }
    }

    /// The scheduler's timer for this cache came due: renew if the token was used since it arrived.
    fn renewal_due(&self) {
        let now = self.now();
        let Some(entry) = self.current.load_full() else {
            return;
        };
        if now < entry.refresh_at {
            // Not yet on this cache's clock (a newer token landed, or a simulated clock): come back then.
            self.set_renewal_timer(entry.refresh_at, now);
            return;
        }
        if !self.used.load(Ordering::Relaxed) {
            self.logger.log(Level::Debug, || {
                "the token was not used since it arrived; letting it lapse instead of renewing it".to_owned()
            });
            return;
        }
        let retry_at = self.next_background_try.load(Ordering::Relaxed);
        if now < retry_at {
            self.set_renewal_timer(retry_at, now);
            return;
        }
        if !self.begin_flight() {
            return;
        }
        let guard = FlightGuard::new(self);
        let _ = self.run_flight(
            Deadline::client_timeout(self.policy.fetch_timeout),
            true,
            guard,
        );
    }

    fn fetch_blocking(&self, deadline: Deadline, cancel: Option<&Cancel>) -> Result<Arc<Token>> {
        loop {
            if cancel.is_some_and(Cancel::is_cancelled) {
                return Err(cancelled());
            }
            let now = self.now();
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
                let guard = FlightGuard::new(self);
                // Another thread may have finished a whole fetch between the checks above and winning the
                // flight: look again before going to the network, or two fetches would happen.
                if let Some(outcome) = self.landed_meanwhile() {
                    let mut guard = guard;
                    guard.armed = false;
                    self.abandon_flight();
                    return outcome;
                }
                if cancel.is_none()
                    && deadline.remaining() + INLINE_SLACK >= self.policy.fetch_timeout
                {
                    // This caller can wait about as long as the fetch may take (it was given the client's
                    // timeout, a few microseconds ago) and will not give up before: it runs the fetch itself,
                    // saving a thread hand-off.
                    return self.run_flight(deadline, false, guard);
                }
                // This caller cannot wait as long as the fetch may take, or may be cancelled: the scheduler
                // runs it under the client's timeout, and this caller waits below only until its own deadline
                // or its cancel.
                let mut guard = guard;
                guard.armed = false;
                if let Err(e) = self
                    .scheduler
                    .run_now(self.ticket, Job::Flight { background: false })
                {
                    self.abandon_flight();
                    return Err(Error::new(
                        ErrorKind::Internal,
                        format!("could not start the token fetch: {e}"),
                    ));
                }
            } else if cancel.is_none()
                && deadline.remaining() + INLINE_SLACK >= self.policy.fetch_timeout
                && self.scheduler.take_queued_flight(self.ticket)
            {
                // (Not a caller that may be cancelled: cancelling it would cancel nothing, the fetch on its own
                // thread would run on, and the waiters beside it would wait for a caller that left.)
                // The token has expired while its renewal still waits in the scheduler's queue behind other
                // clients' (a thousand keys renewing at once on a slow endpoint): waiting for the queue could
                // outlast this caller's deadline, so it takes the renewal back and runs it now, as if it had
                // found no renewal at all. The flight stays claimed: it was claimed for the queued job.
                let guard = FlightGuard::new(self);
                return self.run_flight(deadline, false, guard);
            }
            // Registered before the lock is taken and dropped after it is released (the wake-up takes it).
            let _woken_by_cancel = match cancel {
                Some(cancel) => match cancel.on_cancel(self.wake_waiters()) {
                    Some(guard) => Some(guard),
                    None => return Err(cancelled()),
                },
                None => None,
            };
            let mut flight = self.flight.lock();
            let generation = flight.generation;
            while self.in_flight.load(Ordering::Acquire) && flight.generation == generation {
                // Read under the lock the wake-up takes before notifying: a cancel cannot slip in between this
                // check and the wait.
                if cancel.is_some_and(Cancel::is_cancelled) {
                    return Err(cancelled());
                }
                #[cfg(test)]
                self.waiting.fetch_add(1, Ordering::SeqCst);
                let timed_out = self
                    .landed
                    .wait_until(&mut flight, deadline.instant())
                    .timed_out();
                #[cfg(test)]
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                if timed_out {
                    // This caller's deadline, not the endpoint's failure: nothing is remembered of it.
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        "timed out waiting for the token fetch in progress (it carries on, bounded by the \
                         client's timeout, for the callers after this one)",
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

    /// What a cancel runs to wake the callers waiting for a flight: they look at their cancel and leave. The
    /// lock is taken (and released) first, so that a waiter between its check and its wait is not missed.
    fn wake_waiters(&self) -> impl FnOnce() + Send + 'static {
        let me = self.me.clone();
        move || {
            // The waiter that registered this keeps the cache alive until the wake-up has run.
            if let Some(cache) = me.upgrade() {
                drop(cache.flight.lock());
                cache.landed.notify_all();
            }
        }
    }

    /// A valid token, or a failure still inside its backoff, that another thread's fetch left behind.
    fn landed_meanwhile(&self) -> Option<Result<Arc<Token>>> {
        let now = self.now();
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

    /// Fetches, publishes the result, and wakes the waiters. Only the thread that won `begin_flight` runs this,
    /// with the `guard` it took then. The log callback runs after the lock is released, so a callback may call
    /// back into the client.
    fn run_flight(
        &self,
        deadline: Deadline,
        background: bool,
        mut guard: FlightGuard<'_>,
    ) -> Result<Arc<Token>> {
        self.logger.log(Level::Debug, || {
            if background {
                "renewing the token ahead of expiry"
            } else {
                "fetching a token"
            }
            .to_owned()
        });
        let result = self.source.fetch(deadline);
        let now = self.now();
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
                self.publish(entry, now);
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
                    // The timer tries again after the backoff while the token is still good.
                    self.set_renewal_timer(now + backoff, now);
                }
                self.stats.count_failure(&err);
                Err((err, backoff))
            }
        };
        self.in_flight.store(false, Ordering::Release);
        guard.armed = false;
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

/// What a waiter whose caller cancelled gets: never remembered as the fetch's outcome.
fn cancelled() -> Error {
    Error::new(
        ErrorKind::Cancelled,
        "the call was cancelled by its caller while waiting for the token fetch (which goes on for the other \
         callers)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::Fetched;
    use std::panic::AssertUnwindSafe;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Barrier;

    /// A token source under test control: counts fetches, can fail, can block until released (or until its
    /// deadline, as the real endpoint would give up), can panic once.
    #[derive(Default)]
    struct FakeSource {
        fetches: AtomicUsize,
        fail_with: Mutex<Option<ErrorKind>>,
        lifetime_secs: AtomicU64,
        gate: Mutex<Option<Arc<Barrier>>>,
        /// Blocks each fetch until a message arrives, or fails it with Timeout at its deadline.
        hold: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
        panic_once: AtomicBool,
    }

    impl TokenSource for Arc<FakeSource> {
        fn fetch(&self, deadline: Deadline) -> Result<Fetched> {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
            let gate = self.gate.lock().clone();
            if let Some(gate) = gate {
                gate.wait();
            }
            if self.panic_once.swap(false, Ordering::SeqCst) {
                panic!("a fetch that panics (a log sink, an overflow on a hostile record)");
            }
            if let Some(rx) = self.hold.lock().as_ref() {
                if rx.recv_timeout(deadline.remaining()).is_err() {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        "the fake endpoint took too long",
                    ));
                }
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
            fetch_timeout: Duration::from_secs(5),
            failure_backoff_min_ms: 1_000,
            failure_backoff_max_ms: 30_000,
            jitter: false,
        }
    }

    fn cache_with(lifetime: u64) -> (Arc<TokenCache>, Arc<FakeSource>) {
        let source = Arc::new(FakeSource::default());
        source.lifetime_secs.store(lifetime, Ordering::SeqCst);
        let cache = TokenCache::on(
            Scheduler::private(),
            Jitter::seeded(1),
            Box::new(source.clone()),
            policy(),
            Arc::default(),
            Logger::default(),
            None,
        );
        (cache, source)
    }

    fn get(cache: &Arc<TokenCache>) -> Result<String> {
        cache.with_token(Duration::from_secs(5), |t| t.access_token().to_owned())
    }

    /// Rewinds a cached entry's clock marks by `ms`, as if that much time had passed.
    fn age(cache: &TokenCache, ms: u64) {
        let _flight = cache.flight.lock();
        let entry = cache.current.load_full().unwrap();
        cache.publish(
            Entry {
                token: entry.token.clone(),
                refresh_at: entry.refresh_at.saturating_sub(ms),
                expires_at: entry.expires_at.saturating_sub(ms),
            },
            cache.now(),
        );
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

    /// Waits (bounded) until `cond` holds.
    fn eventually(what: &str, cond: impl Fn() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !cond() {
            assert!(std::time::Instant::now() < deadline, "never: {what}");
            std::thread::yield_now();
        }
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
    fn renewals_run_on_the_scheduler_within_its_bound() {
        let (cache, _source) = cache_with(1799);
        get(&cache).unwrap();
        for n in 2..=4 {
            age(&cache, 1_500_000);
            get(&cache).unwrap();
            until_cached(&cache, &format!("tok{n}"));
        }
        assert_eq!(cache.stats.background_refreshes.load(Ordering::Relaxed), 3);
        assert!(cache.scheduler.threads() <= RENEWAL_WORKERS + 1);
    }

    #[test]
    fn a_token_that_arrived_without_a_waited_fetch_still_gets_renewed() {
        let (cache, _source) = cache_with(1799);
        let _flight = cache.flight.lock();
        let token = Token::new("seeded".into(), "Bearer".into(), vec![], 1799, None, 0).unwrap();
        let entry = Entry::new(Arc::new(token), 1_799_000, monotonic_ms(), &cache.policy);
        cache.publish(entry, monotonic_ms());
        drop(_flight);
        age(&cache, 1_500_000);
        assert_eq!(get(&cache).unwrap(), "seeded");
        until_cached(&cache, "tok1");
    }

    #[test]
    fn shutting_down_the_last_cache_ends_every_scheduler_thread() {
        let (cache, _source) = cache_with(1799);
        get(&cache).unwrap();
        age(&cache, 1_500_000);
        get(&cache).unwrap();
        until_cached(&cache, "tok2");
        let scheduler = cache.scheduler;
        assert!(scheduler.threads_started() > 0);
        cache.shutdown();
        assert_eq!(scheduler.threads(), 0, "a thread outlived its cache");
        drop(cache);
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

    /// A caller with a cancel leaves the fetch to the scheduler: cancelled while it waits, it returns at once,
    /// and the one fetch lands for the caller still waiting.
    #[test]
    fn a_cancelled_waiter_leaves_while_the_fetch_lands_for_the_others() {
        let (cache, source) = cache_with(1799);
        let (release, hold) = std::sync::mpsc::channel();
        *source.hold.lock() = Some(hold);
        let cancel = Cancel::new();
        let cancelled = std::thread::spawn({
            let (cache, cancel) = (cache.clone(), cancel.clone());
            move || {
                cache.with_token_cancellable(Duration::from_secs(30), Some(&cancel), |t| {
                    t.access_token().to_owned()
                })
            }
        });
        eventually("the cancellable caller waits for the flight", || {
            cache.waiting.load(Ordering::SeqCst) == 1
        });
        let patient = std::thread::spawn({
            let cache = cache.clone();
            move || cache.with_token(Duration::from_secs(30), |t| t.access_token().to_owned())
        });
        // The other caller waits too, unless the scheduler had not started the queued fetch yet when it came:
        // then it runs the fetch itself (a caller without a cancel may), which the hold keeps going just the same.
        eventually("the other caller waits or runs the fetch", || {
            cache.waiting.load(Ordering::SeqCst) == 2 || source.fetches.load(Ordering::SeqCst) == 1
        });
        cancel.cancel();
        assert_eq!(
            cancelled.join().unwrap().unwrap_err().kind(),
            ErrorKind::Cancelled
        );
        assert!(cache.in_flight.load(Ordering::SeqCst), "the fetch goes on");
        release.send(()).unwrap();
        assert_eq!(patient.join().unwrap().unwrap(), "tok1");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
        // In the cache a cancel only ends waits: a cached token is a hit (`Client` refuses a cancelled handle
        // before it gets here).
        let hit = cache.with_token_cancellable(Duration::from_secs(1), Some(&cancel), |t| {
            t.access_token().to_owned()
        });
        assert_eq!(hit.unwrap(), "tok1");
    }

    /// Issue 13, defect 3: a fetch that panics ends its flight. Its waiters get an internal error at once (not
    /// a timeout after their whole wait), and after the backoff the next caller fetches normally.
    #[test]
    fn a_panicking_fetch_ends_the_flight_and_wakes_its_waiters() {
        let (cache, source) = cache_with(1799);
        let gate = Arc::new(Barrier::new(2));
        *source.gate.lock() = Some(gate.clone());
        source.panic_once.store(true, Ordering::SeqCst);
        let starter = std::thread::spawn({
            let cache = cache.clone();
            move || std::panic::catch_unwind(AssertUnwindSafe(|| get(&cache))).is_err()
        });
        while source.fetches.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        let waiter = std::thread::spawn({
            let cache = cache.clone();
            move || cache.with_token(Duration::from_secs(30), |t| t.access_token().to_owned())
        });
        eventually("a caller waits for the flight", || {
            cache.waiting.load(Ordering::SeqCst) > 0
        });
        gate.wait();
        *source.gate.lock() = None;
        assert!(
            starter.join().unwrap(),
            "the panic reaches the caller that ran the fetch"
        );
        assert_eq!(
            waiter.join().unwrap().unwrap_err().kind(),
            ErrorKind::Internal
        );
        assert!(!cache.in_flight.load(Ordering::SeqCst));
        // The panic counts as a failure (backed off), and an invalidation lifts the backoff as for any failure.
        assert_eq!(get(&cache).unwrap_err().kind(), ErrorKind::Internal);
        cache.invalidate(None);
        assert_eq!(get(&cache).unwrap(), "tok2");
    }

    /// Issue 13, defect 3, on the renewal side: a renewal that panics on a worker leaves nothing marked running,
    /// and the next renewal happens.
    #[test]
    fn a_panicking_renewal_leaves_renewal_working() {
        let (cache, source) = cache_with(1799);
        get(&cache).unwrap();
        source.panic_once.store(true, Ordering::SeqCst);
        age(&cache, 1_500_000);
        assert_eq!(get(&cache).unwrap(), "tok1");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while cache.flight.lock().generation < 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "the panicked renewal never ended"
            );
            std::thread::yield_now();
        }
        assert!(!cache.in_flight.load(Ordering::SeqCst));
        cache.next_background_try.store(0, Ordering::SeqCst);
        assert_eq!(get(&cache).unwrap(), "tok1");
        until_cached(&cache, "tok3");
    }

    /// Issue 13, defect 4: a caller with a short deadline starts the fetch of a slow endpoint. It gets TIMEOUT at
    /// its own deadline, alone: a caller with a long deadline gets the token when the fetch lands, nothing is
    /// remembered as a failure, and the backoff does not grow.
    #[test]
    fn a_short_caller_neither_sets_the_fetch_deadline_nor_caches_its_timeout() {
        let (cache, source) = cache_with(1799);
        let (release, hold) = std::sync::mpsc::channel();
        *source.hold.lock() = Some(hold);
        let short = cache.with_token(Duration::from_millis(50), |t| t.access_token().to_owned());
        assert_eq!(short.unwrap_err().kind(), ErrorKind::Timeout);
        let long = std::thread::spawn({
            let cache = cache.clone();
            move || cache.with_token(Duration::from_secs(30), |t| t.access_token().to_owned())
        });
        eventually("a caller waits for the flight", || {
            cache.waiting.load(Ordering::SeqCst) > 0
        });
        release.send(()).unwrap();
        assert_eq!(long.join().unwrap().unwrap(), "tok1");
        assert_eq!(
            get(&cache).unwrap(),
            "tok1",
            "a later caller gets the token, not a cached TIMEOUT"
        );
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
        let flight = cache.flight.lock();
        assert_eq!(flight.consecutive_failures, 0);
        assert!(flight.last_error.is_none());
    }

    /// Issue 13, defect 9: when a flight is given up without a fetch (no worker could be started), waiters are
    /// woken and fetch themselves instead of sleeping out their whole timeout.
    #[test]
    fn an_abandoned_flight_wakes_its_waiters() {
        let (cache, source) = cache_with(1799);
        assert!(
            cache.begin_flight(),
            "a flight claimed, as start_background_refresh does"
        );
        let waiter = std::thread::spawn({
            let cache = cache.clone();
            move || cache.with_token(Duration::from_secs(30), |t| t.access_token().to_owned())
        });
        eventually("a caller waits for the flight", || {
            cache.waiting.load(Ordering::SeqCst) > 0
        });
        cache.abandon_flight();
        // The waiter wakes, finds no flight, and fetches itself. Had it not been woken it would have waited 30 s
        // and reported TIMEOUT: the gate below keeps the fetch from landing unless the waiter runs it.
        assert_eq!(waiter.join().unwrap().unwrap(), "tok1");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    }

    /// Issue 13, defect 9, end to end: the scheduler refuses the renewal; the token is kept, the flight is not
    /// left claimed, and the renewal is retried after the backoff.
    #[test]
    fn a_renewal_that_cannot_start_releases_the_flight() {
        let (cache, source) = cache_with(1799);
        get(&cache).unwrap();
        cache.scheduler.refuse(true);
        age(&cache, 1_500_000);
        assert_eq!(get(&cache).unwrap(), "tok1");
        assert!(
            !cache.in_flight.load(Ordering::SeqCst),
            "the flight was left claimed"
        );
        assert!(cache.next_background_try.load(Ordering::SeqCst) > 0);
        cache.scheduler.refuse(false);
        cache.next_background_try.store(0, Ordering::SeqCst);
        assert_eq!(get(&cache).unwrap(), "tok1");
        until_cached(&cache, "tok2");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
    }

    /// A caller with a cancel never takes a queued flight back to run it on its own thread (it could not be
    /// cancelled then): with the flight parked in the queue, two callers with a handle each both leave when
    /// cancelled, and the flight is still there for the scheduler.
    #[test]
    fn a_caller_with_a_cancel_leaves_a_queued_flight_to_the_scheduler() {
        let (cache, source) = cache_with(1799);
        cache.scheduler.park(true);
        let callers: Vec<_> = (0..2)
            .map(|_| {
                let (cache, cancel) = (cache.clone(), Cancel::new());
                let call = std::thread::spawn({
                    let cancel = cancel.clone();
                    move || {
                        cache.with_token_cancellable(Duration::from_secs(30), Some(&cancel), |t| {
                            t.access_token().to_owned()
                        })
                    }
                });
                (cancel, call)
            })
            .collect();
        eventually("both callers wait", || {
            cache.waiting.load(Ordering::SeqCst) == 2
        });
        for (cancel, call) in callers {
            cancel.cancel();
            assert_eq!(
                call.join().unwrap().unwrap_err().kind(),
                ErrorKind::Cancelled
            );
        }
        assert_eq!(
            source.fetches.load(Ordering::SeqCst),
            0,
            "nobody ran it inline"
        );
        cache.scheduler.park(false);
        assert_eq!(get(&cache).unwrap(), "tok1");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
    }

    /// Issue 15: a caller whose token expired while its renewal still waits in the scheduler's queue (the pool
    /// busy with other clients' renewals) runs that renewal itself instead of waiting for the queue.
    #[test]
    fn an_expired_token_whose_renewal_is_still_queued_is_fetched_by_its_caller() {
        let (cache, source) = cache_with(1799);
        get(&cache).unwrap();
        cache.scheduler.park(true);
        age(&cache, 1_500_000);
        assert_eq!(
            get(&cache).unwrap(),
            "tok1",
            "stale: served while renewal queues"
        );
        assert!(cache.in_flight.load(Ordering::SeqCst));
        assert_eq!(
            source.fetches.load(Ordering::SeqCst),
            1,
            "the renewal is only queued"
        );
        age(&cache, 300_000);
        // Without taking the queued renewal back this caller would wait out its whole timeout (5 s) and fail.
        assert_eq!(get(&cache).unwrap(), "tok2");
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
        assert_eq!(
            cache.stats.background_refreshes.load(Ordering::SeqCst),
            0,
            "its caller ran it"
        );
        assert!(!cache.in_flight.load(Ordering::SeqCst));
        cache.scheduler.park(false);
        assert!(
            !cache.scheduler.take_queued_flight(cache.ticket),
            "nothing left queued"
        );
    }

    /// Issue 15: a token nobody used since it arrived is not renewed when its timer comes due; a used one is.
    #[test]
    fn only_a_used_token_is_renewed_by_its_timer() {
        let (cache, source) = cache_with(1799);
        get(&cache).unwrap();
        // Aged into the window, unused: the timer fires at once and lets it lapse.
        age(&cache, 1_500_000);
        cache.renewal_due();
        assert_eq!(source.fetches.load(Ordering::SeqCst), 1);
        cache.note_use();
        cache.renewal_due();
        assert_eq!(source.fetches.load(Ordering::SeqCst), 2);
        assert_eq!(cache.peek().unwrap().access_token(), "tok2");
    }

    /// Issue 15: with jitter, tokens that arrive together renew at points spread over the first half of their
    /// window, the same points for the same seeds.
    #[test]
    fn jitter_spreads_renewals_over_the_window_deterministically() {
        let renew_points = |seed: u64| -> Vec<u64> {
            (0..200)
                .map(|i| {
                    let source = Arc::new(FakeSource::default());
                    source.lifetime_secs.store(30, Ordering::SeqCst);
                    let cache = TokenCache::on(
                        Scheduler::private(),
                        Jitter::seeded(seed + i),
                        Box::new(source),
                        Policy {
                            jitter: true,
                            ..policy()
                        },
                        Arc::default(),
                        Logger::default(),
                        Some(Arc::new(AtomicU64::new(1_000_000))),
                    );
                    get(&cache).unwrap();
                    let at = cache.current.load().as_ref().unwrap().refresh_at;
                    cache.shutdown();
                    at
                })
                .collect()
        };
        let points = renew_points(42);
        assert_eq!(points, renew_points(42));
        // 30 s token: margin 6 s, safety 3 s: the window is [1,024,000, 1,027,000), its first half 1.5 s long.
        let (start, half) = (1_024_000u64, 1_500u64);
        let mut buckets = [0u32; 10];
        for p in &points {
            assert!((start..start + half).contains(p), "{p}");
            buckets[((p - start) * 10 / half) as usize] += 1;
        }
        // 200 renewals in ten 150 ms buckets: about 20 each, none empty, none with a burst.
        assert!(buckets.iter().all(|n| (5..=40).contains(n)), "{buckets:?}");
    }
}
