// Generated from include/acs_chat.h by bindings/gen_constants.py: do not edit.
namespace AcsChat
{
    /// <summary>The client options' defaults and limits of <c>include/acs_chat.h</c>.</summary>
    internal static class NativeConstants
    {
        /// <summary><c>ACS_DEFAULT_TIMEOUT_MS</c>.</summary>
        internal const uint DefaultTimeoutMs = 30000;
        /// <summary><c>ACS_DEFAULT_CONNECT_TIMEOUT_MS</c>.</summary>
        internal const uint DefaultConnectTimeoutMs = 10000;
        /// <summary><c>ACS_DEFAULT_MAX_RETRIES</c>.</summary>
        internal const uint DefaultMaxRetries = 3;
        /// <summary><c>ACS_MAX_RETRIES</c>.</summary>
        internal const uint MaxRetries = 10;
        /// <summary><c>ACS_DEFAULT_RETRY_DELAY_MS</c>.</summary>
        internal const uint DefaultRetryDelayMs = 800;
        /// <summary><c>ACS_DEFAULT_MAX_RETRY_DELAY_MS</c>.</summary>
        internal const uint DefaultMaxRetryDelayMs = 60000;
        /// <summary><c>ACS_MAX_APPLICATION_ID_LEN</c>.</summary>
        internal const uint MaxApplicationIdLen = 24;
        /// <summary><c>ACS_DEFAULT_MAX_CONNECTIONS_PER_ORIGIN</c>.</summary>
        internal const uint DefaultMaxConnectionsPerOrigin = 100;
        /// <summary><c>ACS_MAX_CONNECTIONS_PER_ORIGIN</c>.</summary>
        internal const uint MaxConnectionsPerOrigin = 65536;
    }
}
