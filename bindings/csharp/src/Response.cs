using System;
using System.Diagnostics.CodeAnalysis;

namespace AcsChat
{
    /// <summary>
    /// The service's answer to a call, with the names of <c>Azure.Response</c> from Azure.Core, for code
    /// written against the official SDK. It carries what the native library reports about the answer: the
    /// HTTP status and the request id. The answer's body and headers are not kept.
    /// </summary>
    public class Response
    {
        /// <summary>Creates a response with the given status and request id.</summary>
        /// <param name="status">The HTTP status; 0 when not known.</param>
        /// <param name="requestId">The request id (<c>MS-CV</c>, <c>x-ms-request-id</c>, else the client request id), or null.</param>
        public Response(int status, [AllowNull] string requestId)
        {
            Status = status;
            Headers = new ResponseHeaders(requestId);
        }

        /// <summary>
        /// The HTTP status of the service's answer (201 for a message, 200 for a typing notification or a read
        /// receipt). With a native library that does not report the status of successful calls, the status the
        /// service documents for the operation. 0 for a response made by hand without one.
        /// </summary>
        public int Status { get; }

        /// <summary>The HTTP reason phrase for <see cref="Status"/>, such as <c>Created</c>; empty when unknown.</summary>
        public string ReasonPhrase
        {
            get
            {
                switch (Status)
                {
                    case 200: return "OK";
                    case 201: return "Created";
                    case 202: return "Accepted";
                    case 204: return "No Content";
                    default: return string.Empty;
                }
            }
        }

        /// <summary>
        /// The id to quote to support (as in <see cref="AcsChatException.RequestId"/>): the service's
        /// <c>MS-CV</c> or <c>x-ms-request-id</c>, else the <c>x-ms-client-request-id</c> the library sent;
        /// null when the library did not report one. The same value as <see cref="ResponseHeaders.RequestId"/>.
        /// </summary>
        [MaybeNull]
        public string ClientRequestId
        {
            get { return Headers.RequestId; }
        }

        /// <summary>The headers of the answer that the library reports: only the request id.</summary>
        public ResponseHeaders Headers { get; }

        /// <summary>True for a status of 400 or more; calls return responses only on success (failures throw), so false for those.</summary>
        public bool IsError
        {
            get { return Status >= 400; }
        }

        /// <summary>Wraps <paramref name="value"/> and <paramref name="response"/> in a <see cref="Response{T}"/>, as <c>Azure.Response.FromValue</c> does.</summary>
        /// <typeparam name="T">The type of the value.</typeparam>
        /// <param name="value">The value.</param>
        /// <param name="response">The raw response.</param>
        /// <returns>A response carrying the value.</returns>
        public static Response<T> FromValue<T>(T value, Response response)
        {
            return new Response<T>(value, response);
        }

        /// <summary>Describes the response: its status and request id.</summary>
        /// <returns>Such as <c>Status: 201, RequestId: abc</c>.</returns>
        public override string ToString()
        {
            return "Status: " + Status + ", RequestId: " + (Headers.RequestId ?? "");
        }
    }

    /// <summary>The headers of a <see cref="Response"/> that the library reports.</summary>
    public sealed class ResponseHeaders
    {
        internal ResponseHeaders([AllowNull] string requestId)
        {
            RequestId = requestId;
        }

        /// <summary>
        /// The request id of the answer: the service's <c>MS-CV</c> or <c>x-ms-request-id</c>, else the
        /// <c>x-ms-client-request-id</c> the library sent; null when the library did not report one.
        /// </summary>
        [MaybeNull]
        public string RequestId { get; }
    }

    /// <summary>
    /// A value with the answer it came from, with the names of <c>Azure.Response&lt;T&gt;</c>:
    /// <see cref="Value"/>, <see cref="GetRawResponse"/>, and an implicit conversion to <typeparamref name="T"/>.
    /// </summary>
    /// <typeparam name="T">The type of the value.</typeparam>
    public class Response<T>
    {
        private readonly Response raw;

        /// <summary>Creates a response carrying <paramref name="value"/>.</summary>
        /// <param name="value">The value.</param>
        /// <param name="rawResponse">The answer it came from.</param>
        public Response(T value, Response rawResponse)
        {
            if (rawResponse == null)
            {
                throw new ArgumentNullException("rawResponse");
            }
            Value = value;
            raw = rawResponse;
        }

        /// <summary>The value.</summary>
        public T Value { get; }

        /// <summary>True: the value is always present.</summary>
        public bool HasValue
        {
            get { return true; }
        }

        /// <summary>The answer the value came from.</summary>
        /// <returns>The raw response.</returns>
        public Response GetRawResponse()
        {
            return raw;
        }

        /// <summary>The value of <paramref name="response"/>, as <c>Azure.Response&lt;T&gt;</c> converts.</summary>
        /// <param name="response">The response.</param>
        public static implicit operator T(Response<T> response)
        {
            if (response == null)
            {
                throw new ArgumentNullException("response");
            }
            return response.Value;
        }

        /// <summary>Describes the response and its value.</summary>
        /// <returns>The raw response's description and the value.</returns>
        public override string ToString()
        {
            return raw + ", Value: " + Value;
        }
    }
}
