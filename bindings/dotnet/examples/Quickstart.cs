// Quickstart: fetch a token and read one page of Contact Center realtime queue metrics.
//
// The API key comes from the environment, so it never sits in source code:
//     export X8_CLIENT_ID=... X8_CLIENT_SECRET=...
//     export X8_BASE_URL=http://127.0.0.1:PORT   # optional: the x8-emulator instead of https://api.8x8.com
// Build and run (Mono):  mcs -r:X8.dll Quickstart.cs && LD_LIBRARY_PATH=<dir of libx8.so> mono Quickstart.exe

using System;
using X8;

internal static class Quickstart
{
    private static int Main()
    {
        try
        {
            // One client per API key for the whole program: it caches the token and renews it ahead of expiry.
            using (var client = X8Client.FromEnvironment())
            {
                var token = client.GetToken();
                Console.WriteLine("token: {0}", token); // X8Token.ToString hides the value

                var page = client.Send("GET", "/analytics/cc/v5/realtime-metrics/queues?page=0&size=5");
                Console.WriteLine("queues: HTTP {0}, page {1} of {2}, {3} queues in all",
                    page.StatusCode, Header(page, "X-Page"), Header(page, "X-Total-Pages"), Header(page, "X-Total-Elements"));
                Console.WriteLine(page.BodyText);
                return page.IsSuccessStatusCode ? 0 : 1;
            }
        }
        catch (X8Exception e)
        {
            // Messages say what went wrong and what to do, and never contain the secret or a token.
            Console.Error.WriteLine("x8 failed ({0}): {1}", e.Status, e.Message);
            return 2;
        }
    }

    private static string Header(X8Response response, string name)
    {
        string value;
        return response.Headers.TryGetValue(name, out value) ? value : "?";
    }
}
