// RealtimePages: every Contact Center queue of the realtime analytics API, read page by page (X-Page,
// X-Total-Pages and Link rel="next") with X8Client.Pages.
//
//     export X8_CLIENT_ID=... X8_CLIENT_SECRET=...
//     export X8_BASE_URL=http://127.0.0.1:PORT   # optional: the x8-emulator instead of https://api.8x8.com
// A European tenant's path starts with /eu (/au, /ca likewise).

using System;
using System.Text.RegularExpressions;
using X8;

internal static class RealtimePages
{
    private static int Main()
    {
        try
        {
            using (var client = X8Client.FromEnvironment())
            {
                int pages = 0, queues = 0;
                foreach (var page in client.Pages("GET", "/analytics/cc/v5/realtime-metrics/queues?size=3"))
                {
                    if (!page.IsSuccessStatusCode)
                    {
                        Console.Error.WriteLine("HTTP {0}: {1}", page.StatusCode, page.BodyText);
                        return 1;
                    }
                    // PageItemsJson: the page's queues as one JSON array, whatever the API's shape.
                    var ids = Regex.Matches(page.PageItemsJson, "\"id\":\"([^\"]+)\"");
                    string x;
                    Console.WriteLine("page {0} of {1}: {2} queues ({3})",
                        page.Headers.TryGetValue("X-Page", out x) ? x : "?",
                        page.Headers.TryGetValue("X-Total-Pages", out x) ? x : "?", ids.Count, page.PageStyle);
                    queues += ids.Count;
                    pages++;
                }
                Console.WriteLine("{0} queues in {1} pages", queues, pages);
                return 0;
            }
        }
        catch (X8Exception e)
        {
            Console.Error.WriteLine("{0}: {1}", e.Status, e.Message);
            return 1;
        }
    }
}
