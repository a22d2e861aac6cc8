// Issue 16: client authentication styles and token form, default headers, API retries, the rate limit, and the
// token handler dropping only the token it sent.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using NUnit.Framework;
using X8;

namespace X8.Tests
{
    [TestFixture]
    public class InteropTests : EmulatorFixture
    {
        [Test]
        public void PostStyleWithScopeAndParamsGetsATokenFromAnRfc6749Server()
        {
            emulator.Configure("{\"token_mode\":\"rfc6749\"}");
            try
            {
                var o = emulator.Options();
                o.ClientAuth = X8ClientAuth.Post;
                o.TokenScope = "read";
                o.TokenParams = new Dictionary<string, string> { { "audience", "https://api.example" } };
                using (var client = new X8Client(Emulator.ClientId, Emulator.Secret, o))
                {
                    Assert.IsNotEmpty(client.GetAccessToken());
                }
                var sent = emulator.TokenRequests();
                StringAssert.Contains("audience", sent);
                StringAssert.Contains("\"scope\"", sent);
            }
            finally
            {
                emulator.Configure("{\"token_mode\":\"8x8\"}");
            }
        }

        [Test]
        public void DefaultHeadersGoWithEveryRequestAndAuthorizationIsRefused()
        {
            var o = emulator.Options();
            o.DefaultHeaders = new Dictionary<string, string> { { "X-Tenant-Info", "acme-tenant" } };
            using (var client = new X8Client(Emulator.ClientId, Emulator.Secret, o))
            {
                StringAssert.Contains("acme-tenant", client.Send("GET", "/echo/h").BodyText);
            }
            var bad = emulator.Options();
            bad.DefaultHeaders = new Dictionary<string, string> { { "Authorization", "Bearer x" } };
            var e = Assert.Throws<X8Exception>(() => new X8Client(Emulator.ClientId, Emulator.Secret, bad).Dispose());
            Assert.AreEqual(X8Status.InvalidArgument, e.Status);
        }

        [Test]
        public void A429IsWaitedOutWithApiRetriesAndAPostGetsItBack()
        {
            var o = emulator.Options();
            o.ApiRetries = 2;
            o.RateLimit = new X8RateLimit(100, TimeSpan.FromSeconds(1));
            o.TlsRoots = X8TlsRoots.Platform;
            o.CaMode = X8CaMode.Add;
            using (var client = new X8Client(Emulator.ClientId, Emulator.Secret, o))
            {
                client.GetAccessToken();
                emulator.InjectFault("{\"target\":\"api\",\"kind\":\"status\",\"status\":429,\"retry_after\":\"1\"}");
                var watch = Stopwatch.StartNew();
                Assert.AreEqual(200, client.Send("GET", Emulator.QueuesPath).StatusCode);
                Assert.GreaterOrEqual(watch.ElapsedMilliseconds, 900);
                Assert.AreEqual(1, client.GetStats().ApiRetries);
                emulator.InjectFault("{\"target\":\"api\",\"kind\":\"status\",\"status\":429,\"retry_after\":\"1\"}");
                Assert.AreEqual(429, client.Send("POST", "/echo/p", new byte[] { 1 }).StatusCode);
                Assert.AreEqual(1, client.GetStats().ApiRetries);
            }
        }

        [Test]
        public void SixtyFourHandlerRequestsAfterARevocationCauseACoupleOfFetches()
        {
            using (var client = emulator.NewClient())
            using (var http = new HttpClient(new X8TokenHandler(client) { InnerHandler = new HttpClientHandler { UseProxy = false } }))
            {
                http.GetAsync(emulator.BaseUrl + Emulator.QueuesPath).Result.Dispose();
                emulator.Revoke();
                var before = emulator.Stat("token_requests");
                var calls = Enumerable.Range(0, 64)
                    .Select(_ => http.GetAsync(emulator.BaseUrl + Emulator.QueuesPath))
                    .ToArray();
                Task.WaitAll(calls);
                foreach (var c in calls)
                {
                    Assert.AreEqual(HttpStatusCode.OK, c.Result.StatusCode);
                    c.Result.Dispose();
                }
                Assert.LessOrEqual(emulator.Stat("token_requests") - before, 2);
                // Every request the API refused was replayed once, and counted (how many were refused depends
                // on how many Mono let out at once).
                var rejected = emulator.Stat("api_rejected");
                Assert.GreaterOrEqual(rejected, 1);
                Assert.AreEqual(rejected, client.GetStats().ReplaysAfter401);
            }
        }
    }
}
