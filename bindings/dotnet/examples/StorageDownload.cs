// StorageDownload: finds the customer's Cloud Storage regions, searches the first for recordings
// (pageKey/limit paging until lastPage), and downloads one through its presigned URL with X8Client.FetchUrl,
// which sends no Authorization header (the URL's query is its own credential).
//
//     export X8_CLIENT_ID=... X8_CLIENT_SECRET=...
//     export X8_BASE_URL=http://127.0.0.1:PORT   # optional: the x8-emulator instead of https://api.8x8.com

using System;
using System.Text.RegularExpressions;
using X8;

internal static class StorageDownload
{
    private static int Main()
    {
        try
        {
            using (var client = X8Client.FromEnvironment())
            {
                // Any valid region answers the list of the customer's regions, e.g. ["us-west","uk"].
                var regions = client.Send("GET", "/storage/us-west/v3/regions");
                var region = Regex.Match(regions.BodyText, "\"([^\"]+)\"");
                if (!regions.IsSuccessStatusCode || !region.Success)
                {
                    Console.Error.WriteLine("regions: HTTP {0} {1}", regions.StatusCode, regions.BodyText);
                    return 1;
                }
                var basePath = "/storage/" + region.Groups[1].Value + "/v3";
                Console.WriteLine("regions {0}; searching {1}", regions.BodyText, basePath);

                string firstId = null, firstName = null;
                var found = 0;
                foreach (var page in client.Pages("GET", basePath + "/objects?limit=5&filter=type==callrecording",
                    style: X8PageStyle.BodyOffset))
                {
                    var ids = Regex.Matches(page.PageItemsJson ?? "", "\"id\":\"([^\"]+)\"");
                    if (firstId == null && ids.Count > 0)
                    {
                        firstId = ids[0].Groups[1].Value;
                        firstName = Regex.Match(page.PageItemsJson, "\"objectName\":\"([^\"]+)\"").Groups[1].Value;
                    }
                    found += ids.Count;
                }
                Console.WriteLine("{0} recordings", found);
                if (firstId == null)
                    return 0;

                var link = client.Send("GET", basePath + "/objects/" + firstId + "/content?presignUrl=true");
                // The reply's form is not documented: a JSON object, or the bare URL as text.
                var url = Regex.Match(link.BodyText, "\"presignedUrl\":\"([^\"]+)\"");
                var content = client.FetchUrl("GET", url.Success ? url.Groups[1].Value : link.BodyText.Trim());
                if (!content.IsSuccessStatusCode)
                {
                    Console.Error.WriteLine("download: HTTP {0}", content.StatusCode);
                    return 1;
                }
                Console.WriteLine("downloaded {0}: {1} bytes without Authorization", firstName, content.Body.Length);
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
