// A CancellationToken carried into one native call: an x8_cancel that the token's registration triggers, so a
// call blocked in libx8 (a request on the network, a wait for the token fetch) returns X8_STATUS_CANCELLED
// promptly instead of running to its timeout. A P/Invoke call cannot be interrupted; libx8 can be asked to stop.

using System;
using System.Threading;

namespace X8
{
    internal sealed class NativeCancellation : IDisposable
    {
        private readonly CancellationToken token;
        private readonly CancellationTokenRegistration registration;

        /// <summary>For one call under <paramref name="token"/>: no native handle at all for a token that can never
        /// be cancelled (CancellationToken.None), so the common call costs nothing extra.</summary>
        internal NativeCancellation(CancellationToken token)
        {
            this.token = token;
            Handle = token.CanBeCanceled ? NativeMethods.x8_cancel_new() : null;
            if (Handle != null)
                // Runs at once, on this thread, when the token is cancelled already: the call then fails at once.
                registration = token.Register(Trigger);
        }

        /// <summary>The x8_cancel, or null for a token that can never be cancelled.</summary>
        private X8CancelHandle Handle { get; set; }

        /// <summary>The x8_cancel to pass (IntPtr.Zero, NULL to x8, when not cancellable); valid until Dispose, which
        /// comes only after the call returned.</summary>
        internal IntPtr Pointer
        {
            get { return Handle != null ? Handle.DangerousGetHandle() : IntPtr.Zero; }
        }

        private void Trigger()
        {
            NativeMethods.x8_cancel_trigger(Handle);
        }

        /// <summary>Throws OperationCanceledException for this token when x8 reported the call cancelled, so that a
        /// task running the call ends Canceled, as .NET code expects of a cancelled operation.</summary>
        internal void Check(X8Status status, IntPtr err)
        {
            try
            {
                Errors.Check(status, err);
            }
            catch (X8Exception e)
            {
                if (e.Status == X8Status.Cancelled)
                    throw new OperationCanceledException(e.Message, e, token);
                throw;
            }
        }

        public void Dispose()
        {
            // Dispose of the registration waits for a trigger running on another thread, so the handle is never
            // freed under it.
            registration.Dispose();
            if (Handle != null)
                Handle.Dispose();
        }
    }
}
