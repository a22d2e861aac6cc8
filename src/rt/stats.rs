//! Counters for operators. The cache-hit counter is bumped on the hottest path of the library, possibly by
//! dozens of threads at once, so it is striped over cache-line-padded cells: a single shared atomic would make
//! every hit bounce one cache line between cores. The other counters move once per network round trip.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

const STRIPES: usize = 16; // a power of two: stripe_of takes the top bits of a hash

#[repr(align(64))]
#[derive(Default)]
struct Padded(AtomicU64);

#[derive(Default)]
pub struct StripedCounter {
    cells: [Padded; STRIPES],
}

/// A stripe for the calling thread without touching thread-local storage (which costs a `__tls_get_addr` call
/// in a shared library): threads run on different stacks, so the address of a local variable tells them apart.
/// Two threads sharing a stripe is harmless, only slower.
#[inline]
fn my_stripe() -> usize {
    let marker = 0u8;
    stripe_of(std::ptr::addr_of!(marker) as usize)
}

/// Stacks are a fixed size apart (glibc's default is 8 MiB), so plain address bits put every thread on one of
/// two stripes; a multiplicative hash of the 64 KiB block spreads them over all of them, and keeps one thread's
/// calls (a few KiB of stack apart) on one stripe.
#[inline]
fn stripe_of(stack_addr: usize) -> usize {
    const FIBONACCI: u64 = 0x9E37_79B9_7F4A_7C15;
    let block = (stack_addr >> 16) as u64;
    (block.wrapping_mul(FIBONACCI) >> (64 - STRIPES.trailing_zeros())) as usize
}

impl StripedCounter {
    #[inline]
    pub fn add(&self) {
        self.cells[my_stripe()].0.fetch_add(1, Relaxed);
    }

    pub fn sum(&self) -> u64 {
        self.cells.iter().map(|c| c.0.load(Relaxed)).sum()
    }
}

/// Everything the client counts. Read with `snapshot`; values only grow.
#[derive(Default)]
pub struct Stats {
    pub cache_hits: StripedCounter,
    pub token_fetches: AtomicU64,
    pub background_refreshes: AtomicU64,
    pub fetch_retries: AtomicU64,
    pub replays_after_401: AtomicU64,
    pub failures_auth: AtomicU64,
    pub failures_server: AtomicU64,
    pub failures_network: AtomicU64,
    pub failures_protocol: AtomicU64,
    pub requests: AtomicU64,
    /// Tokens taken from a shared store (cache file, Redis, the application's) instead of fetched.
    pub store_hits: AtomicU64,
    /// Shared-store calls that failed (the token was then fetched without the store).
    pub store_errors: AtomicU64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatsSnapshot {
    pub cache_hits: u64,
    pub token_fetches: u64,
    pub background_refreshes: u64,
    pub fetch_retries: u64,
    pub replays_after_401: u64,
    pub failures_auth: u64,
    pub failures_server: u64,
    pub failures_network: u64,
    pub failures_protocol: u64,
    pub requests: u64,
    /// Seconds the cached token has left, or -1 when none is cached.
    pub token_seconds_left: i64,
    pub store_hits: u64,
    pub store_errors: u64,
}

impl Stats {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }

    pub fn count_failure(&self, err: &crate::error::Error) {
        use crate::error::ErrorKind::*;
        let counter = match err.kind() {
            Auth => &self.failures_auth,
            TokenEndpoint => &self.failures_server,
            Transport | Timeout | Tls => &self.failures_network,
            _ => &self.failures_protocol,
        };
        Self::bump(counter);
    }

    pub fn snapshot(&self, token_seconds_left: i64) -> StatsSnapshot {
        StatsSnapshot {
            cache_hits: self.cache_hits.sum(),
            token_fetches: self.token_fetches.load(Relaxed),
            background_refreshes: self.background_refreshes.load(Relaxed),
            fetch_retries: self.fetch_retries.load(Relaxed),
            replays_after_401: self.replays_after_401.load(Relaxed),
            failures_auth: self.failures_auth.load(Relaxed),
            failures_server: self.failures_server.load(Relaxed),
            failures_network: self.failures_network.load(Relaxed),
            failures_protocol: self.failures_protocol.load(Relaxed),
            requests: self.requests.load(Relaxed),
            token_seconds_left,
            store_hits: self.store_hits.load(Relaxed),
            store_errors: self.store_errors.load(Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn threads_with_default_stacks_get_different_stripes() {
        // Stacks 8 MiB apart, as glibc lays out threads with the default stack size.
        let base = 0x7f12_3400_0000usize;
        let stripes: std::collections::HashSet<_> =
            (0..8).map(|k| stripe_of(base + k * (8 << 20))).collect();
        assert!(stripes.len() >= 6, "8 threads on {} stripes", stripes.len());
        assert!(stripes.iter().all(|s| *s < STRIPES));
        // One thread's stack moving by a few KiB between calls stays on its stripe.
        assert_eq!(stripe_of(base + 0x1000), stripe_of(base + 0x9000));
    }

    #[test]
    fn striped_counter_sums_across_threads() {
        let c = Arc::new(StripedCounter::default());
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let c = c.clone();
                std::thread::spawn(move || (0..1000).for_each(|_| c.add()))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(c.sum(), 8000);
    }
}
