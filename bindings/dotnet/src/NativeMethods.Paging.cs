// The paging and presigned-fetch entry points of libx8 (include/x8.h: x8_pager_*, x8_page_items, x8_fetch_url),
// a part of NativeMethods with the same marshalling rules (see NativeMethods.cs).

using System;
using System.Runtime.InteropServices;

namespace X8
{
    internal static partial class NativeMethods
    {
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_pager_new(
            X8ClientHandle client, byte[] method, byte[] path, ref RequestOpts opts, uint style, ulong maxPages,
            out X8PagerHandle pager, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_pager_next(X8PagerHandle pager, out X8ResponseHandle page, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_pager_set_timeout(X8PagerHandle pager, uint timeoutMs, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint x8_pager_style(X8PagerHandle pager);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void x8_pager_free(IntPtr pager);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_page_items(
            X8ResponseHandle page, out IntPtr json, out UIntPtr count, out IntPtr err);

        // Releases the char* of x8_page_items.
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void x8_free(IntPtr ptr);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_fetch_url(
            X8ClientHandle client, byte[] method, byte[] url, ref RequestOpts opts, out X8ResponseHandle response,
            out IntPtr err);
    }

    /// <summary>An x8_pager. It holds a reference on its client's handle, so that disposing the X8Client while a
    /// listing is open frees the native client only after the pager (x8 wants the pager freed first).</summary>
    internal sealed class X8PagerHandle : X8Handle
    {
        private X8ClientHandle client;

        public X8PagerHandle() { }

        /// <summary>Takes a reference on the client for as long as this pager lives.</summary>
        internal void HoldClient(X8ClientHandle owner)
        {
            var added = false;
            owner.DangerousAddRef(ref added);
            if (added)
                client = owner;
        }

        protected override bool ReleaseHandle()
        {
            NativeMethods.x8_pager_free(handle);
            if (client != null)
                client.DangerousRelease();
            return true;
        }
    }
}
