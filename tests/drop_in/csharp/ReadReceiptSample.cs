// Send read receipts, as in the Azure.Communication.Chat samples ("Send read receipt"),
// synchronously and asynchronously.
//   ACS_ENDPOINT=... ACS_TOKEN=... ACS_THREAD_ID=... mono ReadReceiptSample.exe
using System;
using System.Threading;
using System.Threading.Tasks;
using Azure;
using Azure.Communication;
using Azure.Communication.Chat;

public static class ReadReceiptSample
{
    public static int Main()
    {
        try
        {
            SendReadReceipt();
            SendReadReceiptAsync().GetAwaiter().GetResult();
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
        ChatClient chatClient = new ChatClient(endpoint, new CommunicationTokenCredential(userToken),
            new ChatClientOptions(ChatClientOptions.ServiceVersion.V2024_03_07));
        return chatClient.GetChatThreadClient(threadId);
    }

    public static void SendReadReceipt()
    {
        ChatThreadClient chatThreadClient = CreateChatThreadClient();
        string messageId = chatThreadClient.SendMessage("read me").Value.Id;

        // Snippet:Azure_Communication_Chat_SendReadReceipt
        Response response = chatThreadClient.SendReadReceipt(messageId);
        Console.WriteLine("sync-receipt " + messageId + " status " + response.Status);
    }

    public static async Task SendReadReceiptAsync()
    {
        ChatThreadClient chatThreadClient = CreateChatThreadClient();
        SendChatMessageResult sendChatMessageResult = await chatThreadClient.SendMessageAsync("read me async");
        string messageId = sendChatMessageResult.Id;

        // Snippet:Azure_Communication_Chat_SendReadReceiptAsync
        Response response = await chatThreadClient.SendReadReceiptAsync(messageId, CancellationToken.None);
        Console.WriteLine("async-receipt " + messageId + " status " + response.Status);
    }
}
