using System;
using System.Diagnostics.CodeAnalysis;
using System.Threading;

namespace AcsChat
{
    /// <summary>
    /// A connection to one Azure Communication Services resource, authenticated with one user's access
    /// token. Thread-safe: share one instance across threads and tasks. A client is cheap (the native
    /// library shares one I/O runtime and connection pool between clients), but must be disposed.
    /// </summary>
    public sealed class ChatClient : IDisposable
    {
        private readonly ClientHandle handle;
        [AllowNull, MaybeNull]
        private readonly TokenRefresherBridge.RefresherState refresher;
        private int disposed;

        /// <summary>Creates a client for <paramref name="endpoint"/> using <paramref name="token"/>.</summary>
        /// <param name="endpoint">The resource endpoint, such as <c>https://my-resource.communication.azure.com</c>.
        /// Plain <c>http://</c> is accepted for loopback hosts, and elsewhere only with <see cref="ChatClientOptions.AllowInsecureHttp"/>.</param>
        /// <param name="token">An ACS user access token (a JWT).</param>
        /// <param name="options">Client settings; null for the defaults.</param>
        /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> or <paramref name="token"/> is null.</exception>
        /// <exception cref="ArgumentException">The endpoint is empty or not a usable URL, the token is empty, or an option value is rejected.</exception>
        /// <exception cref="AcsChatException">The endpoint is insecure (<see cref="AcsResult.InsecureEndpoint"/>) or the token is not a JWT (<see cref="AcsResult.Token"/>).</exception>
        public ChatClient(string endpoint, string token, [AllowNull] ChatClientOptions options = null)
            : this(endpoint, token, options, null)
        {
        }

        /// <summary>
        /// Creates a client for <paramref name="endpoint"/> authenticated by <paramref name="credential"/>: the
        /// official SDK's constructor. A credential with a refresher replaces <see cref="ChatClientOptions.TokenRefresher"/>
        /// for this client (and its <c>RefreshProactively</c> turns <see cref="ChatClientOptions.ProactiveRefresh"/> on);
        /// without an initial token, its refresher is called once here, on this thread, for the first token.
        /// </summary>
        /// <param name="endpoint">The resource endpoint, such as <c>https://my-resource.communication.azure.com</c>; an absolute URI.</param>
        /// <param name="credential">The user's access token, fixed or refreshed.</param>
        /// <param name="options">Client settings; null for the defaults.</param>
        /// <exception cref="ArgumentNullException"><paramref name="endpoint"/> or <paramref name="credential"/> is null.</exception>
        /// <exception cref="ArgumentException">The endpoint is not absolute or not usable, the token is empty, or an option value is rejected.</exception>
        /// <exception cref="AcsChatException">The endpoint is insecure or the token is not a JWT.</exception>
        public ChatClient(Uri endpoint, CommunicationTokenCredential credential, [AllowNull] ChatClientOptions options = null)
            : this(EndpointString(endpoint), InitialToken(credential), options, credential)
        {
        }

        private static string EndpointString(Uri endpoint)
        {
            if (endpoint == null)
            {
                throw new ArgumentNullException("endpoint");
            }
            if (!endpoint.IsAbsoluteUri)
            {
                throw new ArgumentException("The endpoint must be an absolute URI.", "endpoint");
            }
            return endpoint.OriginalString;
        }

        private static string InitialToken(CommunicationTokenCredential credential)
        {
            if (credential == null)
            {
                throw new ArgumentNullException("credential");
            }
            return credential.InitialTokenForClient();
        }

        private ChatClient(string endpoint, string token, [AllowNull] ChatClientOptions options, [AllowNull] CommunicationTokenCredential credential)
        {
            if (endpoint == null)
            {
                throw new ArgumentNullException("endpoint");
            }
            if (token == null)
            {
                throw new ArgumentNullException("token");
            }
            if (endpoint.Length == 0)
            {
                throw new ArgumentException("The endpoint must not be empty.", "endpoint");
            }
            if (token.Length == 0)
            {
                throw new ArgumentException("The token must not be empty.", "token");
            }
            byte[] endpointUtf8 = Utf8.Encode(endpoint, "endpoint");
            byte[] tokenUtf8 = Utf8.Encode(token, "token");
            using (ClientOptionsHandle native = (options ?? new ChatClientOptions()).ToNative(credential, out refresher))
            {
                ClientHandle created;
                handle = Created(NativeMethods.acs_client_new(endpointUtf8, tokenUtf8, native, out created), created, "endpoint");
            }
            Endpoint = endpoint;
        }

        /// <summary>
        /// Creates a client from an ACS resource's connection string
        /// (<c>endpoint=https://NAME.communication.azure.com/;accesskey=BASE64</c>) that gets and refreshes its
        /// own chat tokens from the resource's identity service, signing those requests with the access key.
        /// Blocks for the first token.
        /// </summary>
        /// <param name="connectionString">The resource's connection string, as the Azure portal shows it.</param>
        /// <param name="userId">The ACS user (<c>8:acs:...</c>) to act as; null creates a new user, once, here:
        /// read <see cref="UserId"/> to store and reuse it.</param>
        /// <param name="options">Client settings; null for the defaults. Must not have a <see cref="ChatClientOptions.TokenRefresher"/>.</param>
        /// <exception cref="ArgumentNullException"><paramref name="connectionString"/> is null.</exception>
        /// <exception cref="ArgumentException">The connection string is malformed, <paramref name="userId"/> is empty, or the options have a token refresher.</exception>
        /// <exception cref="AcsChatException">The endpoint is insecure, the service refused the signature
        /// (<see cref="AcsResult.Unauthorized"/>: a wrong key), the user is unknown (<see cref="AcsResult.NotFound"/>),
        /// the token is unusable (<see cref="AcsResult.Token"/>), or the service could not be reached.</exception>
        public static ChatClient FromConnectionString(string connectionString, [AllowNull] string userId = null, [AllowNull] ChatClientOptions options = null)
        {
            if (connectionString == null)
            {
                throw new ArgumentNullException("connectionString");
            }
            byte[] connectionUtf8 = Utf8.Encode(connectionString, "connectionString");
            byte[] userUtf8 = userId == null ? null : Utf8.Encode(userId, "userId");
            TokenRefresherBridge.RefresherState unused;
            using (ClientOptionsHandle native = (options ?? new ChatClientOptions()).ToNative(out unused))
            {
                ClientHandle created;
                AcsResult result = NativeMethods.acs_client_new_from_connection_string(connectionUtf8, userUtf8, native, out created);
                created = Created(result, created, "connectionString");
                IntPtr user;
                Ensure.Success(NativeMethods.acs_client_user_id(created, out user), "userId");
                return new ChatClient(created, ConnectionStringEndpoint(connectionString), Utf8.TakeOwned(user));
            }
        }

        /// <summary>The handle a creating call returned, or its failure thrown (and any handle released).</summary>
        private static ClientHandle Created(AcsResult result, ClientHandle created, string paramName)
        {
            if (result != AcsResult.Ok)
            {
                try
                {
                    Ensure.Success(result, paramName);
                }
                finally
                {
                    if (created != null)
                    {
                        created.Dispose();
                    }
                }
            }
            return created;
        }

        private ChatClient(ClientHandle created, string endpoint, string userId)
        {
            handle = created;
            refresher = null;
            Endpoint = endpoint;
            UserId = userId;
        }

        private static string ConnectionStringEndpoint(string connectionString)
        {
            foreach (string part in connectionString.Split(';'))
            {
                int equals = part.IndexOf('=');
                if (equals > 0 && part.Substring(0, equals).Trim().Equals("endpoint", StringComparison.OrdinalIgnoreCase))
                {
                    return part.Substring(equals + 1).Trim().TrimEnd('/');
                }
            }
            return string.Empty;
        }

        /// <summary>
        /// The ACS user (<c>8:acs:...</c>) this client gets its tokens for, when made by
        /// <see cref="FromConnectionString"/>: the one given, or the one it created. Null for a client given its token.
        /// </summary>
        [MaybeNull]
        public string UserId { get; }

        /// <summary>Version of the native library (<c>acs_version()</c>), such as <c>0.1.0</c>.</summary>
        public static string Version
        {
            get { return Utf8.Decode(NativeMethods.acs_version()) ?? string.Empty; }
        }

        /// <summary>The endpoint this client was created with.</summary>
        public string Endpoint { get; }

        /// <summary>Returns a client for the chat thread <paramref name="threadId"/>, sharing this client's connection and token.</summary>
        /// <param name="threadId">The thread id, such as <c>19:abc@thread.v2</c>; sent percent-encoded as one path segment.</param>
        /// <exception cref="ArgumentNullException"><paramref name="threadId"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="threadId"/> is empty or holds a NUL character.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public ChatThreadClient GetChatThreadClient(string threadId)
        {
            ThrowIfDisposed();
            if (threadId == null)
            {
                throw new ArgumentNullException("threadId");
            }
            if (threadId.Length == 0)
            {
                throw new ArgumentException("The thread id must not be empty.", "threadId");
            }
            return new ChatThreadClient(this, threadId, Utf8.Encode(threadId, "threadId"));
        }

        /// <summary>
        /// Replaces the access token used by later requests (an atomic swap: calls in flight keep the token
        /// they started with).
        /// </summary>
        /// <param name="token">The new ACS user access token.</param>
        /// <exception cref="ArgumentNullException"><paramref name="token"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="token"/> is empty.</exception>
        /// <exception cref="AcsChatException">The token is not a JWT (<see cref="AcsResult.Token"/>).</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public void SetToken(string token)
        {
            ThrowIfDisposed();
            if (token == null)
            {
                throw new ArgumentNullException("token");
            }
            if (token.Length == 0)
            {
                throw new ArgumentException("The token must not be empty.", "token");
            }
            Ensure.Success(NativeMethods.acs_client_set_token(handle, Utf8.Encode(token, "token")), "token");
        }

        /// <summary>
        /// Releases the native client. Calls already running finish first (the handle stays alive until
        /// they return, and the library keeps the client alive for asynchronous calls in flight, which
        /// complete normally); later calls throw <see cref="ObjectDisposedException"/>. Calling it twice is harmless.
        /// </summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref disposed, 1) == 0)
            {
                handle.Dispose();
            }
        }

        internal ClientHandle Handle
        {
            get { return handle; }
        }

        /// <summary>The exception the token refresher threw in its last failed run, or null.</summary>
        [MaybeNull]
        internal Exception LastRefresherFailure
        {
            get { return refresher == null ? null : refresher.LastFailure; }
        }

        internal void ThrowIfDisposed()
        {
            // The flag, not only SafeHandle.IsClosed: on some runtimes IsClosed stays false while a
            // call in flight still holds a reference to the handle.
            if (Volatile.Read(ref disposed) != 0 || handle.IsClosed)
            {
                throw new ObjectDisposedException(typeof(ChatClient).FullName);
            }
        }
    }
}
