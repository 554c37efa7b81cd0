using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;

namespace AcsChat.Tests
{
    /// <summary>
    /// The <c>...Async</c> methods over the native asynchronous calls, against an emulator of their own
    /// whose service latency these tests set (each call stored on arrival and answered later).
    /// </summary>
    internal sealed class AsyncTests : EmulatorTests
    {
        protected override string ThreadPrefix
        {
            get { return "async-"; }
        }

        // ---- helpers ----

        /// <summary>Waits for <paramref name="task"/> and returns what <c>await</c> would throw, or null.</summary>
        private static Exception Outcome(Task task, TimeSpan timeout, string what)
        {
            Assert.True(Task.WhenAny(task, Task.Delay(timeout)).Result == task, what + ": completed within " + timeout.TotalSeconds + " s");
            try
            {
                task.GetAwaiter().GetResult();
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        }

        /// <summary>Expects the task to be cancelled with an <see cref="AcsChatCanceledException"/> for <paramref name="token"/>.</summary>
        private static AcsChatCanceledException ExpectCanceled(Task task, CancellationToken token, string what)
        {
            Exception e = Outcome(task, TimeSpan.FromSeconds(20), what);
            Assert.True(e != null, what + ": expected a cancellation, the call succeeded");
            AcsChatCanceledException canceled = e as AcsChatCanceledException;
            Assert.True(canceled != null, what + ": await throws AcsChatCanceledException, got " + e.GetType().Name + ": " + e.Message);
            Assert.True(task.IsCanceled, what + ": the task ends Canceled (status " + task.Status + ")");
            Assert.True(canceled.CancellationToken == token, what + ": the exception carries the caller's token");
            Assert.Equal(canceled.MayHaveBeenDelivered, (bool)canceled.Data[AcsChatCanceledException.MayHaveBeenDeliveredKey], what + ": Data[MayHaveBeenDelivered]");
            Assert.True(canceled is OperationCanceledException, what + ": an OperationCanceledException");
            return canceled;
        }

        private static int Counter(string name)
        {
            Type type = typeof(ChatClient).Assembly.GetType("AcsChat.AsyncCall", true);
            PropertyInfo property = type.GetProperty(name, BindingFlags.Static | BindingFlags.NonPublic);
            return (int)property.GetValue(null, null);
        }

        /// <summary>Every GCHandle and native call handle of finished calls has been released.</summary>
        private static void AssertNothingLeft(string what)
        {
            Stopwatch watch = Stopwatch.StartNew();
            while ((Counter("LiveStates") != 0 || Counter("LiveCalls") != 0) && watch.ElapsedMilliseconds < 5000)
            {
                Thread.Sleep(10);
            }
            Assert.Equal(0, Counter("LiveStates"), what + ": GCHandles of completed calls are freed");
            Assert.Equal(0, Counter("LiveCalls"), what + ": acs_call handles of completed calls are freed");
        }

        /// <summary>This process's thread count, from /proc/self/status.</summary>
        private static int ThreadCount()
        {
            foreach (string line in File.ReadAllLines("/proc/self/status"))
            {
                if (line.StartsWith("Threads:", StringComparison.Ordinal))
                {
                    return int.Parse(line.Substring("Threads:".Length).Trim());
                }
            }
            return Process.GetCurrentProcess().Threads.Count;
        }

        private void WaitForRequests(string threadId, int count, string what)
        {
            Stopwatch watch = Stopwatch.StartNew();
            while (emulator.Requests(threadId).Count < count)
            {
                Assert.True(watch.ElapsedMilliseconds < 20000, what + ": the emulator received the request");
                Thread.Sleep(2);
            }
        }

        private List<string> StoredContents(string threadId)
        {
            return emulator.Events(threadId).Where(e => Json.Str(e, "op") == "message").Select(e => Json.Str(e, "content")).ToList();
        }

        // ---- tests ----

        [Test("async_results_and_continuation_threads")]
        private void ResultsAndContinuationThreads()
        {
            string threadId = NewThread("results");
            emulator.Latency(0);
            using (ChatClient client = NewClient())
            using (CancellationTokenSource cts = new CancellationTokenSource())
            {
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                Task<SendChatMessageResult> plain = thread.SendMessageAsync("plain", ChatMessageType.Html, "Ada");
                Task<SendChatMessageResult> cancellable = thread.SendMessageAsync(new SendChatMessageOptions { Content = "cancellable" }, cts.Token);
                string first = plain.Result.Id;
                string second = cancellable.Result.Id;
                Assert.True(plain.Status == TaskStatus.RanToCompletion && cancellable.Status == TaskStatus.RanToCompletion, "both ran to completion");
                Assert.True(first != second, "distinct ids");
                // Continuations run on the thread pool, never on the library's I/O thread: a blocking call
                // made from one works (from an I/O thread the library would refuse it).
                Task<bool> typed = thread.SendTypingNotificationAsync("Ada", cts.Token).ContinueWith(t =>
                {
                    t.GetAwaiter().GetResult();
                    thread.SendReadReceipt(first);
                    return Thread.CurrentThread.IsThreadPoolThread;
                }, TaskContinuationOptions.ExecuteSynchronously);
                Assert.True(typed.Result, "the continuation ran on a thread-pool thread");
                Task<bool> direct = thread.SendReadReceiptAsync(second).ContinueWith(t =>
                {
                    t.GetAwaiter().GetResult();
                    return Thread.CurrentThread.IsThreadPoolThread;
                }, TaskContinuationOptions.ExecuteSynchronously);
                Assert.True(direct.Result, "also without a cancellable token");
                List<Dictionary<string, object>> events = emulator.Events(threadId);
                Assert.Equal("message,message,typing,readReceipt,readReceipt", string.Join(",", events.Select(e => Json.Str(e, "op"))), "ops");
                // The two messages were in flight at once: either may have been stored first.
                Dictionary<string, object> plainEvent = events.Single(e => Json.Str(e, "content") == "plain");
                Assert.Equal(first, Json.Str(plainEvent, "id"), "first id");
                Assert.Equal("html", Json.Str(plainEvent, "type"), "type");
                Assert.Equal("Ada", Json.Str(plainEvent, "senderDisplayName"), "sender");
                Assert.Equal(second, Json.Str(events.Single(e => Json.Str(e, "content") == "cancellable"), "id"), "second id");
            }
            AssertNothingLeft("results");
        }

        [Test("async_1000_concurrent_messages_no_thread_per_call")]
        private void ThousandConcurrentMessages()
        {
            const int calls = 1000;
            const int latencyMs = 100;
            string threadId = NewThread("thousand");
            using (ChatClient client = NewClient())
            using (CancellationTokenSource never = new CancellationTokenSource())
            {
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                // Warm up: the I/O runtime, its threads entering the managed runtime, the connection pool.
                emulator.Latency(latencyMs);
                Task.WhenAll(Enumerable.Range(0, 50).Select(i => thread.SendTypingNotificationAsync("warm " + i))).Wait();
                int peak = 0;
                bool sampling = true;
                Thread sampler = new Thread(() =>
                {
                    while (Volatile.Read(ref sampling))
                    {
                        int n = ThreadCount();
                        if (n > Volatile.Read(ref peak))
                        {
                            Volatile.Write(ref peak, n);
                        }
                        Thread.Sleep(2);
                    }
                });
                sampler.IsBackground = true;
                sampler.Start();
                Thread.Sleep(20);
                int baseline = ThreadCount();
                Stopwatch watch = Stopwatch.StartNew();
                Task<SendChatMessageResult>[] tasks = new Task<SendChatMessageResult>[calls];
                for (int i = 0; i < calls; i++)
                {
                    // Half with a cancellable token (never cancelled): the registration path at scale.
                    tasks[i] = thread.SendMessageAsync("message " + i, cancellationToken: i % 2 == 0 ? never.Token : CancellationToken.None);
                }
                long submitMs = watch.ElapsedMilliseconds;
                Assert.True(Task.WhenAll(tasks).Wait(TimeSpan.FromSeconds(50)), "all calls completed");
                long elapsedMs = watch.ElapsedMilliseconds;
                Volatile.Write(ref sampling, false);
                sampler.Join();
                emulator.Latency(0);
                int growth = Volatile.Read(ref peak) - baseline;
                Console.WriteLine("  " + calls + " calls, " + latencyMs + " ms latency: submitted in " + submitMs + " ms, all done in " + elapsedMs
                    + " ms; threads " + baseline + " -> peak " + Volatile.Read(ref peak) + " (+" + growth + ")");

                List<string> ids = tasks.Select(t => t.Result.Id).ToList();
                Assert.Equal(calls, ids.Distinct().Count(), "distinct ids");
                List<Dictionary<string, object>> stored = emulator.Events(threadId).Where(e => Json.Str(e, "op") == "message").ToList();
                Assert.Equal(calls, stored.Count, "every message stored once");
                Assert.True(new HashSet<string>(stored.Select(e => Json.Str(e, "id"))).SetEquals(ids), "stored ids == returned ids");
                Assert.True(new HashSet<string>(stored.Select(e => Json.Str(e, "content"))).SetEquals(Enumerable.Range(0, calls).Select(i => "message " + i)), "every content stored");
                // The real check: a call in flight holds no thread (a thread per call would add hundreds).
                Assert.True(growth <= 8, "the thread count grew by at most 8 (grew by " + growth + ")");
                // 100 connections per origin: ideally 10 waves of one latency each, about 1 s; a thread-per-call
                // design limited by thread-pool growth, or a serial one (100 s), would be far slower.
                long ideal = (calls / new ChatClientOptions().MaxConnectionsPerOrigin) * latencyMs;
                Assert.True(elapsedMs < 10 * ideal + 5000, "finished in under 10x the ideal " + ideal + " ms plus 5 s (took " + elapsedMs + " ms)");
            }
            AssertNothingLeft("1000 calls");
        }

        [Test("async_token_cancelled_before_the_call")]
        private void TokenCancelledBeforeTheCall()
        {
            string threadId = NewThread("precancelled");
            emulator.Latency(0);
            int statesBefore = Counter("LiveStates");
            using (ChatClient client = NewClient())
            using (CancellationTokenSource cts = new CancellationTokenSource())
            {
                cts.Cancel();
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                Task[] tasks =
                {
                    thread.SendMessageAsync("never", cancellationToken: cts.Token),
                    thread.SendMessageAsync(new SendChatMessageOptions { Content = "never" }, cts.Token),
                    thread.SendTypingNotificationAsync(null, cts.Token),
                    thread.SendReadReceiptAsync("1", cts.Token),
                };
                Assert.Equal(statesBefore, Counter("LiveStates"), "nothing was submitted");
                foreach (Task task in tasks)
                {
                    Assert.True(task.IsCanceled, "cancelled at once");
                    AcsChatCanceledException e = ExpectCanceled(task, cts.Token, "already cancelled");
                    Assert.True(!e.MayHaveBeenDelivered, "nothing was delivered");
                    Assert.Throws<TaskCanceledException>(() => task.Wait(), "Wait() throws a TaskCanceledException (a .NET rule for cancelled tasks)");
                }
                Assert.Throws<ArgumentException>(() => thread.SendMessageAsync("", cancellationToken: cts.Token), "arguments are still checked first");
                thread.SendTypingNotification();
                Assert.Equal(1, emulator.Requests(threadId).Count, "only the later typing call reached the service");
            }
        }

        [Test("async_submit_refused_throws_synchronously")]
        private void SubmitRefused()
        {
            // The library refuses a thread id of "." at submit: the task is never created, the callback
            // never runs, and the GCHandle is released at once.
            int before = Counter("LiveStates");
            using (ChatClient client = NewClient())
            using (CancellationTokenSource cts = new CancellationTokenSource())
            {
                ChatThreadClient dot = client.GetChatThreadClient(".");
                ArgumentException e = Assert.Throws<ArgumentException>(() => dot.SendMessageAsync("x", cancellationToken: cts.Token), "message");
                AcsChatException inner = e.InnerException as AcsChatException;
                Assert.True(inner != null && inner.Result == AcsResult.InvalidArgument, "the library's refusal is the inner exception");
                Assert.Throws<ArgumentException>(() => dot.SendTypingNotificationAsync(), "typing");
                Assert.Equal("messageId", Assert.Throws<ArgumentException>(() => dot.SendReadReceiptAsync("1", cts.Token), "receipt").ParamName, "ParamName");
                Assert.Equal(before, Counter("LiveStates"), "no GCHandle left behind");
            }
            AssertNothingLeft("refused");
        }

        [Test("async_cancel_while_queued_not_delivered")]
        private void CancelWhileQueued()
        {
            string slowThread = NewThread("occupier");
            string threadId = NewThread("queued");
            emulator.Latency(0);
            emulator.Fault(slowThread, "messages", delayMs: 4000);
            ChatClientOptions options = new ChatClientOptions();
            options.MaxConnectionsPerOrigin = 1;
            options.ApplicationId = "queued-test";
            Assert.Equal(1, options.MaxConnectionsPerOrigin, "MaxConnectionsPerOrigin reads back");
            using (ChatClient client = NewClient(options))
            using (CancellationTokenSource cts = new CancellationTokenSource())
            {
                Task<SendChatMessageResult> slow = client.GetChatThreadClient(slowThread).SendMessageAsync("holds the only connection");
                WaitForRequests(slowThread, 1, "the slow call");
                Task<SendChatMessageResult> queued = client.GetChatThreadClient(threadId).SendMessageAsync("queued", cancellationToken: cts.Token);
                Thread.Sleep(150);
                Assert.True(!queued.IsCompleted, "the second call waits for the connection");
                Stopwatch watch = Stopwatch.StartNew();
                cts.Cancel();
                AcsChatCanceledException e = ExpectCanceled(queued, cts.Token, "cancelled while queued");
                Assert.True(watch.ElapsedMilliseconds < 2000, "completed soon after the cancellation (" + watch.ElapsedMilliseconds + " ms)");
                Assert.True(!slow.IsCompleted, "before the slow call released the connection");
                Assert.True(!e.MayHaveBeenDelivered, "cancelled before the request was written: not delivered");
                AcsChatException inner = e.InnerException as AcsChatException;
                Assert.True(inner != null, "the library's details are the inner AcsChatException");
                Assert.Equal(AcsResult.Cancelled, inner.Result, "inner Result");
                Assert.True(!inner.MayHaveBeenDelivered, "inner MayHaveBeenDelivered");
                Assert.NotEmpty(e.Message, "message");
                Assert.Throws<TaskCanceledException>(() => queued.Wait(), "Wait() on the cancelled task");

                Assert.NotEmpty(slow.Result.Id, "the slow call completed");
                Thread.Sleep(300);
                Assert.Equal(0, emulator.Requests(threadId).Count, "the cancelled call never reached the emulator");
                Assert.Equal(0, emulator.Events(threadId).Count, "and nothing was stored");
                // The connection is usable again.
                Assert.NotEmpty(client.GetChatThreadClient(threadId).SendMessageAsync("after").Result.Id, "a later call on the same client");
            }
            AssertNothingLeft("queued");
        }

        [Test("async_cancel_after_write_may_have_been_delivered")]
        private void CancelAfterWrite()
        {
            string threadId = NewThread("written");
            string typingThread = NewThread("written-typing");
            emulator.Latency(300);
            try
            {
                using (ChatClient client = NewClient())
                using (CancellationTokenSource cts = new CancellationTokenSource())
                using (CancellationTokenSource typingCts = new CancellationTokenSource())
                {
                    Task<SendChatMessageResult> task = client.GetChatThreadClient(threadId).SendMessageAsync("written, then cancelled", cancellationToken: cts.Token);
                    WaitForRequests(threadId, 1, "the request");
                    cts.Cancel();
                    AcsChatCanceledException e = ExpectCanceled(task, cts.Token, "cancelled after the write");
                    Assert.True(e.MayHaveBeenDelivered, "the request was written: it may have been delivered");
                    Assert.True(((AcsChatException)e.InnerException).MayHaveBeenDelivered, "inner MayHaveBeenDelivered");
                    Assert.Equal(AcsResult.Cancelled, ((AcsChatException)e.InnerException).Result, "inner Result");
                    Assert.NotEmpty(((AcsChatException)e.InnerException).RequestId, "request id");
                    Assert.Equal("written, then cancelled", StoredContents(threadId).Single(), "the emulator stored it on arrival");

                    Task typing = client.GetChatThreadClient(typingThread).SendTypingNotificationAsync("x", typingCts.Token);
                    WaitForRequests(typingThread, 1, "the typing request");
                    typingCts.Cancel();
                    ExpectCanceled(typing, typingCts.Token, "typing cancelled after the write");
                }
            }
            finally
            {
                emulator.Latency(0);
            }
            AssertNothingLeft("after write");
        }

        [Test("async_cancel_storm_verdicts_and_handles")]
        private void CancelStorm()
        {
            // Calls cancelled at random moments, queued or written: every handle is released, and the verdicts
            // agree with what the emulator stored.
            const int calls = 200;
            string threadId = NewThread("storm");
            emulator.Latency(40);
            ChatClientOptions options = new ChatClientOptions();
            options.MaxConnectionsPerOrigin = 8;
            options.ApplicationId = "storm-test";
            Random random = new Random(12345);
            try
            {
                using (ChatClient client = NewClient(options))
                {
                    ChatThreadClient thread = client.GetChatThreadClient(threadId);
                    List<CancellationTokenSource> sources = new List<CancellationTokenSource>();
                    Task<SendChatMessageResult>[] tasks = new Task<SendChatMessageResult>[calls];
                    for (int i = 0; i < calls; i++)
                    {
                        CancellationTokenSource cts = new CancellationTokenSource();
                        sources.Add(cts);
                        tasks[i] = thread.SendMessageAsync("storm " + i, cancellationToken: cts.Token);
                        if (i % 4 != 3)
                        {
                            cts.CancelAfter(random.Next(0, 1200));
                        }
                    }
                    Assert.True(Task.WhenAny(Task.WhenAll(tasks), Task.Delay(TimeSpan.FromSeconds(40))).Result != null, "wait");
                    for (int i = 0; i < calls; i++)
                    {
                        Assert.True(tasks[i].IsCompleted, "call " + i + " completed");
                    }
                    Thread.Sleep(200);
                    HashSet<string> stored = new HashSet<string>(StoredContents(threadId));
                    int ok = 0, notDelivered = 0, maybe = 0;
                    for (int i = 0; i < calls; i++)
                    {
                        string content = "storm " + i;
                        Exception e = Outcome(tasks[i], TimeSpan.FromSeconds(1), content);
                        if (e == null)
                        {
                            ok++;
                            Assert.True(stored.Contains(content), content + " succeeded and was stored");
                            continue;
                        }
                        AcsChatCanceledException canceled = ExpectCanceled(tasks[i], sources[i].Token, content);
                        if (canceled.MayHaveBeenDelivered)
                        {
                            maybe++;
                        }
                        else
                        {
                            notDelivered++;
                            Assert.True(!stored.Contains(content), content + " was cancelled as not delivered, and is not stored");
                        }
                    }
                    Console.WriteLine("  storm: " + ok + " ok, " + notDelivered + " cancelled before the write, " + maybe + " after");
                    Assert.True(ok >= calls / 4, "the calls never cancelled succeeded");
                    Assert.True(notDelivered > 0, "some calls were cancelled while queued");
                    foreach (CancellationTokenSource cts in sources)
                    {
                        cts.Dispose();
                    }
                }
            }
            finally
            {
                emulator.Latency(0);
            }
            AssertNothingLeft("storm");
        }

        [Test("async_delivery_verdict_for_faults")]
        private void DeliveryVerdictForFaults()
        {
            emulator.Latency(0);
            string unavailable = NewThread("verdict-503");
            emulator.Fault(unavailable, "messages", status: 503, count: 4,
                body: "{\"error\":{\"code\":\"ServiceUnavailable\",\"message\":\"Try later.\"}}");
            string slow = NewThread("verdict-timeout");
            emulator.Fault(slow, "messages", delayMs: 3000, count: 2);
            string dropped = NewThread("verdict-drop");
            emulator.Fault(dropped, "messages", action: "drop", count: 2);
            ChatClientOptions options = FastRetries(1);
            options.Timeout = TimeSpan.FromMilliseconds(300);
            using (ChatClient client = NewClient(options))
            {
                Exception e = Outcome(client.GetChatThreadClient(unavailable).SendMessageAsync("x"), TimeSpan.FromSeconds(20), "503");
                AcsChatException failure = e as AcsChatException;
                Assert.True(failure != null, "503: AcsChatException, got " + e);
                Assert.Equal(AcsResult.ServiceError, failure.Result, "503 result");
                Assert.Equal(503, failure.Status, "503 status");
                Assert.Equal("ServiceUnavailable", failure.ErrorCode, "503 code");
                Assert.NotEmpty(failure.RequestId, "503 request id");
                Assert.True(!failure.MayHaveBeenDelivered, "async 503: the service refused it, not delivered");
                AcsChatException sync = Assert.Fails(AcsResult.ServiceError, () => client.GetChatThreadClient(unavailable).SendMessage("x"), "sync 503");
                Assert.True(!sync.MayHaveBeenDelivered, "sync 503: not delivered");

                Stopwatch watch = Stopwatch.StartNew();
                e = Outcome(client.GetChatThreadClient(slow).SendMessageAsync("slow"), TimeSpan.FromSeconds(20), "timeout");
                failure = e as AcsChatException;
                Assert.True(failure != null, "timeout: AcsChatException, got " + e);
                Assert.Equal(AcsResult.Timeout, failure.Result, "timeout result");
                Assert.True(watch.ElapsedMilliseconds < 2500, "failed after the per-try timeout, not retried (" + watch.ElapsedMilliseconds + " ms)");
                Assert.True(failure.MayHaveBeenDelivered, "async timeout after the write: may have been delivered");
                AcsChatException syncTimeout = Assert.Fails(AcsResult.Timeout, () => client.GetChatThreadClient(slow).SendMessage("slow"), "sync timeout");
                Assert.True(syncTimeout.MayHaveBeenDelivered, "sync timeout after the write: may have been delivered");

                e = Outcome(client.GetChatThreadClient(dropped).SendMessageAsync("x"), TimeSpan.FromSeconds(20), "drop");
                failure = e as AcsChatException;
                Assert.True(failure != null && failure.Result == AcsResult.Io, "dropped connection: Io, got " + e);
                Assert.True(failure.MayHaveBeenDelivered, "a connection broken after the write: may have been delivered");
            }
            AssertNothingLeft("faults");
        }

        [Test("async_total_timeout_while_queued")]
        private void TotalTimeoutWhileQueued()
        {
            string slowThread = NewThread("total-occupier");
            string threadId = NewThread("total-queued");
            emulator.Latency(0);
            emulator.Fault(slowThread, "messages", delayMs: 4000);
            ChatClientOptions options = FastRetries(0);
            options.MaxConnectionsPerOrigin = 1;
            options.TotalTimeout = TimeSpan.FromMilliseconds(400);
            options.ApplicationId = "total-timeout-test";
            Assert.Equal(TimeSpan.FromMilliseconds(400), options.TotalTimeout, "TotalTimeout reads back");
            ChatClientOptions patient = new ChatClientOptions();
            patient.MaxConnectionsPerOrigin = 1;
            patient.ApplicationId = "total-timeout-test";
            using (ChatClient occupier = NewClient(patient))
            using (ChatClient client = NewClient(options))
            {
                // Equal connection settings share one bound, so the occupier's call holds the only place.
                Task<SendChatMessageResult> slow = occupier.GetChatThreadClient(slowThread).SendMessageAsync("holds the connection");
                WaitForRequests(slowThread, 1, "the slow call");
                Stopwatch watch = Stopwatch.StartNew();
                Exception e = Outcome(client.GetChatThreadClient(threadId).SendMessageAsync("queued past its deadline"), TimeSpan.FromSeconds(20), "deadline");
                AcsChatException failure = e as AcsChatException;
                Assert.True(failure != null, "AcsChatException, got " + e);
                Assert.Equal(AcsResult.Timeout, failure.Result, "a whole-call deadline is a timeout");
                Assert.True(watch.ElapsedMilliseconds < 2500, "the deadline ended the wait (" + watch.ElapsedMilliseconds + " ms)");
                Assert.True(!failure.MayHaveBeenDelivered, "timed out in the queue: not delivered (the same Result, the other verdict)");
                Assert.True(!slow.IsCompleted, "the connection was still taken");
                // Blocking calls have connections of their own (driven on the calling thread): a blocking
                // call of the occupier holds the only place there.
                string slowSyncThread = NewThread("total-occupier-sync");
                emulator.Fault(slowSyncThread, "messages", delayMs: 4000);
                Task<SendChatMessageResult> slowSync = Task.Run(() => occupier.GetChatThreadClient(slowSyncThread).SendMessage("holds the blocking connection"));
                WaitForRequests(slowSyncThread, 1, "the slow blocking call");
                AcsChatException sync = Assert.Fails(AcsResult.Timeout, () => client.GetChatThreadClient(threadId).SendMessage("sync, queued past its deadline"), "sync deadline");
                Assert.True(!slowSync.IsCompleted, "the blocking connection was still taken");
                Assert.True(!sync.MayHaveBeenDelivered, "sync: timed out in the queue, not delivered");
                Assert.NotEmpty(slow.Result.Id, "the slow call completed");
                Assert.NotEmpty(slowSync.Result.Id, "the slow blocking call completed");
                Assert.Equal(0, emulator.Events(threadId).Count(ev => Json.Str(ev, "op") == "message"), "nothing stored for the timed-out call");
            }
            AssertNothingLeft("total timeout");
        }

        [Test("async_token_refresher_failure_is_inner_exception")]
        private void RefresherFailureIsInner()
        {
            emulator.Latency(0);
            InvalidOperationException boom = new InvalidOperationException("async refresher exploded");
            ChatClientOptions options = new ChatClientOptions();
            options.TokenRefresher = () => { throw boom; };
            using (ChatClient client = new ChatClient(emulator.Url, emulator.Token("csharp-async-expired", -30), options))
            {
                string threadId = NewThread("refresher");
                Exception e = Outcome(client.GetChatThreadClient(threadId).SendMessageAsync("x"), TimeSpan.FromSeconds(20), "refresher");
                AcsChatException failure = e as AcsChatException;
                Assert.True(failure != null && failure.Result == AcsResult.Token, "Token failure, got " + e);
                Assert.True(ReferenceEquals(boom, failure.InnerException), "the refresher's exception is the inner exception");
                Assert.True(!failure.MayHaveBeenDelivered, "nothing was sent");
                Assert.Equal(0, emulator.Requests(threadId).Count, "nothing reached the service");
            }
            string fresh = emulator.Token("csharp-async-refreshed");
            ChatClientOptions working = new ChatClientOptions();
            working.TokenRefresher = () => fresh;
            using (ChatClient client = new ChatClient(emulator.Url, emulator.Token("csharp-async-expiring", 30), working))
            {
                string threadId = NewThread("refreshed");
                Assert.NotEmpty(client.GetChatThreadClient(threadId).SendMessageAsync("refreshed").Result.Id, "a refresh on the library's pool");
                Assert.Equal("csharp-async-refreshed", Json.Str(emulator.Events(threadId).Single(), "user"), "sent with the new token");
            }
        }

        [Test("async_dispose_client_with_calls_in_flight")]
        private void DisposeWithCallsInFlight()
        {
            string threadId = NewThread("dispose");
            emulator.Latency(200);
            try
            {
                ChatClient client = NewClient();
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                List<Task<SendChatMessageResult>> tasks = Enumerable.Range(0, 20).Select(i => thread.SendMessageAsync("in flight " + i)).ToList();
                client.Dispose();
                Assert.Throws<ObjectDisposedException>(() => thread.SendMessageAsync("after"), "new calls throw at once");
                Assert.True(Task.WhenAll(tasks).Wait(TimeSpan.FromSeconds(20)), "the calls in flight completed");
                Assert.Equal(20, StoredContents(threadId).Count, "and were stored");
            }
            finally
            {
                emulator.Latency(0);
            }
            AssertNothingLeft("dispose");
        }

        /// <summary>Runs <c>mono --debug PROGRAM ARGS</c> with extra environment variables; returns exit code, stdout, stderr.</summary>
        private static int RunMono(string program, string arguments, IDictionary<string, string> environment, out string output, out string errors)
        {
            ProcessStartInfo info = new ProcessStartInfo("mono", "--debug \"" + program + "\" " + arguments);
            info.UseShellExecute = false;
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
            if (environment != null)
            {
                foreach (KeyValuePair<string, string> pair in environment)
                {
                    info.EnvironmentVariables[pair.Key] = pair.Value;
                }
            }
            using (Process process = Process.Start(info))
            {
                Task<string> stdout = process.StandardOutput.ReadToEndAsync();
                Task<string> stderr = process.StandardError.ReadToEndAsync();
                if (!process.WaitForExit(30000))
                {
                    process.Kill();
                    throw new AssertionException(program + " " + arguments + ": did not exit within 30 s");
                }
                process.WaitForExit();
                output = stdout.Result;
                errors = stderr.Result;
                return process.ExitCode;
            }
        }

        [Test("async_example_send_async")]
        private void ExampleSendAsync()
        {
            string program = Environment.GetEnvironmentVariable("ACS_TEST_SEND_ASYNC_EXAMPLE");
            Assert.True(!string.IsNullOrEmpty(program) && File.Exists(program), "ACS_TEST_SEND_ASYNC_EXAMPLE names examples/csharp/SendAsync.cs built (run_tests.sh builds it)");
            emulator.Latency(50);
            string threadId = NewThread("example");
            try
            {
                Dictionary<string, string> environment = new Dictionary<string, string>();
                environment["ACS_ENDPOINT"] = emulator.Url;
                environment["ACS_TOKEN"] = emulator.Token();
                environment["ACS_THREAD_ID"] = threadId;
                string output, errors;
                int code = RunMono(program, "", environment, out output, out errors);
                Assert.Equal(0, code, "exit code (stdout: " + output.Trim() + "; stderr: " + errors.Trim() + ")");
            }
            finally
            {
                emulator.Latency(0);
            }
            List<Dictionary<string, object>> events = emulator.Events(threadId);
            Dictionary<string, object> message = events.Single(e => Json.Str(e, "op") == "message");
            Assert.Equal("Hello from C#, asynchronously!", Json.Str(message, "content"), "the example's message");
            Assert.True(events.Any(e => Json.Str(e, "op") == "typing"), "its typing notification");
            Assert.Equal(Json.Str(message, "id"), Json.Str(events.Single(e => Json.Str(e, "op") == "readReceipt"), "chatMessageId"), "its read receipt");
        }

        [Test("async_process_exit_with_calls_in_flight")]
        private void ProcessExitWithCallsInFlight()
        {
            string program = Environment.GetEnvironmentVariable("ACS_TEST_EXIT_PROGRAM");
            Assert.True(!string.IsNullOrEmpty(program) && File.Exists(program), "ACS_TEST_EXIT_PROGRAM names the exit program (run_tests.sh builds it)");
            // Latency 0 to 3 ms: completions race the exit (without the ProcessExit hook about a third of
            // these runs crash in Mono's teardown); 20 ms: some complete during it; 2 s: all still in flight.
            string[][] runs =
            {
                new[] { "0", "return" }, new[] { "0", "return" }, new[] { "0", "return" }, new[] { "0", "return" },
                new[] { "1", "return" }, new[] { "1", "return" }, new[] { "3", "return" }, new[] { "3", "return" },
                new[] { "0", "exit" }, new[] { "1", "exit" }, new[] { "3", "exit" }, new[] { "3", "exit" },
                new[] { "0", "return,log" }, new[] { "3", "exit,log" },
                new[] { "1", "return,cancel,dispose" }, new[] { "20", "exit,cancel" },
                new[] { "20", "return" }, new[] { "2000", "return" },
            };
            try
            {
                foreach (string[] run in runs)
                {
                    emulator.Latency(int.Parse(run[0]));
                    string threadId = NewThread("exit");
                    string what = "latency " + run[0] + " ms, " + run[1];
                    string output, errors;
                    int code = RunMono(program, emulator.Url + " " + emulator.Token() + " " + threadId + " " + run[1], null, out output, out errors);
                    Assert.Equal(0, code, what + ": exit code (stdout: " + output.Trim() + "; stderr: " + errors.Trim() + ")");
                    Assert.True(output.Contains("started 100 calls"), what + ": the calls were started: " + output.Trim());
                    Assert.True(errors.IndexOf("SIGSEGV", StringComparison.Ordinal) < 0 && errors.IndexOf("Native crash", StringComparison.Ordinal) < 0
                        && errors.IndexOf("Unhandled", StringComparison.Ordinal) < 0, what + ": no crash: " + errors.Trim());
                }
                Console.WriteLine("  " + runs.Length + " runs of the exit program: exit code 0, no crash");
            }
            finally
            {
                emulator.Latency(0);
            }
        }
    }
}
