using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Reflection;
using System.Threading;

namespace AcsChat.Tests
{
    /// <summary>The token refresher: on demand, after a 401, proactive, its failures and its handles.</summary>
    internal sealed class TokenRefresherTests : EmulatorTests
    {
        [Test("token_refresher_on_demand")]
        private void TokenRefresherOnDemand()
        {
            string threadId = NewThread("refresh");
            MintedToken fresh = emulator.Mint("csharp-refreshed");
            int calls = 0;
            ChatClientOptions options = new ChatClientOptions();
            options.TokenRefresher = () =>
            {
                Interlocked.Increment(ref calls);
                return fresh.Token;
            };
            using (ChatClient client = new ChatClient(emulator.Url, emulator.Token("csharp-expiring", 60), options))
            {
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                thread.SendMessage("refreshed");
                Assert.Equal(1, calls, "refreshed once, under two minutes left");
                thread.SendTypingNotification();
                Assert.Equal(1, calls, "the fresh token is reused");
                Assert.True(emulator.Events(threadId).All(e => Json.Str(e, "user") == fresh.User), "calls used the refreshed token");
            }
        }

        [Test("token_refresher_after_401")]
        private void TokenRefresherAfter401()
        {
            string threadId = NewThread("refresh401");
            MintedToken fresh = emulator.Mint("csharp-after401");
            int calls = 0;
            ChatClientOptions options = new ChatClientOptions();
            options.TokenRefresher = () =>
            {
                Interlocked.Increment(ref calls);
                return fresh.Token;
            };
            emulator.Fault(threadId, "messages", status: 401, body: "{\"error\":{\"code\":\"Unauthorized\",\"message\":\"Revoked.\"}}");
            using (ChatClient client = NewClient(options))
            {
                string id = client.GetChatThreadClient(threadId).SendMessage("after 401").Id;
                Assert.Equal(1, calls, "refreshed once after the 401");
                Assert.Equal(2, emulator.Requests(threadId).Count, "retried once");
                Dictionary<string, object> ev = emulator.Events(threadId).Single();
                Assert.Equal(id, Json.Str(ev, "id"), "id");
                Assert.Equal(fresh.User, Json.Str(ev, "user"), "sent with the refreshed token");
            }
        }

        [Test("token_refresher_failures")]
        private void TokenRefresherFailures()
        {
            string expired = emulator.Token("csharp-expired", -30);
            InvalidOperationException boom = new InvalidOperationException("refresher exploded");
            int calls = 0;
            ChatClientOptions throwing = new ChatClientOptions();
            throwing.TokenRefresher = () => { Interlocked.Increment(ref calls); throw boom; };
            using (ChatClient client = new ChatClient(emulator.Url, expired, throwing))
            {
                string threadId = NewThread("throws");
                AcsChatException e = Assert.Fails(AcsResult.Token, () => client.GetChatThreadClient(threadId).SendMessage("x"), "a throwing refresher");
                Assert.True(ReferenceEquals(boom, e.InnerException), "the refresher's exception is the inner exception");
                Assert.Equal(0, e.Status, "no HTTP status");
                AcsChatException again = Assert.Fails(AcsResult.Token, () => client.GetChatThreadClient(threadId).SendTypingNotification(), "again, on another operation");
                Assert.True(ReferenceEquals(boom, again.InnerException), "inner exception on the second failure");
                Assert.Equal(2, calls, "one refresh attempt per call while the token is expired");
                Assert.Equal(0, emulator.Requests(threadId).Count, "nothing was sent with the expired token");
            }
            string expiring = emulator.Token("csharp-failing", 60);
            int soonCalls = 0;
            ChatClientOptions throwingSoon = new ChatClientOptions();
            throwingSoon.TokenRefresher = () => { Interlocked.Increment(ref soonCalls); throw boom; };
            using (ChatClient client = new ChatClient(emulator.Url, expiring, throwingSoon))
            {
                string threadId = NewThread("throws-soon");
                AcsChatException e = Assert.Fails(AcsResult.Token, () => client.GetChatThreadClient(threadId).SendMessage("x"), "a throwing refresher, token still valid");
                Assert.True(ReferenceEquals(boom, e.InnerException), "inner exception");
                client.GetChatThreadClient(threadId).SendTypingNotification();
                Assert.Equal(1, soonCalls, "no immediate second refresh (no hot loop); the still-valid token is used");
            }
            ChatClientOptions nulls = new ChatClientOptions();
            nulls.TokenRefresher = () => null;
            using (ChatClient client = new ChatClient(emulator.Url, expiring, nulls))
            {
                AcsChatException e = Assert.Fails(AcsResult.Token, () => client.GetChatThreadClient(NewThread("null")).SendMessage("x"), "a refresher returning null");
                Assert.True(e.InnerException is InvalidOperationException, "null result explained by the inner exception");
            }
            ChatClientOptions stale = new ChatClientOptions();
            stale.TokenRefresher = () => expired;
            using (ChatClient client = new ChatClient(emulator.Url, expiring, stale))
            {
                AcsChatException e = Assert.Fails(AcsResult.Token, () => client.GetChatThreadClient(NewThread("stale")).SendMessage("x"), "a refresher returning an expired token");
                Assert.Equal(null, e.InnerException, "no managed exception behind a library rejection");
            }
            ChatClientOptions garbage = new ChatClientOptions();
            garbage.TokenRefresher = () => "garbage";
            using (ChatClient client = new ChatClient(emulator.Url, expiring, garbage))
            {
                Assert.Fails(AcsResult.Token, () => client.GetChatThreadClient(NewThread("garbage")).SendReadReceipt("1"), "a refresher returning a non-JWT");
            }
        }

        [Test("token_refresher_proactive")]
        private void TokenRefresherProactive()
        {
            // 603 s left: just outside the ten-minute proactive window, so the proactive refresh falls due
            // about three seconds after the token is taken; the two-minute on-demand window is far away.
            int proactiveCalls = 0;
            int lazyCalls = 0;
            ChatClientOptions proactive = new ChatClientOptions();
            proactive.ProactiveRefresh = true;
            Assert.True(proactive.ProactiveRefresh, "ProactiveRefresh reads back");
            proactive.TokenRefresher = () => { Interlocked.Increment(ref proactiveCalls); return emulator.Token("csharp-proactive"); };
            ChatClientOptions lazy = new ChatClientOptions();
            lazy.TokenRefresher = () => { Interlocked.Increment(ref lazyCalls); return emulator.Token("csharp-lazy"); };
            Stopwatch watch = Stopwatch.StartNew();
            string token = emulator.Token("csharp-603", 603);
            using (ChatClient eager = new ChatClient(emulator.Url, token, proactive))
            using (ChatClient late = new ChatClient(emulator.Url, token, lazy))
            {
                string threadId = NewThread("proactive");
                eager.GetChatThreadClient(threadId).SendTypingNotification();
                late.GetChatThreadClient(threadId).SendTypingNotification();
                Assert.Equal(0, proactiveCalls, "no refresh while more than ten minutes remain");
                TimeSpan due = TimeSpan.FromSeconds(4.5);
                if (watch.Elapsed < due)
                {
                    Thread.Sleep(due - watch.Elapsed);
                }
                eager.GetChatThreadClient(threadId).SendTypingNotification();
                late.GetChatThreadClient(threadId).SendTypingNotification();
                Assert.Equal(1, proactiveCalls, "refreshed proactively inside the ten-minute window");
                Assert.Equal(0, lazyCalls, "no refresh without ProactiveRefresh before the two-minute window");
                List<Dictionary<string, object>> events = emulator.Events(threadId);
                Assert.Equal(4, events.Count, "four typing events");
                Assert.True(Json.Str(events[2], "user") != Json.Str(events[0], "user"), "the proactive client switched to the new token");
                Assert.Equal(Json.Str(events[1], "user"), Json.Str(events[3], "user"), "the other client kept its token");
            }
        }

        [Test("token_refresher_handles_released")]
        private void TokenRefresherHandlesReleased()
        {
            Type bridge = typeof(ChatClient).Assembly.GetType("AcsChat.TokenRefresherBridge", true);
            PropertyInfo live = bridge.GetProperty("LiveCount", BindingFlags.Static | BindingFlags.NonPublic);
            Func<int> count = () => (int)live.GetValue(null, null);
            int baseline = count();
            ChatClientOptions options = new ChatClientOptions();
            options.TokenRefresher = () => emulator.Token();
            List<ChatClient> clients = new List<ChatClient>();
            for (int i = 0; i < 3; i++)
            {
                clients.Add(NewClient(options));
            }
            Assert.Equal(baseline + 3, count(), "each client holds its refresher");
            ChatClientOptions broken = new ChatClientOptions();
            broken.TokenRefresher = () => "x";
            Assert.Throws<ArgumentException>(() => new ChatClient("not a url", emulator.Token(), broken), "a rejected endpoint");
            Assert.Equal(baseline + 3, count(), "a failed construction releases its refresher");
            foreach (ChatClient client in clients)
            {
                client.Dispose();
            }
            Assert.Equal(baseline, count(), "disposing the clients released every refresher (free_user_data ran)");
        }
    }
}
