// The client: one per API key, shared by the whole program (it is thread-safe, caches the token and keeps
// connections alive). A thin layer over x8_client: every method is one native call plus copying its result
// into managed objects, after which the native result is freed at once.

using System;
using System.IO;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace X8
{
    /// <summary>
    /// An 8x8 API client for one API key: fetches and caches its OAuth token, renews it ahead of expiry, and sends
    /// authenticated requests. Safe to use from any number of threads at once. Dispose it when done (a forgotten
    /// client is released by the finalizer).
    /// </summary>
    public sealed partial class X8Client : IDisposable
    {
        private const string DefaultBaseUrl = "https://api.8x8.com";

        private readonly X8ClientHandle handle;

        // One buffer per thread for GetAccessToken: no allocation per call besides the returned string.
        [ThreadStatic] private static byte[] tokenBuffer;

        private delegate X8Status NativeConstructor(X8OptionsHandle opts, out X8ClientHandle client, out IntPtr err);

        /// <summary>A client for the API key <paramref name="clientId"/> / <paramref name="secret"/> (from 8x8 Admin
        /// Console). No network traffic happens until a token is needed.</summary>
        /// <exception cref="X8Exception">Config: a client id with ':', an empty secret, a bad option.</exception>
        public X8Client(string clientId, string secret, X8ClientOptions options = null)
            : this(NewHandle(clientId, secret, options), options != null ? options.BaseUrl : null)
        {
        }

        private X8Client(X8ClientHandle handle, string baseUrl)
        {
            // A log callback is held by LogRegistry until the native client is freed (X8ClientHandle), not
            // by this object: x8 may call it from a renewal still in flight as the client is being freed.
            this.handle = handle;
            Uri parsed;
            BaseUrl = Uri.TryCreate(baseUrl ?? DefaultBaseUrl, UriKind.Absolute, out parsed) ? parsed : null;
        }

        /// <summary>A client whose key comes from the environment: X8_CLIENT_ID and X8_CLIENT_SECRET (required),
        /// X8_BASE_URL and X8_TOKEN_URL (optional; they override <paramref name="options"/>).</summary>
        /// <exception cref="X8Exception">Config, naming the missing variable.</exception>
        public static X8Client FromEnvironment(X8ClientOptions options = null)
        {
            var handle = Construct(options, (X8OptionsHandle opts, out X8ClientHandle client, out IntPtr err) =>
                NativeMethods.x8_client_new_from_env(opts, out client, out err));
            var fromEnvironment = Environment.GetEnvironmentVariable("X8_BASE_URL");
            return new X8Client(handle,
                !string.IsNullOrEmpty(fromEnvironment) ? fromEnvironment : options != null ? options.BaseUrl : null);
        }

        /// <summary>The base URL the client sends requests to; the token only ever goes to its origin.</summary>
        public Uri BaseUrl { get; private set; }

        /// <summary>
        /// A valid token with its details: the cached one while fresh, else a new one (one fetch however many
        /// threads ask at once). <paramref name="timeout"/> bounds the wait (null: the client's timeout).
        /// </summary>
        /// <exception cref="X8Exception">Auth, TokenEndpoint, Transport, Timeout, Tls, Protocol...</exception>
        public X8Token GetToken(TimeSpan? timeout = null)
        {
            var timeoutMs = Millis.PerCall(timeout, "timeout");
            ThrowIfDisposed();
            X8TokenHandle token;
            IntPtr err;
            var status = NativeMethods.x8_client_token(handle, timeoutMs, out token, out err);
            using (token)
            {
                Errors.Check(status, err);
                return X8Token.CopyFrom(token);
            }
        }

        /// <summary>
        /// <see cref="GetToken(TimeSpan?)"/> that <paramref name="cancellationToken"/> can stop while it waits for a
        /// token fetch: the call then throws OperationCanceledException promptly, and the fetch goes on for the
        /// other callers.
        /// </summary>
        /// <exception cref="OperationCanceledException">The token was cancelled (before or during the call).</exception>
        /// <exception cref="X8Exception">As <see cref="GetToken(TimeSpan?)"/>.</exception>
        public X8Token GetToken(TimeSpan? timeout, CancellationToken cancellationToken)
        {
            var timeoutMs = Millis.PerCall(timeout, "timeout");
            ThrowIfDisposed();
            using (var cancel = new NativeCancellation(cancellationToken))
            {
                X8TokenHandle token;
                IntPtr err;
                var status = NativeMethods.x8_client_token_ex(handle, timeoutMs, cancel.Pointer, out token, out err);
                using (token)
                {
                    cancel.Check(status, err);
                    return X8Token.CopyFrom(token);
                }
            }
        }

        /// <summary>
        /// Just the access token, on x8's fast path: a cache hit takes no lock and does no network I/O. Use it for
        /// an <c>Authorization: Bearer</c> header in code that sends its own requests.
        /// </summary>
        /// <exception cref="X8Exception">As <see cref="GetToken(TimeSpan?)"/>.</exception>
        public string GetAccessToken()
        {
            return GetAccessToken(CancellationToken.None);
        }

        /// <summary>
        /// <see cref="GetAccessToken()"/> that <paramref name="cancellationToken"/> can stop while it waits for a
        /// token fetch (OperationCanceledException; the fetch goes on for the other callers). A token that cannot
        /// be cancelled costs nothing extra; one that can costs a native handle per call.
        /// </summary>
        /// <exception cref="OperationCanceledException">The token was cancelled (before or during the call).</exception>
        /// <exception cref="X8Exception">As <see cref="GetToken(TimeSpan?)"/>.</exception>
        public string GetAccessToken(CancellationToken cancellationToken)
        {
            ThrowIfDisposed();
            var buffer = tokenBuffer ?? (tokenBuffer = new byte[NativeMethods.TokenBufferSize]);
            UIntPtr length;
            var size = new UIntPtr((uint)buffer.Length);
            if (!cancellationToken.CanBeCanceled)
            {
                IntPtr err;
                Errors.Check(NativeMethods.x8_get_token(handle, buffer, size, out length, out err), err);
            }
            else
            {
                using (var cancel = new NativeCancellation(cancellationToken))
                {
                    IntPtr err;
                    var status = NativeMethods.x8_get_token_ex(handle, 0, cancel.Pointer, buffer, size, out length, out err);
                    cancel.Check(status, err);
                }
            }
            var n = (int)length.ToUInt64();
            try
            {
                return Encoding.UTF8.GetString(buffer, 0, n);
            }
            finally
            {
                Array.Clear(buffer, 0, n); // the buffer outlives the call: do not leave a token in it
            }
        }

        /// <summary>
        /// Sends an authenticated request: <c>Authorization: Bearer</c> is added from the cache. <paramref name="path"/>
        /// is relative to <see cref="BaseUrl"/> (may carry a query) or an absolute URL on its origin. Any HTTP
        /// status is a successful call. When the API rejects the token, x8 fetches a new one and sends the request
        /// once more. <paramref name="headers"/>: extra headers (Authorization, Host, Content-Length and
        /// Transfer-Encoding are x8's and refused). <paramref name="timeout"/>: bound on the whole call (null: the
        /// client's timeout).
        /// </summary>
        /// <exception cref="X8Exception">InvalidArgument (CR/LF or NUL in method, path or a header; another
        /// origin), NotEntitled (the key lacks the API's product), BodyTooLarge, Transport, Timeout, Tls, and the
        /// token errors of <see cref="GetToken(TimeSpan?)"/>.</exception>
        public X8Response Send(string method, string path, byte[] body = null,
            IDictionary<string, string> headers = null, TimeSpan? timeout = null)
        {
            return Execute(new PreparedRequest(method, path, body, headers, timeout), CancellationToken.None);
        }

        /// <summary>
        /// <see cref="Send(string, string, byte[], IDictionary{string, string}, TimeSpan?)"/> that
        /// <paramref name="cancellationToken"/> can stop while it runs: the request returns promptly with
        /// OperationCanceledException, its connection closed (never reused).
        /// </summary>
        /// <exception cref="OperationCanceledException">The token was cancelled (before or during the call).</exception>
        public X8Response Send(string method, string path, byte[] body, IDictionary<string, string> headers,
            TimeSpan? timeout, CancellationToken cancellationToken)
        {
            return Execute(new PreparedRequest(method, path, body, headers, timeout), cancellationToken);
        }

        /// <summary>
        /// <see cref="Send(string, string, byte[], IDictionary{string, string}, TimeSpan?)"/> for bodies too large to hold. <paramref name="requestBody"/>, if not null, is read as
        /// it is sent: with its remaining length as Content-Length when it can seek, else chunked.
        /// <paramref name="responseBody"/>, if not null, receives the body as it arrives (constant memory, no
        /// MaxBodyBytes limit); the returned response then has the status and headers and an empty Body. Only a 2xx
        /// body is written: for any other status (a 404, a 500) nothing is written to the stream and the error body
        /// is held in <see cref="X8Response.Body"/> as by Send (under MaxBodyBytes), so check
        /// <see cref="X8Response.StatusCode"/>. A 401 that x8 answers by replaying the request is never seen.
        /// Once the request body has given a byte the request is never sent again (not after a 401, which is then
        /// returned). Both streams are used on the calling thread during the call only, and may use this client.
        /// <paramref name="timeout"/> bounds the whole transfer: give a large download one.
        /// </summary>
        /// <exception cref="X8Exception">As <see cref="Send(string, string, byte[], IDictionary{string, string}, TimeSpan?)"/>, and Aborted (its InnerException the stream's
        /// exception) when a stream threw.</exception>
        public X8Response SendStreamed(string method, string path, Stream requestBody, Stream responseBody,
            IDictionary<string, string> headers = null, TimeSpan? timeout = null)
        {
            var request = new PreparedRequest(method, path, null, headers, timeout);
            ThrowIfDisposed();
            using (var body = new StreamedBody(requestBody, responseBody))
            using (var pinned = new PinnedRequest(request))
            {
                body.Attach(ref pinned.Opts);
                X8ResponseHandle response;
                IntPtr err;
                var status = NativeMethods.x8_request(handle, request.Method, request.Path, ref pinned.Opts,
                    out response, out err);
                using (response)
                {
                    body.Check(status, err);
                    return X8Response.CopyFrom(response);
                }
            }
        }

        /// <summary><see cref="SendStreamed"/> on the thread pool; the streams must not be used elsewhere until the
        /// task completes. Cancellation is honoured until the native call starts.</summary>
        public Task<X8Response> SendStreamedAsync(string method, string path, Stream requestBody, Stream responseBody,
            IDictionary<string, string> headers = null, TimeSpan? timeout = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            Millis.PerCall(timeout, "timeout");
            return RunAsync(() => SendStreamed(method, path, requestBody, responseBody, headers, timeout), cancellationToken);
        }

        /// <summary>Drops the cached token so the next call fetches a new one (after products were added to or
        /// removed from the key, or when the token is known to be revoked).</summary>
        public void Invalidate()
        {
            ThrowIfDisposed();
            IntPtr err;
            Errors.Check(NativeMethods.x8_client_invalidate(handle, out err), err);
        }

        /// <summary>Counts in <see cref="X8Stats.ReplaysAfter401"/> a request your own HTTP stack sent again with
        /// a new token after <see cref="InvalidateToken"/> (X8TokenHandler does).</summary>
        public void CountReplay()
        {
            ThrowIfDisposed();
            IntPtr err;
            Errors.Check(NativeMethods.x8_client_count_replay(handle, out err), err);
        }

        /// <summary>Drops the cached token only if it is still <paramref name="rejected"/>, a token the API
        /// refused (e.g. an HttpClient that attaches <see cref="GetAccessToken()"/> itself and got a 401). When many
        /// threads see the same token refused at once, the first call drops it and the others leave its successor
        /// alone, so one fetch follows. Returns whether the token was dropped.</summary>
        public bool InvalidateToken(string rejected)
        {
            ThrowIfDisposed();
            var bytes = Utf8.Encode(rejected, "rejected");
            try
            {
                bool dropped;
                IntPtr err;
                Errors.Check(NativeMethods.x8_client_invalidate_token(handle, bytes, out dropped, out err), err);
                return dropped;
            }
            finally
            {
                Array.Clear(bytes, 0, bytes.Length); // a token, even a refused one, is not left for the GC
            }
        }

        /// <summary>Whether the current token (fetched if needed) carries the API product
        /// <paramref name="product"/>, e.g. "analytics realtime-api" (ignoring ASCII case).</summary>
        public bool HasProduct(string product)
        {
            ThrowIfDisposed();
            bool has;
            IntPtr err;
            Errors.Check(NativeMethods.x8_client_has_product(handle, Utf8.Encode(product, "product"), out has, out err), err);
            return has;
        }

        /// <summary>The client's counters (cheap: atomic reads).</summary>
        public X8Stats GetStats()
        {
            ThrowIfDisposed();
            var stats = new NativeMethods.Stats();
            stats.Size = new UIntPtr((uint)System.Runtime.InteropServices.Marshal.SizeOf(typeof(NativeMethods.Stats)));
            IntPtr err;
            Errors.Check(NativeMethods.x8_client_stats(handle, ref stats, out err), err);
            return new X8Stats(stats);
        }

        // ---- async ----
        // x8's calls block, so the async methods run them on the thread pool. A cancelled token means no network
        // traffic at all; a token cancelled while the native call runs triggers that call's x8_cancel, and the
        // call returns promptly (a request's connection is closed; a wait for the token fetch ends while the
        // fetch goes on for the other callers). Either way the task ends Canceled.

        /// <summary><see cref="GetToken(TimeSpan?)"/> on the thread pool, stopped by
        /// <paramref name="cancellationToken"/> before or during the native call.</summary>
        public Task<X8Token> GetTokenAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            Millis.PerCall(timeout, "timeout"); // argument errors are thrown here, not inside the task
            return RunAsync(() => GetToken(timeout, cancellationToken), cancellationToken);
        }

        /// <summary><see cref="GetToken(TimeSpan?)"/> on the thread pool with the client's timeout.</summary>
        public Task<X8Token> GetTokenAsync(CancellationToken cancellationToken)
        {
            return GetTokenAsync(null, cancellationToken);
        }

        /// <summary><see cref="GetAccessToken()"/> on the thread pool, for async code that must not block on a fetch;
        /// stopped by <paramref name="cancellationToken"/> before or during the native call.</summary>
        public Task<string> GetAccessTokenAsync(CancellationToken cancellationToken = default(CancellationToken))
        {
            return RunAsync(() => GetAccessToken(cancellationToken), cancellationToken);
        }

        /// <summary><see cref="Send(string, string, byte[], IDictionary{string, string}, TimeSpan?)"/> on the
        /// thread pool. The arguments are validated and copied now, except <paramref name="body"/>, which must not
        /// change until the task completes. <paramref name="cancellationToken"/> stops the request before or
        /// during the native call (its connection is then closed).</summary>
        public Task<X8Response> SendAsync(string method, string path, byte[] body = null,
            IDictionary<string, string> headers = null, TimeSpan? timeout = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            var request = new PreparedRequest(method, path, body, headers, timeout);
            return RunAsync(() => Execute(request, cancellationToken), cancellationToken);
        }

        private static Task<T> RunAsync<T>(Func<T> call, CancellationToken cancellationToken)
        {
            // Task.Run does not start a delegate whose token is already cancelled; the check inside covers a
            // cancellation that lands while the task waits for a pool thread.
            return Task.Run(() =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                return call();
            }, cancellationToken);
        }

        // ---- lifetime ----

        /// <summary>Frees the native client (wiping its secret and token). Safe to call more than once. Calls
        /// still running on other threads finish first: the native client is freed when the last one returns.</summary>
        public void Dispose()
        {
            handle.Dispose();
        }

        private void ThrowIfDisposed()
        {
            // The marshaller also refuses a closed SafeHandle, which covers a Dispose racing with this check.
            if (handle.IsClosed)
                throw new ObjectDisposedException(GetType().FullName);
        }

        internal bool IsOwnOrigin(Uri uri)
        {
            return BaseUrl != null && uri != null && uri.IsAbsoluteUri &&
                Uri.Compare(uri, BaseUrl, UriComponents.SchemeAndServer, UriFormat.Unescaped,
                    StringComparison.OrdinalIgnoreCase) == 0;
        }

        private X8Response Execute(PreparedRequest request, CancellationToken cancellationToken)
        {
            ThrowIfDisposed();
            using (var cancel = new NativeCancellation(cancellationToken))
            using (var pinned = new PinnedRequest(request))
            {
                pinned.Opts.Cancel = cancel.Pointer;
                X8ResponseHandle response;
                IntPtr err;
                var status = NativeMethods.x8_request(handle, request.Method, request.Path, ref pinned.Opts,
                    out response, out err);
                using (response)
                {
                    cancel.Check(status, err);
                    return X8Response.CopyFrom(response);
                }
            }
        }

        private static X8ClientHandle NewHandle(string clientId, string secret, X8ClientOptions options)
        {
            var id = Utf8.Encode(clientId, "clientId");
            var key = Utf8.Encode(secret, "secret");
            try
            {
                return Construct(options, (X8OptionsHandle opts, out X8ClientHandle client, out IntPtr err) =>
                    NativeMethods.x8_client_new(id, key, opts, out client, out err));
            }
            finally
            {
                Array.Clear(key, 0, key.Length); // x8 copied it; do not leave the secret's bytes for the GC
            }
        }

        private static X8ClientHandle Construct(X8ClientOptions options, NativeConstructor create)
        {
            CallbackRegistrations registrations;
            using (var opts = (options ?? new X8ClientOptions()).ToNative(out registrations))
            {
                X8ClientHandle client = null;
                try
                {
                    IntPtr err;
                    var status = create(opts, out client, out err);
                    Errors.Check(status, err);
                    client.Registrations = registrations;
                    return client;
                }
                catch
                {
                    // No client owns the registration: x8_client_new failed and handed back NULL.
                    if (client != null)
                        client.Dispose();
                    registrations.Release();
                    throw;
                }
            }
        }
    }
}
