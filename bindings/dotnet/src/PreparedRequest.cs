// The arguments of a request, validated and encoded for x8_request up front: argument errors surface on the
// caller's thread (also for SendAsync), and later changes to the caller's header dictionary do not matter.

using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace X8
{
    internal sealed class PreparedRequest
    {
        internal PreparedRequest(string method, string path, byte[] body, IDictionary<string, string> headers, TimeSpan? timeout)
        {
            Method = Utf8.Encode(method, "method");
            Path = Utf8.Encode(path, "path");
            Body = body;
            TimeoutMs = Millis.PerCall(timeout, "timeout");
            HeaderLines = new List<byte[]>();
            if (headers != null)
                foreach (var header in headers)
                    // "Name: value", the form x8_request takes. x8 checks names and refuses CR/LF.
                    HeaderLines.Add(Utf8.Encode(header.Key + ": " + (header.Value ?? string.Empty), "headers"));
        }

        internal byte[] Method { get; private set; }
        internal byte[] Path { get; private set; }
        internal byte[] Body { get; private set; }
        internal uint TimeoutMs { get; private set; }
        internal List<byte[]> HeaderLines { get; private set; }
    }

    /// <summary>
    /// The header lines pinned for one native call, as the `const char *const *` array x8_request reads. Pinned
    /// rather than copied to native memory: nothing to free by hand, and nothing x8 keeps (it copies).
    /// </summary>
    internal sealed class PinnedHeaders : IDisposable
    {
        private readonly GCHandle[] pins;

        internal PinnedHeaders(List<byte[]> lines)
        {
            Count = lines.Count;
            pins = new GCHandle[lines.Count];
            if (lines.Count == 0)
                return; // Pointers stays null, as x8 wants for header_count 0
            Pointers = new IntPtr[lines.Count];
            try
            {
                for (int i = 0; i < lines.Count; i++)
                {
                    pins[i] = GCHandle.Alloc(lines[i], GCHandleType.Pinned);
                    Pointers[i] = pins[i].AddrOfPinnedObject();
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        internal int Count { get; private set; }

        internal IntPtr[] Pointers { get; private set; }

        public void Dispose()
        {
            for (int i = 0; i < pins.Length; i++)
                if (pins[i].IsAllocated)
                    pins[i].Free();
        }
    }
}
