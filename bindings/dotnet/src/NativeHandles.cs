// One SafeHandle per x8 handle type. Each ReleaseHandle calls the matching x8_*_free, which x8 documents as safe
// on any thread (the finalizer thread included). SafeHandle guarantees a release happens once, never while a
// P/Invoke call is using the handle, and even when Dispose is forgotten.

using System;
using System.Runtime.InteropServices;

namespace X8
{
    /// <summary>Common shape: NULL is the invalid value, and the runtime owns the release.</summary>
    internal abstract class X8Handle : SafeHandle
    {
        protected X8Handle() : base(IntPtr.Zero, true) { }

        protected X8Handle(IntPtr existing) : base(IntPtr.Zero, true)
        {
            SetHandle(existing);
        }

        public override bool IsInvalid
        {
            get { return handle == IntPtr.Zero; }
        }
    }

    /// <summary>An x8_client. Also ends the client's callback registrations once the native client is gone.</summary>
    internal sealed class X8ClientHandle : X8Handle
    {
        // Set right after x8_client_new succeeds; empty when the client has no log callback or token store.
        internal CallbackRegistrations Registrations = new CallbackRegistrations();

        public X8ClientHandle() { }

        protected override bool ReleaseHandle()
        {
            NativeMethods.x8_client_free(handle);
            Registrations.Release();
            return true;
        }
    }

    /// <summary>The registry ids of a client's log callback and token store (0: none), released together once no
    /// native client can call them any more.</summary>
    internal sealed class CallbackRegistrations
    {
        internal long Log;
        internal long Store;

        internal void Release()
        {
            LogRegistry.Unregister(Log);
            TokenStoreRegistry.Unregister(Store);
            Log = Store = 0;
        }
    }

    /// <summary>An x8_response.</summary>
    internal sealed class X8ResponseHandle : X8Handle
    {
        public X8ResponseHandle() { }

        protected override bool ReleaseHandle()
        {
            NativeMethods.x8_response_free(handle);
            return true;
        }
    }

    /// <summary>An x8_token snapshot (its free also wipes the token's copy).</summary>
    internal sealed class X8TokenHandle : X8Handle
    {
        public X8TokenHandle() { }

        protected override bool ReleaseHandle()
        {
            NativeMethods.x8_token_free(handle);
            return true;
        }
    }

    /// <summary>An x8_cancel (see NativeCancellation).</summary>
    internal sealed class X8CancelHandle : X8Handle
    {
        public X8CancelHandle() { }

        protected override bool ReleaseHandle()
        {
            NativeMethods.x8_cancel_free(handle);
            return true;
        }
    }

    /// <summary>An x8_options.</summary>
    internal sealed class X8OptionsHandle : X8Handle
    {
        public X8OptionsHandle() { }

        protected override bool ReleaseHandle()
        {
            NativeMethods.x8_options_free(handle);
            return true;
        }
    }

    /// <summary>An x8_error, wrapped from the `out IntPtr` of a failed call (see NativeMethods).</summary>
    internal sealed class X8ErrorHandle : X8Handle
    {
        public X8ErrorHandle() { }

        internal X8ErrorHandle(IntPtr existing) : base(existing) { }

        protected override bool ReleaseHandle()
        {
            NativeMethods.x8_error_free(handle);
            return true;
        }
    }
}
