using System;
using System.Diagnostics.CodeAnalysis;

namespace AcsChat
{
    /// <summary>
    /// A failed call to the chat service or to the native library. The message is the library's
    /// one-line description; it never contains the access token.
    /// </summary>
    public class AcsChatException : Exception
    {
        /// <summary>Creates an exception with the given details.</summary>
        /// <param name="result">The library's result code.</param>
        /// <param name="message">One-line description.</param>
        /// <param name="status">HTTP status of the service's answer, 0 when there was none.</param>
        /// <param name="errorCode">The service's error code (such as <c>TooManyRequests</c>), or null.</param>
        /// <param name="requestId">The request id (<c>MS-CV</c>, <c>x-ms-request-id</c>, or the client request id), or null.</param>
        /// <param name="retryAfter">The delay the service asked for, or null.</param>
        /// <param name="innerException">The exception that caused this one, or null.</param>
        public AcsChatException(AcsResult result, string message, int status = 0, [AllowNull] string errorCode = null,
            [AllowNull] string requestId = null, TimeSpan? retryAfter = null, [AllowNull] Exception innerException = null)
            : base(message, innerException)
        {
            Result = result;
            Status = status;
            ErrorCode = errorCode;
            RequestId = requestId;
            RetryAfter = retryAfter;
        }

        /// <summary>The library's result code, with the values of the C <c>acs_result</c>.</summary>
        public AcsResult Result { get; }

        /// <summary>HTTP status of the service's last answer; 0 when no HTTP answer was received.</summary>
        public int Status { get; }

        /// <summary>The service's error code from the error body (for example <c>Unauthorized</c>, <c>TooManyRequests</c>); null when there was none.</summary>
        [MaybeNull]
        public string ErrorCode { get; }

        /// <summary>
        /// The id to quote to support: the service's <c>MS-CV</c> or <c>x-ms-request-id</c>, else the
        /// <c>x-ms-client-request-id</c> the library sent; null when no request was made.
        /// </summary>
        [MaybeNull]
        public string RequestId { get; }

        /// <summary>The delay the service asked for (<c>retry-after-ms</c>, <c>x-ms-retry-after-ms</c> or <c>Retry-After</c>); null when none.</summary>
        public TimeSpan? RetryAfter { get; }

        /// <summary>
        /// True when the operation may have reached the service although it failed: a timeout
        /// (<see cref="AcsResult.Timeout"/>), a connection broken after the request was written
        /// (<see cref="AcsResult.Io"/>) or an unusable answer (<see cref="AcsResult.Protocol"/>).
        /// Resending a message in these cases can post it twice. False when the request certainly did
        /// not take effect or the service rejected it.
        /// </summary>
        public bool MayHaveBeenDelivered
        {
            get { return Result == AcsResult.Timeout || Result == AcsResult.Io || Result == AcsResult.Protocol; }
        }

        /// <summary>Reads this thread's last-error details right after a failed call returned <paramref name="result"/>.</summary>
        internal static AcsChatException FromLastError(AcsResult result, [AllowNull] Exception innerException)
        {
            string message = ReadBuffer(NativeMethods.acs_last_error_message);
            int status = NativeMethods.acs_last_error_http_status();
            string code = ReadBuffer(NativeMethods.acs_last_error_code);
            string requestId = ReadBuffer(NativeMethods.acs_last_error_request_id);
            ulong retryAfterMs = NativeMethods.acs_last_error_retry_after_ms();
            if (string.IsNullOrEmpty(message))
            {
                message = Utf8.Decode(NativeMethods.acs_result_str(result)) ?? result.ToString();
            }
            TimeSpan? retryAfter = null;
            if (retryAfterMs > 0)
            {
                retryAfter = TimeSpan.FromMilliseconds(Math.Min(retryAfterMs, (ulong)TimeSpan.MaxValue.TotalMilliseconds - 1));
            }
            return new AcsChatException(result, message, status,
                string.IsNullOrEmpty(code) ? null : code,
                string.IsNullOrEmpty(requestId) ? null : requestId,
                retryAfter, innerException);
        }

        private delegate UIntPtr BufferReader(byte[] buf, UIntPtr len);

        private static string ReadBuffer(BufferReader reader)
        {
            byte[] buffer = new byte[256];
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
