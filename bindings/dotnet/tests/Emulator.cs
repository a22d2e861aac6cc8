// Runs x8-emulator for a test fixture and talks to its admin endpoints with .NET's own HttpClient (never through
// x8, so counting x8's requests does not disturb them).

using System;
using System.Diagnostics;
using System.Net.Http;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using NUnit.Framework;
using X8;

namespace X8.Tests
{
    public sealed class Emulator : IDisposable
    {
        public const string ClientId = "demo-client";
        public const string Secret = "demo-secret";
        public const string BareClientId = "bare-client"; // a key with no API products
        public const string BareSecret = "bare-secret";
        public const string QueuesPath = "/analytics/cc/v5/realtime-metrics/queues";

        private readonly Process process;

        public Emulator()
        {
            var path = Environment.GetEnvironmentVariable("X8_EMULATOR");
            if (string.IsNullOrEmpty(path))
                Assert.Fail("X8_EMULATOR must name the x8-emulator binary (test.sh sets it)");
            var start = new ProcessStartInfo(path,
                "--port 0 --exit-on-stdin-eof" +
                " --client " + ClientId + ":" + Secret +
                " --client " + BareClientId + ":" + BareSecret + ":")
            {
                UseShellExecute = false,
                // stdin stays open for the emulator's life: closing it (Dispose) makes the emulator exit, so it
                // never outlives the tests even if they crash.
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
            };
            process = Process.Start(start);
            // The first stdout line is the base URL, printed once the emulator accepts connections. Bounded so a
            // broken emulator fails the fixture instead of hanging the run.
            var firstLine = Task.Run(() => process.StandardOutput.ReadLine());
            if (!firstLine.Wait(TimeSpan.FromSeconds(30)) || string.IsNullOrEmpty(firstLine.Result))
            {
                Dispose();
                Assert.Fail("x8-emulator did not print its base URL");
            }
            BaseUrl = firstLine.Result.Trim();
            // Keep draining stdout so the emulator can never block on a full pipe.
            Task.Run(() => process.StandardOutput.ReadToEnd());
        }

        public string BaseUrl { get; private set; }

        /// <summary>Options pointing a client at this emulator, with proxies off so no environment setting
        /// can send loopback traffic elsewhere.</summary>
        public X8ClientOptions Options()
        {
            return new X8ClientOptions { BaseUrl = BaseUrl, Proxy = "", Timeout = TimeSpan.FromSeconds(20) };
        }

        public X8Client NewClient()
        {
            return new X8Client(ClientId, Secret, Options());
        }

        /// <summary>One counter from GET /_emulator/stats, e.g. "token_requests".</summary>
        public long Stat(string name)
        {
            var json = Admin("GET", "/_emulator/stats", null);
            var match = Regex.Match(json, "\"" + Regex.Escape(name) + "\"\\s*:\\s*(\\d+)");
            Assert.IsTrue(match.Success, "stats lack " + name);
            return long.Parse(match.Groups[1].Value);
        }

        public void Reset()
        {
            Admin("POST", "/_emulator/reset", "");
        }

        /// <summary>Every token issued so far becomes invalid (early token death).</summary>
        public void Revoke()
        {
            Admin("POST", "/_emulator/revoke", "");
        }

        /// <summary>Adds a generated Storage object of <paramref name="bytes"/> bytes; returns its content path
        /// and its SHA-256 (hex).</summary>
        public string[] AddStorageObject(long bytes)
        {
            var created = Admin("POST", "/_emulator/storage/objects", "{\"bytes\":" + bytes + "}");
            var id = Regex.Match(created, "\"id\"\\s*:\\s*\"([^\"]+)\"").Groups[1].Value;
            var hash = Admin("GET", "/_emulator/storage/objects/" + id + "/sha256", null);
            var sha = Regex.Match(hash, "\"sha256\"\\s*:\\s*\"([0-9a-f]+)\"").Groups[1].Value;
            return new[] { "/storage/us-west/v3/objects/" + id + "/content", sha };
        }

        public void InjectFault(string json)
        {
            Admin("POST", "/_emulator/faults", json);
        }

        /// <summary>POST /_emulator/config with the given settings, e.g. {"token_mode":"rfc6749"}.</summary>
        public void Configure(string json)
        {
            Admin("POST", "/_emulator/config", json);
        }

        /// <summary>The body of a GET of an admin endpoint, e.g. "/_emulator/presigned-requests".</summary>
        public string AdminGet(string path)
        {
            return Admin("GET", path, null);
        }

        /// <summary>What each token request sent (GET /_emulator/token-requests), as JSON.</summary>
        public string TokenRequests()
        {
            return AdminGet("/_emulator/token-requests");
        }

        // Connection: close, so the test's own admin traffic never holds one of the emulator's connections open
        // beside the connections x8 is being tested on.
        private static readonly HttpClient AdminHttp = new HttpClient(new HttpClientHandler { UseProxy = false });

        private string Admin(string method, string path, string body)
        {
            using (var request = new HttpRequestMessage(new HttpMethod(method), BaseUrl + path))
            {
                request.Headers.ConnectionClose = true;
                if (body != null)
                    request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                using (var response = AdminHttp.SendAsync(request).Result)
                {
                    var text = response.Content.ReadAsStringAsync().Result;
                    Assert.IsTrue(response.IsSuccessStatusCode, method + " " + path + ": " + (int)response.StatusCode + " " + text);
                    return text;
                }
            }
        }

        public void Dispose()
        {
            try
            {
                process.StandardInput.Close();
                if (!process.WaitForExit(10000))
                    process.Kill();
            }
            finally
            {
                process.Dispose();
            }
        }
    }
}
