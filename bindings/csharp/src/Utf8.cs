using System;
using System.Runtime.InteropServices;
using System.Text;

namespace AcsChat
{
    /// <summary>
    /// Manual UTF-8 marshalling: netstandard2.0 has no UTF-8 string marshaller, and the library takes and
    /// returns NUL-terminated UTF-8 only.
    /// </summary>
    internal static class Utf8
    {
        private static readonly UTF8Encoding Strict = new UTF8Encoding(false, true);
        private static readonly UTF8Encoding Lenient = new UTF8Encoding(false, false);

        /// <summary>
        /// Encodes <paramref name="value"/> as NUL-terminated UTF-8; null gives null (passed as NULL).
        /// Throws <see cref="ArgumentException"/> naming <paramref name="paramName"/> when the string
        /// holds a NUL character (C would cut it there) or an unpaired surrogate.
        /// </summary>
        internal static byte[] Encode(string value, string paramName)
        {
            if (value == null)
            {
                return null;
            }
            if (value.IndexOf('\0') >= 0)
            {
                throw new ArgumentException("The string must not contain a NUL character.", paramName);
            }
            try
            {
                int count = Strict.GetByteCount(value);
                byte[] bytes = new byte[count + 1];
                Strict.GetBytes(value, 0, value.Length, bytes, 0);
                return bytes;
            }
            catch (EncoderFallbackException e)
            {
                throw new ArgumentException("The string is not valid Unicode (unpaired surrogate).", paramName, e);
            }
        }

        /// <summary>Decodes the NUL-terminated UTF-8 string at <paramref name="ptr"/>; NULL gives null.</summary>
        internal static string Decode(IntPtr ptr)
        {
            if (ptr == IntPtr.Zero)
            {
                return null;
            }
            int length = 0;
            while (Marshal.ReadByte(ptr, length) != 0)
            {
                length++;
            }
            if (length == 0)
            {
                return string.Empty;
            }
            byte[] bytes = new byte[length];
            Marshal.Copy(ptr, bytes, 0, length);
            return Lenient.GetString(bytes);
        }

        /// <summary>Decodes the first <paramref name="length"/> bytes of a buffer filled by the library.</summary>
        internal static string Decode(byte[] buffer, int length)
        {
            return Lenient.GetString(buffer, 0, length);
        }

        /// <summary>Decodes and frees a string the library allocated for the caller.</summary>
        internal static string TakeOwned(IntPtr ptr)
        {
            try
            {
                return Decode(ptr);
            }
            finally
            {
                NativeMethods.acs_string_free(ptr);
            }
        }

        /// <summary>
        /// A string the library copies into a caller's buffer (the <c>acs_last_error_*</c>,
        /// <c>acs_completion_*</c> and <c>acs_last_call_request_id</c> shape: at most <c>len - 1</c> bytes and a
        /// NUL, returning the full length): read with a buffer of 256 bytes, again with one of the full length
        /// when that was too small.
        /// </summary>
        internal static string ReadBuffer(Func<byte[], UIntPtr, UIntPtr> reader)
        {
            byte[] buffer = new byte[256];
            ulong full = reader(buffer, (UIntPtr)buffer.Length).ToUInt64();
            if (full >= (ulong)buffer.Length && full < int.MaxValue)
            {
                buffer = new byte[full + 1];
                full = reader(buffer, (UIntPtr)buffer.Length).ToUInt64();
            }
            int length = (int)Math.Min(full, (ulong)buffer.Length - 1);
            return Decode(buffer, length);
        }
    }
}
