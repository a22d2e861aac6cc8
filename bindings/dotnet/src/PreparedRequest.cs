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
    /// A request's x8_request_opts for one native call: the header lines, the `const char *const *` array of
    /// them and the body, pinned rather than copied to native memory: nothing to free by hand, and nothing x8
    /// keeps (it copies).
    /// </summary>
    internal sealed class PinnedRequest : IDisposable
    {
        private readonly List<GCHandle> pins = new List<GCHandle>();

        internal PinnedRequest(PreparedRequest request)
        {
            Opts.Size = new UIntPtr((uint)Marshal.SizeOf(typeof(NativeMethods.RequestOpts)));
            Opts.TimeoutMs = request.TimeoutMs;
            try
            {
                var lines = request.HeaderLines;
                if (lines.Count > 0) // else Headers stays NULL, as x8 wants for header_count 0
                {
                    var pointers = new IntPtr[lines.Count];
                    foreach (var line in lines)
                        pointers[pins.Count] = Pin(line);
                    Opts.Headers = Pin(pointers);
                    Opts.HeaderCount = new UIntPtr((uint)lines.Count);
                }
                if (request.Body != null && request.Body.Length > 0)
                {
                    Opts.Body = Pin(request.Body);
                    Opts.BodyLen = new UIntPtr((uint)request.Body.Length);
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        internal NativeMethods.RequestOpts Opts;

        private IntPtr Pin(object array)
        {
            var pin = GCHandle.Alloc(array, GCHandleType.Pinned);
            pins.Add(pin);
            return pin.AddrOfPinnedObject();
        }

        public void Dispose()
        {
            foreach (var pin in pins)
                if (pin.IsAllocated)
                    pin.Free();
            pins.Clear();
        }
    }
}
