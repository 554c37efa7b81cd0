using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
using System.Threading.Tasks;

namespace AcsChat
{
    /// <summary>
    /// Operations on one chat thread, made through the <see cref="ChatClient"/> that created this object.
    /// Thread-safe. Once that client is disposed, every method throws <see cref="ObjectDisposedException"/>.
    /// </summary>
    /// <remarks>
    /// The <c>...Async</c> methods use the library's asynchronous calls: no thread waits while a call is in
    /// flight, and the task completes from the library's completion callback; continuations never run on
    /// the library's I/O threads. Arguments are checked, and <see cref="ObjectDisposedException"/> thrown,
    /// before the task is returned. Cancelling the token cancels the native call: the task ends
    /// <see cref="TaskStatus.Canceled"/> and awaiting it throws <see cref="AcsChatCanceledException"/> (an
    /// <see cref="OperationCanceledException"/> carrying the token) whose
    /// <see cref="AcsChatCanceledException.MayHaveBeenDelivered"/> says whether the request had already been
    /// sent. A token already cancelled sends nothing. A call that completed before the cancellation took
    /// effect keeps its outcome.
    /// </remarks>
    public sealed class ChatThreadClient
    {
        private readonly ChatClient client;
        private readonly byte[] threadIdUtf8;

        internal ChatThreadClient(ChatClient client, string threadId, byte[] threadIdUtf8)
        {
            this.client = client;
            this.threadIdUtf8 = threadIdUtf8;
            Id = threadId;
        }

        /// <summary>The id of the chat thread.</summary>
        public string Id { get; }

        /// <summary>Sends a message to the thread.</summary>
        /// <param name="content">The message content; not empty.</param>
        /// <param name="type">Text (the default) or HTML.</param>
        /// <param name="senderDisplayName">The display name shown for the sender; null for none.</param>
        /// <param name="metadata">String pairs sent with the message; null for none. Values must not be null.</param>
        /// <param name="cancellationToken">Checked before the call starts: a token already cancelled throws
        /// <see cref="AcsChatCanceledException"/> and sends nothing. A blocking call in flight is not interrupted by it
        /// (use <see cref="SendMessageAsync(string, ChatMessageType, string, IDictionary{string, string}, CancellationToken)"/> for that).</param>
        /// <returns>The result, carrying the id of the new message (<see cref="SendChatMessageResult.Id"/>, or <c>.Value.Id</c> as in the official SDK).</returns>
        /// <exception cref="ArgumentNullException"><paramref name="content"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="content"/> is empty, a string holds a NUL character, or a metadata value is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is not a defined <see cref="ChatMessageType"/>.</exception>
        /// <exception cref="AcsChatException">The service rejected the message or could not be reached. Send-message is not
        /// retried after a timeout or a broken connection (it could post twice); see <see cref="AcsChatException.MayHaveBeenDelivered"/>.</exception>
        /// <exception cref="AcsChatCanceledException"><paramref name="cancellationToken"/> was cancelled before the call started.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public SendChatMessageResult SendMessage(string content, ChatMessageType type = ChatMessageType.Text,
            [AllowNull] string senderDisplayName = null, [AllowNull] IDictionary<string, string> metadata = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            client.ThrowIfDisposed();
            PreparedMessage message = PreparedMessage.Create(content, type, senderDisplayName, metadata, "content", "type", "senderDisplayName", "metadata");
            ThrowIfCanceled(cancellationToken);
            return Send(message);
        }

        /// <summary>Sends a message to the thread: the official SDK's positional form, <c>SendMessage(content, type, senderDisplayName, cancellationToken)</c>.</summary>
        /// <param name="content">The message content; not empty.</param>
        /// <param name="type">Text or HTML.</param>
        /// <param name="senderDisplayName">The display name shown for the sender; null for none.</param>
        /// <param name="cancellationToken">Checked before the call starts, as in <see cref="SendMessage(string, ChatMessageType, string, IDictionary{string, string}, CancellationToken)"/>.</param>
        /// <returns>The result, carrying the id of the new message.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="content"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="content"/> is empty or a string holds a NUL character.</exception>
        /// <exception cref="AcsChatException">The service rejected the message or could not be reached.</exception>
        /// <exception cref="AcsChatCanceledException"><paramref name="cancellationToken"/> was cancelled before the call started.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public SendChatMessageResult SendMessage(string content, ChatMessageType type, [AllowNull] string senderDisplayName,
            CancellationToken cancellationToken)
        {
            return SendMessage(content, type, senderDisplayName, null, cancellationToken);
        }

        /// <summary>Sends the message described by <paramref name="options"/> to the thread.</summary>
        /// <param name="options">The message: content, type, sender display name and metadata.</param>
        /// <param name="cancellationToken">Checked before the call starts, as in <see cref="SendMessage(string, ChatMessageType, string, IDictionary{string, string}, CancellationToken)"/>.</param>
        /// <returns>The result, carrying the id of the new message.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> or its <see cref="SendChatMessageOptions.Content"/> is null.</exception>
        /// <exception cref="ArgumentException">The content is empty, a string holds a NUL character, or a metadata value is null.</exception>
        /// <exception cref="AcsChatException">The service rejected the message or could not be reached.</exception>
        /// <exception cref="AcsChatCanceledException"><paramref name="cancellationToken"/> was cancelled before the call started.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public SendChatMessageResult SendMessage(SendChatMessageOptions options, CancellationToken cancellationToken = default(CancellationToken))
        {
            client.ThrowIfDisposed();
            PreparedMessage message = PreparedMessage.Create(options);
            ThrowIfCanceled(cancellationToken);
            return Send(message);
        }

        /// <summary>Sends a message to the thread without holding a thread while it is in flight; see the remarks on <see cref="ChatThreadClient"/> about cancellation.</summary>
        /// <param name="content">The message content; not empty.</param>
        /// <param name="type">Text (the default) or HTML.</param>
        /// <param name="senderDisplayName">The display name shown for the sender; null for none.</param>
        /// <param name="metadata">String pairs sent with the message; null for none. The pairs are copied before this method returns.</param>
        /// <param name="cancellationToken">Cancels the call; see <see cref="AcsChatCanceledException"/>.</param>
        /// <returns>A task with the result, carrying the id of the new message; it fails with <see cref="AcsChatException"/> as <see cref="SendMessage(string, ChatMessageType, string, IDictionary{string, string}, CancellationToken)"/> throws,
        /// or is cancelled with <see cref="AcsChatCanceledException"/>.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="content"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="content"/> is empty, a string holds a NUL character, or a metadata value is null.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public Task<SendChatMessageResult> SendMessageAsync(string content, ChatMessageType type = ChatMessageType.Text,
            [AllowNull] string senderDisplayName = null, [AllowNull] IDictionary<string, string> metadata = null,
            CancellationToken cancellationToken = default(CancellationToken))
        {
            client.ThrowIfDisposed();
            PreparedMessage message = PreparedMessage.Create(content, type, senderDisplayName, metadata, "content", "type", "senderDisplayName", "metadata");
            return SendAsync(message, cancellationToken);
        }

        /// <summary>Sends a message without holding a thread while it is in flight: the official SDK's positional form, <c>SendMessageAsync(content, type, senderDisplayName, cancellationToken)</c>.</summary>
        /// <param name="content">The message content; not empty.</param>
        /// <param name="type">Text or HTML.</param>
        /// <param name="senderDisplayName">The display name shown for the sender; null for none.</param>
        /// <param name="cancellationToken">Cancels the call; see <see cref="AcsChatCanceledException"/>.</param>
        /// <returns>A task with the result, carrying the id of the new message.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="content"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="content"/> is empty or a string holds a NUL character.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public Task<SendChatMessageResult> SendMessageAsync(string content, ChatMessageType type, [AllowNull] string senderDisplayName,
            CancellationToken cancellationToken)
        {
            return SendMessageAsync(content, type, senderDisplayName, null, cancellationToken);
        }

        /// <summary>Sends the message described by <paramref name="options"/> without holding a thread while it is in flight; see the remarks on <see cref="ChatThreadClient"/> about cancellation.</summary>
        /// <param name="options">The message; copied before this method returns.</param>
        /// <param name="cancellationToken">Cancels the call; see <see cref="AcsChatCanceledException"/>.</param>
        /// <returns>A task with the result, carrying the id of the new message; it fails with <see cref="AcsChatException"/>
        /// or is cancelled with <see cref="AcsChatCanceledException"/>.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> or its <see cref="SendChatMessageOptions.Content"/> is null.</exception>
        /// <exception cref="ArgumentException">The content is empty, a string holds a NUL character, or a metadata value is null.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public Task<SendChatMessageResult> SendMessageAsync(SendChatMessageOptions options, CancellationToken cancellationToken = default(CancellationToken))
        {
            client.ThrowIfDisposed();
            PreparedMessage message = PreparedMessage.Create(options);
            return SendAsync(message, cancellationToken);
        }

        /// <summary>Tells the thread's participants that the user is typing. Retried on transient failures (it is harmless to repeat).</summary>
        /// <param name="senderDisplayName">The display name shown for the sender; null for none.</param>
        /// <param name="cancellationToken">Checked before the call starts: a token already cancelled throws <see cref="AcsChatCanceledException"/> and sends nothing.</param>
        /// <returns>The service's answer (status 200).</returns>
        /// <exception cref="ArgumentException"><paramref name="senderDisplayName"/> holds a NUL character.</exception>
        /// <exception cref="AcsChatException">The service rejected the notification or could not be reached.</exception>
        /// <exception cref="AcsChatCanceledException"><paramref name="cancellationToken"/> was cancelled before the call started.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public Response SendTypingNotification([AllowNull] string senderDisplayName = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            client.ThrowIfDisposed();
            byte[] name = Utf8.Encode(senderDisplayName, "senderDisplayName");
            ThrowIfCanceled(cancellationToken);
            return SendTyping(name);
        }

        /// <summary>Tells the thread's participants that the user is typing, with no display name (the official SDK's <c>SendTypingNotification(cancellationToken)</c>).</summary>
        /// <param name="cancellationToken">Checked before the call starts.</param>
        /// <returns>The service's answer (status 200).</returns>
        /// <exception cref="AcsChatException">The service rejected the notification or could not be reached.</exception>
        /// <exception cref="AcsChatCanceledException"><paramref name="cancellationToken"/> was cancelled before the call started.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public Response SendTypingNotification(CancellationToken cancellationToken)
        {
            return SendTypingNotification((string)null, cancellationToken);
        }

        /// <summary>Tells the thread's participants that the user is typing, as the official SDK's overload taking <see cref="TypingNotificationOptions"/>.</summary>
        /// <param name="options">The notification; null is the same as no display name.</param>
        /// <param name="cancellationToken">Checked before the call starts.</param>
        /// <returns>The service's answer (status 200).</returns>
        /// <exception cref="ArgumentException">The display name holds a NUL character.</exception>
        /// <exception cref="AcsChatException">The service rejected the notification or could not be reached.</exception>
        /// <exception cref="AcsChatCanceledException"><paramref name="cancellationToken"/> was cancelled before the call started.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public Response SendTypingNotification([AllowNull] TypingNotificationOptions options, CancellationToken cancellationToken = default(CancellationToken))
        {
            client.ThrowIfDisposed();
            byte[] name = Utf8.Encode(options == null ? null : options.SenderDisplayName, "options.SenderDisplayName");
            ThrowIfCanceled(cancellationToken);
            return SendTyping(name);
        }

        /// <summary>Sends a typing notification without holding a thread while it is in flight; see the remarks on <see cref="ChatThreadClient"/> about cancellation.</summary>
        /// <param name="senderDisplayName">The display name shown for the sender; null for none.</param>
        /// <param name="cancellationToken">Cancels the call; see <see cref="AcsChatCanceledException"/>.</param>
        /// <returns>A task with the service's answer; it fails with <see cref="AcsChatException"/> when the notification fails, or is cancelled with <see cref="AcsChatCanceledException"/>.</returns>
        /// <exception cref="ArgumentException"><paramref name="senderDisplayName"/> holds a NUL character.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public Task<Response> SendTypingNotificationAsync([AllowNull] string senderDisplayName = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            client.ThrowIfDisposed();
            return SendTypingAsync(Utf8.Encode(senderDisplayName, "senderDisplayName"), cancellationToken);
        }

        /// <summary>Sends a typing notification with no display name without holding a thread (the official SDK's <c>SendTypingNotificationAsync(cancellationToken)</c>).</summary>
        /// <param name="cancellationToken">Cancels the call; see <see cref="AcsChatCanceledException"/>.</param>
        /// <returns>A task with the service's answer.</returns>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public Task<Response> SendTypingNotificationAsync(CancellationToken cancellationToken)
        {
            return SendTypingNotificationAsync((string)null, cancellationToken);
        }

        /// <summary>Sends the typing notification described by <paramref name="options"/> without holding a thread while it is in flight.</summary>
        /// <param name="options">The notification; null is the same as no display name. Copied before this method returns.</param>
        /// <param name="cancellationToken">Cancels the call; see <see cref="AcsChatCanceledException"/>.</param>
        /// <returns>A task with the service's answer.</returns>
        /// <exception cref="ArgumentException">The display name holds a NUL character.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public Task<Response> SendTypingNotificationAsync([AllowNull] TypingNotificationOptions options, CancellationToken cancellationToken = default(CancellationToken))
        {
            client.ThrowIfDisposed();
            return SendTypingAsync(Utf8.Encode(options == null ? null : options.SenderDisplayName, "options.SenderDisplayName"), cancellationToken);
        }

        /// <summary>Marks the message <paramref name="messageId"/>, and those before it, as read by the user. Retried on transient failures.</summary>
        /// <param name="messageId">The id of the message read, as returned by <see cref="SendChatMessageResult.Id"/>.</param>
        /// <returns>The service's answer (status 200).</returns>
        /// <exception cref="ArgumentNullException"><paramref name="messageId"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="messageId"/> is empty or holds a NUL character.</exception>
        /// <exception cref="AcsChatException">The service rejected the receipt or could not be reached.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public Response SendReadReceipt(string messageId)
        {
            client.ThrowIfDisposed();
            return SendReceipt(EncodeMessageId(messageId, "messageId"));
        }

        /// <summary>Marks the message <paramref name="chatMessageId"/> as read: the official SDK's <c>SendReadReceipt(chatMessageId, cancellationToken)</c>.</summary>
        /// <param name="chatMessageId">The id of the message read.</param>
        /// <param name="cancellationToken">Checked before the call starts: a token already cancelled throws <see cref="AcsChatCanceledException"/> and sends nothing.</param>
        /// <returns>The service's answer (status 200).</returns>
        /// <exception cref="ArgumentNullException"><paramref name="chatMessageId"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="chatMessageId"/> is empty or holds a NUL character.</exception>
        /// <exception cref="AcsChatException">The service rejected the receipt or could not be reached.</exception>
        /// <exception cref="AcsChatCanceledException"><paramref name="cancellationToken"/> was cancelled before the call started.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public Response SendReadReceipt(string chatMessageId, CancellationToken cancellationToken = default(CancellationToken))
        {
            client.ThrowIfDisposed();
            byte[] id = EncodeMessageId(chatMessageId, "chatMessageId");
            ThrowIfCanceled(cancellationToken);
            return SendReceipt(id);
        }

        /// <summary>Sends a read receipt without holding a thread while it is in flight; see the remarks on <see cref="ChatThreadClient"/> about cancellation.</summary>
        /// <param name="messageId">The id of the message read.</param>
        /// <param name="cancellationToken">Cancels the call; see <see cref="AcsChatCanceledException"/>.</param>
        /// <returns>A task with the service's answer; it fails with <see cref="AcsChatException"/> when the receipt fails, or is cancelled with <see cref="AcsChatCanceledException"/>.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="messageId"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="messageId"/> is empty or holds a NUL character.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public Task<Response> SendReadReceiptAsync(string messageId, CancellationToken cancellationToken = default(CancellationToken))
        {
            client.ThrowIfDisposed();
            byte[] id = EncodeMessageId(messageId, "messageId");
            return AsyncCall.Start(client,
                (NativeCompletionCallback callback, IntPtr userData, out IntPtr call) =>
                    NativeMethods.acs_send_read_receipt_async(client.Handle, threadIdUtf8, id, callback, userData, out call),
                Completed, cancellationToken, "messageId");
        }

        private Task<Response> SendTypingAsync(byte[] name, CancellationToken cancellationToken)
        {
            return AsyncCall.Start(client,
                (NativeCompletionCallback callback, IntPtr userData, out IntPtr call) =>
                    NativeMethods.acs_send_typing_async(client.Handle, threadIdUtf8, name, callback, userData, out call),
                Completed, cancellationToken, null);
        }

        /// <summary>The blocking methods honour their token before the call starts, as the asynchronous ones do.</summary>
        private static void ThrowIfCanceled(CancellationToken cancellationToken)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                throw new AcsChatCanceledException("The call was cancelled before it started; nothing was sent.", false, cancellationToken);
            }
        }

        private static byte[] EncodeMessageId(string messageId, string paramName)
        {
            if (messageId == null)
            {
                throw new ArgumentNullException(paramName);
            }
            if (messageId.Length == 0)
            {
                throw new ArgumentException("The message id must not be empty.", paramName);
            }
            return Utf8.Encode(messageId, paramName);
        }

        /// <summary>Reads the new message's id (borrowed: copied here) from a successful completion.</summary>
        private static readonly Func<IntPtr, SendChatMessageResult> MessageSent =
            completion => new SendChatMessageResult(Utf8.Decode(NativeMethods.acs_completion_message_id(completion)) ?? string.Empty,
                CallDetails.FromCompletion(completion, CallDetails.MessageCreated));

        /// <summary>The outcome of a successful typing notification or read receipt.</summary>
        private static readonly Func<IntPtr, Response> Completed = completion => CallDetails.FromCompletion(completion, CallDetails.Ok);

        private Task<SendChatMessageResult> SendAsync(PreparedMessage message, CancellationToken cancellationToken)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                return AsyncCall.Canceled<SendChatMessageResult>(cancellationToken);
            }
            // The library copies the options at submit: they are freed right after.
            using (MessageOptionsHandle options = message.ToNative())
            {
                return AsyncCall.Start(client,
                    (NativeCompletionCallback callback, IntPtr userData, out IntPtr call) =>
                        NativeMethods.acs_send_message_async(client.Handle, threadIdUtf8, message.Content, options, callback, userData, out call),
                    MessageSent, cancellationToken, null);
            }
        }

        private SendChatMessageResult Send(PreparedMessage message)
        {
            using (MessageOptionsHandle options = message.ToNative())
            {
                IntPtr id;
                Ensure.BeginCall();
                AcsResult result = NativeMethods.acs_send_message(client.Handle, threadIdUtf8, message.Content, options, out id);
                Ensure.Success(result);
                // Read this thread's details of the answer before anything else calls the library.
                Response raw = CallDetails.LastCall(CallDetails.MessageCreated);
                return new SendChatMessageResult(Utf8.TakeOwned(id) ?? string.Empty, raw);
            }
        }

        private Response SendTyping(byte[] senderDisplayName)
        {
            Ensure.BeginCall();
            AcsResult result = NativeMethods.acs_send_typing(client.Handle, threadIdUtf8, senderDisplayName);
            Ensure.Success(result);
            return CallDetails.LastCall(CallDetails.Ok);
        }

        private Response SendReceipt(byte[] messageId)
        {
            Ensure.BeginCall();
            AcsResult result = NativeMethods.acs_send_read_receipt(client.Handle, threadIdUtf8, messageId);
            Ensure.Success(result, "messageId");
            return CallDetails.LastCall(CallDetails.Ok);
        }

        /// <summary>A message checked and encoded up front, so later changes by the caller cannot race a background send.</summary>
        private sealed class PreparedMessage
        {
            internal byte[] Content;
            internal ChatMessageType Type;
            internal byte[] SenderDisplayName;
            internal List<KeyValuePair<byte[], byte[]>> Metadata;

            internal static PreparedMessage Create(SendChatMessageOptions options)
            {
                if (options == null)
                {
                    throw new ArgumentNullException("options");
                }
                return Create(options.Content, options.MessageType, options.SenderDisplayName, options.Metadata,
                    "options.Content", "options.MessageType", "options.SenderDisplayName", "options.Metadata");
            }

            internal static PreparedMessage Create(string content, ChatMessageType type, string senderDisplayName,
                IDictionary<string, string> metadata, string contentParam, string typeParam, string nameParam, string metadataParam)
            {
                if (content == null)
                {
                    throw new ArgumentNullException(contentParam);
                }
                if (content.Length == 0)
                {
                    throw new ArgumentException("The message content must not be empty.", contentParam);
                }
                if (type != ChatMessageType.Text && type != ChatMessageType.Html)
                {
                    throw new ArgumentOutOfRangeException(typeParam, type, "Unknown chat message type.");
                }
                PreparedMessage prepared = new PreparedMessage();
                prepared.Content = Utf8.Encode(content, contentParam);
                prepared.Type = type;
                prepared.SenderDisplayName = Utf8.Encode(senderDisplayName, nameParam);
                prepared.Metadata = new List<KeyValuePair<byte[], byte[]>>();
                if (metadata != null)
                {
                    foreach (KeyValuePair<string, string> pair in metadata)
                    {
                        if (pair.Key == null || pair.Value == null)
                        {
                            throw new ArgumentException("Metadata keys and values must not be null.", metadataParam);
                        }
                        prepared.Metadata.Add(new KeyValuePair<byte[], byte[]>(Utf8.Encode(pair.Key, metadataParam), Utf8.Encode(pair.Value, metadataParam)));
                    }
                }
                return prepared;
            }

            internal MessageOptionsHandle ToNative()
            {
                MessageOptionsHandle native;
                Ensure.Success(NativeMethods.acs_message_options_new(out native));
                try
                {
                    if (Type != ChatMessageType.Text)
                    {
                        Ensure.Success(NativeMethods.acs_message_options_set_type(native, (uint)Type), "type");
                    }
                    if (SenderDisplayName != null)
                    {
                        Ensure.Success(NativeMethods.acs_message_options_set_sender_display_name(native, SenderDisplayName), "senderDisplayName");
                    }
                    foreach (KeyValuePair<byte[], byte[]> pair in Metadata)
                    {
                        Ensure.Success(NativeMethods.acs_message_options_add_metadata(native, pair.Key, pair.Value), "metadata");
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
    }
}
