// PagesAsync: a paged listing as IAsyncEnumerable<X8Response>, for `await foreach` (C# 8). Written by hand
// (IAsyncEnumerable/IAsyncEnumerator classes) because this binding compiles with Mono's mcs, which accepts C# 7
// only and so cannot compile an async iterator. It lives in its own class so that X8Client stays usable on
// runtimes whose base library has no IAsyncEnumerable (.NET Framework): only a call of PagesAsync needs it.

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace X8
{
    /// <summary>Asynchronous paged listings.</summary>
    public static class X8AsyncPaging
    {
        /// <summary>
        /// <see cref="X8Client.Pages"/> as an asynchronous stream: <c>await foreach (var page in
        /// client.PagesAsync("GET", path))</c>. Each page is read on the thread pool; the cancellation token (of
        /// this call or of the enumeration, WithCancellation) is checked before each page: a page whose native
        /// call started runs to completion, bounded by <paramref name="timeout"/>. Argument errors are thrown
        /// here; request errors from MoveNextAsync, ending the enumeration.
        /// </summary>
        public static IAsyncEnumerable<X8Response> PagesAsync(this X8Client client, string method, string path,
            byte[] body = null, IDictionary<string, string> headers = null, X8PageStyle style = X8PageStyle.Auto,
            TimeSpan? timeout = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (client == null)
                throw new ArgumentNullException("client");
            return new PageStream(client, new PreparedRequest(method, path, body, headers, timeout), style,
                cancellationToken);
        }

        private sealed class PageStream : IAsyncEnumerable<X8Response>
        {
            private readonly X8Client client;
            private readonly PreparedRequest request;
            private readonly X8PageStyle style;
            private readonly CancellationToken token;

            internal PageStream(X8Client client, PreparedRequest request, X8PageStyle style, CancellationToken token)
            {
                this.client = client;
                this.request = request;
                this.style = style;
                this.token = token;
            }

            public IAsyncEnumerator<X8Response> GetAsyncEnumerator(CancellationToken cancellationToken = default(CancellationToken))
            {
                var either = cancellationToken.CanBeCanceled && token.CanBeCanceled
                    ? CancellationTokenSource.CreateLinkedTokenSource(token, cancellationToken)
                    : null;
                return new PageEnumerator(client, request, style,
                    either != null ? either.Token : (cancellationToken.CanBeCanceled ? cancellationToken : token), either);
            }
        }

        private sealed class PageEnumerator : IAsyncEnumerator<X8Response>
        {
            private readonly X8Client client;
            private readonly PreparedRequest request;
            private readonly X8PageStyle style;
            private readonly CancellationToken token;
            private readonly CancellationTokenSource linked;
            private PageReader reader;
            private bool done;

            internal PageEnumerator(X8Client client, PreparedRequest request, X8PageStyle style,
                CancellationToken token, CancellationTokenSource linked)
            {
                this.client = client;
                this.request = request;
                this.style = style;
                this.token = token;
                this.linked = linked;
            }

            public X8Response Current { get; private set; }

            public ValueTask<bool> MoveNextAsync()
            {
                if (done)
                    return new ValueTask<bool>(false);
                return new ValueTask<bool>(Task.Run(() =>
                {
                    token.ThrowIfCancellationRequested();
                    try
                    {
                        if (reader == null)
                            reader = client.OpenPager(request, style);
                        Current = reader.Next();
                    }
                    catch
                    {
                        Finish();
                        throw;
                    }
                    if (Current == null)
                        Finish();
                    return Current != null;
                }, token));
            }

            public ValueTask DisposeAsync()
            {
                Finish();
                return default(ValueTask);
            }

            private void Finish()
            {
                done = true;
                if (reader != null)
                    reader.Dispose();
                if (linked != null)
                    linked.Dispose();
            }
        }
    }
}
