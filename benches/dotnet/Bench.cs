// Row 4 in .NET (Mono): x8 called through direct [DllImport("x8")] declarations, with no binding in between, so
// the numbers show the cost of the P/Invoke boundary next to the same calls made from C; and, for the GET, what
// a .NET programmer writes without x8: a plain HttpClient with a token fetched once by hand.
// Prints one JSON line per measurement (the format of benches/c/bench.c) for benches/table.py.
// Usage: BENCH_URL=http://127.0.0.1:PORT mono bench.exe hit|get
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;

static class Native
{
    // Strings cross as NUL-terminated UTF-8 in memory we allocate once (see Utf8), as a binding would keep them.
    [DllImport("x8")] public static extern IntPtr x8_options_new();
    [DllImport("x8")] public static extern void x8_options_free(IntPtr opts);
    [DllImport("x8")] public static extern int x8_options_set_base_url(IntPtr opts, IntPtr url, IntPtr err);
    [DllImport("x8")] public static extern int x8_options_set_proxy(IntPtr opts, IntPtr proxy, IntPtr err);
    [DllImport("x8")] public static extern int x8_client_new(IntPtr id, IntPtr secret, IntPtr opts, out IntPtr client, IntPtr err);
    [DllImport("x8")] public static extern void x8_client_free(IntPtr client);
    [DllImport("x8")] public static extern int x8_get_token(IntPtr client, IntPtr buf, UIntPtr bufLen, out UIntPtr tokenLen, IntPtr err);
    [DllImport("x8")] public static extern int x8_request(IntPtr client, IntPtr method, IntPtr path, IntPtr opts,
                                                          out IntPtr response, IntPtr err);
    [DllImport("x8")] public static extern ushort x8_response_status(IntPtr response);
    [DllImport("x8")] public static extern void x8_response_free(IntPtr response);

    public static IntPtr Utf8(string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s + "\0");
        IntPtr p = Marshal.AllocHGlobal(bytes.Length);
        Marshal.Copy(bytes, 0, p, bytes.Length);
        return p;
    }
}

static class Bench
{
    const string GetPath = "/analytics/cc/v5/realtime-metrics/queues?size=5";
    const int TokenBufferSize = 4096; // X8_TOKEN_BUFFER_SIZE
    static readonly string BaseUrl = Environment.GetEnvironmentVariable("BENCH_URL");
    static readonly HttpClient Admin = new HttpClient(new HttpClientHandler { UseProxy = false });

    static double EnvNumber(string name, double dflt)
    {
        double v;
        return double.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Float, CultureInfo.InvariantCulture, out v) ? v : dflt;
    }

    static int Reps { get { return (int)EnvNumber("BENCH_REPS", 5); } }
    static TimeSpan Seconds(double dflt) { return TimeSpan.FromSeconds(dflt * EnvNumber("BENCH_SCALE", 1)); }
    static TimeSpan Cpu() { return Process.GetCurrentProcess().TotalProcessorTime; }

    static string AdminCall(string method, string path, string body)
    {
        var req = new HttpRequestMessage(new HttpMethod(method), BaseUrl + "/_emulator/" + path);
        if (body != null) req.Content = new StringContent(body, Encoding.UTF8, "application/json");
        var resp = Admin.SendAsync(req).Result;
        string text = resp.Content.ReadAsStringAsync().Result;
        if (resp.StatusCode != HttpStatusCode.OK) Die("emulator " + path + " answered " + (int)resp.StatusCode);
        return text;
    }

    static long Stat(string name)
    {
        var m = Regex.Match(AdminCall("GET", "stats", null), "\"" + name + "\":\\s*(\\d+)");
        if (!m.Success) Die("no " + name + " in the emulator's stats");
        return long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    static void Die(string message)
    {
        Console.Error.WriteLine("bench.exe: " + message);
        Environment.Exit(1);
    }

    static void Emit(string bench, string impl, int threads, string metrics)
    {
        Console.WriteLine("{\"bench\":\"" + bench + "\",\"impl\":\"" + impl + "\",\"threads\":" + threads + "," + metrics + "}");
    }

    static string F(double v, string format) { return v.ToString(format, CultureInfo.InvariantCulture); }

    static IntPtr NewClient()
    {
        IntPtr opts = Native.x8_options_new(), client = IntPtr.Zero;
        IntPtr url = Native.Utf8(BaseUrl), empty = Native.Utf8(""), id = Native.Utf8("demo-client"), secret = Native.Utf8("demo-secret");
        if (Native.x8_options_set_base_url(opts, url, IntPtr.Zero) != 0 || Native.x8_options_set_proxy(opts, empty, IntPtr.Zero) != 0 ||
            Native.x8_client_new(id, secret, opts, out client, IntPtr.Zero) != 0)
            Die("cannot create an x8 client");
        Native.x8_options_free(opts);
        foreach (IntPtr p in new[] { url, empty, id, secret }) Marshal.FreeHGlobal(p);
        return client;
    }

    // A cached hit through P/Invoke, single thread: wall ns per call (after a warm-up, so the JIT is done).
    static void Hit()
    {
        AdminCall("POST", "config", "{\"token_lifetime\":1799}");
        IntPtr client = NewClient(), buf = Marshal.AllocHGlobal(TokenBufferSize);
        UIntPtr len;
        for (int i = 0; i < 100000; i++)
            if (Native.x8_get_token(client, buf, (UIntPtr)TokenBufferSize, out len, IntPtr.Zero) != 0) Die("x8_get_token failed");
        for (int rep = 0; rep < Reps; rep++)
        {
            TimeSpan duration = Seconds(0.4), cpu0 = Cpu();
            var sw = Stopwatch.StartNew();
            long calls = 0;
            while (sw.Elapsed < duration)
            {
                for (int i = 0; i < 64; i++)
                    if (Native.x8_get_token(client, buf, (UIntPtr)TokenBufferSize, out len, IntPtr.Zero) != 0) Die("x8_get_token failed");
                calls += 64;
            }
            double wallNs = sw.Elapsed.TotalMilliseconds * 1e6, cpuNs = (Cpu() - cpu0).TotalMilliseconds * 1e6;
            Emit("hit", "x8 via P/Invoke (Mono)", 1, "\"ns_per_call\":" + F(wallNs / calls, "F2") + ",\"cpu_ns_per_call\":" +
                 F(cpuNs / calls, "F2") + ",\"calls_per_s\":" + F(calls * 1e9 / wallNs, "F0"));
        }
        Marshal.FreeHGlobal(buf);
        Native.x8_client_free(client);
    }

    // One caller for Seconds(1.5): requests/s, median latency, CPU per request, connections at the emulator.
    static void MeasureGet(string impl, Action get)
    {
        for (int i = 0; i < 200; i++) get(); // warm-up: JIT, token, connection
        for (int rep = 0; rep < Reps; rep++)
        {
            AdminCall("POST", "reset", null);
            var latencies = new List<double>();
            TimeSpan duration = Seconds(1.5), cpu0 = Cpu();
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < duration)
            {
                long t0 = Stopwatch.GetTimestamp();
                get();
                latencies.Add((Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency);
            }
            double wallS = sw.Elapsed.TotalSeconds, cpuUs = (Cpu() - cpu0).TotalMilliseconds * 1e3;
            latencies.Sort();
            int n = latencies.Count;
            Emit("get", impl, 1, "\"requests\":" + n + ",\"requests_per_s\":" + F(n / wallS, "F0") + ",\"median_us\":" +
                 F(latencies[n / 2], "F1") + ",\"p99_us\":" + F(latencies[n * 99 / 100], "F1") + ",\"max_us\":" +
                 F(latencies[n - 1], "F1") + ",\"cpu_us_per_request\":" + F(cpuUs / n, "F2") + ",\"connections\":" +
                 Stat("connections") + ",\"token_requests\":" + Stat("token_requests"));
        }
    }

    static void Get()
    {
        AdminCall("POST", "config", "{\"token_lifetime\":1799}");
        IntPtr client = NewClient(), method = Native.Utf8("GET"), path = Native.Utf8(GetPath);
        MeasureGet("x8 via P/Invoke (Mono)", () =>
        {
            IntPtr response;
            if (Native.x8_request(client, method, path, IntPtr.Zero, out response, IntPtr.Zero) != 0 ||
                Native.x8_response_status(response) != 200)
                Die("x8_request failed");
            Native.x8_response_free(response);
        });
        Native.x8_client_free(client);

        // Without x8: HttpClient, the token fetched once by hand, the bearer header set once.
        var http = new HttpClient(new HttpClientHandler { UseProxy = false });
        var tokenRequest = new HttpRequestMessage(HttpMethod.Post, BaseUrl + "/oauth/v2/token");
        tokenRequest.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("demo-client:demo-secret")));
        tokenRequest.Content = new StringContent("grant_type=client_credentials", Encoding.UTF8, "application/x-www-form-urlencoded");
        var m = Regex.Match(http.SendAsync(tokenRequest).Result.Content.ReadAsStringAsync().Result, "\"access_token\"\\s*:\\s*\"([^\"]+)\"");
        if (!m.Success) Die("no access_token in the token reply");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", m.Groups[1].Value);
        string url = BaseUrl + GetPath;
        MeasureGet(".NET HttpClient, token kept by hand (Mono)", () =>
        {
            var resp = http.GetAsync(url).Result;
            resp.Content.ReadAsByteArrayAsync().Wait();
            if (resp.StatusCode != HttpStatusCode.OK) Die("HttpClient GET answered " + (int)resp.StatusCode);
        });
    }

    static int Main(string[] args)
    {
        if (BaseUrl == null || args.Length != 1) { Die("usage: BENCH_URL=http://127.0.0.1:PORT mono bench.exe hit|get"); }
        if (args[0] == "hit") Hit();
        else if (args[0] == "get") Get();
        else Die("unknown benchmark " + args[0]);
        return 0;
    }
}
