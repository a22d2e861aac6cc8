// Client settings as a plain .NET object. Nothing native exists until a client is created: X8Client turns these
// into an x8_options, lets x8 validate them, and frees the x8_options right after x8_client_new (x8 copies
// what it keeps). Unset (null) properties keep x8's defaults.

using System;
using System.Collections.Generic;

namespace X8
{
    /// <summary>How the client authenticates at the token endpoint (x8.h's X8_CLIENT_AUTH_*).</summary>
    public enum X8ClientAuth
    {
        /// <summary>8x8's raw <c>Basic base64(id:secret)</c> (default).</summary>
        Basic = 0,
        /// <summary>RFC 6749 §2.3.1: id and secret form-urlencoded before base64.</summary>
        BasicRfc6749 = 1,
        /// <summary><c>client_secret_post</c>: both in the form body.</summary>
        Post = 2,
    }

    /// <summary>Which roots HTTPS trusts (x8.h's X8_ROOTS_*).</summary>
    public enum X8TlsRoots
    {
        /// <summary>The platform's verifier: the OS store, on Linux the system bundle or SSL_CERT_FILE (default).</summary>
        Platform = 0,
        /// <summary>Mozilla's roots compiled into x8.</summary>
        CompiledIn = 1,
    }

    /// <summary>What <see cref="X8ClientOptions.CaFile"/> does to the roots (x8.h's X8_CA_*).</summary>
    public enum X8CaMode
    {
        /// <summary>Trusted besides the roots (default).</summary>
        Add = 0,
        /// <summary>Only its certificates are trusted.</summary>
        Replace = 1,
    }

    /// <summary>Options for <see cref="X8Client"/>; every property is optional.</summary>
    public sealed class X8ClientOptions
    {
        /// <summary>Options with every x8 default (log level Info).</summary>
        public X8ClientOptions()
        {
            LogLevel = X8LogLevel.Info;
        }

        /// <summary>Base URL of the APIs (default https://api.8x8.com). Requests are relative to it and the token
        /// is only ever sent to its origin. http:// is accepted for loopback hosts only (the emulator).
        /// A path prefix such as https://api.8x8.com/eu is kept.</summary>
        public string BaseUrl { get; set; }

        /// <summary>Token endpoint (default: the base URL's origin + /oauth/v2/token).</summary>
        public string TokenUrl { get; set; }

        /// <summary>TCP + TLS connect timeout (x8 default 10 s).</summary>
        public TimeSpan? ConnectTimeout { get; set; }

        /// <summary>Bound on one whole call, token fetch and replay included (x8 default 30 s).</summary>
        public TimeSpan? Timeout { get; set; }

        /// <summary>How long before expiry a token is renewed in the background (x8 default 5 minutes).</summary>
        public TimeSpan? RefreshMargin { get; set; }

        /// <summary>The User-Agent header (x8 default "x8/&lt;version&gt;").</summary>
        public string UserAgent { get; set; }

        /// <summary>A PEM file of CA certificates to trust, besides the roots unless <see cref="CaMode"/> says
        /// Replace.</summary>
        public string CaFile { get; set; }

        /// <summary>What <see cref="CaFile"/> does (x8 default Add).</summary>
        public X8CaMode? CaMode { get; set; }

        /// <summary>Which roots HTTPS (and a rediss:// store) trusts (x8 default Platform).</summary>
        public X8TlsRoots? TlsRoots { get; set; }

        /// <summary>How the credentials go to the token endpoint (x8 default Basic, 8x8's).</summary>
        public X8ClientAuth? ClientAuth { get; set; }

        /// <summary>An OAuth scope sent with each token request (none by default; 8x8 needs none).</summary>
        public string TokenScope { get; set; }

        /// <summary>Extra form parameters of the token request (audience, resource...).</summary>
        public IDictionary<string, string> TokenParams { get; set; }

        /// <summary>Headers sent with every request of the client (X-Tenant-Info, QM's pbx); a per-call header
        /// of the same name replaces one. Authorization, Host and the framing headers are refused.</summary>
        public IDictionary<string, string> DefaultHeaders { get; set; }

        /// <summary>Retries of an idempotent API request answered 429 or 503 (x8 default 0, at most 20), after
        /// Retry-After or a jittered backoff, within the call's timeout; POST and PATCH never.</summary>
        public int? ApiRetries { get; set; }

        /// <summary>At most <c>Requests</c> API requests per <c>Interval</c>; callers wait their turn within their
        /// deadline. null: no limit.</summary>
        public X8RateLimit RateLimit { get; set; }

        /// <summary>HTTP(S) proxy URL. null: the usual environment variables (HTTPS_PROXY, NO_PROXY...);
        /// "" disables proxies.</summary>
        public string Proxy { get; set; }

        /// <summary>Largest response body accepted (x8 default 64 MiB).</summary>
        public long? MaxBodyBytes { get; set; }

        /// <summary>Retries of a transiently failed token fetch (x8 default 3, at most 20).</summary>
        public int? MaxRetries { get; set; }

        /// <summary>First retry delay (x8 default 250 ms); delays grow exponentially with jitter.</summary>
        public TimeSpan? RetryBaseDelay { get; set; }

        /// <summary>Largest retry delay (x8 default 8 s).</summary>
        public TimeSpan? RetryMaxDelay { get; set; }

        /// <summary>Whether a request whose token the API rejects is sent once more with a new token (x8 default true).</summary>
        public bool? ReplayOn401 { get; set; }

        /// <summary>Keeps the token in a cache file in this folder, shared by the host's processes (also
        /// X8_TOKEN_CACHE): short-lived processes reuse one token instead of fetching one each. Mode 0600, written
        /// atomically under a file lock, never holding the secret; a folder that cannot be used falls back to the
        /// in-process cache with a warning. At most one of TokenCache, RedisUrl and TokenStore may be set.</summary>
        public string TokenCache { get; set; }

        /// <summary>Keeps the token in Redis, shared by processes on many hosts (also X8_REDIS_URL):
        /// redis://[[user]:password@]host[:port][/db], rediss://... (TLS, trusted as HTTPS is: TlsRoots, CaFile,
        /// CaMode) or unix:///path/to/redis.sock. A Redis that is down makes
        /// the client fetch by itself (with a warning), never fail.</summary>
        public string RedisUrl { get; set; }

        /// <summary>Keeps the token in the application's own store (see <see cref="IX8TokenStore"/>).</summary>
        public IX8TokenStore TokenStore { get; set; }

        /// <summary>Receives x8's diagnostics at <see cref="LogLevel"/> or more severe. Called on x8's threads
        /// (including its background renewal thread), so it must be thread-safe; exceptions it throws are
        /// swallowed. Messages never contain the secret or a token.</summary>
        public Action<X8LogLevel, string> Log { get; set; }

        /// <summary>The most verbose level passed to <see cref="Log"/> (default Info).</summary>
        public X8LogLevel LogLevel { get; set; }

        // x8's own defaults for the three retry settings, needed because x8 sets them in one call
        // (x8_options_set_retries); keep in step with x8.h.
        private const int DefaultMaxRetries = 3;
        private static readonly TimeSpan DefaultRetryBaseDelay = TimeSpan.FromMilliseconds(250);
        private static readonly TimeSpan DefaultRetryMaxDelay = TimeSpan.FromMilliseconds(8000);

        /// <summary>
        /// A native x8_options carrying these settings. A log callback and a token store are registered in
        /// <paramref name="registrations"/>, which the caller must release if no client ends up owning them.
        /// </summary>
        internal X8OptionsHandle ToNative(out CallbackRegistrations registrations)
        {
            registrations = new CallbackRegistrations();
            var opts = NativeMethods.x8_options_new();
            if (opts.IsInvalid)
                throw new OutOfMemoryException("x8_options_new returned NULL");
            try
            {
                IntPtr err;
                if (BaseUrl != null)
                    Errors.Check(NativeMethods.x8_options_set_base_url(opts, Utf8.Encode(BaseUrl, "BaseUrl"), out err), err);
                if (TokenUrl != null)
                    Errors.Check(NativeMethods.x8_options_set_token_url(opts, Utf8.Encode(TokenUrl, "TokenUrl"), out err), err);
                if (ConnectTimeout.HasValue)
                    Errors.Check(NativeMethods.x8_options_set_connect_timeout_ms(opts, Millis.Positive(ConnectTimeout.Value, "ConnectTimeout"), out err), err);
                if (Timeout.HasValue)
                    Errors.Check(NativeMethods.x8_options_set_timeout_ms(opts, Millis.Positive(Timeout.Value, "Timeout"), out err), err);
                if (RefreshMargin.HasValue)
                    Errors.Check(NativeMethods.x8_options_set_refresh_margin_ms(opts, Millis.NonNegative(RefreshMargin.Value, "RefreshMargin"), out err), err);
                if (UserAgent != null)
                    Errors.Check(NativeMethods.x8_options_set_user_agent(opts, Utf8.Encode(UserAgent, "UserAgent"), out err), err);
                if (CaFile != null)
                    Errors.Check(NativeMethods.x8_options_set_ca_file(opts, Utf8.Encode(CaFile, "CaFile"), out err), err);
                if (Proxy != null)
                    Errors.Check(NativeMethods.x8_options_set_proxy(opts, Utf8.Encode(Proxy, "Proxy"), out err), err);
                if (MaxBodyBytes.HasValue)
                {
                    if (MaxBodyBytes.Value <= 0)
                        throw new ArgumentOutOfRangeException("MaxBodyBytes", "must be positive");
                    Errors.Check(NativeMethods.x8_options_set_max_body_bytes(opts, (ulong)MaxBodyBytes.Value, out err), err);
                }
                if (MaxRetries.HasValue || RetryBaseDelay.HasValue || RetryMaxDelay.HasValue)
                {
                    var retries = MaxRetries ?? DefaultMaxRetries;
                    if (retries < 0)
                        throw new ArgumentOutOfRangeException("MaxRetries", "must not be negative");
                    Errors.Check(NativeMethods.x8_options_set_retries(opts, (uint)retries,
                        Millis.NonNegative(RetryBaseDelay ?? DefaultRetryBaseDelay, "RetryBaseDelay"),
                        Millis.NonNegative(RetryMaxDelay ?? DefaultRetryMaxDelay, "RetryMaxDelay"), out err), err);
                }
                if (ReplayOn401.HasValue)
                    Errors.Check(NativeMethods.x8_options_set_replay_on_401(opts, ReplayOn401.Value, out err), err);
                if (CaMode.HasValue)
                    Errors.Check(NativeMethods.x8_options_set_ca_mode(opts, (int)CaMode.Value, out err), err);
                if (TlsRoots.HasValue)
                    Errors.Check(NativeMethods.x8_options_set_tls_roots(opts, (int)TlsRoots.Value, out err), err);
                if (ClientAuth.HasValue)
                    Errors.Check(NativeMethods.x8_options_set_client_auth(opts, (int)ClientAuth.Value, out err), err);
                if (TokenScope != null)
                    Errors.Check(NativeMethods.x8_options_set_token_scope(opts, Utf8.Encode(TokenScope, "TokenScope"), out err), err);
                if (TokenParams != null)
                    foreach (var p in TokenParams)
                        Errors.Check(NativeMethods.x8_options_add_token_param(opts, Utf8.Encode(p.Key, "TokenParams"),
                            Utf8.Encode(p.Value, "TokenParams"), out err), err);
                if (DefaultHeaders != null)
                    foreach (var h in DefaultHeaders)
                        Errors.Check(NativeMethods.x8_options_add_default_header(opts, Utf8.Encode(h.Key, "DefaultHeaders"),
                            Utf8.Encode(h.Value, "DefaultHeaders"), out err), err);
                if (ApiRetries.HasValue)
                {
                    if (ApiRetries.Value < 0)
                        throw new ArgumentOutOfRangeException("ApiRetries", "must not be negative");
                    Errors.Check(NativeMethods.x8_options_set_api_retries(opts, (uint)ApiRetries.Value, out err), err);
                }
                if (RateLimit != null)
                {
                    if (RateLimit.Requests < 0)
                        throw new ArgumentOutOfRangeException("RateLimit", "Requests must not be negative");
                    Errors.Check(NativeMethods.x8_options_set_rate_limit(opts, (uint)RateLimit.Requests,
                        Millis.Positive(RateLimit.Interval, "RateLimit.Interval"), out err), err);
                }
                if ((TokenCache != null ? 1 : 0) + (RedisUrl != null ? 1 : 0) + (TokenStore != null ? 1 : 0) > 1)
                    throw new ArgumentException("set at most one of TokenCache, RedisUrl and TokenStore");
                if (TokenCache != null)
                    Errors.Check(NativeMethods.x8_options_set_token_cache(opts, Utf8.Encode(TokenCache, "TokenCache"), out err), err);
                if (RedisUrl != null)
                    Errors.Check(NativeMethods.x8_options_set_redis_store(opts, Utf8.Encode(RedisUrl, "RedisUrl"), out err), err);
                if (TokenStore != null)
                {
                    registrations.Store = TokenStoreRegistry.Register(TokenStore);
                    var native = TokenStoreRegistry.Native(registrations.Store, TokenStore is IX8TokenStoreLock);
                    Errors.Check(NativeMethods.x8_options_set_token_store(opts, ref native, out err), err);
                }
                if (Log != null)
                {
                    registrations.Log = LogRegistry.Register(Log);
                    Errors.Check(NativeMethods.x8_options_set_log_callback(
                        opts, LogRegistry.Trampoline, new IntPtr(registrations.Log), (int)LogLevel, out err), err);
                }
                return opts;
            }
            catch
            {
                registrations.Release();
                opts.Dispose();
                throw;
            }
        }
    }

    /// <summary>A client-side rate limit: at most <see cref="Requests"/> API requests per <see cref="Interval"/>.</summary>
    public sealed class X8RateLimit
    {
        /// <summary>A limit of <paramref name="requests"/> per <paramref name="interval"/>.</summary>
        public X8RateLimit(int requests, TimeSpan interval)
        {
            Requests = requests;
            Interval = interval;
        }

        /// <summary>Requests allowed per interval.</summary>
        public int Requests { get; private set; }

        /// <summary>The interval.</summary>
        public TimeSpan Interval { get; private set; }
    }

    /// <summary>TimeSpan to the uint32 milliseconds x8 takes, rounding up so a tiny timeout never becomes 0.</summary>
    internal static class Millis
    {
        internal static uint Positive(TimeSpan value, string paramName)
        {
            if (value <= TimeSpan.Zero)
                throw new ArgumentOutOfRangeException(paramName, "must be positive");
            return NonNegative(value, paramName);
        }

        internal static uint NonNegative(TimeSpan value, string paramName)
        {
            if (value < TimeSpan.Zero)
                throw new ArgumentOutOfRangeException(paramName, "must not be negative");
            var ms = Math.Ceiling(value.TotalMilliseconds);
            if (ms > uint.MaxValue)
                throw new ArgumentOutOfRangeException(paramName, "must be less than 49 days");
            return (uint)ms;
        }

        /// <summary>A per-call timeout: null means the client's own (0 for x8).</summary>
        internal static uint PerCall(TimeSpan? value, string paramName)
        {
            return value.HasValue ? Positive(value.Value, paramName) : 0u;
        }
    }
}
