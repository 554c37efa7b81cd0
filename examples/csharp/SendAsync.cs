// The asynchronous methods of AcsChat: a typing notification and a message in flight at once, then a
// read receipt for the message, all bounded by one CancellationToken. No thread waits while a call is
// in flight: the library completes each task from its own I/O threads.
//
//   ACS_ENDPOINT=https://my-resource.communication.azure.com \
//   ACS_TOKEN=<user access token> ACS_THREAD_ID='19:...@thread.v2' mono SendAsync.exe [text]
//
// Build with Mono: mcs -r:AcsChat.dll -out:SendAsync.exe SendAsync.cs
// (libacs_chat.so must be on LD_LIBRARY_PATH). With .NET, add the AcsChat package and use this file as
// Program.cs (there `static async Task<int> Main` works as well).
using System;
using System.Threading;
using System.Threading.Tasks;
using AcsChat;

internal static class SendAsync
{
    private static int Main(string[] args)
    {
        string endpoint = Environment.GetEnvironmentVariable("ACS_ENDPOINT");
        string token = Environment.GetEnvironmentVariable("ACS_TOKEN");
        string threadId = Environment.GetEnvironmentVariable("ACS_THREAD_ID");
        if (string.IsNullOrEmpty(endpoint) || string.IsNullOrEmpty(token) || string.IsNullOrEmpty(threadId))
        {
            Console.Error.WriteLine("set ACS_ENDPOINT, ACS_TOKEN and ACS_THREAD_ID");
            return 2;
        }
        string text = args.Length > 0 ? args[0] : "Hello from C#, asynchronously!";
        // Mono's compiler has no async Main: block once, here, on the whole program.
        return RunAsync(endpoint, token, threadId, text).GetAwaiter().GetResult();
    }

    private static async Task<int> RunAsync(string endpoint, string token, string threadId, string text)
    {
        ChatClientOptions options = new ChatClientOptions
        {
            ApplicationId = "csharp-async-example",
            TotalTimeout = TimeSpan.FromSeconds(30), // each call, retries and waits included
        };
        // Cancelling the token cancels the calls in flight (here: after a minute).
        using (CancellationTokenSource cancel = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
        using (ChatClient client = new ChatClient(endpoint, token, options))
        {
            ChatThreadClient thread = client.GetChatThreadClient(threadId);
            try
            {
                Task typing = thread.SendTypingNotificationAsync("C# async example", cancel.Token);
                Task<SendChatMessageResult> message = thread.SendMessageAsync(text, ChatMessageType.Text,
                    "C# async example", null, cancel.Token);

                await typing;
                Console.WriteLine("typing notification sent");
                SendChatMessageResult sent = await message;
                Console.WriteLine("message sent, id " + sent.Id);

                await thread.SendReadReceiptAsync(sent.Id, cancel.Token);
                Console.WriteLine("read receipt sent for " + sent.Id);
                return 0;
            }
            catch (AcsChatCanceledException e)
            {
                // Cancelled: MayHaveBeenDelivered says whether the request had already been sent.
                Console.Error.WriteLine("cancelled: " + e.Message + (e.MayHaveBeenDelivered
                    ? " (it may still have been delivered: do not blindly send it again)"
                    : " (nothing was delivered)"));
                return 1;
            }
            catch (AcsChatException e)
            {
                Console.Error.WriteLine("failed: " + e.Result + " (HTTP " + e.Status + ", code " + (e.ErrorCode ?? "none")
                    + ", request id " + (e.RequestId ?? "none") + "): " + e.Message);
                if (e.MayHaveBeenDelivered)
                {
                    Console.Error.WriteLine("the message may have been delivered anyway");
                }
                return 1;
            }
        }
    }
}
