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

    /// The same error with its message replaced (to take something out of it).
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
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

/// Secrets at least this long are redacted wherever they appear: 16 characters of an API secret, a base64
/// credential pair or a token do not turn up in other text by chance.
pub const REDACT_ANYWHERE_LEN: usize = 16;

/// Replaces each secret in `text` with `[redacted]`. Used on text that comes from outside (a server's error
/// body may echo what we sent: the secret, the base64 `id:secret` pair of the Basic header, a token), never
/// needed on messages we compose ourselves.
///
/// The rule, so that a short secret cannot shred a message ("th[redacted] API answ[redacted]r"): a secret of
/// [`REDACT_ANYWHERE_LEN`] bytes or more is replaced wherever it occurs; a shorter one only where it stands as
/// a whole word, i.e. not preceded or followed by an ASCII letter or digit (`secret=abc&` loses `abc`,
/// `abcdef` keeps it). Longer secrets are replaced first, so a secret inside the base64 pair cannot leave
/// half of the pair behind.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut sorted: Vec<&str> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_owned();
    for secret in sorted {
        if !out.contains(secret) {
            continue;
        }
        if secret.len() >= REDACT_ANYWHERE_LEN {
            out = out.replace(secret, "[redacted]");
            continue;
        }
        let is_word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        let mut before: Option<char> = None;
        while let Some(at) = rest.find(secret) {
            let head = &rest[..at];
            let prev = head.chars().next_back().or(before);
            let next = rest[at + secret.len()..].chars().next();
            result.push_str(head);
            // A secret that starts or ends with a letter or digit is a word only if its neighbours are not.
            let starts_word = secret
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric());
            let ends_word = secret
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric());
            if (starts_word && is_word(prev)) || (ends_word && is_word(next)) {
                result.push_str(secret);
            } else {
                result.push_str("[redacted]");
            }
            before = secret.chars().next_back();
            rest = &rest[at + secret.len()..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

/// Cuts text from a server to a length fit for an error message, on a character boundary, and makes it one
/// line of printable text. A server's words reach terminals (the CLI prints errors), log files and log
/// pipelines: an ESC or BEL in them rewrote the terminal (`ESC ] 0;…` retitles it, `ESC [2J` clears it), a
/// newline forged a log line of its own, and a bidi override showed the text reversed. Line breaks and tabs
/// become spaces; every other control character and the bidi controls become U+FFFD.
pub fn truncate_for_message(text: &str, max: usize) -> String {
    let text = one_printable_line(text.trim());
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

fn one_printable_line(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                '\u{fffd}'
            }
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_becomes_one_printable_line() {
        let hostile =
            "bad\x1b]0;owned\x07 key\x1b[2J\r\n[INFO] forged line\u{202e}desrever\u{9b}31m\x00\x7f";
        let out = truncate_for_message(hostile, 300);
        assert!(
            !out.chars()
                .any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
            "{out:?}"
        );
        assert!(
            out.starts_with("bad\u{fffd}]0;owned\u{fffd} key"),
            "{out:?}"
        );
        assert!(out.contains("  [INFO] forged line"), "{out:?}");
        assert_eq!(truncate_for_message("  plain words\n", 300), "plain words");
        assert_eq!(truncate_for_message("Grüße", 3), "Gr…");
    }

    #[test]
    fn redact_replaces_every_occurrence() {
        let out = redact("a s3cret b s3cret", &["s3cret"]);
        assert_eq!(out, "a [redacted] b [redacted]");
        let long = "Zq8pwLongSecret-0123";
        assert_eq!(
            redact(&format!("x{long}y {long}"), &[long]),
            "x[redacted]y [redacted]"
        );
    }

    #[test]
    fn short_secrets_are_redacted_only_as_whole_words() {
        // What the old rule did to "the API answered" with secret "e" (and to "ClientId is Invalid").
        assert_eq!(redact("the API answered", &["e"]), "the API answered");
        assert_eq!(
            redact("ClientId is Invalid", &["Invalid0"]),
            "ClientId is Invalid"
        );
        assert_eq!(
            redact("ClientId is Inval", &["Inval"]),
            "ClientId is [redacted]"
        );
        assert_eq!(
            redact("secret=abc&x=abcdef abc.", &["abc"]),
            "secret=[redacted]&x=abcdef [redacted]."
        );
        assert_eq!(redact("abcabc", &["abc"]), "abcabc");
        assert_eq!(redact("a b", &["a b"]), "[redacted]");
    }

    #[test]
    fn the_longest_secret_is_redacted_first() {
        let pair = "aXQtY2xpZW50Oml0LXNlY3JldA==";
        let out = redact(&format!("Basic {pair}"), &["aXQt", pair]);
        assert_eq!(out, "Basic [redacted]");
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
