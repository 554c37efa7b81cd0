using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace AcsChat.Tests
{
    /// <summary>Failures: each result code with its details, retries, endpoints and tokens refused, and the exceptions' surface.</summary>
    internal sealed class ErrorTests : EmulatorTests
    {
        private static int FreePort()
        {
            TcpListener listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }

        [Test("error_401")]
        private void Error401()
        {
            string threadId = NewThread("e401");
            string token = emulator.Token();
            emulator.Fault(threadId, "messages", status: 401, body: "{\"error\":{\"code\":\"Unauthorized\",\"message\":\"The token was rejected.\"}}");
            using (ChatClient client = new ChatClient(emulator.Url, token))
            {
                AcsChatException e = Assert.Fails(AcsResult.Unauthorized, () => client.GetChatThreadClient(threadId).SendMessage("x"), "401");
                Assert.Equal(401, e.Status, "status");
                Assert.Equal("Unauthorized", e.ErrorCode, "error code");
                Assert.NotEmpty(e.RequestId, "request id");
                Assert.Equal(null, e.RetryAfter, "no retry-after");
                Assert.True(!e.MayHaveBeenDelivered, "not delivered");
                Assert.NotEmpty(e.Message, "message");
                Assert.True(e.Message.IndexOf(token, StringComparison.Ordinal) < 0, "the message does not contain the token");
                Assert.True(e.ToString().IndexOf(token, StringComparison.Ordinal) < 0, "ToString does not contain the token");
                Assert.Equal(0, emulator.Events(threadId).Count, "nothing stored");
            }
        }

        [Test("error_403_pascal_case_body")]
        private void Error403()
        {
            string threadId = NewThread("e403");
            emulator.Fault(threadId, "readReceipts", status: 403, body: "{\"CommunicationError\":{\"Code\":\"Forbidden\",\"Message\":\"Not a participant.\",\"Details\":[]}}");
            using (ChatClient client = NewClient())
            {
                AcsChatException e = Assert.Fails(AcsResult.Forbidden, () => client.GetChatThreadClient(threadId).SendReadReceipt("123"), "403");
                Assert.Equal(403, e.Status, "status");
                Assert.Equal("Forbidden", e.ErrorCode, "error code from a PascalCase body");
                Assert.NotEmpty(e.RequestId, "request id");
            }
        }

        [Test("error_404")]
        private void Error404()
        {
            string threadId = NewThread("e404");
            emulator.Fault(threadId, "typing", status: 404, body: "{\"error\":{\"code\":\"NotFound\",\"message\":\"Thread not found.\"}}");
            using (ChatClient client = NewClient())
            {
                AcsChatException e = Assert.Fails(AcsResult.NotFound, () => client.GetChatThreadClient(threadId).SendTypingNotification(), "404");
                Assert.Equal(404, e.Status, "status");
                Assert.Equal("NotFound", e.ErrorCode, "error code");
                Assert.Equal(1, emulator.Requests(threadId).Count, "404 is not retried");
            }
        }

        [Test("error_400_not_json")]
        private void Error400()
        {
            string threadId = NewThread("e400");
            emulator.Fault(threadId, "messages", status: 400, body: "<html><body>Bad gateway page</body></html>");
            using (ChatClient client = NewClient())
            {
                AcsChatException e = Assert.Fails(AcsResult.BadRequest, () => client.GetChatThreadClient(threadId).SendMessage("x"), "400");
                Assert.Equal(400, e.Status, "status");
                Assert.Equal(null, e.ErrorCode, "no error code from a non-JSON body");
                Assert.NotEmpty(e.Message, "message");
            }
        }

        [Test("error_429_retry_after")]
        private void Error429()
        {
            string threadId = NewThread("e429");
            emulator.Fault(threadId, "messages", status: 429, headers: Headers("Retry-After", "7"),
                body: "{\"error\":{\"code\":\"TooManyRequests\",\"message\":\"Slow down.\"}}");
            ChatClientOptions options = new ChatClientOptions();
            options.MaxRetries = 0;
            using (ChatClient client = NewClient(options))
            {
                AcsChatException e = Assert.Fails(AcsResult.Throttled, () => client.GetChatThreadClient(threadId).SendMessage("x"), "429");
                Assert.Equal(429, e.Status, "status");
                Assert.Equal("TooManyRequests", e.ErrorCode, "error code");
                Assert.Equal((TimeSpan?)TimeSpan.FromSeconds(7), e.RetryAfter, "retry-after");
                Assert.True(!e.MayHaveBeenDelivered, "not delivered");
            }
        }

        [Test("error_503_after_retries")]
        private void Error503AfterRetries()
        {
            string threadId = NewThread("e503");
            emulator.Fault(threadId, "messages", status: 503, count: 3,
                body: "{\"error\":{\"code\":\"ServiceUnavailable\",\"message\":\"Try later.\"}}");
            using (ChatClient client = NewClient(FastRetries(2)))
            {
                Stopwatch watch = Stopwatch.StartNew();
                AcsChatException e = Assert.Fails(AcsResult.ServiceError, () => client.GetChatThreadClient(threadId).SendMessage("x"), "503");
                Assert.True(watch.ElapsedMilliseconds < 5000, "short retry delays were used (" + watch.ElapsedMilliseconds + " ms)");
                Assert.Equal(503, e.Status, "status");
                Assert.Equal("ServiceUnavailable", e.ErrorCode, "error code");
                List<Dictionary<string, object>> requests = emulator.Requests(threadId);
                Assert.Equal(3, requests.Count, "1 try + MaxRetries (2) retries");
                Assert.True(requests.All(q => true.Equals(Json.Get(q, "fault"))), "all three hit the fault");
                string id = Json.Str(requests[0], "clientRequestId");
                Assert.NotEmpty(id, "client request id");
                Assert.True(requests.All(q => Json.Str(q, "clientRequestId") == id), "the same client request id on every retry");
                Assert.Equal(0, emulator.Events(threadId).Count, "nothing stored");
            }
        }

        [Test("retry_then_success")]
        private void RetryThenSuccess()
        {
            string threadId = NewThread("retryok");
            emulator.Fault(threadId, "messages", status: 503, count: 1);
            using (ChatClient client = NewClient(FastRetries(3)))
            {
                string id = client.GetChatThreadClient(threadId).SendMessage("after a 503").Id;
                Assert.Equal(2, emulator.Requests(threadId).Count, "one retry");
                Assert.Equal(id, Json.Str(emulator.Events(threadId).Single(), "id"), "stored once");
            }
        }

        [Test("max_retries_zero")]
        private void MaxRetriesZero()
        {
            string threadId = NewThread("noretry");
            emulator.Fault(threadId, "typing", status: 503, count: 2);
            using (ChatClient client = NewClient(FastRetries(0)))
            {
                Assert.Fails(AcsResult.ServiceError, () => client.GetChatThreadClient(threadId).SendTypingNotification(), "503 without retries");
                Assert.Equal(1, emulator.Requests(threadId).Count, "no retry with MaxRetries = 0");
            }
        }

        [Test("connect_refused")]
        private void ConnectRefused()
        {
            int port = FreePort();
            ChatClientOptions options = FastRetries(1);
            using (ChatClient client = new ChatClient("http://127.0.0.1:" + port, emulator.Token(), options))
            {
                AcsChatException e = Assert.Fails(AcsResult.Connect, () => client.GetChatThreadClient(NewThread("refused")).SendMessage("x"), "connect refused");
                Assert.Equal(0, e.Status, "no HTTP status");
                Assert.True(!e.MayHaveBeenDelivered, "certainly not delivered");
                Assert.Equal(null, e.ErrorCode, "no service error code");
                Assert.NotEmpty(e.Message, "message");
            }
        }

        [Test("timeout")]
        private void TimeoutError()
        {
            string threadId = NewThread("timeout");
            emulator.Fault(threadId, "messages", delayMs: 3000);
            ChatClientOptions options = new ChatClientOptions();
            options.Timeout = TimeSpan.FromMilliseconds(300);
            using (ChatClient client = NewClient(options))
            {
                Stopwatch watch = Stopwatch.StartNew();
                AcsChatException e = Assert.Fails(AcsResult.Timeout, () => client.GetChatThreadClient(threadId).SendMessage("slow"), "timeout");
                Assert.True(watch.ElapsedMilliseconds >= 250 && watch.ElapsedMilliseconds < 2500,
                    "failed after about the per-try timeout, without retrying a send (" + watch.ElapsedMilliseconds + " ms)");
                Assert.Equal(0, e.Status, "no HTTP status");
                Assert.True(e.MayHaveBeenDelivered, "a timed-out send may have been delivered");
            }
        }

        [Test("typing_retries_timeouts")]
        private void TypingRetriesTimeouts()
        {
            string threadId = NewThread("typingtimeout");
            emulator.Fault(threadId, "typing", delayMs: 3000, count: 1);
            ChatClientOptions options = FastRetries(2);
            options.Timeout = TimeSpan.FromMilliseconds(300);
            using (ChatClient client = NewClient(options))
            {
                client.GetChatThreadClient(threadId).SendTypingNotification("retried");
                List<Dictionary<string, object>> events = EventsOf(threadId, "typing");
                Assert.True(events.Count >= 1, "the retry after the timeout delivered the typing notification");
                Assert.Equal("retried", Json.Str(events[events.Count - 1], "senderDisplayName"), "name");
            }
        }

        [Test("dropped_connection_is_io")]
        private void DroppedConnection()
        {
            string threadId = NewThread("drop");
            emulator.Fault(threadId, "messages", action: "drop");
            using (ChatClient client = NewClient(FastRetries(3)))
            {
                AcsChatException e = Assert.Fails(AcsResult.Io, () => client.GetChatThreadClient(threadId).SendMessage("x"), "dropped connection");
                Assert.True(e.MayHaveBeenDelivered, "may have been delivered");
                Assert.Equal(0, e.Status, "no HTTP status");
            }
        }

        [Test("oversized_answer_is_protocol")]
        private void OversizedAnswer()
        {
            string threadId = NewThread("oversize");
            emulator.Fault(threadId, "messages", action: "oversize");
            using (ChatClient client = NewClient())
            {
                AcsChatException e = Assert.Fails(AcsResult.Protocol, () => client.GetChatThreadClient(threadId).SendMessage("x"), "oversized body");
                Assert.True(e.MayHaveBeenDelivered, "the service may have stored it");
            }
        }

        [Test("insecure_endpoint")]
        private void InsecureEndpoint()
        {
            string token = emulator.Token();
            AcsChatException e = Assert.Fails(AcsResult.InsecureEndpoint, () => new ChatClient("http://chat.invalid", token).Dispose(), "plain http to a remote host");
            Assert.Equal(0, e.Status, "no HTTP status");
            Assert.True(e.Message.IndexOf(token, StringComparison.Ordinal) < 0, "no token in the message");
            ChatClientOptions options = new ChatClientOptions();
            options.AllowInsecureHttp = true;
            Assert.True(options.AllowInsecureHttp, "AllowInsecureHttp reads back");
            using (ChatClient client = new ChatClient("http://chat.invalid", token, options))
            {
                Assert.Equal("http://chat.invalid", client.Endpoint, "created with AllowInsecureHttp");
            }
            using (ChatClient client = new ChatClient(emulator.Url.Replace("127.0.0.1", "localhost"), token))
            {
                Assert.NotEmpty(client.GetChatThreadClient(NewThread("localhost")).SendMessage("loopback by name").Id, "http to localhost is allowed");
            }
        }

        [Test("invalid_endpoint")]
        private void InvalidEndpoint()
        {
            string token = emulator.Token();
            foreach (string endpoint in new[] { "not a url", "ftp://127.0.0.1/x", "http://" })
            {
                ArgumentException e = Assert.Throws<ArgumentException>(() => new ChatClient(endpoint, token).Dispose(), "endpoint " + endpoint);
                Assert.Equal("endpoint", e.ParamName, "ParamName");
                AcsChatException inner = e.InnerException as AcsChatException;
                Assert.True(inner != null, "details in an inner AcsChatException");
                Assert.Equal(AcsResult.InvalidArgument, inner.Result, "inner result");
            }
        }

        [Test("token_validation_and_set_token")]
        private void TokenValidationAndSetToken()
        {
            Assert.Fails(AcsResult.Token, () => new ChatClient(emulator.Url, "not-a-jwt").Dispose(), "a token that is not a JWT");
            string threadId = NewThread("settoken");
            MintedToken alice = emulator.Mint("csharp-alice");
            MintedToken bob = emulator.Mint("csharp-bob");
            using (ChatClient client = new ChatClient(emulator.Url, alice.Token))
            {
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                thread.SendTypingNotification();
                Assert.Fails(AcsResult.Token, () => client.SetToken("still.not-a-jwt"), "SetToken rejects a non-JWT");
                thread.SendTypingNotification();
                client.SetToken(bob.Token);
                thread.SendTypingNotification();
                List<Dictionary<string, object>> events = emulator.Events(threadId);
                Assert.Equal(3, events.Count, "three typing events");
                Assert.Equal(alice.User, Json.Str(events[0], "user"), "first as alice");
                Assert.Equal(alice.User, Json.Str(events[1], "user"), "a rejected SetToken keeps the old token");
                Assert.Equal(bob.User, Json.Str(events[2], "user"), "after SetToken as bob");
            }
        }

        [Test("argument_checks")]
        private void ArgumentChecks()
        {
            string token = emulator.Token();
            Assert.Equal("endpoint", Assert.Throws<ArgumentNullException>(() => new ChatClient(null, token), "null endpoint").ParamName, "ParamName");
            Assert.Equal("token", Assert.Throws<ArgumentNullException>(() => new ChatClient(emulator.Url, null), "null token").ParamName, "ParamName");
            Assert.Throws<ArgumentException>(() => new ChatClient("", token), "empty endpoint");
            Assert.Throws<ArgumentException>(() => new ChatClient(emulator.Url, ""), "empty token");
            Assert.Throws<ArgumentException>(() => new ChatClient(emulator.Url + "\0/x", token), "NUL in endpoint");
            string threadId = NewThread("args");
            using (ChatClient client = new ChatClient(emulator.Url, token, null))
            {
                Assert.Throws<ArgumentNullException>(() => client.GetChatThreadClient(null), "null thread id");
                Assert.Throws<ArgumentException>(() => client.GetChatThreadClient(""), "empty thread id");
                Assert.Throws<ArgumentException>(() => client.GetChatThreadClient("a\0b"), "NUL in thread id");
                Assert.Throws<ArgumentNullException>(() => client.SetToken(null), "null SetToken");
                Assert.Throws<ArgumentException>(() => client.SetToken(""), "empty SetToken");
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                Assert.Equal("content", Assert.Throws<ArgumentNullException>(() => thread.SendMessage((string)null), "null content").ParamName, "ParamName");
                Assert.Throws<ArgumentException>(() => thread.SendMessage(""), "empty content");
                Assert.Throws<ArgumentException>(() => thread.SendMessage("a\0b"), "NUL in content");
                Assert.Throws<ArgumentException>(() => thread.SendMessage("bad \ud800 surrogate"), "unpaired surrogate");
                Assert.Throws<ArgumentOutOfRangeException>(() => thread.SendMessage("x", (ChatMessageType)7), "undefined message type");
                Assert.Throws<ArgumentException>(() => thread.SendMessage("x", ChatMessageType.Text, "a\0b"), "NUL in display name");
                Dictionary<string, string> nullValue = new Dictionary<string, string>();
                nullValue["k"] = null;
                Assert.Throws<ArgumentException>(() => thread.SendMessage("x", ChatMessageType.Text, null, nullValue), "null metadata value");
                Assert.Throws<ArgumentNullException>(() => thread.SendMessage((SendChatMessageOptions)null), "null options");
                Assert.Throws<ArgumentNullException>(() => thread.SendMessage(new SendChatMessageOptions()), "options without content");
                Assert.Throws<ArgumentException>(() => thread.SendMessage(new SendChatMessageOptions { Content = "" }), "options with empty content");
                Assert.Throws<ArgumentNullException>(() => thread.SendReadReceipt(null), "null message id");
                Assert.Throws<ArgumentException>(() => thread.SendReadReceipt(""), "empty message id");
                Assert.Throws<ArgumentException>(() => thread.SendTypingNotification("a\0b"), "NUL in typing name");
                Assert.Throws<ArgumentNullException>(() => thread.SendMessageAsync((string)null), "async null content, thrown synchronously");
                Assert.Throws<ArgumentException>(() => thread.SendMessageAsync(""), "async empty content");
                Assert.Throws<ArgumentNullException>(() => thread.SendMessageAsync((SendChatMessageOptions)null), "async null options");
                Assert.Throws<ArgumentNullException>(() => thread.SendReadReceiptAsync(null), "async null message id");
                Assert.Throws<ArgumentException>(() => thread.SendReadReceiptAsync(""), "async empty message id");
                Assert.Throws<ArgumentException>(() => thread.SendTypingNotificationAsync("a\0b"), "async NUL in name");
                Assert.Throws<ArgumentOutOfRangeException>(() => AcsChatLogging.SetHandler((l, m) => { }, (AcsLogLevel)9), "undefined log level");
            }
            Assert.Equal(0, emulator.Requests(threadId).Count, "no rejected call reached the service");
        }

        [Test("exception_type_surface")]
        private void ExceptionSurface()
        {
            AcsChatException e = new AcsChatException(AcsResult.Throttled, "slow down", 429, "TooManyRequests", "rid-1", TimeSpan.FromSeconds(3));
            Assert.Equal(AcsResult.Throttled, e.Result, "Result");
            Assert.Equal(429, e.Status, "Status");
            Assert.Equal("TooManyRequests", e.ErrorCode, "ErrorCode");
            Assert.Equal("rid-1", e.RequestId, "RequestId");
            Assert.Equal((TimeSpan?)TimeSpan.FromSeconds(3), e.RetryAfter, "RetryAfter");
            Assert.Equal("slow down", e.Message, "Message");
            Assert.True(!e.MayHaveBeenDelivered, "the constructor without a verdict: not delivered");
            Assert.True(!new AcsChatException(AcsResult.Timeout, "t").MayHaveBeenDelivered, "no guessing from the result code");
            AcsChatException verdict = new AcsChatException(AcsResult.Timeout, "t", true, 0, null, "rid-2");
            Assert.True(verdict.MayHaveBeenDelivered, "the verdict given to the constructor");
            Assert.Equal("rid-2", verdict.RequestId, "RequestId with a verdict");
            Assert.True(!new AcsChatException(AcsResult.Io, "t", false).MayHaveBeenDelivered, "a verdict of false");
            CancellationToken token = new CancellationTokenSource().Token;
            AcsChatCanceledException canceled = new AcsChatCanceledException("stopped", true, token, verdict);
            Assert.True(canceled is OperationCanceledException, "AcsChatCanceledException is an OperationCanceledException");
            Assert.True(canceled.CancellationToken == token, "CancellationToken");
            Assert.True(canceled.MayHaveBeenDelivered, "MayHaveBeenDelivered");
            Assert.Equal(true, canceled.Data[AcsChatCanceledException.MayHaveBeenDeliveredKey], "Data[MayHaveBeenDelivered]");
            Assert.Equal("MayHaveBeenDelivered", AcsChatCanceledException.MayHaveBeenDeliveredKey, "the Data key");
            Assert.True(ReferenceEquals(verdict, canceled.InnerException), "InnerException");
            Assert.Equal(25, (int)AcsResult.Cancelled, "Cancelled value");
            Assert.True(typeof(Exception).IsAssignableFrom(typeof(AcsChatException)), "derives from Exception");
            Assert.True(typeof(IDisposable).IsAssignableFrom(typeof(ChatClient)), "ChatClient is IDisposable");
            Assert.Equal(10, (int)AcsResult.Unauthorized, "Unauthorized value");
            Assert.Equal(24, (int)AcsResult.Token, "Token value");
        }
    }
}
