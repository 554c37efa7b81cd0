using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace AcsChat.Tests
{
    /// <summary>Dispose, also while a call is in flight, and the log handler.</summary>
    internal sealed class LifetimeTests : EmulatorTests
    {
        [Test("dispose_semantics")]
        private void DisposeSemantics()
        {
            ChatClient client = NewClient();
            ChatThreadClient thread = client.GetChatThreadClient(NewThread("dispose"));
            string id = thread.SendMessage("before dispose").Id;
            client.Dispose();
            client.Dispose();
            Assert.Throws<ObjectDisposedException>(() => client.GetChatThreadClient("t"), "GetChatThreadClient");
            Assert.Throws<ObjectDisposedException>(() => client.SetToken(emulator.Token()), "SetToken");
            Assert.Throws<ObjectDisposedException>(() => thread.SendMessage("x"), "SendMessage");
            Assert.Throws<ObjectDisposedException>(() => thread.SendMessage(new SendChatMessageOptions { Content = "x" }), "SendMessage(options)");
            Assert.Throws<ObjectDisposedException>(() => thread.SendTypingNotification(), "SendTypingNotification");
            Assert.Throws<ObjectDisposedException>(() => thread.SendReadReceipt(id), "SendReadReceipt");
            Assert.Throws<ObjectDisposedException>(() => thread.SendMessageAsync("x"), "SendMessageAsync throws before starting");
            Assert.Throws<ObjectDisposedException>(() => thread.SendMessageAsync(new SendChatMessageOptions { Content = "x" }), "SendMessageAsync(options)");
            Assert.Throws<ObjectDisposedException>(() => thread.SendTypingNotificationAsync(), "SendTypingNotificationAsync");
            Assert.Throws<ObjectDisposedException>(() => thread.SendReadReceiptAsync(id), "SendReadReceiptAsync");
            Assert.Equal(1, emulator.Events(thread.Id).Count, "nothing sent after Dispose");
        }

        [Test("dispose_during_call")]
        private void DisposeDuringCall()
        {
            // The refresher runs inside the native call: it pins the call open while the client is disposed.
            string threadId = NewThread("inflight");
            string fresh = emulator.Token();
            ManualResetEventSlim entered = new ManualResetEventSlim();
            ManualResetEventSlim release = new ManualResetEventSlim();
            ChatClientOptions options = new ChatClientOptions();
            options.TokenRefresher = () =>
            {
                entered.Set();
                release.Wait(TimeSpan.FromSeconds(20));
                return fresh;
            };
            ChatClient client = new ChatClient(emulator.Url, emulator.Token(null, 30), options);
            ChatThreadClient thread = client.GetChatThreadClient(threadId);
            Task<SendChatMessageResult> task = thread.SendMessageAsync("in flight");
            Assert.True(entered.Wait(TimeSpan.FromSeconds(20)), "the call started");
            client.Dispose();
            Assert.Throws<ObjectDisposedException>(() => thread.SendTypingNotification(), "new calls fail at once");
            release.Set();
            SendChatMessageResult result = task.Result;
            Assert.Equal(result.Id, Json.Str(emulator.Events(threadId).Single(), "id"), "the call in flight completed on the disposed client");
        }

        [Test("logging_handler")]
        private void LoggingHandler()
        {
            string token = emulator.Token();
            List<KeyValuePair<AcsLogLevel, string>> lines = new List<KeyValuePair<AcsLogLevel, string>>();
            AcsChatLogging.SetHandler((level, message) =>
            {
                lock (lines)
                {
                    lines.Add(new KeyValuePair<AcsLogLevel, string>(level, message));
                }
            }, AcsLogLevel.Trace);
            string threadId = NewThread("logging");
            try
            {
                emulator.Fault(threadId, "typing", status: 503, count: 1);
                using (ChatClient client = new ChatClient(emulator.Url, token, FastRetries(2)))
                {
                    ChatThreadClient thread = client.GetChatThreadClient(threadId);
                    thread.SendMessage("logged");
                    thread.SendTypingNotification();
                }
            }
            finally
            {
                AcsChatLogging.SetHandler(null);
            }
            List<KeyValuePair<AcsLogLevel, string>> copy;
            lock (lines)
            {
                copy = new List<KeyValuePair<AcsLogLevel, string>>(lines);
            }
            Assert.True(copy.Count > 0, "the handler received log lines");
            Assert.True(copy.All(l => l.Key >= AcsLogLevel.Error && l.Key <= AcsLogLevel.Trace), "levels are in range");
            Assert.True(copy.All(l => l.Value != null && l.Value.IndexOf(token, StringComparison.Ordinal) < 0), "no log line contains the token");
            Assert.True(copy.Any(l => l.Key <= AcsLogLevel.Warn), "the retried 503 logged a warning or error");

            List<KeyValuePair<AcsLogLevel, string>> warnOnly = new List<KeyValuePair<AcsLogLevel, string>>();
            AcsChatLogging.SetHandler((level, message) =>
            {
                lock (warnOnly)
                {
                    warnOnly.Add(new KeyValuePair<AcsLogLevel, string>(level, message));
                }
            }, AcsLogLevel.Warn);
            try
            {
                using (ChatClient client = new ChatClient(emulator.Url, token))
                {
                    client.GetChatThreadClient(threadId).SendMessage("quiet");
                }
            }
            finally
            {
                AcsChatLogging.SetHandler(null);
            }
            lock (warnOnly)
            {
                Assert.True(warnOnly.All(l => l.Key <= AcsLogLevel.Warn), "nothing above the maximum level is delivered");
            }
        }
    }
}
