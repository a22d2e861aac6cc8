// A managed copy of an x8_response: status, headers, body. The native response is freed as soon as the copy is
// made, so an X8Response owns no native memory and needs no Dispose.

using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Runtime.InteropServices;
using System.Text;

namespace X8
{
    /// <summary>An API's answer. Any HTTP status is a successful call; check <see cref="StatusCode"/>.</summary>
    public sealed class X8Response
    {
        private string bodyText;

        private X8Response(int statusCode, IList<KeyValuePair<string, string>> headerLines, byte[] body)
        {
            StatusCode = statusCode;
            HeaderLines = new ReadOnlyCollection<KeyValuePair<string, string>>(headerLines);
            Headers = CombineHeaders(headerLines);
            Body = body;
        }

        /// <summary>The HTTP status code (200, 404...).</summary>
        public int StatusCode { get; private set; }

        /// <summary>Headers by name, case-insensitively; a header sent several times has its values joined
        /// with ", " (RFC 9110 5.3). See <see cref="HeaderLines"/> for the lines as received.</summary>
        public IReadOnlyDictionary<string, string> Headers { get; private set; }

        /// <summary>Every header line in the order received.</summary>
        public IReadOnlyList<KeyValuePair<string, string>> HeaderLines { get; private set; }

        /// <summary>The body's bytes (empty, never null, when there is none).</summary>
        public byte[] Body { get; private set; }

        /// <summary>The body decoded as UTF-8 (what the 8x8 APIs send).</summary>
        public string BodyText
        {
            get { return bodyText ?? (bodyText = Encoding.UTF8.GetString(Body)); }
        }

        /// <summary>For a page of <see cref="X8Client.Pages"/>: its items as one JSON array, whatever the API's
        /// shape (the body itself when it is an array, else its content, data or items array); null for a page
        /// that holds no list of items (an error body) and for a response of Send.</summary>
        public string PageItemsJson { get; internal set; }

        /// <summary>For a page of <see cref="X8Client.Pages"/>: the listing's style (the one detected, with
        /// <see cref="X8PageStyle.Auto"/>); Auto for a response of Send.</summary>
        public X8PageStyle PageStyle { get; internal set; }

        /// <summary>Whether <see cref="StatusCode"/> is 2xx.</summary>
        public bool IsSuccessStatusCode
        {
            get { return StatusCode >= 200 && StatusCode <= 299; }
        }

        private static IReadOnlyDictionary<string, string> CombineHeaders(IList<KeyValuePair<string, string>> lines)
        {
            var combined = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var line in lines)
            {
                string earlier;
                combined[line.Key] = combined.TryGetValue(line.Key, out earlier) ? earlier + ", " + line.Value : line.Value;
            }
            return new ReadOnlyDictionary<string, string>(combined);
        }

        /// <summary>Copies everything out of a native response; the caller frees the response right after.</summary>
        internal static X8Response CopyFrom(X8ResponseHandle response)
        {
            UIntPtr length;
            var bodyPointer = NativeMethods.x8_response_body(response, out length);
            if (length.ToUInt64() > int.MaxValue)
                throw new X8Exception(X8Status.BodyTooLarge, "the response body is larger than a .NET array can hold", 0);
            var body = new byte[(int)length.ToUInt64()];
            if (body.Length > 0)
                Marshal.Copy(bodyPointer, body, 0, body.Length);

            var count = NativeMethods.x8_response_header_count(response).ToUInt64();
            var lines = new List<KeyValuePair<string, string>>((int)Math.Min(count, 1024));
            for (ulong i = 0; i < count; i++)
            {
                IntPtr name, value;
                if (NativeMethods.x8_response_header_at(response, new UIntPtr(i), out name, out value))
                    lines.Add(new KeyValuePair<string, string>(Utf8.Decode(name), Utf8.Decode(value) ?? string.Empty));
            }
            return new X8Response(NativeMethods.x8_response_status(response), lines, body);
        }
    }
}
