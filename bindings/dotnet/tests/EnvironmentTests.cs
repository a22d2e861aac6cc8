// X8Client.FromEnvironment: the key from X8_CLIENT_ID / X8_CLIENT_SECRET. The success path runs the Quickstart
// example in a child process with those variables set, rather than calling setenv in this multi-threaded
// process (and .NET Core's Environment.SetEnvironmentVariable does not reach native getenv at all).

using System;
using System.Diagnostics;
using System.Threading.Tasks;
using NUnit.Framework;
using X8;

namespace X8.Tests
{
    [TestFixture]
    public class EnvironmentTests
    {
        [Test]
        public void MissingVariablesAreAConfigErrorNamingThem()
        {
            Assert.IsNull(Environment.GetEnvironmentVariable("X8_CLIENT_ID"),
                "run the tests without X8_CLIENT_ID in the environment (test.sh unsets it)");
            var error = Assert.Throws<X8Exception>(() => X8Client.FromEnvironment());
            Assert.AreEqual(X8Status.Config, error.Status);
            StringAssert.Contains("X8_CLIENT_ID", error.Message);
        }

        [Test]
        public void QuickstartRunsAgainstTheEmulatorWithTheKeyFromTheEnvironment()
        {
            var quickstart = Environment.GetEnvironmentVariable("X8_QUICKSTART_EXE");
            if (string.IsNullOrEmpty(quickstart))
                Assert.Fail("X8_QUICKSTART_EXE must name the compiled examples/Quickstart.cs (test.sh sets it)");
            using (var emulator = new Emulator())
            {
                var start = new ProcessStartInfo("mono", "\"" + quickstart + "\"")
                {
                    UseShellExecute = false,
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                };
                start.EnvironmentVariables["X8_CLIENT_ID"] = Emulator.ClientId;
                start.EnvironmentVariables["X8_CLIENT_SECRET"] = Emulator.Secret;
                start.EnvironmentVariables["X8_BASE_URL"] = emulator.BaseUrl;
                start.EnvironmentVariables["NO_PROXY"] = "127.0.0.1"; // loopback must not go to a proxy
                using (var child = Process.Start(start))
                {
                    var stdout = Task.Run(() => child.StandardOutput.ReadToEnd());
                    var stderr = Task.Run(() => child.StandardError.ReadToEnd());
                    Assert.IsTrue(child.WaitForExit(60000), "Quickstart did not finish");
                    child.WaitForExit(); // flushes the redirected streams
                    Assert.AreEqual(0, child.ExitCode, "stdout: " + stdout.Result + "\nstderr: " + stderr.Result);
                    StringAssert.Contains("queues: HTTP 200, page 0 of 2, 7 queues in all", stdout.Result);
                    StringAssert.Contains("(value hidden)", stdout.Result);
                    Assert.IsFalse((stdout.Result + stderr.Result).Contains(Emulator.Secret), "the output carries the secret");
                }
                Assert.AreEqual(1, emulator.Stat("token_requests"));
                Assert.AreEqual(1, emulator.Stat("api_requests"));
            }
        }
    }
}
