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

// The one definition of the counters: this struct is the C API's `x8_stats` (cbindgen renames it) and, without
// `size`, the JSON of `x8_client_stats_json`. New counters go at the end (the layout is ABI), 64 bits wide.
/// A snapshot of the client's counters (also the JSON object of `x8_client_stats_json`). Set `size` to
/// `sizeof(x8_stats)` before calling `x8_client_stats`: the library fills only the fields that fit, so programs
/// built against an older header keep working.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatsSnapshot {
    /// In: sizeof(x8_stats) as the caller knows it. Out: the bytes x8 filled.
    #[serde(skip)]
    pub size: usize,
    /// Token requests answered from the cache.
    pub cache_hits: u64,
    /// Tokens obtained (all kinds): from the token endpoint, or from the shared token store (`store_hits`).
    pub token_fetches: u64,
    /// Of those, renewals done in the background ahead of expiry.
    pub background_refreshes: u64,
    /// Token fetch attempts retried after a transient failure.
    pub fetch_retries: u64,
    /// Requests replayed with a new token after the API rejected the old one.
    pub replays_after_401: u64,
    /// Token fetches that failed because the credentials were refused.
    pub failures_auth: u64,
    /// Token fetches that failed because the endpoint kept answering 5xx/429.
    pub failures_server: u64,
    /// Token fetches that failed on the network (connect, TLS, timeout).
    pub failures_network: u64,
    /// Token fetches that failed on a malformed reply or anything else.
    pub failures_protocol: u64,
    /// Calls to x8_request.
    pub requests: u64,
    /// Seconds the cached token has left (before its safety margin), or -1 when none is cached.
    pub token_seconds_left: i64,
    /// Tokens taken from the shared token store (cache file, Redis, `x8_token_store`) instead of fetched.
    pub store_hits: u64,
    /// Shared-store operations that failed; the client fetched the token itself each time.
    pub store_errors: u64,
    /// API requests sent again after a 429 or 503 (opt-in API retries, idempotent methods only).
    pub api_retries: u64,
    /// API requests that waited for the client-side rate limit before being sent.
    pub rate_limit_waits: u64,
}

/// A live counter: what `Stats::snapshot` reads.
trait Counter {
    fn get(&self) -> u64;
}

impl Counter for AtomicU64 {
    fn get(&self) -> u64 {
        self.load(Relaxed)
    }
}

impl Counter for StripedCounter {
    fn get(&self) -> u64 {
        self.sum()
    }
}

/// The live counters, one per `StatsSnapshot` field except `size` and `token_seconds_left` (which is not a
/// count). The snapshot is built with a struct literal, so the compiler refuses a counter missing on either
/// side: `StatsSnapshot` is the one list, this is checked against it.
macro_rules! live_counters {
    ($($(#[doc = $doc:literal])* $name:ident: $kind:ty,)*) => {
        /// Everything the client counts. Read with `snapshot`; values only grow.
        #[derive(Default)]
        pub struct Stats {
            $($(#[doc = $doc])* pub $name: $kind,)*
        }

        impl Stats {
            pub fn snapshot(&self, token_seconds_left: i64) -> StatsSnapshot {
                StatsSnapshot {
                    size: std::mem::size_of::<StatsSnapshot>(),
                    token_seconds_left,
                    $($name: self.$name.get(),)*
                }
            }
        }
    };
}

live_counters! {
    /// Bumped on every cache hit, from any number of threads: striped.
    cache_hits: StripedCounter,
    token_fetches: AtomicU64,
    background_refreshes: AtomicU64,
    fetch_retries: AtomicU64,
    replays_after_401: AtomicU64,
    failures_auth: AtomicU64,
    failures_server: AtomicU64,
    failures_network: AtomicU64,
    failures_protocol: AtomicU64,
    requests: AtomicU64,
    store_hits: AtomicU64,
    store_errors: AtomicU64,
    api_retries: AtomicU64,
    rate_limit_waits: AtomicU64,
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
    fn the_json_has_every_counter_and_not_the_size() {
        let json = serde_json::to_value(Stats::default().snapshot(-1)).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(keys.len(), 15, "{keys:?}");
        assert!(!keys.contains(&"size"));
        assert_eq!(json["token_seconds_left"], -1);
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
