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
        /// <returns>The result, carrying the id of the new message.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="content"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="content"/> is empty, a string holds a NUL character, or a metadata value is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="type"/> is not a defined <see cref="ChatMessageType"/>.</exception>
        /// <exception cref="AcsChatException">The service rejected the message or could not be reached. Send-message is not
        /// retried after a timeout or a broken connection (it could post twice); see <see cref="AcsChatException.MayHaveBeenDelivered"/>.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public SendChatMessageResult SendMessage(string content, ChatMessageType type = ChatMessageType.Text,
            [AllowNull] string senderDisplayName = null, [AllowNull] IDictionary<string, string> metadata = null)
        {
            client.ThrowIfDisposed();
            return Send(PreparedMessage.Create(content, type, senderDisplayName, metadata, "content", "type", "senderDisplayName", "metadata"));
        }

        /// <summary>Sends the message described by <paramref name="options"/> to the thread.</summary>
        /// <param name="options">The message: content, type, sender display name and metadata.</param>
        /// <returns>The result, carrying the id of the new message.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> or its <see cref="SendChatMessageOptions.Content"/> is null.</exception>
        /// <exception cref="ArgumentException">The content is empty, a string holds a NUL character, or a metadata value is null.</exception>
        /// <exception cref="AcsChatException">The service rejected the message or could not be reached.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public SendChatMessageResult SendMessage(SendChatMessageOptions options)
        {
            client.ThrowIfDisposed();
            return Send(PreparedMessage.Create(options));
        }

        /// <summary>Sends a message to the thread without holding a thread while it is in flight; see the remarks on <see cref="ChatThreadClient"/> about cancellation.</summary>
        /// <param name="content">The message content; not empty.</param>
        /// <param name="type">Text (the default) or HTML.</param>
        /// <param name="senderDisplayName">The display name shown for the sender; null for none.</param>
        /// <param name="metadata">String pairs sent with the message; null for none. The pairs are copied before this method returns.</param>
        /// <param name="cancellationToken">Cancels the call; see <see cref="AcsChatCanceledException"/>.</param>
        /// <returns>A task with the result, carrying the id of the new message; it fails with <see cref="AcsChatException"/> as <see cref="SendMessage(string, ChatMessageType, string, IDictionary{string, string})"/> throws,
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
        /// <exception cref="ArgumentException"><paramref name="senderDisplayName"/> holds a NUL character.</exception>
        /// <exception cref="AcsChatException">The service rejected the notification or could not be reached.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public void SendTypingNotification([AllowNull] string senderDisplayName = null)
        {
            client.ThrowIfDisposed();
            SendTyping(Utf8.Encode(senderDisplayName, "senderDisplayName"));
        }

        /// <summary>Sends a typing notification without holding a thread while it is in flight; see the remarks on <see cref="ChatThreadClient"/> about cancellation.</summary>
        /// <param name="senderDisplayName">The display name shown for the sender; null for none.</param>
        /// <param name="cancellationToken">Cancels the call; see <see cref="AcsChatCanceledException"/>.</param>
        /// <returns>A task that fails with <see cref="AcsChatException"/> when the notification fails, or is cancelled with <see cref="AcsChatCanceledException"/>.</returns>
        /// <exception cref="ArgumentException"><paramref name="senderDisplayName"/> holds a NUL character.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public Task SendTypingNotificationAsync([AllowNull] string senderDisplayName = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            client.ThrowIfDisposed();
            byte[] name = Utf8.Encode(senderDisplayName, "senderDisplayName");
            return AsyncCall.Start(client,
                (NativeCompletionCallback callback, IntPtr userData, out IntPtr call) =>
                    NativeMethods.acs_send_typing_async(client.Handle, threadIdUtf8, name, callback, userData, out call),
                Completed, cancellationToken, null);
        }

        /// <summary>Marks the message <paramref name="messageId"/>, and those before it, as read by the user. Retried on transient failures.</summary>
        /// <param name="messageId">The id of the message read, as returned by <see cref="SendChatMessageResult.Id"/>.</param>
        /// <exception cref="ArgumentNullException"><paramref name="messageId"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="messageId"/> is empty or holds a NUL character.</exception>
        /// <exception cref="AcsChatException">The service rejected the receipt or could not be reached.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public void SendReadReceipt(string messageId)
        {
            client.ThrowIfDisposed();
            SendReceipt(EncodeMessageId(messageId));
        }

        /// <summary>Sends a read receipt without holding a thread while it is in flight; see the remarks on <see cref="ChatThreadClient"/> about cancellation.</summary>
        /// <param name="messageId">The id of the message read.</param>
        /// <param name="cancellationToken">Cancels the call; see <see cref="AcsChatCanceledException"/>.</param>
        /// <returns>A task that fails with <see cref="AcsChatException"/> when the receipt fails, or is cancelled with <see cref="AcsChatCanceledException"/>.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="messageId"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="messageId"/> is empty or holds a NUL character.</exception>
        /// <exception cref="ObjectDisposedException">The client was disposed.</exception>
        public Task SendReadReceiptAsync(string messageId, CancellationToken cancellationToken = default(CancellationToken))
        {
            client.ThrowIfDisposed();
            byte[] id = EncodeMessageId(messageId);
            return AsyncCall.Start(client,
                (NativeCompletionCallback callback, IntPtr userData, out IntPtr call) =>
                    NativeMethods.acs_send_read_receipt_async(client.Handle, threadIdUtf8, id, callback, userData, out call),
                Completed, cancellationToken, "messageId");
        }

        private static byte[] EncodeMessageId(string messageId)
        {
            if (messageId == null)
            {
                throw new ArgumentNullException("messageId");
            }
            if (messageId.Length == 0)
            {
                throw new ArgumentException("The message id must not be empty.", "messageId");
            }
            return Utf8.Encode(messageId, "messageId");
        }

        /// <summary>Reads the new message's id (borrowed: copied here) from a successful completion.</summary>
        private static readonly Func<IntPtr, SendChatMessageResult> MessageSent =
            completion => new SendChatMessageResult(Utf8.Decode(NativeMethods.acs_completion_message_id(completion)) ?? string.Empty);

        /// <summary>The outcome of a successful typing notification or read receipt.</summary>
        private static readonly Func<IntPtr, bool> Completed = completion => true;

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
                return new SendChatMessageResult(Utf8.TakeOwned(id) ?? string.Empty);
            }
        }

        private void SendTyping(byte[] senderDisplayName)
        {
            Ensure.BeginCall();
            AcsResult result = NativeMethods.acs_send_typing(client.Handle, threadIdUtf8, senderDisplayName);
            Ensure.Success(result);
        }

        private void SendReceipt(byte[] messageId)
        {
            Ensure.BeginCall();
            AcsResult result = NativeMethods.acs_send_read_receipt(client.Handle, threadIdUtf8, messageId);
            Ensure.Success(result, "messageId");
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
