//! The tokens the emulator has issued, and what each one may still do.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::time::{Duration, Instant};

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// 8x8's tokens are 28 alphanumeric characters (the document's example: 3yKcgVwWCJM14dXxKDBAEDGcythJ).
pub(crate) const TOKEN_LEN: usize = 28;

/// Past this many remembered tokens, long-dead ones are forgotten so a soak test can't grow the
/// store without bound.
const PRUNE_ABOVE: usize = 50_000;
/// An expired token is remembered this long, so it keeps answering "expired" rather than "unknown".
const KEEP_EXPIRED: Duration = Duration::from_secs(600);

#[derive(Clone, Debug)]
pub(crate) struct TokenRecord {
    pub(crate) client_id: String,
    pub(crate) products: Vec<String>,
    pub(crate) expires_at: Instant,
    pub(crate) revoked: bool,
}

#[derive(Debug)]
pub(crate) enum Lookup {
    Valid(TokenRecord),
    Unknown,
    Revoked,
    Expired,
}

#[derive(Default)]
pub(crate) struct TokenStore {
    tokens: HashMap<String, TokenRecord>,
}

impl TokenStore {
    pub(crate) fn issue(
        &mut self,
        client_id: &str,
        products: &[String],
        lifetime: Duration,
    ) -> String {
        if self.tokens.len() > PRUNE_ABOVE {
            self.prune(Instant::now());
        }
        loop {
            let token = random_alphanumeric(TOKEN_LEN);
            if self.tokens.contains_key(&token) {
                continue;
            }
            self.tokens.insert(
                token.clone(),
                TokenRecord {
                    client_id: client_id.to_string(),
                    products: products.to_vec(),
                    expires_at: Instant::now() + lifetime,
                    revoked: false,
                },
            );
            return token;
        }
    }

    pub(crate) fn lookup(&self, token: &str) -> Lookup {
        match self.tokens.get(token) {
            None => Lookup::Unknown,
            Some(r) if r.revoked => Lookup::Revoked,
            Some(r) if Instant::now() >= r.expires_at => Lookup::Expired,
            Some(r) => Lookup::Valid(r.clone()),
        }
    }

    pub(crate) fn revoke_all(&mut self) {
        self.tokens.values_mut().for_each(|r| r.revoked = true);
    }

    pub(crate) fn expire_all(&mut self) {
        let now = Instant::now();
        self.tokens
            .values_mut()
            .for_each(|r| r.expires_at = r.expires_at.min(now));
    }

    fn prune(&mut self, now: Instant) {
        self.tokens.retain(|_, r| {
            !r.revoked && now.saturating_duration_since(r.expires_at) < KEEP_EXPIRED
        });
    }
}

/// Random characters drawn by rejection sampling, so every character is equally likely.
pub(crate) fn random_alphanumeric(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        fill_random(&mut buf);
        for &b in &buf {
            // 248 is the largest multiple of 62 that fits in a byte.
            if b < 248 && out.len() < len {
                out.push(ALPHANUMERIC[(b % 62) as usize] as char);
            }
        }
    }
    out
}

pub(crate) fn fill_random(buf: &mut [u8]) {
    let from_os = File::open("/dev/urandom").and_then(|mut f| f.read_exact(buf));
    if from_os.is_err() {
        fill_fallback(buf);
    }
}

/// Where there is no /dev/urandom (Windows), std's per-process random hash keys stand in; the
/// tokens only need to be unpredictable enough not to collide or be guessed by a test.
fn fill_fallback(buf: &mut [u8]) {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    for chunk in buf.chunks_mut(8) {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_28_alphanumeric_and_distinct() {
        let a = random_alphanumeric(TOKEN_LEN);
        let b = random_alphanumeric(TOKEN_LEN);
        assert_eq!(a.len(), TOKEN_LEN);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
    }

    #[test]
    fn fallback_fills_every_byte() {
        let mut buf = [0u8; 21];
        fill_fallback(&mut buf);
        assert!(buf.iter().any(|&b| b != 0));
    }

    #[test]
    fn lookup_follows_revoke_and_expiry() {
        let mut store = TokenStore::default();
        let products = vec!["storage".to_string()];
        let live = store.issue("c", &products, Duration::from_secs(60));
        let dead = store.issue("c", &products, Duration::ZERO);
        assert!(matches!(store.lookup(&live), Lookup::Valid(r) if r.client_id == "c"));
        assert!(matches!(store.lookup(&dead), Lookup::Expired));
        assert!(matches!(store.lookup("nope"), Lookup::Unknown));
        store.expire_all();
        assert!(matches!(store.lookup(&live), Lookup::Expired));
        store.revoke_all();
        assert!(matches!(store.lookup(&live), Lookup::Revoked));
    }

    #[test]
    fn prune_forgets_only_long_dead_tokens() {
        let mut store = TokenStore::default();
        let live = store.issue("c", &[], Duration::from_secs(60));
        let dead = store.issue("c", &[], Duration::ZERO);
        store.prune(Instant::now() + KEEP_EXPIRED + Duration::from_secs(1));
        assert!(matches!(store.lookup(&dead), Lookup::Unknown));
        store.prune(Instant::now());
        assert!(!matches!(store.lookup(&live), Lookup::Unknown));
    }
}
