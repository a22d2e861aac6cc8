// X8TokenHandler: existing HttpClient code adopting x8's token cache with one line.

using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using X8;

namespace X8.Tests
{
    [TestFixture]
    public class TokenHandlerTests : EmulatorFixture
    {
        private static HttpClient HttpThrough(X8Client client)
        {
            // The one line an HttpClient code base changes (UseProxy off: loopback must not go to a proxy).
            return new HttpClient(new X8TokenHandler(client) { InnerHandler = new HttpClientHandler { UseProxy = false } });
        }

        [Test]
        public void RequestsCarryTheCachedToken()
        {
            using (var client = emulator.NewClient())
            using (var http = HttpThrough(client))
            {
                for (int i = 0; i < 5; i++)
                {
                    using (var response = http.GetAsync(emulator.BaseUrl + Emulator.QueuesPath + "?size=2").Result)
                    {
                        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
                        StringAssert.StartsWith("[{", response.Content.ReadAsStringAsync().Result);
                    }
                }
                Assert.AreEqual(1, emulator.Stat("token_requests"));
                Assert.AreEqual(5, emulator.Stat("api_requests"));
            }
        }

        [Test]
        public void A401AfterRevocationIsReplayedOnceWithANewTokenAndTheSameBody()
        {
            using (var client = emulator.NewClient())
            using (var http = HttpThrough(client))
            {
                http.GetAsync(emulator.BaseUrl + Emulator.QueuesPath).Result.Dispose(); // caches a token
                emulator.Revoke(); // the cached token dies early

                const string payload = "{\"note\":\"résumé\"}";
                using (var content = new StringContent(payload, Encoding.UTF8, "application/json"))
                using (var response = http.PostAsync(emulator.BaseUrl + "/echo/replayed", content).Result)
                {
                    Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
                    StringAssert.Contains("\"method\":\"POST\"", response.Content.ReadAsStringAsync().Result);
                    StringAssert.Contains("résumé", response.Content.ReadAsStringAsync().Result);
                }
                Assert.AreEqual(2, emulator.Stat("token_requests"));
                Assert.AreEqual(1, emulator.Stat("api_rejected"));
            }
        }

        [Test]
        public void AStreamedBodyIsBufferedSoTheReplayCanSendIt()
        {
            using (var client = emulator.NewClient())
            using (var http = HttpThrough(client))
            {
                client.GetAccessToken();
                emulator.Revoke();
                var bytes = Encoding.UTF8.GetBytes("streamed-once-7d3e");
                using (var content = new StreamContent(new ForwardOnlyStream(bytes)))
                using (var response = http.PutAsync(emulator.BaseUrl + "/echo/stream", content).Result)
                {
                    Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
                    StringAssert.Contains("\"body\":\"streamed-once-7d3e\"", response.Content.ReadAsStringAsync().Result);
                }
                Assert.AreEqual(2, emulator.Stat("token_requests"));
            }
        }

        [Test]
        public void ASecond401IsReturnedNotRetriedAgain()
        {
            using (var client = emulator.NewClient())
            {
                var inner = new RecordingHandler(HttpStatusCode.Unauthorized);
                using (var http = new HttpClient(new X8TokenHandler(client, inner)))
                using (var response = http.GetAsync(emulator.BaseUrl + "/anything").Result)
                {
                    Assert.AreEqual(HttpStatusCode.Unauthorized, response.StatusCode);
                    Assert.AreEqual(2, inner.Authorizations.Count);
                    Assert.AreNotEqual(inner.Authorizations[0], inner.Authorizations[1], "the replay uses a new token");
                    Assert.AreEqual(2, emulator.Stat("token_requests"));
                }
            }
        }

        [Test]
        public void OtherOriginsNeverSeeTheToken()
        {
            using (var client = emulator.NewClient())
            {
                var inner = new RecordingHandler(HttpStatusCode.OK);
                using (var http = new HttpClient(new X8TokenHandler(client, inner)))
                {
                    http.GetAsync("https://elsewhere.example/collect").Result.Dispose();
                    http.GetAsync(emulator.BaseUrl.Replace("http://", "https://") + "/other-scheme").Result.Dispose();
                    Assert.AreEqual(new string[] { null, null }, inner.Authorizations.ToArray());
                    Assert.AreEqual(0, emulator.Stat("token_requests"));

                    http.GetAsync(emulator.BaseUrl + "/own-origin").Result.Dispose();
                    Assert.AreEqual("Bearer " + client.GetAccessToken(), inner.Authorizations[2]);
                }
            }
        }

        /// <summary>Answers every request with one status and records its Authorization header; no network.</summary>
        private sealed class RecordingHandler : HttpMessageHandler
        {
            private readonly HttpStatusCode status;

            public RecordingHandler(HttpStatusCode status)
            {
                this.status = status;
                Authorizations = new List<string>();
            }

            public List<string> Authorizations { get; private set; }

            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var auth = request.Headers.Authorization;
                lock (Authorizations)
                    Authorizations.Add(auth == null ? null : auth.ToString());
                return Task.FromResult(new HttpResponseMessage(status) { RequestMessage = request });
            }
        }

        /// <summary>A body that can be read once, like a network or file stream that cannot seek.</summary>
        private sealed class ForwardOnlyStream : Stream
        {
            private readonly MemoryStream inner;

            public ForwardOnlyStream(byte[] bytes)
            {
                inner = new MemoryStream(bytes, false);
            }

            public override bool CanRead { get { return true; } }
            public override bool CanSeek { get { return false; } }
            public override bool CanWrite { get { return false; } }
            public override long Length { get { throw new NotSupportedException(); } }
            public override long Position
            {
                get { throw new NotSupportedException(); }
                set { throw new NotSupportedException(); }
            }
            public override int Read(byte[] buffer, int offset, int count) { return inner.Read(buffer, offset, count); }
            public override void Flush() { }
            public override long Seek(long offset, SeekOrigin origin) { throw new NotSupportedException(); }
            public override void SetLength(long value) { throw new NotSupportedException(); }
            public override void Write(byte[] buffer, int offset, int count) { throw new NotSupportedException(); }
        }
    }
}
