using System;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
using System.Threading.Tasks;

namespace AcsChat
{
    /// <summary>
    /// An ACS user access token, fixed or refreshed, with the shape of the official
    /// <c>Azure.Communication.CommunicationTokenCredential</c>; pass it to
    /// <c>new ChatClient(Uri, CommunicationTokenCredential, ChatClientOptions)</c>. The refreshing is done by
    /// the native library (<see cref="ChatClientOptions.TokenRefresher"/>): under two minutes of token life
    /// left (ten with <see cref="CommunicationTokenRefreshOptions.RefreshProactively"/>), once after a 401,
    /// one refresh at a time per client.
    /// </summary>
    public sealed class CommunicationTokenCredential : IDisposable
    {
        [AllowNull, MaybeNull]
        private readonly string token;
        [AllowNull, MaybeNull]
        private readonly CommunicationTokenRefreshOptions refreshOptions;

        /// <summary>A credential with a fixed token (never refreshed; <see cref="ChatClient.SetToken"/> replaces it).</summary>
        /// <param name="token">An ACS user access token (a JWT).</param>
        /// <exception cref="ArgumentNullException"><paramref name="token"/> is null.</exception>
        public CommunicationTokenCredential(string token)
        {
            if (token == null)
            {
                throw new ArgumentNullException("token");
            }
            this.token = token;
        }

        /// <summary>A credential whose token is refreshed by the refresher(s) of <paramref name="options"/>.</summary>
        /// <param name="options">The refreshers, the initial token and whether to refresh proactively.</param>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="options"/> has neither refresher.</exception>
        public CommunicationTokenCredential(CommunicationTokenRefreshOptions options)
        {
            if (options == null)
            {
                throw new ArgumentNullException("options");
            }
            if (options.TokenRefresher == null && options.AsyncTokenRefresher == null)
            {
                throw new ArgumentException("The options need a TokenRefresher or an AsyncTokenRefresher.", "options");
            }
            refreshOptions = options;
        }

        /// <summary>Nothing to release: the clients made with this credential hold their own copy.</summary>
        public void Dispose()
        {
        }

        /// <summary>Whether the token is refreshed proactively (under ten minutes of life left rather than two).</summary>
        internal bool RefreshProactively
        {
            get { return refreshOptions != null && refreshOptions.RefreshProactively; }
        }

        /// <summary>
        /// The token a new client starts with: the fixed token, else <see cref="CommunicationTokenRefreshOptions.InitialToken"/>,
        /// else the refresher's answer, fetched now on the calling thread.
        /// </summary>
        internal string InitialTokenForClient()
        {
            if (refreshOptions == null)
            {
                return token;
            }
            string initial = refreshOptions.InitialToken;
            if (!string.IsNullOrEmpty(initial))
            {
                return initial;
            }
            string fetched = Refresh(true);
            if (string.IsNullOrEmpty(fetched))
            {
                throw new InvalidOperationException("The token refresher returned no token.");
            }
            return fetched;
        }

        /// <summary>The refresher handed to the native library; null for a fixed token.</summary>
        [return: MaybeNull]
        internal Func<string> NativeRefresher()
        {
            if (refreshOptions == null)
            {
                return null;
            }
            return () => Refresh(RefreshContext.Blocking);
        }

        /// <summary>
        /// Runs a refresher on this thread. A blocking call (<paramref name="blocking"/>) prefers the
        /// synchronous <see cref="CommunicationTokenRefreshOptions.TokenRefresher"/>, an asynchronous call
        /// (a thread of the library's blocking pool) the <see cref="CommunicationTokenRefreshOptions.AsyncTokenRefresher"/>,
        /// awaited synchronously; each gets a token cancelled after <see cref="CommunicationTokenRefreshOptions.RefreshTimeout"/>,
        /// and an asynchronous refresher still running then fails the refresh with <see cref="TimeoutException"/>.
        /// </summary>
        private string Refresh(bool blocking)
        {
            CommunicationTokenRefreshOptions options = refreshOptions;
            Func<CancellationToken, string> sync = options.TokenRefresher;
            Func<CancellationToken, ValueTask<string>> async = options.AsyncTokenRefresher;
            TimeSpan bound = options.RefreshTimeout;
            using (CancellationTokenSource cancel = new CancellationTokenSource(bound))
            {
                if (sync != null && (blocking || async == null))
                {
                    return sync(cancel.Token);
                }
                Task<string> task = async(cancel.Token).AsTask();
                bool done;
                try
                {
                    done = task.Wait(bound);
                }
                catch (AggregateException)
                {
                    done = true;
                }
                if (!done)
                {
                    throw new TimeoutException("The asynchronous token refresher did not finish within " + bound + ".");
                }
                return task.GetAwaiter().GetResult();
            }
        }
    }

    /// <summary>
    /// How a <see cref="CommunicationTokenCredential"/> refreshes its token, with the shape of the official
    /// <c>Azure.Communication.CommunicationTokenRefreshOptions</c>.
    /// </summary>
    /// <remarks>
    /// The native library calls the refresher on its own schedule: on the thread making a blocking call
    /// (there the synchronous <see cref="TokenRefresher"/> is used), and on a thread of its blocking pool for
    /// an <c>...Async</c> call (there <see cref="AsyncTokenRefresher"/> is used when set, awaited
    /// synchronously; no I/O thread of the library ever waits on it). Either gets a
    /// <see cref="CancellationToken"/> cancelled after <see cref="RefreshTimeout"/> (30 seconds by default);
    /// an asynchronous refresher that has not finished by then fails the refresh. A refresher must not make
    /// calls on the client it refreshes. A failed refresh fails the call with <see cref="AcsResult.Token"/>,
    /// the refresher's exception as the inner exception.
    /// </remarks>
    public sealed class CommunicationTokenRefreshOptions
    {
        private TimeSpan refreshTimeout = TimeSpan.FromSeconds(30);

        /// <summary>Options with a synchronous refresher.</summary>
        /// <param name="refreshProactively">Refresh under ten minutes of token life left rather than two.</param>
        /// <param name="tokenRefresher">Returns a fresh token; receives a token cancelled after <see cref="RefreshTimeout"/>.</param>
        /// <exception cref="ArgumentNullException"><paramref name="tokenRefresher"/> is null.</exception>
        public CommunicationTokenRefreshOptions(bool refreshProactively, Func<CancellationToken, string> tokenRefresher)
        {
            if (tokenRefresher == null)
            {
                throw new ArgumentNullException("tokenRefresher");
            }
            RefreshProactively = refreshProactively;
            TokenRefresher = tokenRefresher;
        }

        /// <summary>Options with a synchronous and an asynchronous refresher (the official SDK's older constructor).</summary>
        /// <param name="refreshProactively">Refresh under ten minutes of token life left rather than two.</param>
        /// <param name="tokenRefresher">Returns a fresh token, for blocking calls.</param>
        /// <param name="asyncTokenRefresher">Returns a fresh token, for asynchronous calls; null to use <paramref name="tokenRefresher"/> for both.</param>
        /// <exception cref="ArgumentNullException"><paramref name="tokenRefresher"/> is null.</exception>
        public CommunicationTokenRefreshOptions(bool refreshProactively, Func<CancellationToken, string> tokenRefresher,
            [AllowNull] Func<CancellationToken, ValueTask<string>> asyncTokenRefresher)
            : this(refreshProactively, tokenRefresher)
        {
            AsyncTokenRefresher = asyncTokenRefresher;
        }

        /// <summary>Whether to refresh under ten minutes of token life left rather than two (<see cref="ChatClientOptions.ProactiveRefresh"/>).</summary>
        public bool RefreshProactively { get; }

        /// <summary>The synchronous refresher.</summary>
        public Func<CancellationToken, string> TokenRefresher { get; }

        /// <summary>The asynchronous refresher, used for <c>...Async</c> calls (awaited synchronously on a thread of the library's blocking pool); null to use <see cref="TokenRefresher"/>.</summary>
        [AllowNull, MaybeNull]
        public Func<CancellationToken, ValueTask<string>> AsyncTokenRefresher { get; set; }

        /// <summary>The token to start with; null or empty to call the refresher when the client is created (on that thread).</summary>
        [AllowNull, MaybeNull]
        public string InitialToken { get; set; }

        /// <summary>
        /// How long one refresh may take (30 seconds by default): the refresher's token is cancelled then, and an
        /// asynchronous refresher still running fails the refresh. Not in the official SDK.
        /// </summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is not positive.</exception>
        public TimeSpan RefreshTimeout
        {
            get { return refreshTimeout; }
            set
            {
                if (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
                {
                    throw new ArgumentOutOfRangeException("value", value, "RefreshTimeout must be positive and at most int.MaxValue milliseconds.");
                }
                refreshTimeout = value;
            }
        }
    }

    /// <summary>Whether the current thread is inside a blocking call (for the choice of refresher).</summary>
    internal static class RefreshContext
    {
        [ThreadStatic]
        internal static bool Blocking;
    }
}
