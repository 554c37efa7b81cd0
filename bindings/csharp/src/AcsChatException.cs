using System;
using System.Diagnostics.CodeAnalysis;

namespace AcsChat
{
    /// <summary>
    /// A failed call to the chat service or to the native library. The message is the library's
    /// one-line description; it never contains the access token. It derives from
    /// <see cref="RequestFailedException"/>, the official SDK's exception name, so
    /// <c>catch (RequestFailedException e)</c> catches it too (<see cref="RequestFailedException.Status"/>
    /// and <see cref="RequestFailedException.ErrorCode"/> are the same properties).
    /// </summary>
    public class AcsChatException : RequestFailedException
    {
        /// <summary>
        /// Creates an exception with the given details and <see cref="MayHaveBeenDelivered"/> false.
        /// </summary>
        /// <param name="result">The library's result code.</param>
        /// <param name="message">One-line description.</param>
        /// <param name="status">HTTP status of the service's answer, 0 when there was none.</param>
        /// <param name="errorCode">The service's error code (such as <c>TooManyRequests</c>), or null.</param>
        /// <param name="requestId">The request id (<c>MS-CV</c>, <c>x-ms-request-id</c>, or the client request id), or null.</param>
        /// <param name="retryAfter">The delay the service asked for, or null.</param>
        /// <param name="innerException">The exception that caused this one, or null.</param>
        public AcsChatException(AcsResult result, string message, int status = 0, [AllowNull] string errorCode = null,
            [AllowNull] string requestId = null, TimeSpan? retryAfter = null, [AllowNull] Exception innerException = null)
            : this(result, message, false, status, errorCode, requestId, retryAfter, innerException)
        {
        }

        /// <summary>Creates an exception with the given details, including the delivery verdict.</summary>
        /// <param name="result">The library's result code.</param>
        /// <param name="message">One-line description.</param>
        /// <param name="mayHaveBeenDelivered">Whether the request may have reached the service and taken effect; see <see cref="MayHaveBeenDelivered"/>.</param>
        /// <param name="status">HTTP status of the service's answer, 0 when there was none.</param>
        /// <param name="errorCode">The service's error code (such as <c>TooManyRequests</c>), or null.</param>
        /// <param name="requestId">The request id (<c>MS-CV</c>, <c>x-ms-request-id</c>, or the client request id), or null.</param>
        /// <param name="retryAfter">The delay the service asked for, or null.</param>
        /// <param name="innerException">The exception that caused this one, or null.</param>
        public AcsChatException(AcsResult result, string message, bool mayHaveBeenDelivered, int status = 0, [AllowNull] string errorCode = null,
            [AllowNull] string requestId = null, TimeSpan? retryAfter = null, [AllowNull] Exception innerException = null)
            : base(status, message, errorCode, innerException)
        {
            Result = result;
            MayHaveBeenDelivered = mayHaveBeenDelivered;
            RequestId = requestId;
            RetryAfter = retryAfter;
        }

        /// <summary>The library's result code, with the values of the C <c>acs_result</c>.</summary>
        public AcsResult Result { get; }

        /// <summary>
        /// The id to quote to support: the service's <c>MS-CV</c> or <c>x-ms-request-id</c>, else the
        /// <c>x-ms-client-request-id</c> the library sent; null when no request was made.
        /// </summary>
        [MaybeNull]
        public string RequestId { get; }

        /// <summary>The service's answer (status and <see cref="RequestId"/>); null when no HTTP answer was received.</summary>
        /// <returns>The answer, or null.</returns>
        [return: MaybeNull]
        public override Response GetRawResponse()
        {
            return Status == 0 ? null : new Response(Status, RequestId);
        }

        /// <summary>The delay the service asked for (<c>retry-after-ms</c>, <c>x-ms-retry-after-ms</c> or <c>Retry-After</c>); null when none.</summary>
        public TimeSpan? RetryAfter { get; }

        /// <summary>
        /// True when the request may have reached the service and taken effect although the call failed,
        /// so resending a message could post it twice: a timeout or a broken connection after the request
        /// was written, an unusable 2xx answer, a cancellation after the request was sent. False when it
        /// certainly did not take effect: the service answered with an error status, the connection never
        /// opened, the call was cancelled or timed out while it waited for a connection. The native library
        /// decides (<c>acs_last_error_may_have_been_delivered</c>, <c>acs_completion_may_have_been_delivered</c>);
        /// the same <see cref="Result"/> can come with either answer (a <see cref="AcsResult.Timeout"/> of the
        /// whole call, <see cref="ChatClientOptions.TotalTimeout"/>, is false while the request was queued).
        /// </summary>
        public bool MayHaveBeenDelivered { get; }

        /// <summary>Reads this thread's last-error details right after a failed call returned <paramref name="result"/>.</summary>
        internal static AcsChatException FromLastError(AcsResult result, [AllowNull] Exception innerException)
        {
            string message = Utf8.ReadBuffer(NativeMethods.acs_last_error_message);
            int status = NativeMethods.acs_last_error_http_status();
            string code = Utf8.ReadBuffer(NativeMethods.acs_last_error_code);
            string requestId = Utf8.ReadBuffer(NativeMethods.acs_last_error_request_id);
            ulong retryAfterMs = NativeMethods.acs_last_error_retry_after_ms();
            bool mayHaveBeenDelivered = NativeMethods.acs_last_error_may_have_been_delivered();
            return Create(result, message, mayHaveBeenDelivered, status, code, requestId, retryAfterMs, innerException);
        }

        /// <summary>
        /// Reads the details of a failed asynchronous call from its <c>acs_completion*</c>; must run inside
        /// the completion callback, the only time the completion is valid.
        /// </summary>
        internal static AcsChatException FromCompletion(IntPtr completion, AcsResult result, [AllowNull] Exception innerException)
        {
            string message = Utf8.ReadBuffer((buf, len) => NativeMethods.acs_completion_error_message(completion, buf, len));
            int status = NativeMethods.acs_completion_http_status(completion);
            string code = Utf8.ReadBuffer((buf, len) => NativeMethods.acs_completion_error_code(completion, buf, len));
            string requestId = Utf8.ReadBuffer((buf, len) => NativeMethods.acs_completion_request_id(completion, buf, len));
            ulong retryAfterMs = NativeMethods.acs_completion_retry_after_ms(completion);
            bool mayHaveBeenDelivered = NativeMethods.acs_completion_may_have_been_delivered(completion);
            return Create(result, message, mayHaveBeenDelivered, status, code, requestId, retryAfterMs, innerException);
        }

        private static AcsChatException Create(AcsResult result, string message, bool mayHaveBeenDelivered, int status,
            string code, string requestId, ulong retryAfterMs, Exception innerException)
        {
            if (string.IsNullOrEmpty(message))
            {
                message = Utf8.Decode(NativeMethods.acs_result_str(result)) ?? result.ToString();
            }
            TimeSpan? retryAfter = null;
            if (retryAfterMs > 0)
            {
                retryAfter = TimeSpan.FromMilliseconds(Math.Min(retryAfterMs, (ulong)TimeSpan.MaxValue.TotalMilliseconds - 1));
            }
            return new AcsChatException(result, message, mayHaveBeenDelivered, status,
                string.IsNullOrEmpty(code) ? null : code,
                string.IsNullOrEmpty(requestId) ? null : requestId,
                retryAfter, innerException);
        }
    }

    /// <summary>The one place that turns a failed <see cref="AcsResult"/> into an exception.</summary>
    internal static class Ensure
    {
        /// <summary>The exception a token refresher threw on this thread during the current call.</summary>
        [ThreadStatic]
        private static Exception refresherFailure;

        internal static void RecordRefresherFailure(Exception e)
        {
            refresherFailure = e;
        }

        /// <summary>Must run right before a call whose failure may come from the token refresher.</summary>
        internal static void BeginCall()
        {
            refresherFailure = null;
            RefreshContext.Blocking = true;
        }

        /// <summary>
        /// Throws for anything but <see cref="AcsResult.Ok"/>, reading the last-error details of this
        /// thread, so it must be called on the thread that made the call, before any other library call.
        /// Invalid arguments rejected by the library become <see cref="ArgumentException"/> (naming
        /// <paramref name="paramName"/>) with the details in an inner <see cref="AcsChatException"/>;
        /// everything else is an <see cref="AcsChatException"/>.
        /// </summary>
        internal static void Success(AcsResult result, [AllowNull] string paramName = null)
        {
            RefreshContext.Blocking = false;
            if (result == AcsResult.Ok)
            {
                refresherFailure = null;
                return;
            }
            Exception inner = refresherFailure;
            refresherFailure = null;
            AcsChatException error = AcsChatException.FromLastError(result, result == AcsResult.Token ? inner : null);
            if (result == AcsResult.InvalidArgument || result == AcsResult.NullParameter)
            {
                throw new ArgumentException(error.Message, paramName, error);
            }
            throw error;
        }
    }
}
