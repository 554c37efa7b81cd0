using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace AcsChat.Tests
{
    /// <summary>The three operations, blocking and asynchronous, and one client shared by many tasks.</summary>
    internal sealed class OperationTests : EmulatorTests
    {
        [Test("send_message_defaults")]
        private void SendMessageDefaults()
        {
            string threadId = NewThread("defaults");
            MintedToken minted = emulator.Mint("csharp-defaults");
            using (ChatClient client = new ChatClient(emulator.Url, minted.Token))
            {
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                Assert.Equal(threadId, thread.Id, "thread client Id");
                SendChatMessageResult result = thread.SendMessage("hello from C#");
                Assert.NotEmpty(result.Id, "message id");
                List<Dictionary<string, object>> events = emulator.Events(threadId);
                Assert.Equal(1, events.Count, "one event");
                Dictionary<string, object> ev = events[0];
                Assert.Equal("message", Json.Str(ev, "op"), "op");
                Assert.Equal(result.Id, Json.Str(ev, "id"), "event id == result id");
                Assert.Equal("hello from C#", Json.Str(ev, "content"), "content");
                Assert.Equal("text", Json.Str(ev, "type"), "type");
                Assert.Equal(null, Json.Str(ev, "senderDisplayName"), "no sender display name");
                Assert.Equal(0, Metadata(ev).Count, "no metadata");
                Assert.Equal(minted.User, Json.Str(ev, "user"), "user from the token");
                Assert.NotEmpty(Json.Str(ev, "userAgent"), "user agent");
                List<Dictionary<string, object>> requests = emulator.Requests(threadId);
                Assert.Equal(1, requests.Count, "one request");
                Assert.Equal("Bearer", Json.Str(requests[0], "authorization"), "bearer authorization");
                Assert.Equal("2025-03-15", Json.Str(requests[0], "apiVersion"), "default api-version");
                Assert.True((Json.Str(requests[0], "contentType") ?? "").StartsWith("application/json", StringComparison.Ordinal), "JSON content type");
                Assert.NotEmpty(Json.Str(requests[0], "clientRequestId"), "x-ms-client-request-id");
            }
        }

        [Test("send_message_all_fields")]
        private void SendMessageAllFields()
        {
            string threadId = NewThread("fields");
            using (ChatClient client = NewClient())
            {
                Dictionary<string, string> metadata = new Dictionary<string, string>();
                metadata["tag"] = "urgent";
                metadata["ключ"] = "значение ✓";
                string content = "<p>héllo 🌍 日本語 \"quoted\" \\ back</p>";
                SendChatMessageResult result = client.GetChatThreadClient(threadId)
                    .SendMessage(content, ChatMessageType.Html, "Zoë 🚀", metadata);
                Dictionary<string, object> ev = emulator.Events(threadId).Single();
                Assert.Equal(result.Id, Json.Str(ev, "id"), "id");
                Assert.Equal(content, Json.Str(ev, "content"), "unicode content round trip");
                Assert.Equal("html", Json.Str(ev, "type"), "html type");
                Assert.Equal("Zoë 🚀", Json.Str(ev, "senderDisplayName"), "sender display name");
                Dictionary<string, string> got = Metadata(ev);
                Assert.Equal(2, got.Count, "metadata count");
                Assert.Equal("urgent", got["tag"], "metadata tag");
                Assert.Equal("значение ✓", got["ключ"], "metadata unicode");
            }
        }

        [Test("send_message_options_overload")]
        private void SendMessageOptionsOverload()
        {
            SendChatMessageOptions options = new SendChatMessageOptions();
            Assert.Equal(ChatMessageType.Text, options.MessageType, "default type");
            Assert.True(options.Metadata != null && options.Metadata.Count == 0, "metadata starts empty");
            Assert.True(!typeof(SendChatMessageOptions).GetProperty("Metadata").CanWrite, "Metadata is get-only");
            Assert.True(typeof(SendChatMessageOptions).GetProperty("Content").CanWrite, "Content is settable");
            options.Content = "via options";
            options.MessageType = ChatMessageType.Html;
            options.SenderDisplayName = "Options Sender";
            options.Metadata["k1"] = "v1";
            options.Metadata["k2"] = "";
            string threadId = NewThread("options");
            using (ChatClient client = NewClient())
            {
                SendChatMessageResult result = client.GetChatThreadClient(threadId).SendMessage(options);
                Dictionary<string, object> ev = emulator.Events(threadId).Single();
                Assert.Equal(result.Id, Json.Str(ev, "id"), "id");
                Assert.Equal("via options", Json.Str(ev, "content"), "content");
                Assert.Equal("html", Json.Str(ev, "type"), "type");
                Assert.Equal("Options Sender", Json.Str(ev, "senderDisplayName"), "name");
                Dictionary<string, string> got = Metadata(ev);
                Assert.Equal("v1", got["k1"], "metadata k1");
                Assert.Equal("", got["k2"], "metadata k2 (empty value)");
            }
        }

        [Test("send_typing_notification")]
        private void SendTypingNotification()
        {
            string threadId = NewThread("typing");
            using (ChatClient client = NewClient())
            {
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                thread.SendTypingNotification();
                thread.SendTypingNotification("Typist ✍");
                List<Dictionary<string, object>> events = EventsOf(threadId, "typing");
                Assert.Equal(2, events.Count, "two typing events");
                Assert.Equal(null, Json.Str(events[0], "senderDisplayName"), "no name");
                Assert.Equal("Typist ✍", Json.Str(events[1], "senderDisplayName"), "with name");
            }
        }

        [Test("send_read_receipt")]
        private void SendReadReceipt()
        {
            string threadId = NewThread("receipt");
            using (ChatClient client = NewClient())
            {
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                string id = thread.SendMessage("read me").Id;
                thread.SendReadReceipt(id);
                List<Dictionary<string, object>> receipts = EventsOf(threadId, "readReceipt");
                Assert.Equal(1, receipts.Count, "one receipt");
                Assert.Equal(id, Json.Str(receipts[0], "chatMessageId"), "receipt message id");
            }
        }

        [Test("thread_id_is_one_path_segment")]
        private void ThreadIdIsOnePathSegment()
        {
            string threadId = "19:a/b?c#d e%25&x=1@thread.v2-" + Guid.NewGuid().ToString("N");
            using (ChatClient client = NewClient())
            {
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                string id = thread.SendMessage("odd thread id").Id;
                thread.SendTypingNotification();
                thread.SendReadReceipt(id);
                List<Dictionary<string, object>> events = emulator.Events(threadId);
                Assert.Equal("message,typing,readReceipt", string.Join(",", events.Select(e => Json.Str(e, "op"))), "all three reached this thread");
            }
        }

        [Test("async_methods")]
        private void AsyncMethods()
        {
            string threadId = NewThread("async");
            using (ChatClient client = NewClient())
            using (CancellationTokenSource cts = new CancellationTokenSource())
            {
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                Dictionary<string, string> metadata = new Dictionary<string, string>();
                metadata["a"] = "b";
                SendChatMessageResult first = thread.SendMessageAsync("async one", ChatMessageType.Text, "Async", metadata, cts.Token).Result;
                SendChatMessageOptions options = new SendChatMessageOptions();
                options.Content = "async two";
                SendChatMessageResult second = thread.SendMessageAsync(options).Result;
                thread.SendTypingNotificationAsync("Async", cts.Token).Wait();
                thread.SendReadReceiptAsync(second.Id, cts.Token).Wait();
                Assert.True(first.Id != second.Id, "distinct ids");
                List<Dictionary<string, object>> events = emulator.Events(threadId);
                Assert.Equal("message,message,typing,readReceipt", string.Join(",", events.Select(e => Json.Str(e, "op"))), "ops in order");
                Assert.Equal(first.Id, Json.Str(events[0], "id"), "first id");
                Assert.Equal("Async", Json.Str(events[0], "senderDisplayName"), "first name");
                Assert.Equal("b", Metadata(events[0])["a"], "first metadata");
                Assert.Equal("async two", Json.Str(events[1], "content"), "second content");
                Assert.Equal(second.Id, Json.Str(events[3], "chatMessageId"), "receipt id");
            }
        }

        [Test("async_cancelled_before_start_sends_nothing")]
        private void AsyncCancelledBeforeStart()
        {
            string threadId = NewThread("precancel");
            using (ChatClient client = NewClient())
            {
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                CancellationToken cancelled = new CancellationToken(true);
                Task[] tasks =
                {
                    thread.SendMessageAsync("never", cancellationToken: cancelled),
                    thread.SendMessageAsync(new SendChatMessageOptions { Content = "never" }, cancelled),
                    thread.SendTypingNotificationAsync(null, cancelled),
                    thread.SendReadReceiptAsync("1", cancelled),
                };
                foreach (Task task in tasks)
                {
                    Assert.True(task.IsCanceled, "task is cancelled at once");
                    Assert.Throws<TaskCanceledException>(() => task.Wait(), "waiting throws TaskCanceledException");
                }
                thread.SendTypingNotification();
                Assert.Equal(1, emulator.Requests(threadId).Count, "only the later typing call reached the service");
            }
        }

        [Test("async_failure_is_acs_chat_exception")]
        private void AsyncFailure()
        {
            string threadId = NewThread("asyncfail");
            emulator.Fault(threadId, "typing", status: 404, body: "{\"error\":{\"code\":\"NotFound\",\"message\":\"no such thread\"}}");
            using (ChatClient client = NewClient())
            using (CancellationTokenSource cts = new CancellationTokenSource())
            {
                Task task = client.GetChatThreadClient(threadId).SendTypingNotificationAsync("x", cts.Token);
                AcsChatException e = Assert.Throws<AcsChatException>(() => task.Wait(), "async failure");
                Assert.Equal(AcsResult.NotFound, e.Result, "result");
                Assert.Equal(404, e.Status, "status");
                Assert.Equal("NotFound", e.ErrorCode, "error code from the completion");
                Assert.NotEmpty(e.RequestId, "request id from the completion");
                Assert.True(!e.MayHaveBeenDelivered, "an error status: not delivered");
                Assert.True(task.IsFaulted, "task is faulted");
            }
        }

        [Test("concurrent_16_tasks_one_client")]
        private void Concurrent16Tasks()
        {
            string threadId = NewThread("concurrent");
            const int tasks = 16;
            const int perTask = 4;
            using (ChatClient client = NewClient())
            {
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                ManualResetEventSlim go = new ManualResetEventSlim();
                Task<List<string>>[] running = new Task<List<string>>[tasks];
                for (int t = 0; t < tasks; t++)
                {
                    int n = t;
                    running[t] = Task.Factory.StartNew(() =>
                    {
                        go.Wait();
                        List<string> ids = new List<string>();
                        for (int i = 0; i < perTask; i++)
                        {
                            ids.Add(thread.SendMessage("task " + n + " message " + i, ChatMessageType.Text, "Task " + n).Id);
                        }
                        thread.SendTypingNotification("Task " + n);
                        thread.SendReadReceipt(ids[perTask - 1]);
                        return ids;
                    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                }
                go.Set();
                Assert.True(Task.WaitAll(running, TimeSpan.FromSeconds(45)), "all tasks finished");
                List<string> all = running.SelectMany(r => r.Result).ToList();
                Assert.Equal(tasks * perTask, all.Count, "ids returned");
                Assert.Equal(tasks * perTask, all.Distinct().Count(), "ids are distinct");
                List<Dictionary<string, object>> events = emulator.Events(threadId);
                List<Dictionary<string, object>> messages = events.Where(e => Json.Str(e, "op") == "message").ToList();
                Assert.Equal(tasks * perTask, messages.Count, "every message stored once");
                Assert.True(new HashSet<string>(messages.Select(e => Json.Str(e, "id"))).SetEquals(all), "stored ids == returned ids");
                for (int t = 0; t < tasks; t++)
                {
                    for (int i = 0; i < perTask; i++)
                    {
                        string content = "task " + t + " message " + i;
                        Assert.True(messages.Any(e => Json.Str(e, "content") == content && Json.Str(e, "senderDisplayName") == "Task " + t), "stored: " + content);
                    }
                }
                Assert.Equal(tasks, events.Count(e => Json.Str(e, "op") == "typing"), "typing events");
                Assert.Equal(tasks, events.Count(e => Json.Str(e, "op") == "readReceipt"), "read receipts");
            }
        }
    }
}
