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

    /// <summary>The message to send with <see cref="ChatThreadClient.SendMessage(SendChatMessageOptions)"/>.</summary>
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

    /// <summary>The outcome of sending a message.</summary>
    public sealed class SendChatMessageResult
    {
        /// <summary>Creates a result carrying the id the service gave the message.</summary>
        /// <param name="id">The message id.</param>
        public SendChatMessageResult(string id)
        {
            Id = id;
        }

        /// <summary>The id the service gave the new message; pass it to <see cref="ChatThreadClient.SendReadReceipt"/>.</summary>
        public string Id { get; }
    }
}
