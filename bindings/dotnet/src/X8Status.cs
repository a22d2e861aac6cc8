// Mirrors x8_status in x8.h value for value (a test checks every name against x8_status_str).

namespace X8
{
    /// <summary>The outcome of an x8 call; carried by <see cref="X8Exception.Status"/>.</summary>
    public enum X8Status
    {
        /// <summary>Success (never carried by an exception).</summary>
        Ok = 0,
        /// <summary>A null argument, a NUL or CR/LF in text, a malformed header, a URL on another origin. Fix the call.</summary>
        InvalidArgument = 1,
        /// <summary>A caller buffer was too small (the binding sizes its buffers, so this is not expected).</summary>
        BufferTooSmall = 2,
        /// <summary>Bad options or missing environment (X8_CLIENT_ID...). Fix the configuration.</summary>
        Config = 3,
        /// <summary>The token endpoint refused the credentials (400/401). Check the API key; retrying will not help.</summary>
        Auth = 4,
        /// <summary>The token endpoint kept failing (5xx/429) through every retry. Try again later.</summary>
        TokenEndpoint = 5,
        /// <summary>A server broke the protocol (e.g. a malformed token reply).</summary>
        Protocol = 6,
        /// <summary>Network failure: DNS, connection refused or reset, proxy.</summary>
        Transport = 7,
        /// <summary>A connect, read or overall timeout passed.</summary>
        Timeout = 8,
        /// <summary>TLS failed: untrusted or mismatching certificate, bad CA bundle.</summary>
        Tls = 9,
        /// <summary>The API refused the token because the key lacks the API's product; the message names the token's products.</summary>
        NotEntitled = 10,
        /// <summary>A response body exceeded the configured maximum.</summary>
        BodyTooLarge = 11,
        /// <summary>A client created before fork() was used in the child process.</summary>
        Forked = 12,
        /// <summary>The call's CancellationToken was cancelled while it ran (surfaced as an OperationCanceledException
        /// whose inner exception carries this status).</summary>
        Cancelled = 13,
        /// <summary>A streamed transfer was stopped by the caller's side: the body's Stream failed (writing the download or reading the upload).</summary>
        Aborted = 14,
        /// <summary>A bug in x8 (an internal panic was caught). Please report it with the message.</summary>
        Internal = 99,
    }
}
