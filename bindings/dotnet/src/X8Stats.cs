// A managed copy of x8_stats.

using System;

namespace X8
{
    /// <summary>The client's counters at one moment (<see cref="X8Client.GetStats"/>).</summary>
    public sealed class X8Stats
    {
        internal X8Stats(NativeMethods.Stats s)
        {
            CacheHits = (long)s.CacheHits;
            TokenFetches = (long)s.TokenFetches;
            BackgroundRefreshes = (long)s.BackgroundRefreshes;
            FetchRetries = (long)s.FetchRetries;
            ReplaysAfter401 = (long)s.ReplaysAfter401;
            FailuresAuth = (long)s.FailuresAuth;
            FailuresServer = (long)s.FailuresServer;
            FailuresNetwork = (long)s.FailuresNetwork;
            FailuresProtocol = (long)s.FailuresProtocol;
            Requests = (long)s.Requests;
            StoreHits = (long)s.StoreHits;
            StoreErrors = (long)s.StoreErrors;
            ApiRetries = (long)s.ApiRetries;
            RateLimitWaits = (long)s.RateLimitWaits;
            TokenTimeLeft = s.TokenSecondsLeft < 0 ? (TimeSpan?)null : TimeSpan.FromSeconds(s.TokenSecondsLeft);
        }

        /// <summary>Token requests answered from the cache.</summary>
        public long CacheHits { get; private set; }
        /// <summary>Tokens obtained from the token endpoint (all kinds).</summary>
        public long TokenFetches { get; private set; }
        /// <summary>Of those, renewals done in the background ahead of expiry.</summary>
        public long BackgroundRefreshes { get; private set; }
        /// <summary>Token fetch attempts retried after a transient failure.</summary>
        public long FetchRetries { get; private set; }
        /// <summary>Requests replayed with a new token after the API rejected the old one.</summary>
        public long ReplaysAfter401 { get; private set; }
        /// <summary>Token fetches that failed because the credentials were refused.</summary>
        public long FailuresAuth { get; private set; }
        /// <summary>Token fetches that failed because the endpoint kept answering 5xx/429.</summary>
        public long FailuresServer { get; private set; }
        /// <summary>Token fetches that failed on the network (connect, TLS, timeout).</summary>
        public long FailuresNetwork { get; private set; }
        /// <summary>Token fetches that failed on a malformed reply or anything else.</summary>
        public long FailuresProtocol { get; private set; }
        /// <summary>Calls to Send / SendAsync (x8_request).</summary>
        public long Requests { get; private set; }
        /// <summary>Tokens taken from the shared token store (cache file, Redis, TokenStore) instead of fetched.</summary>
        public long StoreHits { get; private set; }
        /// <summary>Shared-store operations that failed; the client fetched the token itself each time.</summary>
        public long StoreErrors { get; private set; }
        /// <summary>API requests sent again after a 429 or 503 (<see cref="X8ClientOptions.ApiRetries"/>).</summary>
        public long ApiRetries { get; private set; }
        /// <summary>API requests that waited for the client-side rate limit (<see cref="X8ClientOptions.RateLimit"/>).</summary>
        public long RateLimitWaits { get; private set; }
        /// <summary>Time the cached token has left (before x8's safety margin); null when none is cached.</summary>
        public TimeSpan? TokenTimeLeft { get; private set; }
    }
}
