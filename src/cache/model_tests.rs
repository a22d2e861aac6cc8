//! A model-based test of the token cache (issue 13's method): proptest generates scripts of steps (the simulated
//! clock moves, the token source is scripted to succeed, fail, panic or stall, a token is revoked, a burst of
//! callers with their own deadlines arrives from several threads at once) and after every step the invariants a
//! user relies on are checked:
//! - at most one fetch is in flight;
//! - no fetch is cut short by a caller's deadline (the fetch runs under the client's timeout) and no caller waits
//!   far past its own deadline;
//! - a valid token is never withheld: when one is cached, every caller of the burst gets a token;
//! - failures are backed off: after a failed fetch, no new fetch before the minimum backoff (unless a token was
//!   revoked, which lifts it);
//! - no token is served past its expiry.
//!
//! Freshness is decided on the simulated clock, which only the script moves (so a step's callers all see one
//! instant); waits and the source's stalls are real, and short.

use super::*;
use crate::token::Fetched;
use proptest::prelude::*;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::AtomicUsize;
use std::time::Instant;

const FETCH_TIMEOUT: Duration = Duration::from_millis(300);
const BACKOFF_MIN_MS: u64 = 1_000;
/// How far past its deadline a caller may return: thread scheduling on a busy machine, not x8's waiting.
const LATE_SLACK: Duration = Duration::from_secs(2);

#[derive(Clone, Debug)]
enum Outcome {
    Token { life_s: u64 },
    Fail(ErrorKind),
    Panic,
}

#[derive(Clone, Debug)]
enum Step {
    Advance(u64),
    Script { outcome: Outcome, stall_ms: u64 },
    Revoke,
    Burst(Vec<u64>),
}

#[derive(Debug)]
enum Event {
    Fetch { at: u64, ok: bool },
    Revoked,
}

/// The scripted token source: does what the script last said, on the simulated clock, and records it.
struct Scripted {
    clock: Arc<AtomicU64>,
    next: Mutex<(Outcome, u64)>,
    fetching: AtomicUsize,
    most_fetching: AtomicUsize,
    cut_short: AtomicUsize,
    issued: AtomicUsize,
    /// Each token handed out, with its expiry on the simulated clock.
    expiry_of: Mutex<HashMap<String, u64>>,
    events: Mutex<Vec<Event>>,
}

impl TokenSource for Arc<Scripted> {
    fn fetch(&self, deadline: Deadline) -> Result<Fetched> {
        let now_fetching = self.fetching.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_fetching.fetch_max(now_fetching, Ordering::SeqCst);
        let at = self.clock.load(Ordering::SeqCst);
        let (outcome, stall_ms) = self.next.lock().clone();
        let stall = Duration::from_millis(stall_ms);
        if deadline.remaining() < stall {
            self.cut_short.fetch_add(1, Ordering::SeqCst);
        }
        std::thread::sleep(stall.min(deadline.remaining()));
        let result = match outcome {
            Outcome::Token { life_s } => {
                let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
                let value = format!("model-token-{n}");
                self.expiry_of
                    .lock()
                    .insert(value.clone(), at + life_s * 1000);
                Token::new(value, "Bearer".into(), vec![], life_s, None, 0).map(|token| Fetched {
                    token,
                    valid_for_ms: life_s * 1000,
                })
            }
            Outcome::Fail(kind) => Err(Error::new(kind, "scripted failure")),
            Outcome::Panic => Err(Error::new(ErrorKind::Internal, "panic")),
        };
        self.events.lock().push(Event::Fetch {
            at,
            ok: result.is_ok(),
        });
        self.fetching.fetch_sub(1, Ordering::SeqCst);
        if matches!(outcome, Outcome::Panic) {
            panic!("scripted panic in the token source");
        }
        result
    }
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        4 => (2u64..60).prop_map(|life_s| Outcome::Token { life_s }),
        2 => prop_oneof![
            Just(ErrorKind::TokenEndpoint),
            Just(ErrorKind::Transport),
            Just(ErrorKind::Auth),
            Just(ErrorKind::Timeout),
        ]
        .prop_map(Outcome::Fail),
        1 => Just(Outcome::Panic),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u64..20_000).prop_map(Step::Advance),
        2 => (outcome(), 0u64..120).prop_map(|(outcome, stall_ms)| Step::Script { outcome, stall_ms }),
        1 => Just(Step::Revoke),
        4 => prop::collection::vec(10u64..500, 1..5).prop_map(Step::Burst),
    ]
}

struct Model {
    cache: Arc<TokenCache>,
    source: Arc<Scripted>,
    clock: Arc<AtomicU64>,
}

impl Model {
    fn new() -> Model {
        let clock = Arc::new(AtomicU64::new(10_000_000));
        let source = Arc::new(Scripted {
            clock: clock.clone(),
            next: Mutex::new((Outcome::Token { life_s: 30 }, 0)),
            fetching: AtomicUsize::new(0),
            most_fetching: AtomicUsize::new(0),
            cut_short: AtomicUsize::new(0),
            issued: AtomicUsize::new(0),
            expiry_of: Mutex::new(HashMap::new()),
            events: Mutex::new(Vec::new()),
        });
        let policy = Policy {
            refresh_margin_ms: 10_000,
            expiry_safety_ms: 1_000,
            fetch_timeout: FETCH_TIMEOUT,
            failure_backoff_min_ms: BACKOFF_MIN_MS,
            failure_backoff_max_ms: 8_000,
            jitter: true,
        };
        let cache = TokenCache::on(
            Scheduler::private(),
            Jitter::seeded(7),
            Box::new(source.clone()),
            policy,
            Arc::default(),
            Logger::default(),
            Some(clock.clone()),
        );
        Model {
            cache,
            source,
            clock,
        }
    }

    fn now(&self) -> u64 {
        self.clock.load(Ordering::SeqCst)
    }

    /// A token the cache holds that is still valid at the simulated now.
    fn valid_cached(&self) -> Option<String> {
        let now = self.now();
        self.cache
            .current
            .load()
            .as_ref()
            .filter(|e| now < e.expires_at)
            .map(|e| e.token.access_token().to_owned())
    }

    /// Waits until no fetch is in flight, so each step starts from a settled cache.
    fn settle(&self) {
        let until = Instant::now() + Duration::from_secs(20);
        while self.cache.in_flight.load(Ordering::SeqCst) {
            assert!(Instant::now() < until, "a flight never ended");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn run(&self, step: &Step) {
        match step {
            Step::Advance(ms) => {
                self.clock.fetch_add(*ms, Ordering::SeqCst);
            }
            Step::Script { outcome, stall_ms } => {
                *self.source.next.lock() = (outcome.clone(), *stall_ms);
            }
            Step::Revoke => {
                if let Some(current) = self.cache.peek() {
                    // Recorded first: the revocation lifts the backoff before any fetch it allows.
                    self.source.events.lock().push(Event::Revoked);
                    self.cache.invalidate(Some(&current));
                }
            }
            Step::Burst(deadlines) => self.burst(deadlines),
        }
        self.settle();
        self.check_history();
    }

    fn burst(&self, deadlines: &[u64]) {
        let valid_before = self.valid_cached();
        let now = self.now();
        let callers: Vec<_> = deadlines
            .iter()
            .map(|&ms| {
                let cache = self.cache.clone();
                std::thread::spawn(move || {
                    let deadline = Duration::from_millis(ms);
                    let started = Instant::now();
                    let got = catch_unwind(AssertUnwindSafe(|| {
                        cache.with_token(deadline, |t| t.access_token().to_owned())
                    }));
                    (got, started.elapsed(), deadline)
                })
            })
            .collect();
        for caller in callers {
            let (got, waited, deadline) = caller.join().unwrap();
            assert!(
                waited <= deadline + LATE_SLACK,
                "a caller with a {deadline:?} deadline waited {waited:?}"
            );
            match got {
                Ok(Ok(token)) => {
                    let expiry = self.source.expiry_of.lock()[&token];
                    assert!(
                        now < expiry,
                        "{token} served at {now}, past its expiry {expiry}"
                    );
                }
                other => assert!(
                    valid_before.is_none(),
                    "a valid token ({valid_before:?}) was withheld: {:?}",
                    other.map(|r| r.map_err(|e| e.kind()))
                ),
            }
        }
    }

    fn check_history(&self) {
        assert!(
            self.source.most_fetching.load(Ordering::SeqCst) <= 1,
            "two fetches were in flight at once"
        );
        assert_eq!(
            self.source.cut_short.load(Ordering::SeqCst),
            0,
            "a fetch ran under a caller's deadline instead of the client's timeout"
        );
        let events = self.source.events.lock();
        let mut last_failure: Option<u64> = None;
        for event in events.iter() {
            match event {
                Event::Revoked => last_failure = None,
                Event::Fetch { at, ok } => {
                    if let Some(failed_at) = last_failure {
                        assert!(
                            *at >= failed_at + BACKOFF_MIN_MS,
                            "a fetch at {at} followed a failure at {failed_at} inside the backoff: {events:?}"
                        );
                    }
                    last_failure = (!ok).then_some(*at);
                }
            }
        }
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        self.cache.shutdown();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, max_shrink_iters: 64, ..ProptestConfig::default() })]

    #[test]
    fn the_cache_keeps_its_promises_under_any_script(steps in prop::collection::vec(step(), 1..16)) {
        let model = Model::new();
        for step in &steps {
            model.run(step);
        }
    }
}
