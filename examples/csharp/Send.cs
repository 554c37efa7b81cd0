// Sends a message, a typing notification and a read receipt to one chat thread.
//
//   ACS_ENDPOINT=https://my-resource.communication.azure.com \
//   ACS_TOKEN=<user access token> ACS_THREAD_ID='19:...@thread.v2' mono Send.exe
//
// Build with Mono: mcs -r:AcsChat.dll -out:Send.exe Send.cs
// (libacs_chat.so must be on LD_LIBRARY_PATH). With .NET, add the AcsChat package and use this file as Program.cs.
using System;
using System.Collections.Generic;
using AcsChat;

internal static class Send
{
    private static int Main()
    {
        string endpoint = Environment.GetEnvironmentVariable("ACS_ENDPOINT");
        string token = Environment.GetEnvironmentVariable("ACS_TOKEN");
        string threadId = Environment.GetEnvironmentVariable("ACS_THREAD_ID");
        if (string.IsNullOrEmpty(endpoint) || string.IsNullOrEmpty(token) || string.IsNullOrEmpty(threadId))
        {
            Console.Error.WriteLine("set ACS_ENDPOINT, ACS_TOKEN and ACS_THREAD_ID");
            return 2;
        }

        Console.WriteLine("acs_chat " + ChatClient.Version);
        ChatClientOptions options = new ChatClientOptions
        {
            ApplicationId = "send-example",
            Timeout = TimeSpan.FromSeconds(10),
        };
        try
        {
            using (ChatClient client = new ChatClient(endpoint, token, options))
            {
                ChatThreadClient thread = client.GetChatThreadClient(threadId);

                thread.SendTypingNotification("C# example");
                Console.WriteLine("typing notification sent");

                SendChatMessageResult sent = thread.SendMessage(
                    "Hello from C#!", ChatMessageType.Text, "C# example",
                    new Dictionary<string, string> { { "source", "examples/csharp/Send.cs" } });
                Console.WriteLine("message sent, id " + sent.Id);

                thread.SendReadReceipt(sent.Id);
                Console.WriteLine("read receipt sent for " + sent.Id);
            }
            return 0;
        }
        catch (AcsChatException e)
        {
            Console.Error.WriteLine("failed: " + e.Result + " (HTTP " + e.Status + ", code " + (e.ErrorCode ?? "none")
                + ", request id " + (e.RequestId ?? "none") + "): " + e.Message);
            if (e.RetryAfter.HasValue)
            {
                Console.Error.WriteLine("the service asks to retry after " + e.RetryAfter.Value.TotalSeconds + " s");
            }
            if (e.MayHaveBeenDelivered)
            {
                Console.Error.WriteLine("the message may have been delivered anyway");
            }
            return 1;
        }
    }
}
