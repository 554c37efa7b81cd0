using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using AcsChat;

// Starts 100 asynchronous calls and leaves Main (or calls Environment.Exit) while they are in flight.
// The process must exit with code 0: no crash, no hang, no completion callback into a runtime that is
// shutting down. Run by AsyncTests ("async_process_exit_with_calls_in_flight").
//   mono ExitWithCallsInFlight.exe ENDPOINT TOKEN THREAD_ID MODE
// MODE is a comma-separated list: "return" or "exit" (Environment.Exit(0)); "log" installs a log
// handler at Trace level (log lines from the library's I/O threads during exit); "cancel" cancels the
// cancellable third of the calls right before exiting; "dispose" disposes the client first.
internal static class ExitWithCallsInFlight
{
    private static int Main(string[] args)
    {
        if (args.Length != 4)
        {
            Console.Error.WriteLine("usage: ExitWithCallsInFlight.exe ENDPOINT TOKEN THREAD_ID MODE");
            return 2;
        }
        HashSet<string> mode = new HashSet<string>(args[3].Split(','));
        if (mode.Contains("log"))
        {
            AcsChatLogging.SetHandler((level, message) => { }, AcsLogLevel.Trace);
        }
        ChatClient client = new ChatClient(args[0], args[1]);
        ChatThreadClient thread = client.GetChatThreadClient(args[2]);
        CancellationTokenSource cts = new CancellationTokenSource();
        List<Task> tasks = new List<Task>();
        for (int i = 0; i < 100; i++)
        {
            switch (i % 3)
            {
                case 0:
                    tasks.Add(thread.SendMessageAsync("exit " + i, cancellationToken: cts.Token));
                    break;
                case 1:
                    tasks.Add(thread.SendTypingNotificationAsync("exit " + i));
                    break;
                default:
                    tasks.Add(thread.SendMessageAsync("exit " + i).ContinueWith(t => thread.SendReadReceiptAsync(t.Result.Id)).Unwrap());
                    break;
            }
        }
        Console.WriteLine("started " + tasks.Count + " calls");
        Console.Out.Flush();
        if (mode.Contains("cancel"))
        {
            cts.Cancel();
        }
        if (mode.Contains("dispose"))
        {
            client.Dispose();
        }
        if (mode.Contains("exit"))
        {
            Environment.Exit(0);
        }
        return 0;
    }
}
