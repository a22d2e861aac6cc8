// How failures reach .NET code: one X8Exception type carrying x8's status, HTTP status and message.

using System;
using System.Collections.Generic;
using NUnit.Framework;
using X8;

namespace X8.Tests
{
    [TestFixture]
    public class ErrorTests : EmulatorFixture
    {
        [Test]
        public void BadSecretIsAnAuthErrorWithoutTheSecret()
        {
            const string wrongSecret = "wrong-secret-4f9a1c";
            using (var client = new X8Client(Emulator.ClientId, wrongSecret, emulator.Options()))
            {
                var error = Assert.Throws<X8Exception>(() => client.GetAccessToken());
                Assert.AreEqual(X8Status.Auth, error.Status);
                Assert.AreEqual(401, error.HttpStatus);
                Assert.IsNotEmpty(error.Message);
                // Checked without printing: a failed StringAssert would show the secret in the test output.
                Assert.IsFalse(error.ToString().Contains(wrongSecret), "the exception carries the secret");

                // The same failure through the other entry points.
                Assert.AreEqual(X8Status.Auth, Assert.Throws<X8Exception>(() => client.GetToken()).Status);
                Assert.AreEqual(X8Status.Auth, Assert.Throws<X8Exception>(() => client.Send("GET", Emulator.QueuesPath)).Status);
            }
        }

        [Test]
        public void KeyWithoutTheProductIsNotEntitled()
        {
            using (var client = new X8Client(Emulator.BareClientId, Emulator.BareSecret, emulator.Options()))
            {
                Assert.AreEqual(0, client.GetToken().Products.Count);
                var error = Assert.Throws<X8Exception>(() => client.Send("GET", Emulator.QueuesPath));
                Assert.AreEqual(X8Status.NotEntitled, error.Status);
            }
        }

        [Test]
        public void HeaderWithCrLfIsAnInvalidArgument()
        {
            using (var client = emulator.NewClient())
            {
                var headers = new Dictionary<string, string> { { "X-Tenant-Info", "acme\r\nX-Injected: yes" } };
                var error = Assert.Throws<X8Exception>(() => client.Send("GET", Emulator.QueuesPath, null, headers));
                Assert.AreEqual(X8Status.InvalidArgument, error.Status);
                Assert.AreEqual(0, error.HttpStatus);
            }
        }

        [Test]
        public void HeadersX8OwnsAreRefused()
        {
            using (var client = emulator.NewClient())
            {
                var headers = new Dictionary<string, string> { { "Authorization", "Bearer mine" } };
                var error = Assert.Throws<X8Exception>(() => client.Send("GET", Emulator.QueuesPath, null, headers));
                Assert.AreEqual(X8Status.InvalidArgument, error.Status);
            }
        }

        [Test]
        public void NulInTextIsAnInvalidArgumentNotATruncation()
        {
            using (var client = emulator.NewClient())
            {
                var error = Assert.Throws<X8Exception>(() => client.Send("GET", Emulator.QueuesPath + "\0/../other"));
                Assert.AreEqual(X8Status.InvalidArgument, error.Status);
                Assert.Throws<ArgumentNullException>(() => client.Send(null, Emulator.QueuesPath));
                Assert.Throws<ArgumentOutOfRangeException>(() => client.Send("GET", Emulator.QueuesPath, null, null, TimeSpan.Zero));
            }
        }

        [Test]
        public void AnotherOriginIsRefused()
        {
            using (var client = emulator.NewClient())
            {
                var error = Assert.Throws<X8Exception>(() => client.Send("GET", "https://elsewhere.example/steal"));
                Assert.AreEqual(X8Status.InvalidArgument, error.Status);
            }
        }

        [Test]
        public void ASlowApiHitsThePerCallTimeout()
        {
            using (var client = emulator.NewClient())
            {
                client.GetAccessToken(); // so that only the API call is slow
                emulator.InjectFault("{\"target\":\"api\",\"kind\":\"delay\",\"ms\":3000,\"count\":1}");
                var error = Assert.Throws<X8Exception>(() =>
                    client.Send("GET", Emulator.QueuesPath, null, null, TimeSpan.FromMilliseconds(300)));
                Assert.AreEqual(X8Status.Timeout, error.Status);
            }
        }

        [Test]
        public void ClientIdWithColonIsAConfigError()
        {
            var error = Assert.Throws<X8Exception>(() => new X8Client("id:with:colons", "s", emulator.Options()));
            Assert.AreEqual(X8Status.Config, error.Status);
        }
    }
}
