// A CancellationToken cancelled while a native call runs stops it: the call returns promptly (well within a second
// of Cancel against a 3 s answer), the cancelled connection is not reused, and a wait for the token fetch ends
// while the fetch goes on for the other callers.

using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using X8;

namespace X8.Tests
{
    [TestFixture]
    public class CancellationTests : EmulatorFixture
    {
        private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(1);

        /// <summary>Polls the emulator (bounded) until counter <paramref name="name"/> reaches <paramref name="atLeast"/>.</summary>
        private void WaitForStat(string name, long atLeast)
        {
            var watch = Stopwatch.StartNew();
            while (emulator.Stat(name) < atLeast)
            {
                Assert.Less(watch.Elapsed, TimeSpan.FromSeconds(10), "waiting for " + name);
                Thread.Sleep(2);
            }
        }

        /// <summary>Cancels <paramref name="source"/> and returns how long <paramref name="task"/> took to end after it,
        /// with the exception it ended with.</summary>
        private static Exception CancelAndWait(CancellationTokenSource source, Task task, out TimeSpan took)
        {
            var watch = Stopwatch.StartNew();
            source.Cancel();
            Exception thrown = null;
            try
            {
                task.GetAwaiter().GetResult();
            }
            catch (Exception e)
            {
                thrown = e;
            }
            took = watch.Elapsed;
            return thrown;
        }

        [Test]
        public void CancellingStopsARequestBlockedOnASlowApi()
        {
            using (var client = emulator.NewClient())
            using (var source = new CancellationTokenSource())
            {
                Assert.AreEqual(200, client.Send("GET", "/echo/warm").StatusCode);
                var warm = emulator.Stat("connections"); // the token's connection is closed, the API's pooled
                emulator.InjectFault("{\"target\":\"api\",\"kind\":\"delay\",\"ms\":3000,\"count\":1}");
                var task = client.SendAsync("GET", "/echo/slow", cancellationToken: source.Token);
                WaitForStat("api_requests", 2);
                TimeSpan took;
                var thrown = CancelAndWait(source, task, out took);
                Assert.IsInstanceOf<OperationCanceledException>(thrown);
                Assert.IsTrue(task.IsCanceled);
                var inner = thrown.InnerException as X8Exception;
                Assert.IsNotNull(inner, "the native status travels as the inner exception");
                Assert.AreEqual(X8Status.Cancelled, inner.Status);
                Assert.Less(took, Prompt);

                // The cancelled connection was closed, not pooled: the next request opens another.
                Assert.AreEqual(200, client.Send("GET", "/echo/after").StatusCode);
                Assert.AreEqual(warm + 1, emulator.Stat("connections"));
            }
        }

        [Test]
        public void TheSynchronousOverloadsTakeAToken()
        {
            using (var client = emulator.NewClient())
            using (var source = new CancellationTokenSource())
            {
                source.Cancel();
                Assert.Catch<OperationCanceledException>(() => client.GetToken(null, source.Token));
                Assert.Catch<OperationCanceledException>(() => client.GetAccessToken(source.Token));
                Assert.Catch<OperationCanceledException>(() =>
                    client.Send("GET", "/echo/x", null, null, null, source.Token));
                Assert.AreEqual(0, emulator.Stat("token_requests"));
                Assert.AreEqual(0, emulator.Stat("api_requests"));
                // A token that can be cancelled but is not is just a call.
                using (var live = new CancellationTokenSource())
                    Assert.AreEqual(200, client.Send("GET", "/echo/y", null, null, null, live.Token).StatusCode);
            }
        }

        [Test]
        public void CancellingStopsAPageInFlight()
        {
            using (var client = emulator.NewClient())
            using (var source = new CancellationTokenSource())
            {
                client.GetAccessToken();
                emulator.InjectFault("{\"target\":\"api\",\"kind\":\"delay\",\"ms\":3000,\"count\":1}");
                var pages = client.PagesAsync("GET", Emulator.QueuesPath + "?page=0&size=2",
                    cancellationToken: source.Token).GetAsyncEnumerator();
                try
                {
                    var first = pages.MoveNextAsync().AsTask();
                    WaitForStat("api_requests", 1);
                    TimeSpan took;
                    var thrown = CancelAndWait(source, first, out took);
                    Assert.IsInstanceOf<OperationCanceledException>(thrown);
                    Assert.Less(took, Prompt);
                }
                finally
                {
                    pages.DisposeAsync().AsTask().Wait();
                }
            }
        }

        [Test]
        public void CancellingAWaitForASlowTokenFetchLeavesItToTheOthers()
        {
            emulator.Configure("{\"token_delay_ms\":3000}");
            try
            {
                using (var client = emulator.NewClient())
                using (var source = new CancellationTokenSource())
                {
                    // The cancellable callers (a handle each) start the fetch; a patient one waits for the same fetch.
                    var watch = Stopwatch.StartNew();
                    var access = client.GetAccessTokenAsync(source.Token);
                    var token = client.GetTokenAsync(source.Token);
                    WaitForStat("token_requests", 1);
                    var waited = watch.Elapsed;
                    var patient = client.GetAccessTokenAsync();
                    TimeSpan took;
                    var thrown = CancelAndWait(source, token, out took);
                    var why = "the fetch was seen after " + waited + "; token " + token.Status + ", access " + access.Status;
                    Assert.IsInstanceOf<OperationCanceledException>(thrown, why);
                    Assert.Less(took, Prompt);
                    Assert.Catch<OperationCanceledException>(() => access.GetAwaiter().GetResult(), why);
                    Assert.IsTrue(token.IsCanceled && access.IsCanceled);

                    Assert.IsNotEmpty(patient.Result);
                    Assert.AreEqual(1, emulator.Stat("token_requests"));
                }
            }
            finally
            {
                emulator.Configure("{\"token_delay_ms\":0}");
            }
        }
    }
}
