using System;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Threading;

namespace AcsChat
{
    /// <summary>
    /// Settings for a <see cref="ChatClient"/>. The client copies them when it is created; changing
    /// the object afterwards affects only clients created later. Properties left unset keep the
    /// library's defaults, which the getters report.
    /// </summary>
    public sealed class ChatClientOptions
    {
        private static readonly TimeSpan DefaultTimeout = TimeSpan.FromMilliseconds(NativeConstants.DefaultTimeoutMs);
        private static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromMilliseconds(NativeConstants.DefaultConnectTimeoutMs);
        private static readonly TimeSpan DefaultRetryDelay = TimeSpan.FromMilliseconds(NativeConstants.DefaultRetryDelayMs);
        private static readonly TimeSpan DefaultMaxRetryDelay = TimeSpan.FromMilliseconds(NativeConstants.DefaultMaxRetryDelayMs);

        private TimeSpan? timeout;
        private TimeSpan? connectTimeout;
        private int? maxRetries;
        private TimeSpan? retryDelay;
        private TimeSpan? maxRetryDelay;
        private TimeSpan? totalTimeout;
        private int? maxConnectionsPerOrigin;

        /// <summary>Options with the library's defaults.</summary>
        public ChatClientOptions()
        {
            Retry = new RetryOptions(this);
            Diagnostics = new DiagnosticsOptions(this);
        }

        /// <summary>Options for the REST api-version <paramref name="version"/>, as the official SDK's constructor.</summary>
        /// <param name="version">The service version; sets <see cref="ApiVersion"/>.</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="version"/> is not a defined <see cref="ServiceVersion"/>.</exception>
        public ChatClientOptions(ServiceVersion version = LatestVersion)
            : this()
        {
            switch (version)
            {
                case ServiceVersion.V2021_03_07: ApiVersion = "2021-03-07"; break;
                case ServiceVersion.V2021_09_07: ApiVersion = "2021-09-07"; break;
                case ServiceVersion.V2023_11_07: ApiVersion = "2023-11-07"; break;
                case ServiceVersion.V2024_03_07: ApiVersion = "2024-03-07"; break;
                case ServiceVersion.V2025_03_15: ApiVersion = "2025-03-15"; break;
                default: throw new ArgumentOutOfRangeException("version", version, "Unknown service version.");
            }
        }

        /// <summary>The newest <see cref="ServiceVersion"/>, the library's default api-version.</summary>
        public const ServiceVersion LatestVersion = ServiceVersion.V2025_03_15;

        /// <summary>The REST api-versions of the service, as the official SDK's <c>ChatClientOptions.ServiceVersion</c>.</summary>
        public enum ServiceVersion
        {
            /// <summary>2021-03-07.</summary>
            V2021_03_07 = 1,
            /// <summary>2021-09-07.</summary>
            V2021_09_07 = 2,
            /// <summary>2023-11-07.</summary>
            V2023_11_07 = 3,
            /// <summary>2024-03-07.</summary>
            V2024_03_07 = 4,
            /// <summary>2025-03-15 (the library's default).</summary>
            V2025_03_15 = 5,
        }

        /// <summary>
        /// The official SDK's retry settings (<c>ClientOptions.Retry</c>), a view of this object's own:
        /// <see cref="RetryOptions.MaxRetries"/> is <see cref="MaxRetries"/>, <see cref="RetryOptions.Delay"/>
        /// <see cref="RetryDelay"/>, <see cref="RetryOptions.MaxDelay"/> <see cref="MaxRetryDelay"/>,
        /// <see cref="RetryOptions.NetworkTimeout"/> <see cref="Timeout"/> (per try).
        /// </summary>
        public RetryOptions Retry { get; }

        /// <summary>
        /// The official SDK's diagnostics settings (<c>ClientOptions.Diagnostics</c>):
        /// <see cref="DiagnosticsOptions.ApplicationId"/> is <see cref="ApplicationId"/>; the rest are accepted and
        /// have no effect (logging is <see cref="AcsChatLogging"/>).
        /// </summary>
        public DiagnosticsOptions Diagnostics { get; }

        /// <summary>
        /// The service REST api-version sent with every request; null (the default) uses the library's
        /// default, <c>2025-03-15</c>.
        /// </summary>
        [AllowNull, MaybeNull]
        public string ApiVersion { get; set; }

        /// <summary>
        /// Time limit of each try of a request (30 seconds by default). <see cref="TimeSpan.Zero"/> or
        /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> removes the per-try limit.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is negative (other than infinite) or longer than <see cref="uint.MaxValue"/> milliseconds.</exception>
        public TimeSpan Timeout
        {
            get { return timeout ?? DefaultTimeout; }
            set { timeout = Checked(value, zeroAllowed: true, infiniteAllowed: true); }
        }

        /// <summary>Time limit for establishing a connection, TLS included (10 seconds by default); must be positive.</summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is not positive or longer than <see cref="uint.MaxValue"/> milliseconds.</exception>
        public TimeSpan ConnectTimeout
        {
            get { return connectTimeout ?? DefaultConnectTimeout; }
            set { connectTimeout = Checked(value, zeroAllowed: false, infiniteAllowed: false); }
        }

        /// <summary>
        /// How many times a failed request is retried (3 by default; the library accepts at most 10,
        /// a larger value makes the <see cref="ChatClient"/> constructor throw <see cref="ArgumentException"/>).
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
        public int MaxRetries
        {
            get { return maxRetries ?? (int)NativeConstants.DefaultMaxRetries; }
            set { maxRetries = Checked(value, 0, "MaxRetries must not be negative."); }
        }

        /// <summary>
        /// Base delay of the exponential backoff between retries (800 ms by default). It must not exceed
        /// <see cref="MaxRetryDelay"/>; otherwise the <see cref="ChatClient"/> constructor throws
        /// <see cref="ArgumentException"/>. A delay the service asks for (<c>Retry-After</c>) takes precedence.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is negative or longer than <see cref="uint.MaxValue"/> milliseconds.</exception>
        public TimeSpan RetryDelay
        {
            get { return retryDelay ?? DefaultRetryDelay; }
            set { retryDelay = Checked(value, zeroAllowed: true, infiniteAllowed: false); }
        }

        /// <summary>Upper bound of the delay between retries (60 seconds by default).</summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is negative or longer than <see cref="uint.MaxValue"/> milliseconds.</exception>
        public TimeSpan MaxRetryDelay
        {
            get { return maxRetryDelay ?? DefaultMaxRetryDelay; }
            set { maxRetryDelay = Checked(value, zeroAllowed: true, infiniteAllowed: false); }
        }

        /// <summary>
        /// Deadline of a whole call, across every try, retry delay, token refresh and wait for a connection
        /// (none by default: <see cref="TimeSpan.Zero"/>; <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>
        /// also means none). A call that reaches it fails with <see cref="AcsResult.Timeout"/>, whose
        /// <see cref="AcsChatException.MayHaveBeenDelivered"/> says whether the request had been sent.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is negative (other than infinite) or longer than <see cref="uint.MaxValue"/> milliseconds.</exception>
        public TimeSpan TotalTimeout
        {
            get { return totalTimeout ?? TimeSpan.Zero; }
            set { totalTimeout = Checked(value, zeroAllowed: true, infiniteAllowed: true); }
        }

        /// <summary>
        /// How many requests may be in flight at once to the endpoint over HTTP/1.1, each on a connection of
        /// its own (100 by default). Further calls wait in line, holding no thread; the wait counts against
        /// <see cref="TotalTimeout"/>, not <see cref="Timeout"/>. Over HTTP/2 one connection carries every call
        /// and the bound does not apply. Clients with equal settings share the connections and the bound. The
        /// library accepts at most 65536; a larger value makes the <see cref="ChatClient"/> constructor throw
        /// <see cref="ArgumentException"/>.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
        public int MaxConnectionsPerOrigin
        {
            get { return maxConnectionsPerOrigin ?? (int)NativeConstants.DefaultMaxConnectionsPerOrigin; }
            set { maxConnectionsPerOrigin = Checked(value, 1, "MaxConnectionsPerOrigin must be at least 1."); }
        }

        /// <summary>
        /// Path of a PEM file with extra trusted CA certificates, used in addition to the system store;
        /// null (the default) for the system store only. An unreadable file makes the
        /// <see cref="ChatClient"/> constructor throw <see cref="ArgumentException"/>.
        /// </summary>
        [AllowNull, MaybeNull]
        public string CaFile { get; set; }

        /// <summary>Application id added to the <c>User-Agent</c> header; null (the default) for none.</summary>
        [AllowNull, MaybeNull]
        public string ApplicationId { get; set; }

        /// <summary>
        /// Allows plain <c>http://</c> endpoints on hosts that are not loopback (false by default). The token
        /// then travels unencrypted: use it only on networks you control. Loopback addresses are always allowed.
        /// </summary>
        public bool AllowInsecureHttp { get; set; }

        /// <summary>
        /// Called to obtain a new access token: when the current one is about to expire (under two minutes
        /// left, or ten with <see cref="ProactiveRefresh"/>) and once after the service answers 401, one
        /// refresh at a time per client. A blocking method runs it on the calling thread; an <c>...Async</c>
        /// method on a thread of the library's blocking pool (never an I/O thread). It must not make calls on
        /// the client it refreshes (<see cref="ChatClient.SetToken"/> is allowed). Returning null or an expired
        /// token, or throwing, makes that call fail with <see cref="AcsResult.Token"/>; an exception thrown
        /// here becomes the <see cref="Exception.InnerException"/> of that <see cref="AcsChatException"/>.
        /// Null (the default) for none.
        /// </summary>
        [AllowNull, MaybeNull]
        public Func<string> TokenRefresher { get; set; }

        /// <summary>
        /// Refreshes the token once fewer than ten minutes of its life remain instead of two (false by
        /// default). Only meaningful with a <see cref="TokenRefresher"/>.
        /// </summary>
        public bool ProactiveRefresh { get; set; }

        /// <summary>
        /// <paramref name="value"/> if it fits the native <c>uint32_t</c> milliseconds (rounded up) and is not
        /// negative, or zero or infinite where that is allowed; otherwise <see cref="ArgumentOutOfRangeException"/>.
        /// </summary>
        private static TimeSpan Checked(TimeSpan value, bool zeroAllowed, bool infiniteAllowed)
        {
            if (infiniteAllowed && value == System.Threading.Timeout.InfiniteTimeSpan)
            {
                return value;
            }
            if (value < TimeSpan.Zero || (!zeroAllowed && value == TimeSpan.Zero))
            {
                throw new ArgumentOutOfRangeException("value", value, zeroAllowed ? "The time must not be negative." : "The time must be positive.");
            }
            if (Math.Ceiling(value.TotalMilliseconds) > uint.MaxValue)
            {
                throw new ArgumentOutOfRangeException("value", value, "The time must not exceed uint.MaxValue milliseconds.");
            }
            return value;
        }

        /// <summary>
        /// <paramref name="value"/> if it is at least <paramref name="minimum"/>; otherwise
        /// <see cref="ArgumentOutOfRangeException"/> with <paramref name="message"/>. Upper limits are the
        /// library's, checked when a client is created.
        /// </summary>
        private static int Checked(int value, int minimum, string message)
        {
            if (value < minimum)
            {
                throw new ArgumentOutOfRangeException("value", value, message);
            }
            return value;
        }

        private static uint ToMilliseconds(TimeSpan value)
        {
            if (value == System.Threading.Timeout.InfiniteTimeSpan)
            {
                return 0;
            }
            return (uint)Math.Ceiling(value.TotalMilliseconds);
        }

        /// <summary>Calls a native setter with <paramref name="value"/> in milliseconds, if it was set; <paramref name="name"/> names it in errors.</summary>
        private static void Set(ClientOptionsHandle native, TimeSpan? value, Func<ClientOptionsHandle, uint, AcsResult> setter, string name)
        {
            if (value.HasValue)
            {
                Ensure.Success(setter(native, ToMilliseconds(value.Value)), name);
            }
        }

        /// <summary>Calls a native setter with <paramref name="value"/>, if it was set (never negative: the setters refuse that).</summary>
        private static void Set(ClientOptionsHandle native, int? value, Func<ClientOptionsHandle, uint, AcsResult> setter, string name)
        {
            if (value.HasValue)
            {
                Ensure.Success(setter(native, (uint)value.Value), name);
            }
        }

        /// <summary>Calls a native setter with <paramref name="value"/> as UTF-8, unless it is null.</summary>
        private static void Set(ClientOptionsHandle native, [AllowNull] string value, Func<ClientOptionsHandle, byte[], AcsResult> setter, string name)
        {
            if (value != null)
            {
                Ensure.Success(setter(native, Utf8.Encode(value, name)), name);
            }
        }

        /// <summary>
        /// Builds the native options object; the caller disposes it once the client exists.
        /// <paramref name="refresher"/> receives the state of the token refresher attached to it, or null.
        /// </summary>
        internal ClientOptionsHandle ToNative([MaybeNull] out TokenRefresherBridge.RefresherState refresher)
        {
            return ToNative(null, out refresher);
        }

        /// <summary>
        /// As <see cref="ToNative(out TokenRefresherBridge.RefresherState)"/>; a <paramref name="credential"/> with a
        /// refresher replaces <see cref="TokenRefresher"/>, and its proactive flag adds to <see cref="ProactiveRefresh"/>.
        /// </summary>
        internal ClientOptionsHandle ToNative([AllowNull] CommunicationTokenCredential credential, [MaybeNull] out TokenRefresherBridge.RefresherState refresher)
        {
            refresher = null;
            ClientOptionsHandle native;
            Ensure.Success(NativeMethods.acs_client_options_new(out native));
            try
            {
                Set(native, ApiVersion, NativeMethods.acs_client_options_set_api_version, "ApiVersion");
                Set(native, timeout, NativeMethods.acs_client_options_set_timeout_ms, "Timeout");
                Set(native, connectTimeout, NativeMethods.acs_client_options_set_connect_timeout_ms, "ConnectTimeout");
                Set(native, maxRetries, NativeMethods.acs_client_options_set_max_retries, "MaxRetries");
                if (Retry.Mode == RetryMode.Fixed)
                {
                    // A fixed delay: exponential backoff capped at its own base.
                    Ensure.Success(NativeMethods.acs_client_options_set_retry_delay_ms(native, ToMilliseconds(RetryDelay), ToMilliseconds(RetryDelay)), "RetryDelay");
                }
                else if (retryDelay.HasValue || maxRetryDelay.HasValue)
                {
                    Ensure.Success(NativeMethods.acs_client_options_set_retry_delay_ms(native, ToMilliseconds(RetryDelay), ToMilliseconds(MaxRetryDelay)), "RetryDelay");
                }
                Set(native, totalTimeout, NativeMethods.acs_client_options_set_total_timeout_ms, "TotalTimeout");
                Set(native, maxConnectionsPerOrigin, NativeMethods.acs_client_options_set_max_connections_per_origin, "MaxConnectionsPerOrigin");
                Set(native, ApplicationId ?? DiagnosticsOptions.DefaultApplicationId, NativeMethods.acs_client_options_set_application_id, "ApplicationId");
                Set(native, CaFile, NativeMethods.acs_client_options_set_ca_file, "CaFile");
                if (AllowInsecureHttp)
                {
                    Ensure.Success(NativeMethods.acs_client_options_set_allow_insecure_http(native, true), "AllowInsecureHttp");
                }
                if (ProactiveRefresh || (credential != null && credential.RefreshProactively))
                {
                    Ensure.Success(NativeMethods.acs_client_options_set_proactive_refresh(native, true), "ProactiveRefresh");
                }
                Func<string> refresherFunc = TokenRefresher;
                Func<string> credentialRefresher = credential == null ? null : credential.NativeRefresher();
                if (credentialRefresher != null)
                {
                    refresherFunc = credentialRefresher;
                }
                if (refresherFunc != null)
                {
                    refresher = TokenRefresherBridge.Attach(native, refresherFunc);
                }
                return native;
            }
            catch
            {
                native.Dispose();
                throw;
            }
        }
    }

    /// <summary>
    /// Connects a managed <see cref="Func{String}"/> to <c>acs_client_options_set_token_refresher</c>.
    /// A <see cref="RefresherState"/> travels as a <see cref="GCHandle"/> in <c>user_data</c>; the library
    /// calls <see cref="FreeUserData"/> once the options and every client made from them are freed. The two
    /// native entry points are static delegates held for the life of the process.
    /// </summary>
    internal static class TokenRefresherBridge
    {
        private static readonly NativeTokenRefresher RefreshCallback = Refresh;
        private static readonly NativeUserDataFree FreeCallback = FreeUserData;
        private static int liveCount;

        /// <summary>Number of refresher handles the library still holds (for tests).</summary>
        internal static int LiveCount { get { return Volatile.Read(ref liveCount); } }

        /// <summary>One refresher and the exception of its last failed run.</summary>
        internal sealed class RefresherState
        {
            internal RefresherState(Func<string> refresher)
            {
                Refresher = refresher;
            }

            internal Func<string> Refresher { get; }

            /// <summary>
            /// Why the last run failed, null after a run that delivered a token. A blocking call reads the
            /// failure of its own thread instead; an asynchronous call, whose refresh runs on a thread of the
            /// library's pool, reads this one.
            /// </summary>
            [AllowNull, MaybeNull]
            internal Exception LastFailure
            {
                get { return Volatile.Read(ref lastFailure); }
                set { Volatile.Write(ref lastFailure, value); }
            }

            [AllowNull, MaybeNull]
            private Exception lastFailure;
        }

        internal static RefresherState Attach(ClientOptionsHandle native, Func<string> refresher)
        {
            RefresherState state = new RefresherState(refresher);
            GCHandle handle = GCHandle.Alloc(state);
            Interlocked.Increment(ref liveCount);
            AcsResult result = NativeMethods.acs_client_options_set_token_refresher(native, RefreshCallback, GCHandle.ToIntPtr(handle), FreeCallback);
            if (result != AcsResult.Ok)
            {
                handle.Free();
                Interlocked.Decrement(ref liveCount);
                Ensure.Success(result, "TokenRefresher");
            }
            return state;
        }

        private static AcsResult Refresh(IntPtr userData, IntPtr sink)
        {
            RefresherState state = null;
            try
            {
                LibraryThreads.AdoptIfLibraryThread();
                state = (RefresherState)GCHandle.FromIntPtr(userData).Target;
                string token = state.Refresher();
                if (token == null)
                {
                    return Failed(state, new InvalidOperationException("The token refresher returned null."));
                }
                AcsResult result = NativeMethods.acs_token_sink_set(sink, Utf8.Encode(token, "token"));
                state.LastFailure = null;
                return result;
            }
            catch (Exception e)
            {
                return Failed(state, e);
            }
        }

        private static AcsResult Failed(RefresherState state, Exception e)
        {
            try
            {
                Ensure.RecordRefresherFailure(e);
                if (state != null)
                {
                    state.LastFailure = e;
                }
            }
            catch (Exception)
            {
                // Nothing may escape into native code.
            }
            return AcsResult.Token;
        }

        private static void FreeUserData(IntPtr userData)
        {
            try
            {
                // May run on an I/O thread, when the last asynchronous call of a disposed client ends.
                LibraryThreads.AdoptIfLibraryThread();
                GCHandle.FromIntPtr(userData).Free();
                Interlocked.Decrement(ref liveCount);
            }
            catch (Exception)
            {
                // Nothing may escape into native code.
            }
        }
    }
}
