//! One error type for the whole library. Every failure carries a kind (which the C API turns into an
//! `x8_status`), a message written for the person who has to fix it, and the HTTP status when a server answered.
//! Messages are built by the library itself and never interpolate the secret or a token (see `redact`).

use std::fmt;
use std::time::Duration;

/// What went wrong, coarsely: the C API's `x8_status` codes map one to one onto these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A NULL pointer, non-UTF-8 text, a CR/LF in a header, an origin the client may not talk to, ...
    InvalidArgument,
    /// The caller's buffer cannot hold the answer; the needed size is reported alongside.
    BufferTooSmall,
    /// The client could not be configured: a bad option value or a missing environment variable.
    Config,
    /// The token endpoint refused the credentials (400/401): retrying will not help.
    Auth,
    /// The token endpoint kept failing (5xx, 429) through every retry.
    TokenEndpoint,
    /// A server answered something that is not what the protocol says (malformed token reply, ...).
    Protocol,
    /// The network failed: DNS, connection refused or reset, proxy.
    Transport,
    /// A connect, read or overall deadline passed.
    Timeout,
    /// The TLS handshake failed: an untrusted or mismatching certificate, a bad CA bundle.
    Tls,
    /// The API refused the token because the key lacks the API's product (Apigee's "no apiproduct match").
    NotEntitled,
    /// A response body was larger than the configured maximum.
    BodyTooLarge,
    /// A client created before fork() was used in the child process.
    Forked,
    /// A bug in x8 (a panic caught at the C boundary). Please report it.
    Internal,
}

#[derive(Clone)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    http_status: u16,
    retry_after: Option<Duration>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            http_status: 0,
            retry_after: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    pub fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = status;
        self
    }

    pub fn with_retry_after(mut self, delay: Option<Duration>) -> Self {
        self.retry_after = delay;
        self
    }

    /// Prefixes the message with where the failure happened ("token endpoint: ...").
    pub fn context(mut self, what: &str) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status that caused the error, or 0 when no server answered.
    pub fn http_status(&self) -> u16 {
        self.http_status
    }

    /// How long the server asked us to wait (429/503 `Retry-After`), if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Whether trying the same thing again later can succeed: network trouble and server overload can pass,
    /// refused credentials and malformed input cannot.
    pub fn is_transient(&self) -> bool {
        match self.kind {
            ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::TokenEndpoint => true,
            ErrorKind::Protocol => self.http_status >= 500,
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &self.message)
            .field("http_status", &self.http_status)
            .finish()
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Replaces every occurrence of each secret in `text` with `[redacted]`. Used on text that comes from outside
/// (a server's error body may echo what we sent), never needed on messages we compose ourselves.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        if out.contains(*secret) {
            out = out.replace(*secret, "[redacted]");
        }
    }
    out
}

/// Cuts text from a server to a length fit for an error message, on a character boundary.
pub fn truncate_for_message(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_replaces_every_occurrence() {
        let out = redact("a s3cret b s3cret", &["s3cret"]);
        assert_eq!(out, "a [redacted] b [redacted]");
    }

    #[test]
    fn redact_ignores_tiny_secrets_that_would_shred_text() {
        assert_eq!(redact("abc", &["a"]), "abc");
    }

    #[test]
    fn truncate_keeps_utf8_valid() {
        let s = "é".repeat(100);
        let t = truncate_for_message(&s, 5);
        assert!(t.starts_with("éé"));
        assert!(t.ends_with('…'));
    }

    #[test]
    fn transient_kinds() {
        assert!(Error::new(ErrorKind::Timeout, "x").is_transient());
        assert!(!Error::new(ErrorKind::Auth, "x").is_transient());
        assert!(Error::new(ErrorKind::Protocol, "x")
            .with_http_status(502)
            .is_transient());
        assert!(!Error::new(ErrorKind::Protocol, "x")
            .with_http_status(200)
            .is_transient());
    }
}
