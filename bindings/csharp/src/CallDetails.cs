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
            string requestId = Utf8.ReadBuffer(NativeMethods.acs_last_call_request_id);
            return new Response(status == 0 ? fallbackStatus : status, string.IsNullOrEmpty(requestId) ? null : requestId);
        }

        /// <summary>The answer to a successful asynchronous call; must run inside its completion callback.</summary>
        internal static Response FromCompletion(IntPtr completion, int fallbackStatus)
        {
            int status = NativeMethods.acs_completion_http_status(completion);
            string requestId = Utf8.ReadBuffer((buf, len) => NativeMethods.acs_completion_request_id(completion, buf, len));
            return new Response(status == 0 ? fallbackStatus : status, string.IsNullOrEmpty(requestId) ? null : requestId);
        }
    }
}
