// Diagnostics from x8 (token fetches, renewals, retries and why) delivered to a .NET callback.
//
// Why a registry instead of one delegate per client: x8 calls the callback from its own threads, including the
// background renewal thread, and x8_client_free returns while a renewal still in flight finishes (and logs) on
// that thread. A per-client delegate collected after Dispose would then be called through a dangling pointer
// and crash the process. So native code only ever sees one static delegate, alive for the whole process, plus
// a plain number as user_data; the number finds the client's callback here, and a message that arrives after
// the client is gone finds nothing and is dropped.

using System;
using System.Collections.Concurrent;
using System.Threading;

namespace X8
{
    /// <summary>Severity of an x8 diagnostic message (x8.h X8_LOG_*).</summary>
    public enum X8LogLevel
    {
        /// <summary>A call failed.</summary>
        Error = 1,
        /// <summary>Something is wrong but x8 carries on (a failed background renewal, a retry).</summary>
        Warn = 2,
        /// <summary>What x8 does: token fetched or renewed, with its lifetime and products.</summary>
        Info = 3,
        /// <summary>Step by step detail.</summary>
        Debug = 4,
    }

    internal static class LogRegistry
    {
        private static readonly ConcurrentDictionary<long, Action<X8LogLevel, string>> Callbacks =
            new ConcurrentDictionary<long, Action<X8LogLevel, string>>();

        private static long lastId;

        // Referenced by this static field for the life of the process, so the GC never collects the delegate
        // whose function pointer x8 holds.
        internal static readonly NativeMethods.LogCallback Trampoline = Deliver;

        internal static long Register(Action<X8LogLevel, string> callback)
        {
            var id = Interlocked.Increment(ref lastId);
            Callbacks[id] = callback;
            return id;
        }

        internal static void Unregister(long id)
        {
            Action<X8LogLevel, string> removed;
            if (id != 0)
                Callbacks.TryRemove(id, out removed);
        }

        // Runs on x8's threads. An exception must not unwind into native code (that aborts the process), so a
        // throwing callback loses its message rather than the program.
        private static void Deliver(IntPtr userData, int level, IntPtr message)
        {
            try
            {
                Action<X8LogLevel, string> callback;
                if (Callbacks.TryGetValue(userData.ToInt64(), out callback))
                    callback((X8LogLevel)level, Utf8.Decode(message) ?? string.Empty);
            }
            catch (Exception)
            {
                // Deliberately swallowed: see above.
            }
        }
    }
}
