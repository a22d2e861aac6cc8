//! The token value that the rest of the library passes around, how it is parsed from the endpoint's reply
//! (`reply`), and what a source of tokens is (`source`).

use std::fmt;
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};

mod reply;
mod secret_text;
mod source;

pub use reply::parse_token_reply;
#[cfg(all(test, target_os = "linux"))]
pub(crate) use secret_text::is_marked_dont_dump;
#[cfg(unix)]
pub use secret_text::DontDumpPages;
pub use secret_text::SecretText;
pub use source::{Fetched, TokenSource};

/// Longest lifetime we believe: anything longer is a server bug, and would overflow expiry arithmetic.
const MAX_LIFETIME_SECS: u64 = 10 * 365 * 24 * 3600;
/// Longest access token we accept; 8x8's are 28 characters. Bounded so that a C caller's buffer of
/// `X8_TOKEN_BUFFER_SIZE` (this plus the NUL) always suffices.
pub const MAX_TOKEN_LEN: usize = 4095;

/// An access token and what the endpoint said about it. Immutable once parsed; shared by `Arc`.
pub struct Token {
    /// In pages of its own, left out of core dumps and wiped when the token is dropped.
    access_token: SecretText,
    token_type: String,
    products: Vec<String>,
    lifetime_secs: u64,
    issued_at_ms: Option<i64>,
    received_wall_ms: i64,
}

impl Token {
    /// The bearer value to put after `Authorization: Bearer `.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }

    /// The endpoint's `token_type` as sent ("BearerToken" for 8x8). Requests always use the `Bearer` scheme.
    pub fn token_type(&self) -> &str {
        &self.token_type
    }

    pub fn products(&self) -> &[String] {
        &self.products
    }

    /// Whether the token is good for `product` (compared ignoring ASCII case and surrounding blanks).
    pub fn has_product(&self, product: &str) -> bool {
        let wanted = product.trim();
        self.products.iter().any(|p| p.eq_ignore_ascii_case(wanted))
    }

    /// The lifetime the endpoint granted (`expires_in`).
    pub fn lifetime_secs(&self) -> u64 {
        self.lifetime_secs
    }

    /// The server's `issued_at` (epoch ms on the server's clock), for diagnostics only.
    pub fn issued_at_ms(&self) -> Option<i64> {
        self.issued_at_ms
    }

    /// When the token expires, in epoch milliseconds on the local wall clock: the time the reply was received
    /// plus its lifetime. Computed from our receipt rather than `issued_at` so a skewed server clock cannot
    /// make a fresh token look dead.
    pub fn expires_at_wall_ms(&self) -> i64 {
        self.received_wall_ms
            .saturating_add((self.lifetime_secs as i64).saturating_mul(1000))
    }

    pub fn received_wall_ms(&self) -> i64 {
        self.received_wall_ms
    }

    /// Builds a token from parts; used by the parser, by shared caches that stored a token, and by tests.
    pub fn new(
        access_token: String,
        token_type: String,
        products: Vec<String>,
        lifetime_secs: u64,
        issued_at_ms: Option<i64>,
        received_wall_ms: i64,
    ) -> Result<Token> {
        let access_token = Zeroizing::new(access_token);
        validate_access_token(&access_token)?;
        if lifetime_secs == 0 || lifetime_secs > MAX_LIFETIME_SECS {
            return Err(protocol(format!(
                "expires_in {lifetime_secs} is outside 1..={MAX_LIFETIME_SECS} seconds"
            )));
        }
        Ok(Token {
            access_token: SecretText::new(&access_token),
            token_type,
            products,
            lifetime_secs,
            issued_at_ms,
            received_wall_ms,
        })
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("products", &self.products)
            .field("lifetime_secs", &self.lifetime_secs)
            .field("issued_at_ms", &self.issued_at_ms)
            .finish()
    }
}

pub(crate) fn protocol(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Protocol, message.into()).context("token endpoint sent an unusable reply")
}

/// A token goes into an HTTP header verbatim, so it must be visible ASCII: a server (or a man in the middle on a
/// plain-HTTP test setup) must not be able to inject headers through it.
fn validate_access_token(token: &str) -> Result<()> {
    if token.is_empty() {
        return Err(protocol("access_token is empty"));
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(protocol(format!(
            "access_token is longer than {MAX_TOKEN_LEN} bytes"
        )));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(protocol(
            "access_token contains characters that cannot go in an HTTP header",
        ));
    }
    Ok(())
}
