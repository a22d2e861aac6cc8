// The Task-based methods: the native call runs on the thread pool; a cancelled token never reaches the network
// (CancellationTests covers a token cancelled during the call).

using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;
using X8;

namespace X8.Tests
{
    [TestFixture]
    public class AsyncTests : EmulatorFixture
    {
        [Test]
        public void GetTokenAsyncAndSendAsyncComplete()
        {
            using (var client = emulator.NewClient())
            {
                var token = client.GetTokenAsync().Result;
                Assert.IsTrue(token.HasProduct("analytics realtime-api"));
                var response = client.SendAsync("GET", Emulator.QueuesPath + "?size=3", timeout: TimeSpan.FromSeconds(10)).Result;
                Assert.AreEqual(200, response.StatusCode);
                Assert.AreEqual("3", response.Headers["X-Page-Size"]);
                Assert.AreEqual(token.Value, client.GetAccessTokenAsync().Result);
            }
        }

        [Test]
        public void ConcurrentSendAsyncCallsShareOneToken()
        {
            using (var client = emulator.NewClient())
            {
                var tasks = Enumerable.Range(0, 12).Select(_ => client.SendAsync("GET", Emulator.QueuesPath)).ToArray();
                Task.WaitAll(tasks);
                Assert.IsTrue(tasks.All(t => t.Result.StatusCode == 200));
                Assert.AreEqual(1, emulator.Stat("token_requests"));
                Assert.AreEqual(12, emulator.Stat("api_requests"));
            }
        }

        [Test]
        public void APreCancelledTokenNeverReachesTheNetwork()
        {
            using (var client = emulator.NewClient())
            using (var cancelled = new CancellationTokenSource())
            {
                cancelled.Cancel();
                var tokenTask = client.GetTokenAsync(cancelled.Token);
                Assert.Catch<OperationCanceledException>(() => tokenTask.GetAwaiter().GetResult());
                Assert.IsTrue(tokenTask.IsCanceled);

                var accessTask = client.GetAccessTokenAsync(cancelled.Token);
                Assert.Catch<OperationCanceledException>(() => accessTask.GetAwaiter().GetResult());

                var sendTask = client.SendAsync("GET", Emulator.QueuesPath, cancellationToken: cancelled.Token);
                Assert.Catch<OperationCanceledException>(() => sendTask.GetAwaiter().GetResult());
                Assert.IsTrue(sendTask.IsCanceled);

                Assert.AreEqual(0, emulator.Stat("token_requests"));
                Assert.AreEqual(0, emulator.Stat("api_requests"));
                Assert.AreEqual(0, client.GetStats().Requests);
            }
        }

        [Test]
        public void ArgumentErrorsAreThrownBeforeATaskExists()
        {
            using (var client = emulator.NewClient())
            {
                Assert.Throws<ArgumentNullException>(() => client.SendAsync("GET", null));
                Assert.Throws<ArgumentOutOfRangeException>(() => client.GetTokenAsync(TimeSpan.FromSeconds(-1)));
            }
        }

        [Test]
        public void FailuresSurfaceAsX8ExceptionFromTheTask()
        {
            using (var client = new X8Client(Emulator.ClientId, "not-the-secret", emulator.Options()))
            {
                var error = Assert.Throws<X8Exception>(() => client.GetTokenAsync().GetAwaiter().GetResult());
                Assert.AreEqual(X8Status.Auth, error.Status);
            }
        }
    }
}
