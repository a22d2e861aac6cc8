//! Counters that let a test or benchmark prove what a client did on the wire.

use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::net::SocketAddr;
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
    /// A connection is known by its client's address: the address cannot be reused while the
    /// connection is open, and the set is cleared on reset.
    peers: HashSet<SocketAddr>,
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

    pub(crate) fn saw_connection(&self, peer: Option<&SocketAddr>) {
        if let Some(peer) = peer {
            let mut inner = self.lock();
            if inner.peers.insert(*peer) {
                inner.stats.connections += 1;
            }
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
    fn counts_each_peer_once_until_reset() {
        let r = Recorder::default();
        let a: SocketAddr = "127.0.0.1:1000".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:1001".parse().unwrap();
        r.saw_connection(Some(&a));
        r.saw_connection(Some(&a));
        r.saw_connection(Some(&b));
        r.saw_connection(None);
        r.bump(|s| &mut s.token_requests);
        assert_eq!(r.snapshot().connections, 2);
        assert_eq!(r.snapshot().token_requests, 1);
        r.reset();
        assert_eq!(r.snapshot(), Stats::default());
        r.saw_connection(Some(&a));
        assert_eq!(r.snapshot().connections, 1);
    }
}
