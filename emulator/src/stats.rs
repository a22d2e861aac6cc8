//! Counters that let a test or benchmark prove what a client did on the wire.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Mutex;

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Every request to the token endpoint, whatever its outcome.
    pub token_requests: u64,
    pub tokens_issued: u64,
    /// Token requests that got no token: bad credentials, bad form, injected faults.
    pub token_failures: u64,
    /// Requests to the realtime-metrics API and to `/echo/`.
    pub api_requests: u64,
    /// API requests refused for their bearer token (the Apigee 401 family).
    pub api_rejected: u64,
    /// Distinct TCP connections that carried counted requests: with keep-alive, a client making
    /// requests one after another on one agent shows 1.
    pub connections: u64,
    /// Injected faults that were served (see `Emulator::push_fault`).
    pub faults_injected: u64,
}

#[derive(Default)]
struct Inner {
    stats: Stats,
    /// The connections (numbered as accepted, never reused) that carried a counted request since
    /// the last reset: a kept-alive connection used again after a reset counts afresh, and one
    /// that only carried admin requests is not counted.
    seen: HashSet<u64>,
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
}
