// The application's own store for the token its processes share (x8_token_store), as a .NET interface.
//
// As for logging (see X8Logging.cs), native code only ever sees static delegates, alive for the whole process,
// and a plain number as user_data: x8 may call a store from its renewal thread after the client was disposed,
// and then finds no store under the number and reports a failure instead of calling a collected delegate.

using System;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using System.Threading;

namespace X8
{
    /// <summary>
    /// A store the application already runs (Redis, memcached, a database) for the token its processes share,
    /// on one host or many. Keys are short ASCII strings ("x8:token:" and 64 hex digits); records are JSON text
    /// holding the access token and its expiry, never the secret, so keep them where only the application's
    /// processes can read them. Called from any thread, concurrently, including x8's renewal thread; must not call
    /// the client that calls it. An exception makes the client fetch the token itself (with a warning through
    /// <see cref="X8ClientOptions.Log"/>): a broken store never fails a call. Implement
    /// <see cref="IX8TokenStoreLock"/> as well to let one process fetch for all.
    /// </summary>
    public interface IX8TokenStore
    {
        /// <summary>The record under <paramref name="key"/>, or null when there is none (or it expired).</summary>
        string Load(string key);

        /// <summary>Saves <paramref name="record"/> under <paramref name="key"/>, replacing any other; it may be
        /// forgotten after <paramref name="ttl"/>, when its token expires.</summary>
        void Store(string key, string record, TimeSpan ttl);

        /// <summary>Deletes the record under <paramref name="key"/> only if it is still exactly
        /// <paramref name="record"/> (the API refused its token).</summary>
        void Remove(string key, string record);
    }

    /// <summary>A lock per key, so that processes needing a token at the same moment fetch it once.</summary>
    public interface IX8TokenStoreLock
    {
        /// <summary>Takes the lock without waiting: false when someone else holds it. It must free itself after
        /// <paramref name="ttl"/> even if its holder dies.</summary>
        bool TryLock(string key, TimeSpan ttl);

        /// <summary>Releases the lock this process took.</summary>
        void Unlock(string key);
    }

    internal static class TokenStoreRegistry
    {
        private const int Ok = 0, NotFound = 1, BufferTooSmall = 2, Busy = 3, Failed = -1; // X8_STORE_*

        private static readonly ConcurrentDictionary<long, IX8TokenStore> Stores =
            new ConcurrentDictionary<long, IX8TokenStore>();

        private static long lastId;

        // Static fields: the GC never collects a delegate whose function pointer x8 holds.
        private static readonly NativeMethods.StoreLoadCallback LoadFn = LoadRecord;
        private static readonly NativeMethods.StoreSaveCallback SaveFn = SaveRecord;
        private static readonly NativeMethods.StoreLockCallback LockFn = TakeLock;
        private static readonly NativeMethods.StoreUnlockCallback UnlockFn = ReleaseLock;
        private static readonly NativeMethods.StoreRemoveCallback RemoveFn = RemoveRecord;

        internal static long Register(IX8TokenStore store)
        {
            var id = Interlocked.Increment(ref lastId);
            Stores[id] = store;
            return id;
        }

        internal static void Unregister(long id)
        {
            IX8TokenStore removed;
            if (id != 0)
                Stores.TryRemove(id, out removed);
        }

        internal static NativeMethods.TokenStore Native(long id, bool locking)
        {
            var s = new NativeMethods.TokenStore();
            s.Size = new UIntPtr((uint)Marshal.SizeOf(typeof(NativeMethods.TokenStore)));
            s.UserData = new IntPtr(id);
            s.Load = Marshal.GetFunctionPointerForDelegate(LoadFn);
            s.Store = Marshal.GetFunctionPointerForDelegate(SaveFn);
            s.Remove = Marshal.GetFunctionPointerForDelegate(RemoveFn);
            if (locking)
            {
                s.Lock = Marshal.GetFunctionPointerForDelegate(LockFn);
                s.Unlock = Marshal.GetFunctionPointerForDelegate(UnlockFn);
            }
            return s;
        }

        // Each callback runs on x8's threads: an exception must not unwind into native code (that aborts the
        // process), so it becomes a failure code, which x8 counts and logs.
        private static int Guard(IntPtr userData, Func<IX8TokenStore, int> call)
        {
            try
            {
                IX8TokenStore store;
                return Stores.TryGetValue(userData.ToInt64(), out store) ? call(store) : Failed;
            }
            catch (Exception)
            {
                return Failed;
            }
        }

        private static int LoadRecord(IntPtr userData, IntPtr key, IntPtr buf, UIntPtr bufLen, out UIntPtr recordLen)
        {
            var length = UIntPtr.Zero;
            var rc = Guard(userData, store =>
            {
                var record = store.Load(Utf8.Decode(key));
                if (record == null)
                    return NotFound;
                var bytes = Encoding.UTF8.GetBytes(record);
                length = new UIntPtr((uint)bytes.Length);
                if ((ulong)bytes.Length > bufLen.ToUInt64())
                    return BufferTooSmall;
                Marshal.Copy(bytes, 0, buf, bytes.Length);
                Array.Clear(bytes, 0, bytes.Length); // the record holds a token
                return Ok;
            });
            recordLen = length;
            return rc;
        }

        private static int SaveRecord(IntPtr userData, IntPtr key, IntPtr record, long ttlMs)
        {
            return Guard(userData, store =>
            {
                store.Store(Utf8.Decode(key), Utf8.Decode(record), TimeSpan.FromMilliseconds(ttlMs));
                return Ok;
            });
        }

        private static int TakeLock(IntPtr userData, IntPtr key, long ttlMs)
        {
            return Guard(userData, store =>
                ((IX8TokenStoreLock)store).TryLock(Utf8.Decode(key), TimeSpan.FromMilliseconds(ttlMs)) ? Ok : Busy);
        }

        private static int ReleaseLock(IntPtr userData, IntPtr key)
        {
            return Guard(userData, store =>
            {
                ((IX8TokenStoreLock)store).Unlock(Utf8.Decode(key));
                return Ok;
            });
        }

        private static int RemoveRecord(IntPtr userData, IntPtr key, IntPtr record)
        {
            return Guard(userData, store =>
            {
                store.Remove(Utf8.Decode(key), Utf8.Decode(record));
                return Ok;
            });
        }
    }
}
