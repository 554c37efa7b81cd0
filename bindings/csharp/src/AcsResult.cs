namespace AcsChat
{
    /// <summary>Outcome of a library call: the values of the C <c>acs_result</c> codes, never renumbered.</summary>
    public enum AcsResult : uint
    {
        /// <summary>Success (<c>ACS_RESULT_OK</c>).</summary>
        Ok = 0,
        /// <summary>A required pointer was NULL (<c>ACS_RESULT_NULL_PARAMETER</c>).</summary>
        NullParameter = 1,
        /// <summary>Invalid UTF-8, an empty id or content, a bad endpoint URL or a bad option value (<c>ACS_RESULT_INVALID_ARGUMENT</c>).</summary>
        InvalidArgument = 2,
        /// <summary><c>http://</c> to a host that is not loopback without <see cref="ChatClientOptions.AllowInsecureHttp"/> (<c>ACS_RESULT_INSECURE_ENDPOINT</c>).</summary>
        InsecureEndpoint = 3,
        /// <summary>The service answered 401 (<c>ACS_RESULT_UNAUTHORIZED</c>).</summary>
        Unauthorized = 10,
        /// <summary>The service answered 403 (<c>ACS_RESULT_FORBIDDEN</c>).</summary>
        Forbidden = 11,
        /// <summary>The service answered 404 (<c>ACS_RESULT_NOT_FOUND</c>).</summary>
        NotFound = 12,
        /// <summary>The service answered 400 or another 4xx not listed here (<c>ACS_RESULT_BAD_REQUEST</c>).</summary>
        BadRequest = 13,
        /// <summary>The service answered 429 and the retries are spent (<c>ACS_RESULT_THROTTLED</c>).</summary>
        Throttled = 14,
        /// <summary>The service answered 5xx and the retries are spent (<c>ACS_RESULT_SERVICE_ERROR</c>).</summary>
        ServiceError = 15,
        /// <summary>The service was never reached (DNS, refused, TLS handshake): certainly not delivered (<c>ACS_RESULT_CONNECT</c>).</summary>
        Connect = 20,
        /// <summary>No answer in time: the request may have been delivered (<c>ACS_RESULT_TIMEOUT</c>).</summary>
        Timeout = 21,
        /// <summary>The connection broke after the request was written: it may have been delivered (<c>ACS_RESULT_IO</c>).</summary>
        Io = 22,
        /// <summary>An answer the library cannot use: 2xx without a message id, a redirect, an oversized body (<c>ACS_RESULT_PROTOCOL</c>).</summary>
        Protocol = 23,
        /// <summary>The token is not a JWT, or the refresher failed or returned an expired token (<c>ACS_RESULT_TOKEN</c>).</summary>
        Token = 24,
        /// <summary>
        /// The call was cancelled through its <see cref="System.Threading.CancellationToken"/> (<c>ACS_RESULT_CANCELLED</c>).
        /// The <c>...Async</c> methods report it as <see cref="AcsChatCanceledException"/>, whose
        /// <see cref="AcsChatCanceledException.MayHaveBeenDelivered"/> says whether a message could still have arrived.
        /// </summary>
        Cancelled = 25,
        /// <summary>A panic was caught inside the native library (<c>ACS_RESULT_PANIC</c>).</summary>
        Panic = 90,
        /// <summary>A bug in the native library (<c>ACS_RESULT_INTERNAL</c>).</summary>
        Internal = 91,
    }
}
