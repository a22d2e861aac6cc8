// Every entry point of libx8 this binding calls, declared in one place (see include/x8.h for the contract of each).
//
// Marshalling rules used throughout, so that nothing depends on the runtime's string marshaller:
//   - Text goes in as a NUL-terminated UTF-8 byte[] built by Utf8.Encode (the marshaller pins it, no copy).
//   - Text comes out as an IntPtr into memory owned by x8 and is decoded by Utf8.Decode. No return type is
//     `string`: the marshaller would free a returned char* with the wrong allocator.
//   - Handles the caller owns come back as SafeHandle subclasses, so they are released exactly once even when
//     the program forgets Dispose, and a handle in use by a call cannot be freed under it (the marshaller holds
//     a reference on every SafeHandle argument for the duration of the call).
//   - `x8_error **` is an `out IntPtr`: almost every call succeeds, and a SafeHandle (a finalizable object) per
//     successful call would cost more than the call itself on the token fast path. Errors.Check wraps a non-NULL
//     pointer in an X8ErrorHandle at once.
//   - size_t is UIntPtr; C `bool` is one byte (UnmanagedType.U1).
//   - An optional `const x8_cancel *` is an IntPtr (a null SafeHandle cannot be marshalled): NativeCancellation
//     owns the handle and outlives the call it is passed to.

using System;
using System.Runtime.InteropServices;

namespace X8
{
    internal static partial class NativeMethods
    {
        // The file name is resolved by the runtime: "x8" becomes libx8.so on Linux, libx8.dylib on macOS and
        // x8.dll on Windows, looked up in the app's directory, runtimes/<rid>/native/ (NuGet) and the system's
        // library path (LD_LIBRARY_PATH). See README.md.
        internal const string Library = "x8";

        // X8_TOKEN_BUFFER_SIZE: a buffer this large always holds a token and its NUL.
        internal const int TokenBufferSize = 4096;

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate void LogCallback(IntPtr userData, int level, IntPtr message);

        // x8_stats: a size field first, then counters; x8 fills only the fields that fit in `Size`.
        [StructLayout(LayoutKind.Sequential)]
        internal struct Stats
        {
            public UIntPtr Size;
            public ulong CacheHits;
            public ulong TokenFetches;
            public ulong BackgroundRefreshes;
            public ulong FetchRetries;
            public ulong ReplaysAfter401;
            public ulong FailuresAuth;
            public ulong FailuresServer;
            public ulong FailuresNetwork;
            public ulong FailuresProtocol;
            public ulong Requests;
            public long TokenSecondsLeft;
            public ulong StoreHits;
            public ulong StoreErrors;
            public ulong ApiRetries;
            public ulong RateLimitWaits;
        }

        // x8_request_opts: a size field first; the header lines and the body are pinned for the call.
        [StructLayout(LayoutKind.Sequential)]
        internal struct RequestOpts
        {
            public UIntPtr Size;
            public IntPtr Headers;
            public UIntPtr HeaderCount;
            public IntPtr Body;
            public UIntPtr BodyLen;
            public uint TimeoutMs;
            public IntPtr Cancel;
            public IntPtr Write;
            public IntPtr WriteUser;
            public IntPtr Read;
            public IntPtr ReadUser;
            public ulong UploadLen;
            public IntPtr Head;
            public IntPtr HeadUser;
        }

        // x8_request_opts' body callbacks (see StreamedBody.cs); the function pointers come from static delegates.
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int WriteCallback(IntPtr user, IntPtr data, UIntPtr len);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int ReadCallback(IntPtr user, IntPtr buf, UIntPtr cap, out UIntPtr len);

        // x8_request_opts.head: sees the reply's status and headers (a borrowed x8_response) before the body.
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int HeadCallback(IntPtr user, IntPtr head);

        // x8_token_store and its callbacks (see X8TokenStore.cs); the function pointers come from static delegates.
        [StructLayout(LayoutKind.Sequential)]
        internal struct TokenStore
        {
            public UIntPtr Size;
            public IntPtr UserData;
            public IntPtr Load;
            public IntPtr Store;
            public IntPtr Lock;
            public IntPtr Unlock;
            public IntPtr Remove;
        }

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int StoreLoadCallback(IntPtr userData, IntPtr key, IntPtr buf, UIntPtr bufLen, out UIntPtr recordLen);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int StoreSaveCallback(IntPtr userData, IntPtr key, IntPtr record, long ttlMs);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int StoreLockCallback(IntPtr userData, IntPtr key, long ttlMs);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int StoreUnlockCallback(IntPtr userData, IntPtr key);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        internal delegate int StoreRemoveCallback(IntPtr userData, IntPtr key, IntPtr record);

        // ---- errors and version ----

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_error_code(IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr x8_error_message(IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern ushort x8_error_http_status(IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void x8_error_free(IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr x8_status_str(int status);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr x8_version();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern uint x8_version_num();

        // ---- options ----

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8OptionsHandle x8_options_new();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void x8_options_free(IntPtr opts);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_base_url(X8OptionsHandle opts, byte[] url, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_token_url(X8OptionsHandle opts, byte[] url, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_connect_timeout_ms(X8OptionsHandle opts, uint ms, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_timeout_ms(X8OptionsHandle opts, uint ms, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_refresh_margin_ms(X8OptionsHandle opts, uint ms, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_user_agent(X8OptionsHandle opts, byte[] userAgent, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_ca_file(X8OptionsHandle opts, byte[] path, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_ca_mode(X8OptionsHandle opts, int mode, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_tls_roots(X8OptionsHandle opts, int roots, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_client_auth(X8OptionsHandle opts, int style, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_token_scope(X8OptionsHandle opts, byte[] scope, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_add_token_param(X8OptionsHandle opts, byte[] name, byte[] value, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_add_default_header(X8OptionsHandle opts, byte[] name, byte[] value, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_api_retries(X8OptionsHandle opts, uint maxRetries, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_rate_limit(X8OptionsHandle opts, uint requests, uint intervalMs, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_client_count_replay(X8ClientHandle client, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_proxy(X8OptionsHandle opts, byte[] proxyUrl, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_max_body_bytes(X8OptionsHandle opts, ulong bytes, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_retries(
            X8OptionsHandle opts, uint maxRetries, uint baseDelayMs, uint maxDelayMs, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_replay_on_401(
            X8OptionsHandle opts, [MarshalAs(UnmanagedType.U1)] bool enabled, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_token_cache(X8OptionsHandle opts, byte[] dir, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_redis_store(X8OptionsHandle opts, byte[] url, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_token_store(X8OptionsHandle opts, ref TokenStore store, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_options_set_log_callback(
            X8OptionsHandle opts, LogCallback callback, IntPtr userData, int maxLevel, out IntPtr err);

        // ---- client ----

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_client_new(
            byte[] clientId, byte[] secret, X8OptionsHandle opts, out X8ClientHandle client, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_client_new_from_env(
            X8OptionsHandle opts, out X8ClientHandle client, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void x8_client_free(IntPtr client);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_get_token(
            X8ClientHandle client, [Out] byte[] buf, UIntPtr bufLen, out UIntPtr tokenLen, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_get_token_ex(
            X8ClientHandle client, uint timeoutMs, IntPtr cancel, [Out] byte[] buf, UIntPtr bufLen,
            out UIntPtr tokenLen, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_client_invalidate(X8ClientHandle client, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_client_invalidate_token(
            X8ClientHandle client, byte[] rejected, [MarshalAs(UnmanagedType.U1)] out bool dropped, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_client_has_product(
            X8ClientHandle client, byte[] product, [MarshalAs(UnmanagedType.U1)] out bool has, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_client_stats(X8ClientHandle client, ref Stats stats, out IntPtr err);

        // ---- token snapshots ----

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_client_token(
            X8ClientHandle client, uint timeoutMs, out X8TokenHandle token, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_client_token_ex(
            X8ClientHandle client, uint timeoutMs, IntPtr cancel, out X8TokenHandle token, out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr x8_token_value(X8TokenHandle token);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr x8_token_type(X8TokenHandle token);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern long x8_token_expires_at_ms(X8TokenHandle token);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern ulong x8_token_lifetime_secs(X8TokenHandle token);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr x8_token_product_count(X8TokenHandle token);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr x8_token_product(X8TokenHandle token, UIntPtr index);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void x8_token_free(IntPtr token);

        // ---- cancellation ----

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8CancelHandle x8_cancel_new();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void x8_cancel_trigger(X8CancelHandle cancel);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void x8_cancel_free(IntPtr cancel);

        // ---- requests and responses ----

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern X8Status x8_request(
            X8ClientHandle client, byte[] method, byte[] path, ref RequestOpts opts, out X8ResponseHandle response,
            out IntPtr err);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern ushort x8_response_status(X8ResponseHandle response);

        // The same, for the borrowed response a head callback is given (not a handle the caller owns).
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern ushort x8_response_status(IntPtr response);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern IntPtr x8_response_body(X8ResponseHandle response, out UIntPtr len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern UIntPtr x8_response_header_count(X8ResponseHandle response);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        [return: MarshalAs(UnmanagedType.U1)]
        internal static extern bool x8_response_header_at(
            X8ResponseHandle response, UIntPtr index, out IntPtr name, out IntPtr value);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        internal static extern void x8_response_free(IntPtr response);
    }
}
