// Send a message, as in the Azure.Communication.Chat samples ("Send a message", Sample2 and the
// README), synchronously and asynchronously. Written against the official SDK: run.sh compiles it
// against AcsChat after rewriting the three `using Azure...` lines to `using AcsChat;`.
//   ACS_ENDPOINT=... ACS_TOKEN=... ACS_THREAD_ID=... mono SendMessageSample.exe
using System;
using System.Threading;
using System.Threading.Tasks;
using Azure;
using Azure.Communication;
using Azure.Communication.Chat;

public static class SendMessageSample
{
    public static int Main()
    {
        try
        {
            SendMessage();
            SendMessageAsync().GetAwaiter().GetResult();
            return 0;
        }
        catch (RequestFailedException ex)
        {
            Console.Error.WriteLine("failed: " + ex.Status + " " + ex.ErrorCode + ": " + ex.Message);
            return 1;
        }
    }

    private static ChatThreadClient CreateChatThreadClient()
    {
        Uri endpoint = new Uri(Environment.GetEnvironmentVariable("ACS_ENDPOINT"));
        string userToken = Environment.GetEnvironmentVariable("ACS_TOKEN");
        string threadId = Environment.GetEnvironmentVariable("ACS_THREAD_ID");

        ChatClientOptions chatClientOptions = new ChatClientOptions();
        chatClientOptions.Retry.MaxRetries = 2;
        chatClientOptions.Retry.Delay = TimeSpan.FromMilliseconds(200);
        chatClientOptions.Retry.NetworkTimeout = TimeSpan.FromSeconds(20);
        chatClientOptions.Diagnostics.ApplicationId = "dropin-sample";

        ChatClient chatClient = new ChatClient(endpoint, new CommunicationTokenCredential(userToken), chatClientOptions);
        return chatClient.GetChatThreadClient(threadId);
    }

    public static void SendMessage()
    {
        ChatThreadClient chatThreadClient = CreateChatThreadClient();

        // Snippet:Azure_Communication_Chat_SendMessage
        SendChatMessageResult sendChatMessageResult = chatThreadClient.SendMessage("hello world");
        string messageId = sendChatMessageResult.Id;
        Console.WriteLine("sync-text " + messageId);

        // With options: type, sender display name and metadata.
        var sendChatMessageOptions = new SendChatMessageOptions()
        {
            Content = "hello with options",
            MessageType = ChatMessageType.Text,
            SenderDisplayName = "Jack",
        };
        sendChatMessageOptions.Metadata["tags"] = "tag1";
        sendChatMessageOptions.Metadata["isQuestion"] = "false";
        Response<SendChatMessageResult> response = chatThreadClient.SendMessage(sendChatMessageOptions);
        Console.WriteLine("sync-options " + response.Value.Id + " status " + response.GetRawResponse().Status);

        // The positional overload with a cancellation token.
        string htmlId = chatThreadClient.SendMessage("<b>hello html</b>", ChatMessageType.Html, "Jack", CancellationToken.None).Value.Id;
        Console.WriteLine("sync-html " + htmlId);
    }

    public static async Task SendMessageAsync()
    {
        ChatThreadClient chatThreadClient = CreateChatThreadClient();

        // Snippet:Azure_Communication_Chat_SendMessageAsync
        SendChatMessageResult sendChatMessageResult = await chatThreadClient.SendMessageAsync(content: "hello world async");
        Console.WriteLine("async-text " + sendChatMessageResult.Id);

        var sendChatMessageOptions = new SendChatMessageOptions()
        {
            Content = "hello with options async",
            MessageType = ChatMessageType.Text,
            SenderDisplayName = "Jill",
        };
        sendChatMessageOptions.Metadata["tags"] = "tag2";
        using (CancellationTokenSource cancellationTokenSource = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            Response<SendChatMessageResult> response = await chatThreadClient.SendMessageAsync(sendChatMessageOptions, cancellationTokenSource.Token);
            Console.WriteLine("async-options " + response.Value.Id + " status " + response.GetRawResponse().Status);
        }
    }
}
