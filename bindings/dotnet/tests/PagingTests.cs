// X8Client.Pages / PagesAsync and FetchUrl against the emulator: every paging style read to its last page, an
// empty first page, errors mid-listing, and the presigned download that carries no Authorization header; plus
// the StorageDownload and RealtimePages examples run as programs.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using NUnit.Framework;

namespace X8.Tests
{
    [TestFixture]
    public class PagingTests : EmulatorFixture
    {
        private const string Hist = "/eu/analytics/cc/v8/historical-metrics";

        // The items of every page joined into one JSON array.
        private static string Joined(IEnumerable<X8Response> pages, out int count, out X8PageStyle style)
        {
            var parts = new List<string>();
            count = 0;
            style = X8PageStyle.Auto;
            foreach (var page in pages)
            {
                Assert.AreEqual(200, page.StatusCode, page.BodyText);
                Assert.IsNotNull(page.PageItemsJson);
                var inner = page.PageItemsJson.Substring(1, page.PageItemsJson.Length - 2);
                if (inner.Length > 0)
                    parts.Add(inner);
                style = page.PageStyle;
                count++;
            }
            return "[" + string.Join(",", parts) + "]";
        }

        private static string Field(string json, string name)
        {
            var m = Regex.Match(json, "\"" + name + "\":\"?([^\",}]+)");
            Assert.IsTrue(m.Success, name + " in " + json);
            return m.Groups[1].Value;
        }

        [Test]
        public void EveryPagingStyleIsReadToItsLastPage()
        {
            using (var client = emulator.NewClient())
            {
                emulator.Configure("{\"report_delay_ms\":0}");
                var json = new Dictionary<string, string> { { "Content-Type", "application/json" } };
                var summary = Field(client.Send("POST", Hist + "/",
                    Utf8Bytes("{\"type\":\"queue\",\"title\":\"net\",\"granularity\":\"day\"}"), json).BodyText, "id");
                var detailed = Field(client.Send("POST", Hist + "/detailed-reports",
                    Utf8Bytes("{\"type\":\"interaction-details\",\"title\":\"net\"}"), json).BodyText, "id");
                var pbx = new Dictionary<string, string> { { "pbx", "demo-pbx" } };
                var cases = new[]
                {
                    Tuple.Create(Emulator.QueuesPath + "?size=2", Emulator.QueuesPath + "?size=1000", (Dictionary<string, string>)null, X8PageStyle.Auto, X8PageStyle.PageHeaders, 4),
                    Tuple.Create(Hist + "/" + summary + "/data?size=10", Hist + "/" + summary + "/data?size=1000", (Dictionary<string, string>)null, X8PageStyle.Auto, X8PageStyle.PageHeaders, 3),
                    Tuple.Create(Hist + "/detailed-reports/" + detailed + "/data?size=10", Hist + "/detailed-reports/" + detailed + "/data?size=1000", (Dictionary<string, string>)null, X8PageStyle.HeaderCursor, X8PageStyle.HeaderCursor, 3),
                    Tuple.Create("/storage/us-west/v3/objects?limit=3", "/storage/us-west/v3/objects?limit=100", (Dictionary<string, string>)null, X8PageStyle.Auto, X8PageStyle.BodyOffset, 4),
                    Tuple.Create("/qm/uk/v1/interactions?size=5", "/qm/uk/v1/interactions?size=100", pbx, X8PageStyle.Auto, X8PageStyle.BodyLinks, 3),
                    Tuple.Create("/vcc/eu/chat/v2/tenant/tenant01/conversations?size=20", "/vcc/eu/chat/v2/tenant/tenant01/conversations?size=100", (Dictionary<string, string>)null, X8PageStyle.Auto, X8PageStyle.PageObject, 3),
                };
                foreach (var c in cases)
                {
                    int pages, one;
                    X8PageStyle style, ignored;
                    var paged = Joined(client.Pages("GET", c.Item1, headers: c.Item3, style: c.Item4), out pages, out style);
                    var whole = Joined(client.Pages("GET", c.Item2, headers: c.Item3, style: c.Item4), out one, out ignored);
                    Assert.AreEqual(c.Item6, pages, c.Item1);
                    Assert.AreEqual(1, one, c.Item2);
                    Assert.AreEqual(c.Item5, style, c.Item1);
                    Assert.Greater(whole.Length, 2, c.Item2);
                    Assert.AreEqual(whole, paged, c.Item1);
                }
            }
        }

        [Test]
        public void PagesAsyncReadsTheSameListingAndHonoursCancellation()
        {
            using (var client = emulator.NewClient())
            {
                int count;
                X8PageStyle style;
                var sync = Joined(client.Pages("GET", "/vcc/eu/chat/v2/tenant/tenant01/conversations?size=20"), out count, out style);
                var pages = new List<X8Response>();
                var e = client.PagesAsync("GET", "/vcc/eu/chat/v2/tenant/tenant01/conversations?size=20").GetAsyncEnumerator();
                try
                {
                    while (e.MoveNextAsync().AsTask().Result)
                        pages.Add(e.Current);
                }
                finally
                {
                    e.DisposeAsync().AsTask().Wait();
                }
                Assert.AreEqual(3, pages.Count);
                Assert.AreEqual(sync, Joined(pages, out count, out style));
                Assert.AreEqual(X8PageStyle.PageObject, style);

                emulator.Reset();
                var cancelled = new CancellationTokenSource();
                cancelled.Cancel();
                var c = client.PagesAsync("GET", Emulator.QueuesPath, cancellationToken: cancelled.Token).GetAsyncEnumerator();
                var thrown = Assert.Throws<AggregateException>(() => c.MoveNextAsync().AsTask().Wait());
                Assert.IsInstanceOf<OperationCanceledException>(thrown.InnerException);
                c.DisposeAsync().AsTask().Wait();
                Assert.AreEqual(0, emulator.Stat("api_requests"), "a cancelled listing sends nothing");
            }
        }

        [Test]
        public void AnEmptyFirstPageIsTheWholeListing()
        {
            using (var client = emulator.NewClient())
            {
                int count;
                X8PageStyle style;
                var items = Joined(client.Pages("GET", "/storage/us-west/v3/objects?filter=type==none-of-these&limit=5"), out count, out style);
                Assert.AreEqual(1, count);
                Assert.AreEqual("[]", items);
                Assert.AreEqual(X8PageStyle.BodyOffset, style);
            }
        }

        [Test]
        public void ATokenRevokedMidListingIsRenewedAndAFailedPageEndsTheEnumeration()
        {
            using (var client = emulator.NewClient())
            {
                var pages = 0;
                foreach (var page in client.Pages("GET", Emulator.QueuesPath + "?size=2"))
                {
                    Assert.AreEqual(200, page.StatusCode);
                    if (++pages == 1)
                        emulator.Revoke();
                }
                Assert.AreEqual(4, pages);
                Assert.AreEqual(2, emulator.Stat("token_requests"));

                emulator.InjectFault("{\"target\":\"api\",\"kind\":\"close\",\"count\":2,\"match\":{\"query\":{\"page\":\"1\"}}}");
                pages = 0;
                var error = Assert.Throws<X8Exception>(() =>
                {
                    foreach (var page in client.Pages("GET", Emulator.QueuesPath + "?size=2"))
                        pages++;
                });
                Assert.IsTrue(error.Status == X8Status.Transport || error.Status == X8Status.Protocol, error.ToString());
                Assert.AreEqual(1, pages);
            }
        }

        [Test]
        public void AnErrorStatusEndsTheListingAndBadStylesAreRefused()
        {
            using (var client = emulator.NewClient())
            {
                var pages = client.Pages("GET", "/qm/uk/v1/interactions?size=5").ToList(); // no pbx header
                Assert.AreEqual(1, pages.Count);
                Assert.AreEqual(400, pages[0].StatusCode);
                Assert.IsNull(pages[0].PageItemsJson);
                var error = Assert.Throws<X8Exception>(() => client.Pages("GET", Emulator.QueuesPath, style: (X8PageStyle)42).ToList());
                Assert.AreEqual(X8Status.InvalidArgument, error.Status);
            }
        }

        [Test]
        public void DisposingTheClientDuringAListingFreesItAfterThePager()
        {
            var client = emulator.NewClient();
            using (var pages = client.Pages("GET", Emulator.QueuesPath + "?size=2").GetEnumerator())
            {
                Assert.IsTrue(pages.MoveNext());
                client.Dispose(); // the pager holds the native client until it is freed
                Assert.IsTrue(pages.MoveNext());
                Assert.AreEqual(200, pages.Current.StatusCode);
            }
            Assert.Throws<ObjectDisposedException>(() => client.Pages("GET", Emulator.QueuesPath).ToList());
        }

        [Test]
        public void APresignedDownloadCarriesNoAuthorization()
        {
            using (var client = emulator.NewClient())
            {
                var id = Field(client.Send("GET", "/storage/us-west/v3/objects?limit=1").BodyText, "id");
                var direct = client.Send("GET", "/storage/us-west/v3/objects/" + id + "/content");
                var url = Field(client.Send("GET", "/storage/us-west/v3/objects/" + id + "/content?presignUrl=true").BodyText, "presignedUrl");
                StringAssert.Contains("X-Amz-Signature=", url);
                Assert.AreEqual(X8Status.InvalidArgument, Assert.Throws<X8Exception>(() => client.Send("GET", url)).Status);

                emulator.Reset();
                var got = client.FetchUrl("GET", url);
                Assert.AreEqual(200, got.StatusCode);
                CollectionAssert.AreEqual(direct.Body, got.Body);
                var seen = emulator.AdminGet("/_emulator/presigned-requests");
                StringAssert.Contains("\"headers\":{", seen);
                Assert.IsFalse(seen.ToLowerInvariant().Contains("authorization"), seen);
                Assert.AreEqual(1, emulator.Stat("presigned_requests"));
                Assert.AreEqual(0, emulator.Stat("token_requests"));
                Assert.AreEqual(200, client.FetchUrlAsync("GET", url).Result.StatusCode);

                using (var streamed = new MemoryStream())
                {
                    var to = client.FetchUrlTo(url, streamed);
                    Assert.AreEqual(200, to.StatusCode);
                    Assert.AreEqual(0, to.Body.Length);
                    CollectionAssert.AreEqual(got.Body, streamed.ToArray());
                }

                var auth = new Dictionary<string, string> { { "Authorization", "Bearer x" } };
                Assert.AreEqual(X8Status.InvalidArgument, Assert.Throws<X8Exception>(() => client.FetchUrl("GET", url, auth)).Status);
                var query = url.Substring(url.IndexOf('?') + 1);
                var dead = Assert.Throws<X8Exception>(() => client.FetchUrl("GET", "http://127.0.0.1:1/content?" + query));
                Assert.AreEqual(X8Status.Transport, dead.Status);
                Assert.IsFalse(dead.Message.Contains("X-Amz-Signature"), dead.Message);
            }
        }

        [Test]
        public void TheStorageAndRealtimeExamplesRun()
        {
            StringAssert.Contains("7 queues in 3 pages", RunExample("X8_REALTIME_PAGES_EXE"));
            emulator.Reset();
            StringAssert.Contains("without Authorization", RunExample("X8_STORAGE_DOWNLOAD_EXE"));
            Assert.AreEqual(1, emulator.Stat("presigned_requests"));
        }

        private string RunExample(string variable)
        {
            var exe = Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrEmpty(exe))
                Assert.Fail(variable + " must name the compiled example (test.sh sets it)");
            var start = new ProcessStartInfo("mono", "\"" + exe + "\"")
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.EnvironmentVariables["X8_CLIENT_ID"] = Emulator.ClientId;
            start.EnvironmentVariables["X8_CLIENT_SECRET"] = Emulator.Secret;
            start.EnvironmentVariables["X8_BASE_URL"] = emulator.BaseUrl;
            start.EnvironmentVariables["NO_PROXY"] = "127.0.0.1";
            using (var child = Process.Start(start))
            {
                var stdout = Task.Run(() => child.StandardOutput.ReadToEnd());
                var stderr = Task.Run(() => child.StandardError.ReadToEnd());
                Assert.IsTrue(child.WaitForExit(60000), exe + " did not finish");
                child.WaitForExit();
                Assert.AreEqual(0, child.ExitCode, "stdout: " + stdout.Result + "\nstderr: " + stderr.Result);
                Assert.IsFalse((stdout.Result + stderr.Result).Contains(Emulator.Secret), "the output carries the secret");
                return stdout.Result;
            }
        }

        private static byte[] Utf8Bytes(string s)
        {
            return System.Text.Encoding.UTF8.GetBytes(s);
        }
    }
}
