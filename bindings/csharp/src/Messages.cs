using System;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;

namespace AcsChat
{
    /// <summary>The type of a chat message being sent, with the values of the C <c>acs_message_type</c>.</summary>
    public enum ChatMessageType
    {
        /// <summary>Plain text (<c>"text"</c> on the wire).</summary>
        Text = 0,
        /// <summary>HTML (<c>"html"</c> on the wire).</summary>
        Html = 1,
    }

    /// <summary>The message to send with <see cref="ChatThreadClient.SendMessage(SendChatMessageOptions, System.Threading.CancellationToken)"/>.</summary>
    public sealed class SendChatMessageOptions
    {
        private readonly Dictionary<string, string> metadata = new Dictionary<string, string>();

        /// <summary>The message content; required and not empty.</summary>
        [AllowNull, MaybeNull]
        public string Content { get; set; }

        /// <summary>The message type; <see cref="ChatMessageType.Text"/> by default.</summary>
        public ChatMessageType MessageType { get; set; }

        /// <summary>The display name shown for the sender; null (the default) to send none.</summary>
        [AllowNull, MaybeNull]
        public string SenderDisplayName { get; set; }

        /// <summary>Metadata sent with the message as string pairs; empty by default. Values must not be null.</summary>
        public IDictionary<string, string> Metadata
        {
            get { return metadata; }
        }
    }

    /// <summary>
    /// The outcome of sending a message: <see cref="Id"/>. It also has the shape of the official SDK's
    /// <c>Response&lt;SendChatMessageResult&gt;</c>: <see cref="Value"/> (this object), <see cref="GetRawResponse"/>
    /// and an implicit conversion to <see cref="Response{T}"/>, so both <c>SendMessage(...).Id</c> and the
    /// official <c>SendMessage(...).Value.Id</c> compile.
    /// </summary>
    public sealed class SendChatMessageResult
    {
        private readonly Response raw;

        /// <summary>Creates a result carrying the id the service gave the message.</summary>
        /// <param name="id">The message id.</param>
        public SendChatMessageResult(string id)
            : this(id, new Response(0, null))
        {
        }

        /// <summary>Creates a result carrying the id the service gave the message and the answer it came in.</summary>
        /// <param name="id">The message id.</param>
        /// <param name="rawResponse">The service's answer.</param>
        public SendChatMessageResult(string id, Response rawResponse)
        {
            if (rawResponse == null)
            {
                throw new ArgumentNullException("rawResponse");
            }
            Id = id;
            raw = rawResponse;
        }

        /// <summary>The id the service gave the new message; pass it to <see cref="ChatThreadClient.SendReadReceipt(string)"/>.</summary>
        public string Id { get; }

        /// <summary>This object, as <c>Response&lt;SendChatMessageResult&gt;.Value</c> of the official SDK.</summary>
        public SendChatMessageResult Value
        {
            get { return this; }
        }

        /// <summary>True, as <c>Response&lt;T&gt;.HasValue</c>.</summary>
        public bool HasValue
        {
            get { return true; }
        }

        /// <summary>
        /// The service's answer (status 201 and the request id); for a result made with
        /// <see cref="SendChatMessageResult(string)"/>, a response with status 0 and no request id.
        /// </summary>
        /// <returns>The answer.</returns>
        public Response GetRawResponse()
        {
            return raw;
        }

        /// <summary>Wraps <paramref name="result"/> in a <see cref="Response{T}"/>, so <c>Response&lt;SendChatMessageResult&gt; r = thread.SendMessage(...)</c> compiles.</summary>
        /// <param name="result">The result.</param>
        public static implicit operator Response<SendChatMessageResult>(SendChatMessageResult result)
        {
            if (result == null)
            {
                throw new ArgumentNullException("result");
            }
            return new Response<SendChatMessageResult>(result, result.raw);
        }
    }

    /// <summary>
    /// The typing notification to send with
    /// <see cref="ChatThreadClient.SendTypingNotification(TypingNotificationOptions, System.Threading.CancellationToken)"/>,
    /// as in the official SDK. A string converts to it implicitly (as the sender display name), which also
    /// keeps <c>SendTypingNotification(null)</c> meaning "no name".
    /// </summary>
    public sealed class TypingNotificationOptions
    {
        /// <summary>The display name shown for the sender; null (the default) to send none.</summary>
        [AllowNull, MaybeNull]
        public string SenderDisplayName { get; set; }

        /// <summary>Options with <paramref name="senderDisplayName"/> as the sender display name.</summary>
        /// <param name="senderDisplayName">The display name, or null.</param>
        public static implicit operator TypingNotificationOptions([AllowNull] string senderDisplayName)
        {
            return new TypingNotificationOptions { SenderDisplayName = senderDisplayName };
        }
    }
}
