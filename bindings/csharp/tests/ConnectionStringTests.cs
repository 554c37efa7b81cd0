using System;
using System.Collections.Generic;
using System.Threading;

namespace AcsChat.Tests
{
    /// <summary>Clients from a connection string: a user created once, tokens refreshed through the identity service.</summary>
    internal sealed class ConnectionStringTests : EmulatorTests
    {
        /// <summary>The emulator's default access key (emulator/README.md).</summary>
        private const string DefaultKey = "YWNzLWNoYXQtZW11bGF0b3I6IGEgcHVibGljIGFjY2VzcyBrZXksIGZvciBsb2NhbCBkZXZlbG9wbWVudCBvbmx5";

        private string ConnectionString(string key = DefaultKey)
        {
            return "endpoint=" + emulator.Url + "/;accesskey=" + key;
        }

        private List<Dictionary<string, object>> IdentityRequests()
        {
            Dictionary<string, object> answer = Json.Obj(Json.Parse(emulator.Request("GET", "/_emulator/identity/requests", null)));
            List<Dictionary<string, object>> items = new List<Dictionary<string, object>>();
            foreach (object item in Json.Arr(Json.Get(answer, "requests")))
            {
                items.Add(Json.Obj(item));
            }
            return items;
        }

        private int Issued(string userId)
        {
            int count = 0;
            foreach (Dictionary<string, object> r in IdentityRequests())
            {
                if (Json.Str(r, "op") == "issueAccessToken" && Json.Str(r, "userId") == userId
                    && Convert.ToInt64(Json.Get(r, "status")) == 200)
                {
                    count++;
                }
            }
            return count;
        }

        private void TokenSeconds(string seconds)
        {
            emulator.Request("POST", "/_emulator/identity", "{\"tokenSeconds\":" + seconds + "}");
        }

        [Test("connection_string_creates_and_reuses_a_user")]
        private void CreatesAndReusesAUser()
        {
            string thread = NewThread("cs-conn");
            string user;
            using (ChatClient client = ChatClient.FromConnectionString(ConnectionString()))
            {
                user = client.UserId;
                Assert.True(user != null && user.StartsWith("8:acs:", StringComparison.Ordinal), "a new user id: " + user);
                Assert.Equal(emulator.Url, client.Endpoint, "endpoint");
                client.GetChatThreadClient(thread).SendTypingNotification();
            }
            using (ChatClient again = ChatClient.FromConnectionString(ConnectionString(), user))
            {
                Assert.Equal(user, again.UserId, "the same user");
                again.GetChatThreadClient(thread).SendMessage("hello");
            }
            Assert.Equal(1, Issued(user), "one token issued for the stored user");
            List<Dictionary<string, object>> events = emulator.Events(thread);
            Assert.Equal(2, events.Count, "events");
            foreach (Dictionary<string, object> e in events)
            {
                Assert.Equal(user.Substring(2), Json.Str(e, "user"), "the event's user");
            }
            using (ChatClient plain = new ChatClient(emulator.Url, emulator.Token()))
            {
                Assert.True(plain.UserId == null, "a client given its token has no user id");
            }
        }

        [Test("connection_string_tokens_expire_and_refresh")]
        private void TokensExpireAndRefresh()
        {
            string thread = NewThread("cs-refresh");
            TokenSeconds("2");
            try
            {
                using (ChatClient client = ChatClient.FromConnectionString(ConnectionString()))
                {
                    string user = client.UserId;
                    ChatThreadClient t = client.GetChatThreadClient(thread);
                    t.SendTypingNotification();
                    Assert.Equal(1, Issued(user), "refreshed on demand (2 s left)");
                    t.SendTypingNotification();
                    Assert.Equal(1, Issued(user), "not again while fresh");
                    Thread.Sleep(2100);
                    t.SendTypingNotification();
                    Assert.Equal(2, Issued(user), "refreshed after expiry");
                    TokenSeconds("null");
                    Thread.Sleep(2100);
                    t.SendTypingNotification();
                    Assert.Equal(3, Issued(user), "refreshed after expiry, a long token now");
                    emulator.Fault(thread, "messages", 401, 1, null, "{\"error\":{\"code\":\"Unauthorized\",\"message\":\"x\"}}");
                    t.SendMessage("after a 401");
                    Assert.Equal(4, Issued(user), "refreshed after a 401");
                    t.SendMessageAsync("async").GetAwaiter().GetResult();
                    Assert.Equal(4, Issued(user), "no refresh needed");
                }
            }
            finally
            {
                TokenSeconds("null");
            }
        }

        [Test("connection_string_failures")]
        private void Failures()
        {
            string wrongKey = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("not the resource's key"));
            AcsChatException e = Assert.Fails(AcsResult.Unauthorized, () => ChatClient.FromConnectionString(ConnectionString(wrongKey)), "wrong key");
            Assert.Equal("Denied", e.ErrorCode, "the service's code");
            Assert.True(e.Message.IndexOf(wrongKey, StringComparison.Ordinal) < 0, "the key is not in the message");
            Assert.Fails(AcsResult.NotFound, () => ChatClient.FromConnectionString(ConnectionString(), "8:acs:nobody"), "unknown user");
            Assert.Throws<ArgumentNullException>(() => ChatClient.FromConnectionString(null), "null");
            ArgumentException bad = Assert.Throws<ArgumentException>(() => ChatClient.FromConnectionString("endpoint=" + emulator.Url + "/"), "no key");
            Assert.True(bad.Message.IndexOf("accesskey", StringComparison.Ordinal) >= 0, "says what is missing: " + bad.Message);
            Assert.Fails(AcsResult.InsecureEndpoint, () => ChatClient.FromConnectionString("endpoint=http://example.com/;accesskey=" + DefaultKey), "plain http");
            ChatClientOptions withRefresher = new ChatClientOptions { TokenRefresher = () => "x" };
            Assert.Throws<ArgumentException>(() => ChatClient.FromConnectionString(ConnectionString(), null, withRefresher), "a refresher in the options");
        }
    }
}
