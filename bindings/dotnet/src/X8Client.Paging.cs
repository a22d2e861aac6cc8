// Paged listings (X8Client.Pages, and PagesAsync in X8AsyncPaging.cs) and the token-less fetch of presigned
// URLs (FetchUrl): the part of X8Client over x8_pager_* and x8_fetch_url.

using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace X8
{
    public sealed partial class X8Client
    {
        /// <summary>
        /// Reads a paged listing, one <see cref="X8Response"/> per page, until the last page, in
        /// <paramref name="style"/> (<see cref="X8PageStyle.Auto"/> detects it from the first reply). Each page is
        /// an ordinary request: token renewal, the replay after a 401 and <paramref name="timeout"/> (per page;
        /// null: the client's) apply to each. The listing starts at the page <paramref name="path"/> names. A page
        /// with a non-2xx status is returned as it is and is the last. Each page carries its items
        /// (<see cref="X8Response.PageItemsJson"/>) and the listing's style (<see cref="X8Response.PageStyle"/>).
        /// Nothing is sent until the enumeration starts; each enumeration reads the listing anew; an enumerator is
        /// not thread-safe. Stopping early (break, Dispose) abandons the listing.
        /// </summary>
        /// <exception cref="X8Exception">From MoveNext: the errors of <see cref="Send(string, string, byte[], IDictionary{string, string}, TimeSpan?)"/>; Protocol when a reply does
        /// not read as its style or the listing passes 100000 pages. The enumeration ends with the exception.</exception>
        public IEnumerable<X8Response> Pages(string method, string path, byte[] body = null,
            IDictionary<string, string> headers = null, X8PageStyle style = X8PageStyle.Auto, TimeSpan? timeout = null)
        {
            var request = new PreparedRequest(method, path, body, headers, timeout); // argument errors now
            return ReadPages(request, style);
        }

        private IEnumerable<X8Response> ReadPages(PreparedRequest request, X8PageStyle style)
        {
            using (var reader = OpenPager(request, style))
            {
                X8Response page;
                while ((page = reader.Next()) != null)
                    yield return page;
            }
        }

        // `cancellationToken` stops the page in flight and every later one: the native pager keeps a reference to
        // the x8_cancel its registration triggers, which lives as long as the reader.
        internal PageReader OpenPager(PreparedRequest request, X8PageStyle style,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            ThrowIfDisposed();
            var cancel = new NativeCancellation(cancellationToken);
            using (var pinned = new PinnedRequest(request))
            {
                pinned.Opts.Cancel = cancel.Pointer;
                X8PagerHandle pager;
                IntPtr err;
                var status = NativeMethods.x8_pager_new(handle, request.Method, request.Path, ref pinned.Opts,
                    (uint)style, 0, out pager, out err);
                try
                {
                    Errors.Check(status, err);
                    pager.HoldClient(handle);
                }
                catch
                {
                    pager.Dispose();
                    cancel.Dispose();
                    throw;
                }
                return new PageReader(pager, cancel);
            }
        }

        /// <summary>
        /// Fetches an absolute URL without the client's token: no Authorization header and no 8x8 credential is
        /// sent, to any origin. For the presigned download links Storage answers <c>?presignUrl=true</c> with (an
        /// S3 URL whose query is its own credential). <paramref name="method"/> is GET or HEAD; the URL must be
        /// https (http only on loopback). Redirects are not followed; the client's proxy, CA, timeouts and body
        /// limit apply; the URL's query never appears in an exception. Any HTTP status is a successful call.
        /// </summary>
        /// <exception cref="X8Exception">InvalidArgument (another method, an Authorization header, a URL that is
        /// not https or loopback http), BodyTooLarge, Transport, Timeout, Tls; never a token error.</exception>
        public X8Response FetchUrl(string method, string url, IDictionary<string, string> headers = null,
            TimeSpan? timeout = null)
        {
            return Fetch(new PreparedRequest(method, url, null, headers, timeout));
        }

        /// <summary><see cref="FetchUrl"/> on the thread pool; cancellation is honoured until the native call
        /// starts.</summary>
        public Task<X8Response> FetchUrlAsync(string method, string url, IDictionary<string, string> headers = null,
            TimeSpan? timeout = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            var request = new PreparedRequest(method, url, null, headers, timeout);
            return RunAsync(() => Fetch(request), cancellationToken);
        }

        /// <summary>
        /// <see cref="FetchUrl"/> GET for bodies too large to hold: the body is written to
        /// <paramref name="responseBody"/> as it arrives (constant memory, no MaxBodyBytes limit); the returned
        /// response has the status and headers and an empty Body. Only a 2xx body is written: for any other status
        /// (an expired link's 403) nothing is written to the stream and the error body is held in
        /// <see cref="X8Response.Body"/>, so check <see cref="X8Response.StatusCode"/>. The stream is used on the
        /// calling thread during the call only. <paramref name="timeout"/> bounds the whole transfer.
        /// </summary>
        /// <exception cref="X8Exception">As <see cref="FetchUrl"/> (BodyTooLarge only for a held error body), and
        /// Aborted (its InnerException the stream's exception) when the stream threw.</exception>
        public X8Response FetchUrlTo(string url, Stream responseBody, IDictionary<string, string> headers = null,
            TimeSpan? timeout = null)
        {
            if (responseBody == null)
                throw new ArgumentNullException("responseBody");
            return Fetch(new PreparedRequest("GET", url, null, headers, timeout), responseBody);
        }

        /// <summary><see cref="FetchUrlTo"/> on the thread pool; the stream must not be used elsewhere until the
        /// task completes. Cancellation is honoured until the native call starts.</summary>
        public Task<X8Response> FetchUrlToAsync(string url, Stream responseBody,
            IDictionary<string, string> headers = null, TimeSpan? timeout = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            if (responseBody == null)
                throw new ArgumentNullException("responseBody");
            var request = new PreparedRequest("GET", url, null, headers, timeout);
            return RunAsync(() => Fetch(request, responseBody), cancellationToken);
        }

        private X8Response Fetch(PreparedRequest request, Stream responseBody = null)
        {
            ThrowIfDisposed();
            using (var body = new StreamedBody(null, responseBody))
            using (var pinned = new PinnedRequest(request))
            {
                body.Attach(ref pinned.Opts);
                X8ResponseHandle response;
                IntPtr err;
                var status = NativeMethods.x8_fetch_url(handle, request.Method, request.Path, ref pinned.Opts,
                    out response, out err);
                using (response)
                {
                    body.Check(status, err);
                    return X8Response.CopyFrom(response);
                }
            }
        }
    }

    /// <summary>One listing in progress over an x8_pager: the pages as managed copies. Not thread-safe.</summary>
    internal sealed class PageReader : IDisposable
    {
        private readonly X8PagerHandle pager;
        private readonly NativeCancellation cancel;

        internal PageReader(X8PagerHandle pager, NativeCancellation cancel)
        {
            this.pager = pager;
            this.cancel = cancel;
        }

        /// <summary>Bounds the next pages (0: the client's timeout).</summary>
        internal void SetTimeout(uint timeoutMs)
        {
            IntPtr err;
            Errors.Check(NativeMethods.x8_pager_set_timeout(pager, timeoutMs, out err), err);
        }

        /// <summary>The next page, or null after the last.</summary>
        internal X8Response Next()
        {
            X8ResponseHandle page;
            IntPtr err;
            var status = NativeMethods.x8_pager_next(pager, out page, out err);
            using (page)
            {
                cancel.Check(status, err);
                if (page.IsInvalid)
                    return null;
                var copy = X8Response.CopyFrom(page);
                copy.PageStyle = (X8PageStyle)NativeMethods.x8_pager_style(pager);
                copy.PageItemsJson = ItemsOf(page);
                return copy;
            }
        }

        // The page's items as one JSON array, or null when the page holds none (not JSON, an error body).
        private static string ItemsOf(X8ResponseHandle page)
        {
            IntPtr json, err;
            UIntPtr count;
            var status = NativeMethods.x8_page_items(page, out json, out count, out err);
            if (status != X8Status.Ok)
            {
                using (new X8ErrorHandle(err)) { }
                return null;
            }
            try
            {
                return Utf8.Decode(json);
            }
            finally
            {
                NativeMethods.x8_free(json);
            }
        }

        public void Dispose()
        {
            pager.Dispose();
            cancel.Dispose();
        }
    }
}
