//! Counters that let a test or benchmark prove what a client did on the wire.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every request to the token endpoint, whatever its outcome.
    pub token_requests: u64,
    pub tokens_issued: u64,
    /// Token requests that got no token: bad credentials, bad form, injected faults.
    pub token_failures: u64,
    /// Requests to every emulated API (realtime, historical, storage, QM, vcc), `/echo/` and
    /// `/upload/`.
    pub api_requests: u64,
    /// API requests refused for their bearer token (the Apigee 401 family).
    pub api_rejected: u64,
    /// Distinct TCP connections that carried counted requests: with keep-alive, a client making
    /// requests one after another on one agent shows 1.
    pub connections: u64,
    /// Injected faults that were served (see `Emulator::push_fault`).
    pub faults_injected: u64,
    /// The most token requests that were being answered at one moment (injected delays and the
    /// token delay included): how a test proves a client's fetches were coalesced.
    pub max_token_requests_in_flight: u64,
    /// Counted requests (token endpoint and APIs) by path, without the query.
    pub requests_by_path: BTreeMap<String, u64>,
    /// Requests to the second (presigned-URL) origin, whatever their outcome.
    pub presigned_requests: u64,
}

#[derive(Default)]
struct Inner {
    stats: Stats,
    /// The connections (numbered as accepted, never reused) that carried a counted request since
    /// the last reset: a kept-alive connection used again after a reset counts afresh, and one
    /// that only carried admin requests is not counted.
    seen: HashSet<u64>,
    token_in_flight: u64,
}

/// Counts one token request as in flight until dropped, so a request whose connection is dropped
/// mid-delay leaves the gauge too.
pub(crate) struct TokenInFlight<'a>(&'a Recorder);

impl Drop for TokenInFlight<'_> {
    fn drop(&mut self) {
        let mut inner = self.0.lock();
        // A reset while requests were in flight zeroed the gauge; it must not wrap.
        inner.token_in_flight = inner.token_in_flight.saturating_sub(1);
    }
}

#[derive(Default)]
pub(crate) struct Recorder {
    inner: Mutex<Inner>,
}

impl Recorder {
    pub(crate) fn snapshot(&self) -> Stats {
        self.lock().stats.clone()
    }

    pub(crate) fn reset(&self) {
        *self.lock() = Inner::default();
    }

    pub(crate) fn saw_connection(&self, connection: u64) {
        let mut inner = self.lock();
        if inner.seen.insert(connection) {
            inner.stats.connections += 1;
        }
    }

    pub(crate) fn saw_path(&self, path: &str) {
        *self
            .lock()
            .stats
            .requests_by_path
            .entry(path.to_string())
            .or_default() += 1;
    }

    pub(crate) fn token_started(&self) -> TokenInFlight<'_> {
        let mut inner = self.lock();
        inner.token_in_flight += 1;
        let now = inner.token_in_flight;
        let max = &mut inner.stats.max_token_requests_in_flight;
        *max = (*max).max(now);
        TokenInFlight(self)
    }

    pub(crate) fn bump(&self, counter: fn(&mut Stats) -> &mut u64) {
        *counter(&mut self.lock().stats) += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves counters that are still meaningful.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_connection_once_until_reset() {
        let r = Recorder::default();
        r.saw_connection(1);
        r.saw_connection(1);
        r.saw_connection(2);
        r.bump(|s| &mut s.token_requests);
        assert_eq!(r.snapshot().connections, 2);
        assert_eq!(r.snapshot().token_requests, 1);
        r.reset();
        assert_eq!(r.snapshot(), Stats::default());
        r.saw_connection(1);
        assert_eq!(r.snapshot().connections, 1);
    }

    #[test]
    fn in_flight_gauge_keeps_its_maximum() {
        let r = Recorder::default();
        let a = r.token_started();
        let b = r.token_started();
        drop(a);
        let c = r.token_started();
        assert_eq!(r.snapshot().max_token_requests_in_flight, 2);
        r.reset();
        drop(b);
        drop(c);
        let _d = r.token_started();
        assert_eq!(r.snapshot().max_token_requests_in_flight, 1);
    }

    #[test]
    fn paths_are_counted_apart() {
        let r = Recorder::default();
        r.saw_path("/a");
        r.saw_path("/a");
        r.saw_path("/b");
        let by_path = r.snapshot().requests_by_path;
        assert_eq!((by_path["/a"], by_path["/b"]), (2, 1));
    }
}
