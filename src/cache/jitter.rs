//! Where in its refresh window a cache renews: a point drawn at random for each token, so that N clients created
//! together (one per customer key in a contact-center integration) spread their token requests over the window
//! instead of sending N at one instant, the burst that gets a key rate-limited (AWS's `CachedSupplier` does the
//! same). The numbers are not secret: SplitMix64, seeded per cache from one process-wide sequence.
//!
//! Deterministic when asked: with `X8_RENEWAL_SEED` set (a decimal number) when the first client is made, the
//! sequence, and so every cache's draws in creation order, is the same on every run. Tests use this.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The variable that fixes the process's sequence.
pub const ENV_SEED: &str = "X8_RENEWAL_SEED";

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One cache's draws.
pub struct Jitter(AtomicU64);

impl Jitter {
    pub fn seeded(seed: u64) -> Jitter {
        Jitter(AtomicU64::new(seed))
    }

    /// The next cache's draws, from the process-wide sequence.
    pub fn next_in_process() -> Jitter {
        static PROCESS: OnceLock<AtomicU64> = OnceLock::new();
        let seq = PROCESS.get_or_init(|| {
            let seed = std::env::var(ENV_SEED)
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .unwrap_or_else(|| {
                    let t = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_nanos() as u64)
                        .unwrap_or(0);
                    t ^ u64::from(std::process::id()).rotate_left(32)
                });
            AtomicU64::new(seed)
        });
        Jitter::seeded(mix(seq.fetch_add(GOLDEN, Ordering::Relaxed)))
    }

    /// A number in `0..below` (0 when `below` is 0).
    pub fn below(&self, below: u64) -> u64 {
        if below == 0 {
            return 0;
        }
        let z = mix(self
            .0
            .fetch_add(GOLDEN, Ordering::Relaxed)
            .wrapping_add(GOLDEN));
        // Multiply-shift: unbiased enough for spreading renewals, and no division.
        ((u128::from(z) * u128::from(below)) >> 64) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_points_and_they_cover_the_range() {
        let (a, b) = (Jitter::seeded(7), Jitter::seeded(7));
        let draws: Vec<u64> = (0..1000).map(|_| a.below(100)).collect();
        assert_eq!(draws, (0..1000).map(|_| b.below(100)).collect::<Vec<_>>());
        let mut buckets = [0u32; 10];
        for d in &draws {
            assert!(*d < 100);
            buckets[(*d / 10) as usize] += 1;
        }
        // 1000 draws in 10 buckets: each gets about 100; a generator stuck in a corner would not.
        assert!(
            buckets.iter().all(|n| (50..=150).contains(n)),
            "{buckets:?}"
        );
        assert_eq!(a.below(0), 0);
    }
}
