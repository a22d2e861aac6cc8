// The status table: every code the C API returns, written once. Not a module: `src/error.rs` includes it to make
// `ErrorKind`, `Status`, their codes and names, and `build.rs` includes it to write the `x8_status` enum into
// include/x8.h (cbindgen cannot see through macros). The .NET `X8Status` enum and the Go `Status*` constants are
// checked against the header by tests/parity.py. Each row: doc lines, `Variant = code => C_SUFFIX`.
// Codes are ABI: never renumber one; add new ones at the end of the failures, before Internal.
status_table! {
    /// Result of every fallible call. `X8_STATUS_OK` is 0; every other value is a failure whose details are in the
    /// `x8_error` the call hands back (when the caller asked for one).
    enum;
    /// Success.
    Ok = 0 => OK;
    /// A NULL pointer, text that is not UTF-8, a CR/LF in a method, path or header, an absurd size, or a URL on
    /// another origin than the client's. Fix the call.
    InvalidArgument = 1 => INVALID_ARGUMENT,
    /// The caller's buffer is too small; the needed length was reported. Call again with a larger buffer.
    BufferTooSmall = 2 => BUFFER_TOO_SMALL,
    /// Bad options or missing environment (`X8_CLIENT_ID`...). Fix the configuration.
    Config = 3 => CONFIG,
    /// The token endpoint refused the credentials (400/401). Check the API key; retrying will not help.
    Auth = 4 => AUTH,
    /// The token endpoint kept failing (5xx/429) through every retry. Try again later.
    TokenEndpoint = 5 => TOKEN_ENDPOINT,
    /// A server broke the protocol (e.g. a malformed token reply).
    Protocol = 6 => PROTOCOL,
    /// Network failure: DNS, connection refused or reset, proxy.
    Transport = 7 => TRANSPORT,
    /// A connect, read or overall timeout passed.
    Timeout = 8 => TIMEOUT,
    /// TLS failed: untrusted or mismatching certificate, bad CA bundle.
    Tls = 9 => TLS,
    /// The API refused the token because the key lacks the API's product. The message names the token's products.
    NotEntitled = 10 => NOT_ENTITLED,
    /// A response body exceeded the configured maximum.
    BodyTooLarge = 11 => BODY_TOO_LARGE,
    /// A client created before fork() was used in the child. Create a new client in the child.
    Forked = 12 => FORKED,
    /// The caller cancelled the call through its `x8_cancel` (or the binding's context or token): it returned
    /// without an answer, and a request's connection was closed. The token fetch other callers wait for goes on.
    Cancelled = 13 => CANCELLED,
    /// A streamed transfer was stopped by the caller's side: a body callback (write or read) returned non-zero,
    /// or the sink or source failed. Nothing is retried; the message says which side and after how many bytes.
    Aborted = 14 => ABORTED,
    /// A bug in x8 (an internal panic was caught). Please report it with the message.
    Internal = 99 => INTERNAL,
}
