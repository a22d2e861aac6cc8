// The write and read callbacks of a streamed x8_request: static delegates (alive for the process, so their
// function pointers never dangle), each call finding its streams through a GCHandle passed as the user pointer.
// An exception thrown by a stream is caught here (it must not unwind through libx8's Rust frames), kept, and
// stops the transfer; SendStreamed and FetchUrlTo rethrow it as the InnerException of the Aborted X8Exception.
// A download also gets the head callback, which lets only a 2xx body reach the caller's Stream: any other
// status's body is held in the response (X8Response.Body), so an error body never lands in a file being written.

using System;
using System.IO;
using System.Runtime.InteropServices;

namespace X8
{
    internal sealed class StreamedBody : IDisposable
    {
        private const int Stop = 1;
        private const int ChunkSize = 64 * 1024;

        // X8_HEAD_STREAM and X8_HEAD_HOLD: what the head callback answers (tests/parity/parity.py checks them).
        internal const int HeadStream = 0;
        internal const int HeadHold = 1;

        private static readonly NativeMethods.HeadCallback HeadThunk = OnHead;
        private static readonly IntPtr HeadPointer = Marshal.GetFunctionPointerForDelegate(HeadThunk);
        private static readonly NativeMethods.WriteCallback WriteThunk = OnWrite;
        private static readonly NativeMethods.ReadCallback ReadThunk = OnRead;
        private static readonly IntPtr WritePointer = Marshal.GetFunctionPointerForDelegate(WriteThunk);
        private static readonly IntPtr ReadPointer = Marshal.GetFunctionPointerForDelegate(ReadThunk);

        private readonly Stream upload;
        private readonly Stream download;
        private readonly byte[] buffer = new byte[ChunkSize];
        private GCHandle self;

        internal StreamedBody(Stream upload, Stream download)
        {
            if (upload != null && !upload.CanRead)
                throw new ArgumentException("the request body stream cannot be read", "requestBody");
            if (download != null && !download.CanWrite)
                throw new ArgumentException("the response body stream cannot be written", "responseBody");
            this.upload = upload;
            this.download = download;
            self = GCHandle.Alloc(this);
        }

        /// <summary>The first exception a stream threw, if any.</summary>
        internal Exception Error { get; private set; }

        internal void Attach(ref NativeMethods.RequestOpts opts)
        {
            var user = GCHandle.ToIntPtr(self);
            if (download != null)
            {
                opts.Write = WritePointer;
                opts.WriteUser = user;
                opts.Head = HeadPointer;
            }
            if (upload != null)
            {
                opts.Read = ReadPointer;
                opts.ReadUser = user;
                if (upload.CanSeek)
                    opts.UploadLen = (ulong)Math.Max(0, upload.Length - upload.Position);
            }
        }

        /// <summary>Errors.Check for the streamed call, the stream's own exception, if it threw, as the
        /// InnerException.</summary>
        internal void Check(X8Status status, IntPtr err)
        {
            try
            {
                Errors.Check(status, err);
            }
            catch (X8Exception e)
            {
                if (Error != null)
                    throw new X8Exception(e.Status, e.Message, e.HttpStatus, Error);
                throw;
            }
        }

        private static StreamedBody Of(IntPtr user)
        {
            return (StreamedBody)GCHandle.FromIntPtr(user).Target;
        }

        private static int OnHead(IntPtr user, IntPtr head)
        {
            var status = NativeMethods.x8_response_status(head);
            return status >= 200 && status < 300 ? HeadStream : HeadHold;
        }

        private static int OnWrite(IntPtr user, IntPtr data, UIntPtr len)
        {
            var body = Of(user);
            try
            {
                var left = (long)len.ToUInt64();
                long offset = 0;
                while (left > 0)
                {
                    var n = (int)Math.Min(left, body.buffer.Length);
                    Marshal.Copy(new IntPtr(data.ToInt64() + offset), body.buffer, 0, n);
                    body.download.Write(body.buffer, 0, n);
                    offset += n;
                    left -= n;
                }
                return 0;
            }
            catch (Exception e)
            {
                body.Error = body.Error ?? e;
                return Stop;
            }
        }

        private static int OnRead(IntPtr user, IntPtr buf, UIntPtr cap, out UIntPtr len)
        {
            len = UIntPtr.Zero;
            var body = Of(user);
            try
            {
                var n = body.upload.Read(body.buffer, 0, (int)Math.Min(cap.ToUInt64(), (ulong)body.buffer.Length));
                if (n > 0)
                    Marshal.Copy(body.buffer, 0, buf, n);
                len = new UIntPtr((uint)n);
                return 0;
            }
            catch (Exception e)
            {
                body.Error = body.Error ?? e;
                return Stop;
            }
        }

        public void Dispose()
        {
            if (self.IsAllocated)
                self.Free();
        }
    }
}
