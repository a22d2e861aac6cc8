//! Exit codes and the one failure type every command returns. Scripts branch on the code, people read the
//! message, so each failure carries both, and the mapping from library errors lives in this one place.

use std::fmt;
use std::process::ExitCode;

use x8::ErrorKind;

/// The documented exit codes (see `x8 --help` and README.md). 2 is also what clap uses for usage errors, so a
/// bad flag and a bad header value exit alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// A bug, or stdout could not be written.
    Other = 1,
    /// Bad arguments: unknown flag, malformed header, unreadable `--data` file, path on another origin.
    Usage = 2,
    /// No usable credentials or settings: missing variables, config file missing, unreadable, malformed or
    /// readable by others, bad base URL.
    Config = 3,
    /// The token endpoint refused the credentials: retrying will not help.
    Auth = 4,
    /// No usable answer: network, DNS, TLS, timeout, token endpoint failing (5xx/429), malformed reply. Often
    /// passes: a script may retry.
    Unavailable = 5,
    /// The API answered with an HTTP status of 400 or more.
    HttpStatus = 6,
    /// The key lacks a product: `x8 check`, or an API call refused with Apigee's "no API product match".
    ProductMissing = 7,
}

impl From<Exit> for ExitCode {
    fn from(code: Exit) -> ExitCode {
        ExitCode::from(code as u8)
    }
}

/// Why a command failed: the exit code and a message for stderr.
#[derive(Debug)]
pub struct Failure {
    pub code: Exit,
    pub message: String,
}

impl Failure {
    pub fn new(code: Exit, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(Exit::Usage, message)
    }

    pub fn config(message: impl Into<String>) -> Failure {
        Failure::new(Exit::Config, message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The library's kinds grouped by what a script can do about them.
pub fn exit_for(kind: ErrorKind) -> Exit {
    match kind {
        // Everything the library calls an invalid argument came from our command line (method, header, path).
        ErrorKind::InvalidArgument => Exit::Usage,
        ErrorKind::Config => Exit::Config,
        ErrorKind::Auth => Exit::Auth,
        ErrorKind::TokenEndpoint
        | ErrorKind::Protocol
        | ErrorKind::Transport
        | ErrorKind::Timeout
        | ErrorKind::Tls
        | ErrorKind::BodyTooLarge => Exit::Unavailable,
        ErrorKind::NotEntitled => Exit::ProductMissing,
        // BufferTooSmall is a C-API condition; Forked and Internal are bugs for a one-shot process.
        _ => Exit::Other,
    }
}

impl From<x8::Error> for Failure {
    fn from(e: x8::Error) -> Failure {
        Failure::new(exit_for(e.kind()), e.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_code_matches_clap() {
        // clap exits with 2 on a usage error; the documentation promises one code for both.
        let err = clap::Command::new("t")
            .try_get_matches_from(["t", "--nope"])
            .unwrap_err();
        assert_eq!(err.exit_code(), Exit::Usage as i32);
    }

    #[test]
    fn library_kinds_map_to_documented_codes() {
        assert_eq!(exit_for(ErrorKind::Auth), Exit::Auth);
        assert_eq!(exit_for(ErrorKind::Timeout), Exit::Unavailable);
        assert_eq!(exit_for(ErrorKind::Tls), Exit::Unavailable);
        assert_eq!(exit_for(ErrorKind::NotEntitled), Exit::ProductMissing);
        assert_eq!(exit_for(ErrorKind::InvalidArgument), Exit::Usage);
        assert_eq!(exit_for(ErrorKind::Internal), Exit::Other);
    }
}
