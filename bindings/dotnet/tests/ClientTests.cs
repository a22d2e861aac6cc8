// X8Client against the emulator: tokens, the cache, requests, stats, logging and lifetime.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using NUnit.Framework;
using X8;

namespace X8.Tests
{
    [TestFixture]
    public class ClientTests : EmulatorFixture
    {
        [Test]
        public void GetTokenReturnsTheTokensDetails()
        {
            using (var client = emulator.NewClient())
            {
                var token = client.GetToken();
                Assert.IsNotEmpty(token.Value);
                Assert.AreEqual("BearerToken", token.Type);
                Assert.AreEqual(TimeSpan.FromSeconds(1799), token.Lifetime);
                CollectionAssert.AreEqual(new[] { "analytics realtime-api", "storage", "QM - API", "vcc" }, token.Products);
                Assert.IsTrue(token.HasProduct("Analytics Realtime-API"), "products compare ignoring ASCII case");
                Assert.IsFalse(token.HasProduct("analytics"));
                Assert.Greater(token.ExpiresAt.ToUnixTimeMilliseconds(), 0);
                Assert.IsFalse(token.ToString().Contains(token.Value), "ToString must hide the token");
                Assert.AreEqual(token.Value, client.GetAccessToken(), "both paths read the same cached token");
            }
        }

        [Test]
        public void ManyCallsReuseOneToken()
        {
            using (var client = emulator.NewClient())
            {
                var first = client.GetAccessToken();
                for (int i = 0; i < 50; i++)
                    Assert.AreEqual(first, client.GetAccessToken());
                Assert.AreEqual(first, client.GetToken().Value);
                for (int i = 0; i < 3; i++)
                    Assert.AreEqual(200, client.Send("GET", Emulator.QueuesPath).StatusCode);

                Assert.AreEqual(1, emulator.Stat("token_requests"));
                var stats = client.GetStats();
                Assert.AreEqual(1, stats.TokenFetches);
                Assert.GreaterOrEqual(stats.CacheHits, 50);
                Assert.AreEqual(3, stats.Requests);
                Assert.IsTrue(stats.TokenTimeLeft.HasValue);
            }
        }

        [Test]
        public void SixteenThreadsSharingAClientCauseOneFetch()
        {
            const int threads = 16;
            using (var client = emulator.NewClient())
            {
                var start = new Barrier(threads);
                var tokens = new ConcurrentBag<string>();
                var failures = new ConcurrentBag<Exception>();
                var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
                {
                    try
                    {
                        start.SignalAndWait(); // all threads ask for the first token at once
                        for (int i = 0; i < 20; i++)
                            tokens.Add(client.GetAccessToken());
                    }
                    catch (Exception e)
                    {
                        failures.Add(e);
                    }
                })).ToList();
                workers.ForEach(t => t.Start());
                workers.ForEach(t => t.Join());

                Assert.IsEmpty(failures, string.Join("\n", failures.Select(e => e.ToString())));
                Assert.AreEqual(threads * 20, tokens.Count);
                Assert.AreEqual(1, tokens.Distinct().Count());
                var stats = client.GetStats();
                Assert.AreEqual(1, emulator.Stat("token_requests"),
                    "fetches " + stats.TokenFetches + ", retries " + stats.FetchRetries + ", network failures " + stats.FailuresNetwork);
            }
        }

        [Test]
        public void SendReadsStatusPagingHeadersAndBody()
        {
            using (var client = emulator.NewClient())
            {
                var response = client.Send("GET", Emulator.QueuesPath + "?page=1&size=2");
                Assert.AreEqual(200, response.StatusCode);
                Assert.IsTrue(response.IsSuccessStatusCode);
                // Lookups ignore case (HTTP header names are case-insensitive; x8 hands them out lowercased).
                Assert.AreEqual("1", response.Headers["x-page"]);
                Assert.AreEqual("2", response.Headers["X-PAGE-SIZE"]);
                Assert.AreEqual("4", response.Headers["X-Total-Pages"]);
                Assert.AreEqual("7", response.Headers["X-Total-Elements"]);
                Assert.AreEqual(1, response.HeaderLines.Count(h =>
                    string.Equals(h.Key, "X-Total-Pages", StringComparison.OrdinalIgnoreCase) && h.Value == "4"));
                StringAssert.StartsWith("[{", response.BodyText);
                StringAssert.Contains("\"metrics\"", response.BodyText);
                Assert.AreEqual(response.BodyText, Encoding.UTF8.GetString(response.Body));
            }
        }

        [Test]
        public void SendCarriesBodyAndHeaders()
        {
            using (var client = emulator.NewClient())
            {
                const string text = "grüße ✓ 8x8";
                var response = client.Send("POST", "/echo/things?x=1", Encoding.UTF8.GetBytes(text),
                    new Dictionary<string, string> { { "X-Tenant-Info", "acme" }, { "Content-Type", "text/plain" } });
                Assert.AreEqual(200, response.StatusCode);
                var echo = response.BodyText; // the emulator's JSON account of what it received
                StringAssert.Contains("\"method\":\"POST\"", echo);
                StringAssert.Contains("\"path\":\"/echo/things\"", echo);
                StringAssert.Contains("\"query\":\"x=1\"", echo);
                StringAssert.Contains("\"x-tenant-info\":\"acme\"", echo);
                StringAssert.Contains("\"body\":\"" + text + "\"", echo);
            }
        }

        [Test]
        public void InvalidateMakesTheNextCallFetchAgain()
        {
            using (var client = emulator.NewClient())
            {
                var first = client.GetAccessToken();
                client.Invalidate();
                Assert.AreNotEqual(first, client.GetAccessToken());
                Assert.AreEqual(2, emulator.Stat("token_requests"));
            }
        }

        [Test]
        public void StatsOfANewClientShowNoToken()
        {
            using (var client = emulator.NewClient())
            {
                var stats = client.GetStats();
                Assert.AreEqual(0, stats.TokenFetches);
                Assert.IsFalse(stats.TokenTimeLeft.HasValue);
            }
        }

        [Test]
        public void LogCallbackReceivesMessagesAndSurvivesGarbageCollection()
        {
            var messages = new ConcurrentQueue<string>();
            var options = emulator.Options();
            options.LogLevel = X8LogLevel.Debug;
            options.Log = (level, message) => messages.Enqueue(level + ": " + message);
            using (var client = new X8Client(Emulator.ClientId, Emulator.Secret, options))
            {
                options = null;
                // A delegate that native code points at must survive collections; if it did not, the next
                // callback would jump into freed memory.
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();
                var token = client.GetAccessToken();
                client.Invalidate();
                GC.Collect();
                client.GetAccessToken();

                Assert.IsTrue(messages.Any(m => m.StartsWith("Debug: ")), "debug messages: " + string.Join(" | ", messages));
                Assert.IsTrue(messages.Any(m => m.StartsWith("Info: ")), "info messages: " + string.Join(" | ", messages));
                Assert.IsFalse(messages.Any(m => m.Contains(token) || m.Contains(Emulator.Secret)),
                    "messages never carry the token or the secret");
            }
        }

        [Test]
        public void AThrowingLogCallbackDoesNotBreakTheClient()
        {
            var options = emulator.Options();
            options.Log = (level, message) => { throw new InvalidOperationException("callback bug"); };
            using (var client = new X8Client(Emulator.ClientId, Emulator.Secret, options))
                Assert.IsNotEmpty(client.GetAccessToken());
        }

        [Test]
        public void DisposeTwiceIsSafe()
        {
            var client = emulator.NewClient();
            client.GetAccessToken();
            client.Dispose();
            client.Dispose();
        }

        [Test]
        public void UseAfterDisposeThrowsObjectDisposed()
        {
            var client = emulator.NewClient();
            client.Dispose();
            Assert.Throws<ObjectDisposedException>(() => client.GetAccessToken());
            Assert.Throws<ObjectDisposedException>(() => client.GetToken());
            Assert.Throws<ObjectDisposedException>(() => client.Send("GET", Emulator.QueuesPath));
            Assert.Throws<ObjectDisposedException>(() => client.Invalidate());
            Assert.Throws<ObjectDisposedException>(() => client.GetStats());
            var async = Assert.Throws<AggregateException>(() => client.GetTokenAsync().Wait());
            Assert.IsInstanceOf<ObjectDisposedException>(async.InnerException);
        }

        [Test]
        public void OptionsAreCheckedWhenTheClientIsCreated()
        {
            var options = emulator.Options();
            options.Timeout = TimeSpan.Zero;
            Assert.Throws<ArgumentOutOfRangeException>(() => new X8Client(Emulator.ClientId, Emulator.Secret, options));

            options = emulator.Options();
            options.BaseUrl = "http://example.com"; // plain http is for loopback only
            var error = Assert.Throws<X8Exception>(() => new X8Client(Emulator.ClientId, Emulator.Secret, options));
            Assert.AreEqual(X8Status.Config, error.Status);
        }
    }
}
