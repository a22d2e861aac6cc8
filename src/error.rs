//! One error type for the whole library. Every failure carries a kind (which the C API turns into an
//! `x8_status`), a message written for the person who has to fix it, and the HTTP status when a server answered.
//! Messages are built by the library itself and never interpolate the secret or a token (see `redact`).

use std::ffi::CStr;
use std::fmt;
use std::time::Duration;

macro_rules! status_table {
    (
        $(#[doc = $enum_doc:literal])* enum;
        $(#[doc = $ok_doc:literal])* Ok = 0 => OK;
        $( $(#[doc = $doc:literal])* $variant:ident = $code:literal => $name:ident, )*
    ) => {
        /// What went wrong, coarsely: one variant per failure status of the C API (see `Status`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorKind {
            $( $(#[doc = $doc])* $variant, )*
        }

        $(#[doc = $enum_doc])*
        ///
        /// The C API's `x8_status` (build.rs writes the same table into include/x8.h).
        #[repr(C)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Status {
            $(#[doc = $ok_doc])*
            Ok = 0,
            $( $(#[doc = $doc])* $variant = $code, )*
        }

        impl ErrorKind {
            /// Every kind, in the table's order.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$variant),*];

            /// The status the C API returns for this kind.
            pub const fn status(self) -> Status {
                match self {
                    $(ErrorKind::$variant => Status::$variant,)*
                }
            }
        }

        impl Status {
            /// Every status, in the table's order.
            pub const ALL: &'static [Status] = &[Status::Ok, $(Status::$variant),*];

            /// The status with this numeric code, if there is one.
            pub fn from_code(code: i32) -> Option<Status> {
                Status::ALL.iter().copied().find(|s| *s as i32 == code)
            }

            /// The status's C name, e.g. "X8_STATUS_AUTH", NUL-terminated and static.
            pub const fn name(self) -> &'static CStr {
                match self {
                    Status::Ok => c"X8_STATUS_OK",
                    $(Status::$variant => c_name(concat!("X8_STATUS_", stringify!($name), "\0")),)*
                }
            }
        }
    };
}

/// A `concat!`ed name with its NUL as a `CStr`, checked when compiling.
const fn c_name(with_nul: &'static str) -> &'static CStr {
    match CStr::from_bytes_with_nul(with_nul.as_bytes()) {
        Ok(name) => name,
        Err(_) => panic!("a status name must end in exactly one NUL"),
    }
}

// The one status table; build.rs reads the same file for the header.
include!("error/statuses.rs");

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
    fn the_status_table_has_unique_codes_and_names() {
        let mut codes: Vec<i32> = Status::ALL.iter().map(|s| *s as i32).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Status::ALL.len(), "two statuses share a code");
        for kind in ErrorKind::ALL {
            let status = kind.status();
            assert_ne!(status, Status::Ok, "{kind:?} maps to OK");
            assert_eq!(Status::from_code(status as i32), Some(status));
            let name = status.name().to_str().unwrap();
            assert!(name.starts_with("X8_STATUS_") && name.len() > 10, "{name}");
        }
        assert_eq!(Status::from_code(1000), None);
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
