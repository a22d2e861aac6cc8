//! The sharing protocol over any `SharedStore` (see the module above): load, else lock and fetch, store, unlock.

use parking_lot::{Mutex, RwLock};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

use super::record::MAX_RECORD_BYTES;
use super::record::{decode, encode, usable, Decoded, Unusable, DEFAULT_LIFETIME_CAP_SECS};
use super::{SharedStore, StoreError, StoreResult};
use crate::error::Result;
use crate::rt::clock::{wall_ms, Deadline};
use crate::rt::log::{Level, Logger};
use crate::rt::stats::Stats;
use crate::token::{Fetched, Token, TokenSource};

/// How often a process waiting for another's fetch looks at the record again.
const POLL_INTERVAL: Duration = Duration::from_millis(25);
/// A lock lives as long as its holder's fetch may take, retries included (the whole of the caller's
/// remaining time), plus this slack, so that it never lapses while the holder is still fetching and a second
/// process fetches too. A holder that dies blocks no one for long all the same: waiters give up after half
/// their own time and fetch themselves.
const LOCK_TTL_SLACK: Duration = Duration::from_secs(1);
const LOCK_TTL_MAX: Duration = Duration::from_secs(24 * 3600);
/// The longest any one store call may take, however long the call it serves may wait: a store slower than
/// this is treated as down for this fetch. Callers with deadlines of their own shorter than the client's do not
/// run the fetch (the cache's flight runs under the client's timeout), so without this ceiling a hanging store
/// would hold the flight for half the client's timeout and time out every such caller; and waiting longer for a
/// cache than a token request takes defeats the cache. A slow but working store (hundreds of milliseconds) is
/// still waited for.
const STORE_CALL_MAX: Duration = Duration::from_secs(1);

/// Closed when the client is freed: from then on the store is not called at all, so a C store's `user_data`
/// is never used after `x8_client_free` returns (a call in progress is waited for). The same pattern as the
/// logger's gate.
#[derive(Clone)]
pub(crate) struct Gate(Arc<RwLock<bool>>);

impl Gate {
    pub fn open() -> Gate {
        Gate(Arc::new(RwLock::new(true)))
    }

    pub fn close(&self) {
        *self.0.write() = false;
    }
}

/// A token source that shares the tokens of `inner` (the token endpoint) through a `SharedStore`.
pub struct StoreSource {
    inner: Box<dyn TokenSource>,
    store: Arc<dyn SharedStore>,
    /// `store.describe()`, asked once: a store's own code runs only inside `call`, where a panic is caught,
    /// and a `describe` that panicked inside a warning turned a store failure into a failed fetch.
    shown: String,
    key: String,
    refresh_margin_ms: i64,
    logger: Logger,
    stats: Arc<Stats>,
    gate: Gate,
    /// The last token the API refused, by digest: never taken from the store again, even by a store that
    /// cannot remove records.
    refused: Mutex<Option<[u8; 32]>>,
    /// The longest lifetime the token endpoint has granted this client (0 before its first fetch): a stored
    /// record claiming more is not believed.
    longest_lifetime_secs: AtomicU64,
}

/// The deadline of a store call made before the fetch: half of the time left, so that a store that hangs
/// until then still leaves the other half to fetch without it, and never more than [`STORE_CALL_MAX`].
fn before_fetch(deadline: Deadline) -> Deadline {
    deadline.halfway().at_most(STORE_CALL_MAX)
}

/// Why a load found nothing usable.
enum Miss {
    /// Nothing, or nothing usable: fetch (under the lock).
    Nothing,
    /// The store failed: fetch without it.
    Failed,
}

impl StoreSource {
    pub(crate) fn new(
        inner: Box<dyn TokenSource>,
        store: Arc<dyn SharedStore>,
        key: String,
        refresh_margin: Duration,
        logger: Logger,
        stats: Arc<Stats>,
        gate: Gate,
    ) -> StoreSource {
        let shown = catch_unwind(AssertUnwindSafe(|| store.describe()))
            .unwrap_or_else(|_| "the application's token store".to_owned());
        StoreSource {
            inner,
            store,
            shown,
            key,
            refresh_margin_ms: refresh_margin.as_millis().min(i64::MAX as u128) as i64,
            logger,
            stats,
            gate,
            refused: Mutex::new(None),
            longest_lifetime_secs: AtomicU64::new(0),
        }
    }

    /// Calls the store through the gate, turning a panic inside it into an error like any other.
    fn call<T>(&self, f: impl FnOnce(&dyn SharedStore) -> StoreResult<T>) -> StoreResult<T> {
        let open = self.gate.0.read();
        if !*open {
            return Err("the client was freed".into());
        }
        catch_unwind(AssertUnwindSafe(|| f(&*self.store)))
            .unwrap_or_else(|_| Err("the store panicked".into()))
    }

    fn failed(&self, what: &str, e: &StoreError) {
        Stats::bump(&self.stats.store_errors);
        self.logger.log(Level::Warn, || {
            format!(
                "token store {}: {what} failed ({e}); fetching the token without it",
                self.shown
            )
        });
    }

    fn digest(token: &str) -> [u8; 32] {
        let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        out
    }

    /// The stored record and its token, if it parses and is not one the API refused.
    fn load_record(&self, deadline: Deadline) -> StoreResult<Option<(Zeroizing<String>, Token)>> {
        let Some(text) = self.call(|s| s.load(&self.key, deadline))? else {
            return Ok(None);
        };
        // Whatever a store hands back (an application's own store too) is parsed only if it could be a record.
        let decoded = if text.len() > MAX_RECORD_BYTES {
            Decoded::Corrupt
        } else {
            decode(&text)
        };
        match decoded {
            Decoded::Token(token) => {
                let refused = *self.refused.lock();
                if refused.is_some_and(|d| d == Self::digest(token.access_token())) {
                    return Ok(None);
                }
                Ok(Some((text, token)))
            }
            Decoded::OtherFormat => Ok(None),
            Decoded::Corrupt => {
                self.logger.log(Level::Warn, || {
                    format!(
                        "token store {}: the record is corrupt; replacing it",
                        self.shown
                    )
                });
                Ok(None)
            }
        }
    }

    /// A usable token from the store, asked for within `before_fetch(deadline)`.
    fn load_usable(&self, deadline: Deadline) -> std::result::Result<Fetched, Miss> {
        match self.load_record(before_fetch(deadline)) {
            Ok(Some((_, token))) => match usable(
                token,
                wall_ms(),
                self.refresh_margin_ms,
                self.lifetime_cap_secs(),
            ) {
                Ok(found) => {
                    Stats::bump(&self.stats.store_hits);
                    self.logger.log(Level::Info, || {
                        format!("took the shared token from {}", self.shown)
                    });
                    Ok(found)
                }
                Err(Unusable::Expiring) => Err(Miss::Nothing),
                Err(Unusable::Implausible(why)) => {
                    self.logger.log(Level::Warn, || {
                        format!(
                            "token store {}: ignoring the stored token because {why}; replacing it",
                            self.shown
                        )
                    });
                    Err(Miss::Nothing)
                }
            },
            Ok(None) => Err(Miss::Nothing),
            Err(e) => {
                self.failed("reading the token", &e);
                Err(Miss::Failed)
            }
        }
    }

    fn lifetime_cap_secs(&self) -> u64 {
        match self.longest_lifetime_secs.load(Ordering::Relaxed) {
            0 => DEFAULT_LIFETIME_CAP_SECS,
            seen => seen,
        }
    }

    /// Fetches from the token endpoint (without sharing), remembering the lifetime it granted.
    fn fetch_direct(&self, deadline: Deadline) -> Result<Fetched> {
        let fetched = self.inner.fetch(deadline)?;
        self.longest_lifetime_secs
            .fetch_max(fetched.token.lifetime_secs(), Ordering::Relaxed);
        Ok(fetched)
    }

    /// Fetches from the token endpoint and shares the result.
    fn fetch_and_store(&self, deadline: Deadline) -> Result<Fetched> {
        let fetched = self.fetch_direct(deadline)?;
        let ttl_ms = fetched.token.expires_at_wall_ms() - wall_ms();
        if ttl_ms > 0 {
            let record = encode(&fetched.token);
            let ttl = Duration::from_millis(ttl_ms as u64);
            let bound = deadline.at_most(STORE_CALL_MAX);
            if let Err(e) = self.call(|s| s.store(&self.key, &record, ttl, bound)) {
                Stats::bump(&self.stats.store_errors);
                self.logger.log(Level::Warn, || {
                    format!(
                        "token store {}: storing the token failed ({e}); other processes will fetch their own",
                        self.shown
                    )
                });
            }
        }
        Ok(fetched)
    }

    /// Waits for the lock, or for the holder's token. `Ok(None)`: the lock is ours.
    fn acquire(&self, deadline: Deadline) -> std::result::Result<Option<Fetched>, Miss> {
        let ttl = (deadline.remaining() + LOCK_TTL_SLACK).min(LOCK_TTL_MAX);
        // Half of the caller's time at most, so that after a holder that died or hangs there is still time to
        // fetch ourselves.
        let give_up = Instant::now() + deadline.remaining() / 2;
        let mut waited = false;
        loop {
            match self.call(|s| s.lock(&self.key, ttl, before_fetch(deadline))) {
                Ok(true) => return Ok(None),
                Ok(false) => {}
                Err(e) => {
                    self.failed("taking the lock", &e);
                    return Err(Miss::Failed);
                }
            }
            if !waited {
                self.logger.log(Level::Debug, || {
                    format!(
                        "another process is fetching the token for {}; waiting for it",
                        self.shown
                    )
                });
                waited = true;
            }
            if Instant::now() + POLL_INTERVAL >= give_up {
                self.logger.log(Level::Warn, || {
                    format!(
                        "token store {}: the lock stayed taken; fetching the token without waiting longer",
                        self.shown
                    )
                });
                return Err(Miss::Nothing);
            }
            std::thread::sleep(POLL_INTERVAL);
            match self.load_usable(deadline) {
                Ok(found) => return Ok(Some(found)),
                Err(Miss::Nothing) => {}
                Err(Miss::Failed) => return Err(Miss::Failed),
            }
        }
    }
}

impl TokenSource for StoreSource {
    fn fetch(&self, deadline: Deadline) -> Result<Fetched> {
        match self.load_usable(deadline) {
            Ok(found) => return Ok(found),
            Err(Miss::Failed) => return self.fetch_direct(deadline),
            Err(Miss::Nothing) => {}
        }
        match self.acquire(deadline) {
            Ok(Some(found)) => Ok(found),
            Err(Miss::Failed) => self.fetch_direct(deadline),
            // Waited long enough for a holder that does not deliver: fetch, and share what we got.
            Err(Miss::Nothing) => self.fetch_and_store(deadline),
            Ok(None) => {
                // The lock is ours. The holder before us may have stored a token just now.
                let outcome = match self.load_usable(deadline) {
                    Ok(found) => Ok(found),
                    Err(Miss::Nothing) => self.fetch_and_store(deadline),
                    Err(Miss::Failed) => self.fetch_direct(deadline),
                };
                let bound = deadline.at_most(STORE_CALL_MAX);
                if let Err(e) = self.call(|s| s.unlock(&self.key, bound)) {
                    Stats::bump(&self.stats.store_errors);
                    self.logger.log(Level::Warn, || {
                        format!(
                            "token store {}: releasing the lock failed ({e}); it frees itself when its TTL ends",
                            self.shown
                        )
                    });
                }
                outcome
            }
        }
    }

    fn rejected(&self, token: &Token) {
        *self.refused.lock() = Some(Self::digest(token.access_token()));
        // On the caller's thread, inside the call that saw the refusal, which has no deadline to give here.
        let deadline = Deadline::after(STORE_CALL_MAX);
        // Drop the record only if it still holds the refused token: another process may have replaced it.
        let outcome = self
            .load_record_unfiltered(deadline)
            .and_then(|found| match found {
                Some((text, stored)) if stored.access_token() == token.access_token() => {
                    self.call(|s| s.remove(&self.key, &text, deadline))
                }
                _ => Ok(()),
            });
        if let Err(e) = outcome {
            Stats::bump(&self.stats.store_errors);
            self.logger.log(Level::Warn, || {
                format!(
                    "token store {}: removing a refused token failed ({e})",
                    self.shown
                )
            });
        }
    }
}

impl StoreSource {
    /// The stored record and its token, refused or not.
    fn load_record_unfiltered(
        &self,
        deadline: Deadline,
    ) -> StoreResult<Option<(Zeroizing<String>, Token)>> {
        let Some(text) = self.call(|s| s.load(&self.key, deadline))? else {
            return Ok(None);
        };
        Ok(match decode(&text) {
            Decoded::Token(token) => Some((text, token)),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorKind};
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Barrier;

    /// A store in memory, with a lock, that can be told to fail or to panic.
    #[derive(Default)]
    struct MemoryStore {
        records: Mutex<HashMap<String, (String, Duration)>>,
        locked: Mutex<bool>,
        fail: AtomicBool,
        panic: AtomicBool,
        locks_taken: AtomicUsize,
        /// The TTL of the last lock taken, and the time each call was given (method, time left).
        lock_ttl: Mutex<Option<Duration>>,
        given: Mutex<Vec<(&'static str, Duration)>>,
        describe_panics: AtomicBool,
    }

    impl MemoryStore {
        fn check(&self) -> StoreResult<()> {
            if self.panic.load(Ordering::SeqCst) {
                panic!("store bug");
            }
            if self.fail.load(Ordering::SeqCst) {
                return Err("store down".into());
            }
            Ok(())
        }
    }

    impl SharedStore for MemoryStore {
        fn describe(&self) -> String {
            if self.describe_panics.load(Ordering::SeqCst) {
                panic!("describe bug");
            }
            "memory".into()
        }
        fn load(&self, key: &str, d: Deadline) -> StoreResult<Option<Zeroizing<String>>> {
            self.given.lock().push(("load", d.remaining()));
            self.check()?;
            Ok(self
                .records
                .lock()
                .get(key)
                .map(|(r, _)| Zeroizing::new(r.clone())))
        }
        fn store(&self, key: &str, record: &str, ttl: Duration, d: Deadline) -> StoreResult<()> {
            self.given.lock().push(("store", d.remaining()));
            self.check()?;
            self.records
                .lock()
                .insert(key.to_owned(), (record.to_owned(), ttl));
            Ok(())
        }
        fn lock(&self, _key: &str, ttl: Duration, d: Deadline) -> StoreResult<bool> {
            self.given.lock().push(("lock", d.remaining()));
            *self.lock_ttl.lock() = Some(ttl);
            self.check()?;
            let mut locked = self.locked.lock();
            if *locked {
                return Ok(false);
            }
            *locked = true;
            self.locks_taken.fetch_add(1, Ordering::SeqCst);
            Ok(true)
        }
        fn unlock(&self, _key: &str, _: Deadline) -> StoreResult<()> {
            *self.locked.lock() = false;
            Ok(())
        }
        fn remove(&self, key: &str, record: &str, _: Deadline) -> StoreResult<()> {
            self.check()?;
            let mut records = self.records.lock();
            if records.get(key).is_some_and(|(r, _)| r == record) {
                records.remove(key);
            }
            Ok(())
        }
    }

    /// The token endpoint: counts fetches, mints tok1, tok2...; can block until released.
    #[derive(Default)]
    struct Endpoint {
        fetches: AtomicUsize,
        gate: Mutex<Option<Arc<Barrier>>>,
    }

    impl TokenSource for Arc<Endpoint> {
        fn fetch(&self, _deadline: Deadline) -> Result<Fetched> {
            let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
            let gate = self.gate.lock().clone();
            if let Some(gate) = gate {
                gate.wait();
            }
            let token = Token::new(
                format!("tok{n}"),
                "BearerToken".into(),
                vec!["vcc".into()],
                1799,
                None,
                wall_ms(),
            )
            .map_err(|e| Error::new(ErrorKind::Protocol, e.to_string()))?;
            Ok(Fetched {
                token,
                valid_for_ms: 1_799_000,
            })
        }
    }

    const KEY: &str = "x8:token:test";

    fn source(store: &Arc<MemoryStore>, endpoint: &Arc<Endpoint>) -> StoreSource {
        StoreSource::new(
            Box::new(endpoint.clone()),
            store.clone(),
            KEY.into(),
            Duration::from_secs(300),
            Logger::default(),
            Arc::default(),
            Gate::open(),
        )
    }

    fn deadline() -> Deadline {
        Deadline::after(Duration::from_secs(5))
    }

    #[test]
    fn clients_share_one_fetch_through_the_store() {
        let store = Arc::new(MemoryStore::default());
        let endpoint = Arc::new(Endpoint::default());
        let first = source(&store, &endpoint).fetch(deadline()).unwrap();
        for _ in 0..5 {
            let again = source(&store, &endpoint).fetch(deadline()).unwrap();
            assert_eq!(again.token.access_token(), first.token.access_token());
        }
        assert_eq!(endpoint.fetches.load(Ordering::SeqCst), 1);
        let (record, ttl) = store.records.lock().get(KEY).cloned().unwrap();
        assert!(record.contains("tok1"));
        assert!(ttl > Duration::from_secs(1790) && ttl <= Duration::from_secs(1799));
        assert!(!*store.locked.lock(), "the lock is released");
    }

    /// Issue 13, defect 6: the lock lives as long as the holder's fetch may take with its retries (the whole
    /// of the caller's time, plus slack), so it never lapses mid-fetch and lets a second process fetch too.
    /// And every store call is given the call's time, cut as the protocol says: at most a second, and before
    /// the fetch at most half of what is left.
    #[test]
    fn the_lock_outlives_the_fetch_and_store_calls_get_the_calls_deadline() {
        let store = Arc::new(MemoryStore::default());
        let endpoint = Arc::new(Endpoint::default());
        let s = source(&store, &endpoint);
        s.fetch(Deadline::after(Duration::from_secs(30))).unwrap();
        let ttl = store.lock_ttl.lock().unwrap();
        assert!(ttl >= Duration::from_secs(30), "{ttl:?}");
        let given = store.given.lock().clone();
        let names: Vec<_> = given.iter().map(|(name, _)| *name).collect();
        assert_eq!(names, ["load", "lock", "load", "store"]);
        assert!(
            given.iter().all(|(_, left)| *left <= STORE_CALL_MAX),
            "{given:?}"
        );
        assert!(
            given[0].1 > STORE_CALL_MAX / 2,
            "a long call is not cut short: {given:?}"
        );
        // A short call: each store call before the fetch gets at most half of what is left.
        store.given.lock().clear();
        store.records.lock().clear();
        s.fetch(Deadline::after(Duration::from_millis(400)))
            .unwrap();
        let given = store.given.lock().clone();
        assert!(given[0].1 <= Duration::from_millis(200), "{given:?}");
        assert!(given[1].1 <= Duration::from_millis(200), "{given:?}");
    }

    #[test]
    fn a_waiter_takes_the_holders_token_instead_of_fetching() {
        let store = Arc::new(MemoryStore::default());
        let endpoint = Arc::new(Endpoint::default());
        let gate = Arc::new(Barrier::new(2));
        *endpoint.gate.lock() = Some(gate.clone());
        let holder = {
            let (store, endpoint) = (store.clone(), endpoint.clone());
            std::thread::spawn(move || source(&store, &endpoint).fetch(deadline()).unwrap())
        };
        while endpoint.fetches.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        let waiter = {
            let (store, endpoint) = (store.clone(), endpoint.clone());
            std::thread::spawn(move || source(&store, &endpoint).fetch(deadline()).unwrap())
        };
        std::thread::sleep(Duration::from_millis(100));
        *endpoint.gate.lock() = None;
        gate.wait();
        let (a, b) = (holder.join().unwrap(), waiter.join().unwrap());
        assert_eq!(a.token.access_token(), b.token.access_token());
        assert_eq!(endpoint.fetches.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_lock_that_never_frees_costs_half_the_time_then_a_fetch() {
        let store = Arc::new(MemoryStore::default());
        *store.locked.lock() = true; // held by a process that died
        let endpoint = Arc::new(Endpoint::default());
        let started = Instant::now();
        let got = source(&store, &endpoint)
            .fetch(Deadline::after(Duration::from_millis(400)))
            .unwrap();
        assert_eq!(got.token.access_token(), "tok1");
        assert!(started.elapsed() < Duration::from_millis(400));
        // What it fetched is shared all the same.
        assert!(store.records.lock().get(KEY).unwrap().0.contains("tok1"));
    }

    #[test]
    fn a_failing_or_panicking_store_never_fails_a_fetch() {
        let store = Arc::new(MemoryStore::default());
        let endpoint = Arc::new(Endpoint::default());
        store.fail.store(true, Ordering::SeqCst);
        let s = source(&store, &endpoint);
        assert_eq!(s.fetch(deadline()).unwrap().token.access_token(), "tok1");
        store.fail.store(false, Ordering::SeqCst);
        store.panic.store(true, Ordering::SeqCst);
        assert_eq!(s.fetch(deadline()).unwrap().token.access_token(), "tok2");
        s.rejected(&Token::new("tok2".into(), "B".into(), vec![], 9, None, 0).unwrap());
        assert_eq!(s.stats.store_errors.load(Ordering::SeqCst), 3);
    }

    /// The store's `describe` runs in warnings: one that panics must not turn a failing store into a failed
    /// fetch (it ran outside the store's catch_unwind, in the log message of every failure).
    #[test]
    fn a_store_whose_describe_panics_never_fails_a_fetch() {
        let store = Arc::new(MemoryStore::default());
        store.describe_panics.store(true, Ordering::SeqCst);
        store.fail.store(true, Ordering::SeqCst);
        let endpoint = Arc::new(Endpoint::default());
        let warnings = Arc::new(Mutex::new(Vec::new()));
        let seen = warnings.clone();
        let s = StoreSource::new(
            Box::new(endpoint.clone()),
            store.clone(),
            KEY.into(),
            Duration::from_secs(300),
            Logger::new(
                Arc::new(move |_, m: &str| seen.lock().push(m.to_owned())),
                Level::Debug,
            ),
            Arc::default(),
            Gate::open(),
        );
        assert_eq!(s.fetch(deadline()).unwrap().token.access_token(), "tok1");
        assert!(warnings
            .lock()
            .iter()
            .any(|m| m.contains("the application's token store")));
    }

    #[test]
    fn corrupt_records_are_replaced() {
        let store = Arc::new(MemoryStore::default());
        let endpoint = Arc::new(Endpoint::default());
        store
            .store(KEY, "{\"format\":1,\"acc", Duration::ZERO, deadline())
            .unwrap();
        let got = source(&store, &endpoint).fetch(deadline()).unwrap();
        assert!(store
            .records
            .lock()
            .get(KEY)
            .unwrap()
            .0
            .contains(got.token.access_token()));
    }

    #[test]
    fn records_with_extreme_times_or_lifetimes_are_replaced_not_pinned() {
        let store = Arc::new(MemoryStore::default());
        let endpoint = Arc::new(Endpoint::default());
        let planted = |lifetime, received| {
            let t = Token::new(
                "planted".into(),
                "B".into(),
                vec![],
                lifetime,
                None,
                received,
            )
            .unwrap();
            store
                .store(KEY, &encode(&t), Duration::ZERO, deadline())
                .unwrap();
        };
        let s = source(&store, &endpoint);
        // Before any fetch of its own, a 10-year lifetime is beyond the 24 h cap.
        planted(10 * 365 * 24 * 3600, wall_ms());
        let got = s.fetch(deadline()).unwrap();
        assert_eq!(got.token.access_token(), "tok1");
        assert!(got.valid_for_ms <= 1_799_000);
        for (lifetime, received) in [
            (60, i64::MIN),
            (1799, i64::MAX),
            (1799, wall_ms() + 120_000),
            (1799, wall_ms() - 1_800_000),
            // Within 24 h but longer than the 1799 s this endpoint has granted.
            (7200, wall_ms()),
        ] {
            planted(lifetime, received);
            let got = s.fetch(deadline()).unwrap();
            assert_ne!(got.token.access_token(), "planted", "{lifetime} {received}");
            assert!(got.valid_for_ms <= 1_799_000);
            assert!(!store.records.lock().get(KEY).unwrap().0.contains("planted"));
        }
        // An honest record is still shared.
        let honest =
            Token::new("honest".into(), "B".into(), vec![], 1799, None, wall_ms()).unwrap();
        store
            .store(KEY, &encode(&honest), Duration::ZERO, deadline())
            .unwrap();
        assert_eq!(s.fetch(deadline()).unwrap().token.access_token(), "honest");
    }

    #[test]
    fn a_refused_token_is_removed_and_never_taken_again() {
        let store = Arc::new(MemoryStore::default());
        let endpoint = Arc::new(Endpoint::default());
        let a = source(&store, &endpoint);
        let first = a.fetch(deadline()).unwrap().token;
        a.rejected(&first);
        assert!(store.records.lock().is_empty(), "removed from the store");
        // A store that kept it (no remove, or a remove that lost a race) still never hands it back here.
        store
            .store(KEY, &encode(&first), Duration::ZERO, deadline())
            .unwrap();
        assert_eq!(a.fetch(deadline()).unwrap().token.access_token(), "tok2");
        // A record that holds a newer token than the refused one is left alone.
        a.rejected(&first);
        assert!(store.records.lock().get(KEY).unwrap().0.contains("tok2"));
    }

    #[test]
    fn a_closed_gate_keeps_the_store_out_of_it() {
        let store = Arc::new(MemoryStore::default());
        let endpoint = Arc::new(Endpoint::default());
        let s = source(&store, &endpoint);
        s.gate.close();
        assert_eq!(s.fetch(deadline()).unwrap().token.access_token(), "tok1");
        assert!(store.records.lock().is_empty());
        assert_eq!(store.locks_taken.load(Ordering::SeqCst), 0);
    }
}
