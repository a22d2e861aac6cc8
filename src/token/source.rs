//! Where tokens come from: the token endpoint (`oauth`), or a shared store in front of it (`store`). The cache
//! only knows this trait.

use super::Token;
use crate::error::Result;
use crate::rt::clock::Deadline;

/// A token from a source, and how much longer it is valid (its whole lifetime when just minted; less when it
/// was read from a shared store).
pub struct Fetched {
    pub token: Token,
    pub valid_for_ms: u64,
}

/// Something that mints or finds tokens.
pub trait TokenSource: Send + Sync {
    /// Gets a new token, within `deadline`. Called by one thread at a time per cache.
    fn fetch(&self, deadline: Deadline) -> Result<Fetched>;

    /// The API refused `token`, or the caller dropped it: a shared store must not hand it out again.
    fn rejected(&self, _token: &Token) {}
}
