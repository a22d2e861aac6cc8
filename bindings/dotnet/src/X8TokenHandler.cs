// Lets existing HttpClient code use x8's token cache with one line:
//     var http = new HttpClient(new X8TokenHandler(client) { InnerHandler = new HttpClientHandler() });
// Requests still go through HttpClient's own stack; x8 only supplies (and renews) the bearer token.

using System;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Threading;
using System.Threading.Tasks;

namespace X8
{
    /// <summary>
    /// A <see cref="DelegatingHandler"/> that sets <c>Authorization: Bearer</c> from an <see cref="X8Client"/>'s
    /// cache on every request to the client's origin (<see cref="X8Client.BaseUrl"/>), and on a 401 drops the
    /// token and sends the request once more with a new one. Requests to any other origin pass through untouched,
    /// so the token never leaks to a third party. The handler does not own the client: dispose the client yourself.
    /// </summary>
    public sealed class X8TokenHandler : DelegatingHandler
    {
        private readonly X8Client client;

        /// <summary>A handler drawing tokens from <paramref name="client"/>; set <see cref="DelegatingHandler.InnerHandler"/>.</summary>
        public X8TokenHandler(X8Client client)
        {
            if (client == null)
                throw new ArgumentNullException("client");
            this.client = client;
        }

        /// <summary>A handler drawing tokens from <paramref name="client"/> in front of <paramref name="innerHandler"/>.</summary>
        public X8TokenHandler(X8Client client, HttpMessageHandler innerHandler)
            : base(innerHandler)
        {
            if (client == null)
                throw new ArgumentNullException("client");
            this.client = client;
        }

        /// <summary>Adds the token (own origin only), sends, and on a 401 replays once with a new token.</summary>
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (!client.IsOwnOrigin(request.RequestUri))
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);

            // A replay must send the body again, and a streamed body can be read only once: buffer it now.
            if (request.Content != null)
                await request.Content.LoadIntoBufferAsync().ConfigureAwait(false);

            var token = await client.GetAccessTokenAsync(cancellationToken).ConfigureAwait(false);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Unauthorized)
                return response;

            // The API refused the token (revoked, or expired early). Drop that token only (x8 leaves a successor a
            // concurrent request already fetched), so that many requests failing at once cause one fetch, then
            // send once more with the current token; the replay is counted in the client's stats.
            client.InvalidateToken(token);
            client.CountReplay();
            var current = await client.GetAccessTokenAsync(cancellationToken).ConfigureAwait(false);
            response.Dispose();
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", current);
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }
}
