using System;

namespace AcsChat
{
    /// <summary>Builds the <see cref="Response"/> of a successful call from what the library reports.</summary>
    internal static class CallDetails
    {
        /// <summary>Status of a sent message when the library does not report it.</summary>
        internal const int MessageCreated = 201;

        /// <summary>Status of a typing notification or read receipt when the library does not report it.</summary>
        internal const int Ok = 200;

        /// <summary>
        /// The answer to this thread's last blocking call, which succeeded (<c>acs_last_call_http_status</c>,
        /// <c>acs_last_call_request_id</c>); must run on the calling thread right after it, before any other
        /// library call.
        /// </summary>
        internal static Response LastCall(int fallbackStatus)
        {
            int status = NativeMethods.acs_last_call_http_status();
            string requestId = ReadBuffer((buf, len) => NativeMethods.acs_last_call_request_id(buf, len));
            return new Response(status == 0 ? fallbackStatus : status, string.IsNullOrEmpty(requestId) ? null : requestId);
        }

        /// <summary>The answer to a successful asynchronous call; must run inside its completion callback.</summary>
        internal static Response FromCompletion(IntPtr completion, int fallbackStatus)
        {
            int status = NativeMethods.acs_completion_http_status(completion);
            string requestId = ReadBuffer((buf, len) => NativeMethods.acs_completion_request_id(completion, buf, len));
            return new Response(status == 0 ? fallbackStatus : status, string.IsNullOrEmpty(requestId) ? null : requestId);
        }

        private static string ReadBuffer(Func<byte[], UIntPtr, UIntPtr> reader)
        {
            byte[] buffer = new byte[128];
            ulong full = reader(buffer, (UIntPtr)buffer.Length).ToUInt64();
            if (full >= (ulong)buffer.Length && full < int.MaxValue)
            {
                buffer = new byte[full + 1];
                full = reader(buffer, (UIntPtr)buffer.Length).ToUInt64();
            }
            int length = (int)Math.Min(full, (ulong)buffer.Length - 1);
            return Utf8.Decode(buffer, length);
        }
    }
}
