// The one exception type for failures reported by x8. Usage errors that .NET programmers expect as such
// (null arguments, out-of-range timeouts, a disposed client) keep their standard exception types.

using System;

namespace X8
{
    /// <summary>A failed x8 call: its <see cref="Status"/>, the HTTP status behind it (if a server answered) and
    /// x8's message, which says what happened and what to do and never contains the secret or a token.</summary>
    public class X8Exception : Exception
    {
        /// <summary>An exception for <paramref name="status"/>; x8 creates these, tests and wrappers may too.</summary>
        public X8Exception(X8Status status, string message, int httpStatus)
            : base(message)
        {
            Status = status;
            HttpStatus = httpStatus;
        }

        /// <summary>An exception for <paramref name="status"/> caused by <paramref name="inner"/> (e.g. the
        /// Stream of a streamed transfer that failed).</summary>
        public X8Exception(X8Status status, string message, int httpStatus, Exception inner)
            : base(message, inner)
        {
            Status = status;
            HttpStatus = httpStatus;
        }

        /// <summary>What kind of failure this is.</summary>
        public X8Status Status { get; private set; }

        /// <summary>The HTTP status behind the failure (e.g. 401 from the token endpoint); 0 when no server answered.</summary>
        public int HttpStatus { get; private set; }
    }

    internal static class Errors
    {
        /// <summary>
        /// Turns a call's status and `x8_error *` into an X8Exception, freeing the native error. Called right
        /// after every fallible call, before anything else can throw, so the error is never leaked.
        /// </summary>
        internal static void Check(X8Status status, IntPtr err)
        {
            if (status == X8Status.Ok && err == IntPtr.Zero)
                return;
            using (var handle = new X8ErrorHandle(err))
            {
                if (status == X8Status.Ok)
                    return; // x8 promises *err == NULL on success; free it anyway if that ever breaks
                if (handle.IsInvalid)
                    throw new X8Exception(status, Describe(status), 0);
                var message = Utf8.Decode(NativeMethods.x8_error_message(err));
                var httpStatus = NativeMethods.x8_error_http_status(err);
                throw new X8Exception(status, string.IsNullOrEmpty(message) ? Describe(status) : message, httpStatus);
            }
        }

        /// <summary>x8's static name for a status ("X8_STATUS_AUTH"), for failures that came without an error.</summary>
        internal static string Describe(X8Status status)
        {
            return Utf8.Decode(NativeMethods.x8_status_str((int)status));
        }
    }
}
