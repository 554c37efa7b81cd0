// Send typing notifications, as in the Azure.Communication.Chat samples ("Send typing notification"),
// synchronously and asynchronously, with and without TypingNotificationOptions.
//   ACS_ENDPOINT=... ACS_TOKEN=... ACS_THREAD_ID=... mono TypingNotificationSample.exe
using System;
using System.Threading;
using System.Threading.Tasks;
using Azure;
using Azure.Communication;
using Azure.Communication.Chat;

public static class TypingNotificationSample
{
    public static int Main()
    {
        try
        {
            SendTypingNotification();
            SendTypingNotificationAsync().GetAwaiter().GetResult();
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
        // A credential that refreshes (here: always the same token) and starts from the one it was given.
        CommunicationTokenRefreshOptions refreshOptions = new CommunicationTokenRefreshOptions(
            refreshProactively: true,
            tokenRefresher: cancellationToken => userToken)
        {
            InitialToken = userToken,
        };
        ChatClient chatClient = new ChatClient(endpoint, new CommunicationTokenCredential(refreshOptions));
        return chatClient.GetChatThreadClient(threadId);
    }

    public static void SendTypingNotification()
    {
        ChatThreadClient chatThreadClient = CreateChatThreadClient();

        // Snippet:Azure_Communication_Chat_SendTypingNotification
        chatThreadClient.SendTypingNotification();

        Response response = chatThreadClient.SendTypingNotification(new TypingNotificationOptions()
        {
            SenderDisplayName = "Jack",
        });
        Console.WriteLine("sync-typing status " + response.Status);
    }

    public static async Task SendTypingNotificationAsync()
    {
        ChatThreadClient chatThreadClient = CreateChatThreadClient();

        // Snippet:Azure_Communication_Chat_SendTypingNotificationAsync
        await chatThreadClient.SendTypingNotificationAsync();

        TypingNotificationOptions typingNotificationOptions = new TypingNotificationOptions()
        {
            SenderDisplayName = "Jill",
        };
        Response response = await chatThreadClient.SendTypingNotificationAsync(typingNotificationOptions, CancellationToken.None);
        Console.WriteLine("async-typing status " + response.Status);
    }
}
