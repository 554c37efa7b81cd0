using System;
using System.Diagnostics.CodeAnalysis;

namespace AcsChat
{
    /// <summary>
    /// A failed request, with the names of <c>Azure.RequestFailedException</c> (<see cref="Status"/>,
    /// <see cref="ErrorCode"/>), so that <c>catch (RequestFailedException)</c> written for the official SDK
    /// works. Every failure of this library is an <see cref="AcsChatException"/>, which derives from it and
    /// adds the library's details.
    /// </summary>
    public class RequestFailedException : Exception
    {
        /// <summary>Creates an exception with no HTTP status.</summary>
        /// <param name="message">One-line description.</param>
        public RequestFailedException(string message)
            : this(0, message, null, null)
        {
        }

        /// <summary>Creates an exception with no HTTP status.</summary>
        /// <param name="message">One-line description.</param>
        /// <param name="innerException">The exception that caused this one, or null.</param>
        public RequestFailedException(string message, [AllowNull] Exception innerException)
            : this(0, message, null, innerException)
        {
        }

        /// <summary>Creates an exception for an answer with status <paramref name="status"/>.</summary>
        /// <param name="status">HTTP status, 0 when there was no answer.</param>
        /// <param name="message">One-line description.</param>
        public RequestFailedException(int status, string message)
            : this(status, message, null, null)
        {
        }

        /// <summary>Creates an exception for an answer with status <paramref name="status"/>.</summary>
        /// <param name="status">HTTP status, 0 when there was no answer.</param>
        /// <param name="message">One-line description.</param>
        /// <param name="innerException">The exception that caused this one, or null.</param>
        public RequestFailedException(int status, string message, [AllowNull] Exception innerException)
            : this(status, message, null, innerException)
        {
        }

        /// <summary>Creates an exception for an answer with status <paramref name="status"/> and the service's error code.</summary>
        /// <param name="status">HTTP status, 0 when there was no answer.</param>
        /// <param name="message">One-line description.</param>
        /// <param name="errorCode">The service's error code (such as <c>TooManyRequests</c>), or null.</param>
        /// <param name="innerException">The exception that caused this one, or null.</param>
        public RequestFailedException(int status, string message, [AllowNull] string errorCode, [AllowNull] Exception innerException)
            : base(message, innerException)
        {
            Status = status;
            ErrorCode = errorCode;
        }

        /// <summary>HTTP status of the service's last answer; 0 when no HTTP answer was received.</summary>
        public int Status { get; }

        /// <summary>The service's error code from the error body (for example <c>Unauthorized</c>, <c>TooManyRequests</c>); null when there was none.</summary>
        [MaybeNull]
        public string ErrorCode { get; }

        /// <summary>
        /// The service's answer, as far as the library reports it (status and request id); null when no
        /// HTTP answer was received.
        /// </summary>
        /// <returns>The answer, or null.</returns>
        [return: MaybeNull]
        public virtual Response GetRawResponse()
        {
            return Status == 0 ? null : new Response(Status, null);
        }
    }
}
