// Explicit UTF-8 conversion at the native boundary. Done by hand rather than with marshalling attributes because
// UnmanagedType.LPUTF8Str does not exist on netstandard2.0 and Marshal.PtrToStringUTF8 is missing there too.

using System;
using System.Runtime.InteropServices;
using System.Text;

namespace X8
{
    internal static class Utf8
    {
        // Throws on unpaired surrogates instead of silently sending U+FFFD to the server.
        private static readonly UTF8Encoding Strict = new UTF8Encoding(false, true);

        /// <summary>
        /// <paramref name="text"/> as NUL-terminated UTF-8. A NUL inside the text would silently cut it short
        /// in C, so it is refused the way x8 refuses a CR/LF: X8Status.InvalidArgument.
        /// </summary>
        internal static byte[] Encode(string text, string paramName)
        {
            if (text == null)
                throw new ArgumentNullException(paramName);
            if (text.IndexOf('\0') >= 0)
                throw new X8Exception(X8Status.InvalidArgument, paramName + " contains a NUL character", 0);
            byte[] bytes;
            try
            {
                bytes = new byte[Strict.GetByteCount(text) + 1];
            }
            catch (EncoderFallbackException)
            {
                throw new X8Exception(X8Status.InvalidArgument, paramName + " is not valid Unicode text", 0);
            }
            Strict.GetBytes(text, 0, text.Length, bytes, 0);
            return bytes; // the last byte stays 0: the terminator
        }

        /// <summary>Like Encode, but null stays null (for optional arguments).</summary>
        internal static byte[] EncodeOptional(string text, string paramName)
        {
            return text == null ? null : Encode(text, paramName);
        }

        /// <summary>Copies a NUL-terminated UTF-8 string owned by x8; null for a NULL pointer.</summary>
        internal static string Decode(IntPtr text)
        {
            if (text == IntPtr.Zero)
                return null;
            int length = 0;
            while (Marshal.ReadByte(text, length) != 0)
                length++;
            return Decode(text, length);
        }

        /// <summary>Copies <paramref name="length"/> UTF-8 bytes owned by x8.</summary>
        internal static string Decode(IntPtr text, int length)
        {
            if (length == 0)
                return string.Empty;
            var bytes = new byte[length];
            Marshal.Copy(text, bytes, 0, length);
            return Encoding.UTF8.GetString(bytes);
        }
    }
}
