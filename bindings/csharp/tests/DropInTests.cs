using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace AcsChat.Tests
{
    /// <summary>The official SDK's shapes (Azure.Communication.Chat 1.x), run against the emulator.</summary>
    internal sealed class DropInTests : EmulatorTests
    {
        protected override string ThreadPrefix
        {
            get { return "dropin-"; }
        }

        /// <summary>A client built as the official SDK's samples build it: a <see cref="Uri"/> and a credential.</summary>
        protected override ChatClient NewClient(ChatClientOptions options = null)
        {
            return new ChatClient(new Uri(emulator.Url), new CommunicationTokenCredential(emulator.Token()), options ?? new ChatClientOptions());
        }

        private static void CheckRequestId(Response response, string what)
        {
            Assert.NotEmpty(response.Headers.RequestId, what + ": request id of the answer");
            Assert.Equal(response.Headers.RequestId, response.ClientRequestId, what + ": ClientRequestId is the request id");
        }

        [Test("dropin_send_message_shapes")]
        private void SendMessageShapes()
        {
            string threadId = NewThread("send");
            using (CancellationTokenSource cts = new CancellationTokenSource())
            using (ChatClient client = NewClient())
            {
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                // Today's shape and the official one, on the same call.
                SendChatMessageResult plain = thread.SendMessage("one");
                Assert.True(ReferenceEquals(plain, plain.Value), "Value is the result itself");
                Assert.NotEmpty(plain.Id, ".Id");
                string viaValue = thread.SendMessage("two").Value.Id;
                Assert.NotEmpty(viaValue, ".Value.Id");
                Response<SendChatMessageResult> response = thread.SendMessage("three", ChatMessageType.Html, "Ada", cts.Token);
                Assert.NotEmpty(response.Value.Id, "Response<T>.Value.Id");
                Assert.Equal(201, response.GetRawResponse().Status, "status 201");
                Assert.Equal("Created", response.GetRawResponse().ReasonPhrase, "reason phrase");
                Assert.True(!response.GetRawResponse().IsError, "not an error");
                CheckRequestId(response.GetRawResponse(), "send");
                SendChatMessageResult converted = response;
                Assert.Equal(response.Value.Id, converted.Id, "implicit Response<T> -> T");

                SendChatMessageOptions options = new SendChatMessageOptions { Content = "four", MessageType = ChatMessageType.Text, SenderDisplayName = "Bob" };
                options.Metadata["isQuestion"] = "true";
                string fourId = thread.SendMessage(options, cts.Token).Value.Id;
                string fiveId = thread.SendMessage(content: "five", senderDisplayName: "Cy", cancellationToken: cts.Token).Id;
                string sixId = thread.SendMessage("six", ChatMessageType.Text, "Di", new Dictionary<string, string> { { "k", "v" } }).Id;

                List<Dictionary<string, object>> events = EventsOf(threadId, "message");
                Assert.Equal(6, events.Count, "six messages");
                Assert.Equal(plain.Id, Json.Str(events[0], "id"), "first id");
                Assert.Equal(viaValue, Json.Str(events[1], "id"), "second id");
                Assert.Equal("html", Json.Str(events[2], "type"), "positional type");
                Assert.Equal("Ada", Json.Str(events[2], "senderDisplayName"), "positional name");
                Assert.Equal(response.Value.Id, Json.Str(events[2], "id"), "id of the Response<T> call");
                Assert.Equal(fourId, Json.Str(events[3], "id"), "options id");
                Assert.Equal("true", Json.Str((Dictionary<string, object>)Json.Get(events[3], "metadata"), "isQuestion"), "options metadata");
                Assert.Equal("Cy", Json.Str(events[4], "senderDisplayName"), "named arguments");
                Assert.Equal(fiveId, Json.Str(events[4], "id"), "named id");
                Assert.Equal(sixId, Json.Str(events[5], "id"), "4-argument form with metadata");
            }
        }

        [Test("dropin_typing_and_receipt_shapes")]
        private void TypingAndReceiptShapes()
        {
            string threadId = NewThread("typing");
            using (CancellationTokenSource cts = new CancellationTokenSource())
            using (ChatClient client = NewClient())
            {
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                Response typing = thread.SendTypingNotification(new TypingNotificationOptions { SenderDisplayName = "Ada" }, cts.Token);
                Assert.Equal(200, typing.Status, "typing status");
                CheckRequestId(typing, "typing");
                Assert.Equal(200, thread.SendTypingNotification(cts.Token).Status, "typing with a token only");
                thread.SendTypingNotification();
                thread.SendTypingNotification(null);
                thread.SendTypingNotification("Bob");
                thread.SendTypingNotification((TypingNotificationOptions)null);
                string id = thread.SendMessage("read me").Id;
                Response receipt = thread.SendReadReceipt(id, cts.Token);
                Assert.Equal(200, receipt.Status, "receipt status");
                CheckRequestId(receipt, "receipt");
                Assert.Equal(200, thread.SendReadReceipt(chatMessageId: id).Status, "named chatMessageId");
                Assert.Equal(200, thread.SendReadReceipt(messageId: id).Status, "named messageId");

                List<Dictionary<string, object>> typings = EventsOf(threadId, "typing");
                Assert.Equal(6, typings.Count, "six typing events");
                Assert.Equal("Ada", Json.Str(typings[0], "senderDisplayName"), "options name");
                Assert.Equal(null, Json.Str(typings[1], "senderDisplayName"), "token only: no name");
                Assert.Equal(null, Json.Str(typings[3], "senderDisplayName"), "null: no name");
                Assert.Equal("Bob", Json.Str(typings[4], "senderDisplayName"), "string name");
                Assert.Equal(null, Json.Str(typings[5], "senderDisplayName"), "null options: no name");
                List<Dictionary<string, object>> receipts = EventsOf(threadId, "readReceipt");
                Assert.Equal(3, receipts.Count, "three receipts");
                Assert.True(receipts.All(e => Json.Str(e, "chatMessageId") == id), "receipts name the message");
            }
        }

        [Test("dropin_async_shapes")]
        private void AsyncShapes()
        {
            string threadId = NewThread("async");
            using (CancellationTokenSource cts = new CancellationTokenSource())
            using (ChatClient client = NewClient())
            {
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                Response<SendChatMessageResult> sent = thread.SendMessageAsync("async", ChatMessageType.Text, "Ada", cts.Token).GetAwaiter().GetResult();
                Assert.NotEmpty(sent.Value.Id, "async .Value.Id");
                Assert.Equal(201, sent.GetRawResponse().Status, "async status 201");
                CheckRequestId(sent.GetRawResponse(), "async send");
                SendChatMessageOptions options = new SendChatMessageOptions { Content = "async options" };
                string optionsId = thread.SendMessageAsync(options, cts.Token).GetAwaiter().GetResult().Value.Id;
                Task<Response> typing = thread.SendTypingNotificationAsync(new TypingNotificationOptions { SenderDisplayName = "Ada" }, cts.Token);
                Assert.Equal(200, typing.GetAwaiter().GetResult().Status, "async typing status");
                Assert.Equal(200, thread.SendTypingNotificationAsync(cts.Token).GetAwaiter().GetResult().Status, "async typing, token only");
                Task plainTask = thread.SendTypingNotificationAsync();
                plainTask.GetAwaiter().GetResult();
                Response receipt = thread.SendReadReceiptAsync(optionsId, cts.Token).GetAwaiter().GetResult();
                Assert.Equal(200, receipt.Status, "async receipt status");
                CheckRequestId(receipt, "async receipt");

                Assert.Equal(2, EventsOf(threadId, "message").Count, "two messages");
                List<Dictionary<string, object>> typings = EventsOf(threadId, "typing");
                Assert.Equal(3, typings.Count, "three typing events");
                Assert.Equal("Ada", Json.Str(typings[0], "senderDisplayName"), "options name");
                Assert.Equal(optionsId, Json.Str(EventsOf(threadId, "readReceipt").Single(), "chatMessageId"), "receipt");
            }
        }

        [Test("dropin_sync_token_cancelled_before_start")]
        private void SyncTokenCancelledBeforeStart()
        {
            string threadId = NewThread("cancelled");
            using (CancellationTokenSource cts = new CancellationTokenSource())
            using (ChatClient client = NewClient())
            {
                cts.Cancel();
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                List<Action> calls = new List<Action>
                {
                    () => thread.SendMessage("x", cancellationToken: cts.Token),
                    () => thread.SendMessage("x", ChatMessageType.Text, null, cts.Token),
                    () => thread.SendMessage(new SendChatMessageOptions { Content = "x" }, cts.Token),
                    () => thread.SendTypingNotification(cts.Token),
                    () => thread.SendTypingNotification(new TypingNotificationOptions(), cts.Token),
                    () => thread.SendTypingNotification("n", cts.Token),
                    () => thread.SendReadReceipt("id", cts.Token),
                };
                foreach (Action call in calls)
                {
                    AcsChatCanceledException e = Assert.Throws<AcsChatCanceledException>(call, "a cancelled token");
                    Assert.True(!e.MayHaveBeenDelivered, "nothing was sent");
                    Assert.Equal(cts.Token, e.CancellationToken, "the caller's token");
                }
                // Arguments are still checked first.
                Assert.Throws<ArgumentNullException>(() => thread.SendMessage((string)null, cancellationToken: cts.Token), "null content");
                Assert.Equal(0, emulator.Requests(threadId).Count, "nothing reached the service");
            }
        }

        [Test("dropin_credential_fixed_token_and_uri")]
        private void CredentialFixedTokenAndUri()
        {
            string threadId = NewThread("uri");
            MintedToken minted = emulator.Mint("dropin-fixed");
            using (CommunicationTokenCredential credential = new CommunicationTokenCredential(minted.Token))
            using (ChatClient client = new ChatClient(new Uri(emulator.Url), credential))
            {
                Assert.Equal(emulator.Url, client.Endpoint, "endpoint from the Uri");
                client.GetChatThreadClient(threadId).SendMessage("fixed");
                Assert.Equal(minted.User, Json.Str(emulator.Events(threadId).Single(), "user"), "sent with the credential's token");
            }
            Assert.Throws<ArgumentNullException>(() => new ChatClient((Uri)null, new CommunicationTokenCredential(minted.Token)), "null endpoint");
            Assert.Throws<ArgumentNullException>(() => new ChatClient(new Uri(emulator.Url), null), "null credential");
            Assert.Throws<ArgumentException>(() => new ChatClient(new Uri("/relative", UriKind.Relative), new CommunicationTokenCredential(minted.Token)), "relative endpoint");
            Assert.Throws<ArgumentNullException>(() => new CommunicationTokenCredential((string)null), "null token");
            Assert.Throws<ArgumentNullException>(() => new CommunicationTokenRefreshOptions(false, null), "null refresher");
        }

        [Test("dropin_credential_refresher_sync_and_async")]
        private void CredentialRefresherSyncAndAsync()
        {
            string threadId = NewThread("refresh");
            MintedToken syncToken = emulator.Mint("dropin-sync-refreshed");
            MintedToken asyncToken = emulator.Mint("dropin-async-refreshed");
            int syncCalls = 0;
            int asyncCalls = 0;
            CommunicationTokenRefreshOptions refresh = new CommunicationTokenRefreshOptions(false, ct =>
            {
                Interlocked.Increment(ref syncCalls);
                return syncToken.Token;
            });
            refresh.AsyncTokenRefresher = ct =>
            {
                Interlocked.Increment(ref asyncCalls);
                return new ValueTask<string>(Task.Run(async () =>
                {
                    await Task.Delay(10, ct);
                    return asyncToken.Token;
                }));
            };
            refresh.InitialToken = emulator.Token("dropin-expiring", 60);
            CommunicationTokenCredential credential = new CommunicationTokenCredential(refresh);
            using (ChatClient client = new ChatClient(new Uri(emulator.Url), credential))
            {
                client.GetChatThreadClient(threadId).SendMessageAsync("async").GetAwaiter().GetResult();
                Assert.Equal(1, asyncCalls, "an asynchronous call uses the asynchronous refresher");
                Assert.Equal(0, syncCalls, "and not the synchronous one");
            }
            using (ChatClient client = new ChatClient(new Uri(emulator.Url), credential))
            {
                client.GetChatThreadClient(threadId).SendMessage("sync");
                Assert.Equal(1, syncCalls, "a blocking call uses the synchronous refresher");
                Assert.Equal(1, asyncCalls, "and not the asynchronous one");
            }
            List<Dictionary<string, object>> events = EventsOf(threadId, "message");
            Assert.Equal(asyncToken.User, Json.Str(events[0], "user"), "async call with the async refresher's token");
            Assert.Equal(syncToken.User, Json.Str(events[1], "user"), "blocking call with the sync refresher's token");
        }

        [Test("dropin_credential_without_initial_token")]
        private void CredentialWithoutInitialToken()
        {
            string threadId = NewThread("noinitial");
            MintedToken fresh = emulator.Mint("dropin-fetched");
            int calls = 0;
            CommunicationTokenCredential credential = new CommunicationTokenCredential(new CommunicationTokenRefreshOptions(false, ct =>
            {
                Interlocked.Increment(ref calls);
                return fresh.Token;
            }));
            using (ChatClient client = new ChatClient(new Uri(emulator.Url), credential))
            {
                Assert.Equal(1, calls, "the refresher gave the first token");
                client.GetChatThreadClient(threadId).SendMessage("first");
                Assert.Equal(1, calls, "a fresh token is not refreshed again");
                Assert.Equal(fresh.User, Json.Str(emulator.Events(threadId).Single(), "user"), "sent with the fetched token");
            }
            CommunicationTokenCredential nothing = new CommunicationTokenCredential(new CommunicationTokenRefreshOptions(false, ct => null));
            Assert.Throws<InvalidOperationException>(() => new ChatClient(new Uri(emulator.Url), nothing), "a refresher returning null at creation");
        }

        [Test("dropin_credential_async_refresher_bound")]
        private void CredentialAsyncRefresherBound()
        {
            string threadId = NewThread("bound");
            TaskCompletionSource<string> never = new TaskCompletionSource<string>();
            CommunicationTokenRefreshOptions refresh = new CommunicationTokenRefreshOptions(false, ct => { throw new InvalidOperationException("not for async calls"); });
            refresh.AsyncTokenRefresher = ct => new ValueTask<string>(never.Task);
            refresh.InitialToken = emulator.Token("dropin-bound", 60);
            refresh.RefreshTimeout = TimeSpan.FromMilliseconds(300);
            Assert.Throws<ArgumentOutOfRangeException>(() => refresh.RefreshTimeout = TimeSpan.Zero, "RefreshTimeout must be positive");
            using (ChatClient client = new ChatClient(new Uri(emulator.Url), new CommunicationTokenCredential(refresh)))
            {
                Task<SendChatMessageResult> task = client.GetChatThreadClient(threadId).SendMessageAsync("bounded");
                AcsChatException e = Assert.Throws<AcsChatException>(() => task.GetAwaiter().GetResult(), "a refresher that never finishes");
                Assert.Equal(AcsResult.Token, e.Result, "a token failure");
                Assert.True(e.InnerException is TimeoutException, "the bound's TimeoutException is the inner exception: " + e.InnerException);
            }
            Assert.Equal(0, emulator.Requests(threadId).Count, "nothing was sent");
        }

        [Test("dropin_credential_proactive")]
        private void CredentialProactive()
        {
            // 601 s left: the ten-minute proactive window opens about a second after the token is taken
            // (as token_refresher_proactive, with less waiting); the two-minute on-demand window is far away.
            string threadId = NewThread("proactive");
            MintedToken fresh = emulator.Mint("dropin-proactive");
            int proactiveCalls = 0;
            int lazyCalls = 0;
            CommunicationTokenRefreshOptions proactive = new CommunicationTokenRefreshOptions(true, ct =>
            {
                Interlocked.Increment(ref proactiveCalls);
                return fresh.Token;
            });
            CommunicationTokenRefreshOptions lazy = new CommunicationTokenRefreshOptions(false, ct =>
            {
                Interlocked.Increment(ref lazyCalls);
                return fresh.Token;
            });
            System.Diagnostics.Stopwatch watch = System.Diagnostics.Stopwatch.StartNew();
            proactive.InitialToken = lazy.InitialToken = emulator.Token("dropin-601", 601);
            using (ChatClient eager = new ChatClient(new Uri(emulator.Url), new CommunicationTokenCredential(proactive)))
            using (ChatClient late = new ChatClient(new Uri(emulator.Url), new CommunicationTokenCredential(lazy)))
            {
                TimeSpan due = TimeSpan.FromSeconds(2.5);
                if (watch.Elapsed < due)
                {
                    Thread.Sleep(due - watch.Elapsed);
                }
                eager.GetChatThreadClient(threadId).SendTypingNotification();
                late.GetChatThreadClient(threadId).SendTypingNotification();
                Assert.Equal(1, proactiveCalls, "RefreshProactively: refreshed inside the ten-minute window");
                Assert.Equal(0, lazyCalls, "not refreshed without it");
            }
        }

        [Test("dropin_options_retry_and_diagnostics")]
        private void OptionsRetryAndDiagnostics()
        {
            ChatClientOptions o = new ChatClientOptions();
            Assert.Equal(3, o.Retry.MaxRetries, "Retry.MaxRetries default");
            Assert.Equal(TimeSpan.FromMilliseconds(800), o.Retry.Delay, "Retry.Delay default");
            Assert.Equal(TimeSpan.FromSeconds(60), o.Retry.MaxDelay, "Retry.MaxDelay default");
            Assert.Equal(TimeSpan.FromSeconds(30), o.Retry.NetworkTimeout, "Retry.NetworkTimeout default");
            Assert.Equal(RetryMode.Exponential, o.Retry.Mode, "Retry.Mode default");
            o.Retry.MaxRetries = 2;
            o.Retry.Delay = TimeSpan.FromMilliseconds(20);
            o.Retry.MaxDelay = TimeSpan.FromMilliseconds(40);
            o.Retry.NetworkTimeout = TimeSpan.FromSeconds(5);
            Assert.Equal(2, o.MaxRetries, "MaxRetries via Retry");
            Assert.Equal(TimeSpan.FromMilliseconds(20), o.RetryDelay, "RetryDelay via Retry");
            Assert.Equal(TimeSpan.FromMilliseconds(40), o.MaxRetryDelay, "MaxRetryDelay via Retry");
            Assert.Equal(TimeSpan.FromSeconds(5), o.Timeout, "Timeout via NetworkTimeout");
            Assert.Throws<ArgumentOutOfRangeException>(() => o.Retry.MaxRetries = -1, "negative retries");
            Assert.Throws<ArgumentOutOfRangeException>(() => o.Retry.Mode = (RetryMode)7, "unknown mode");
            o.Diagnostics.ApplicationId = "dropin-app";
            Assert.Equal("dropin-app", o.ApplicationId, "ApplicationId via Diagnostics");
            o.Diagnostics.IsLoggingEnabled = false;
            o.Diagnostics.LoggedHeaderNames.Add("x-ms-client-request-id");

            string threadId = NewThread("retry");
            emulator.Fault(threadId, "typing", status: 503, count: 2, body: "{\"error\":{\"code\":\"ServiceUnavailable\",\"message\":\"down\"}}");
            using (ChatClient client = NewClient(o))
            {
                Assert.Equal(200, client.GetChatThreadClient(threadId).SendTypingNotification().Status, "succeeded on the third try");
            }
            List<Dictionary<string, object>> requests = emulator.Requests(threadId);
            Assert.Equal(3, requests.Count, "two retries");
            Assert.True((Json.Str(requests[0], "userAgent") ?? "").StartsWith("dropin-app", StringComparison.Ordinal), "User-Agent starts with the application id: " + Json.Str(requests[0], "userAgent"));

            string fixedThread = NewThread("fixed");
            ChatClientOptions fixedOptions = new ChatClientOptions();
            fixedOptions.Retry.Mode = RetryMode.Fixed;
            fixedOptions.Retry.MaxRetries = 1;
            fixedOptions.Retry.Delay = TimeSpan.FromMilliseconds(10);
            emulator.Fault(fixedThread, "typing", status: 503, count: 1, body: "{\"error\":{\"code\":\"ServiceUnavailable\",\"message\":\"down\"}}");
            using (ChatClient client = NewClient(fixedOptions))
            {
                client.GetChatThreadClient(fixedThread).SendTypingNotification();
            }
            Assert.Equal(2, emulator.Requests(fixedThread).Count, "fixed mode retried");
            ChatClientOptions badFixed = new ChatClientOptions();
            badFixed.Retry.Mode = RetryMode.Fixed;
            badFixed.Retry.Delay = TimeSpan.FromMinutes(2); // above the default MaxDelay: fixed mode caps at its own base
            using (NewClient(badFixed))
            {
            }
        }

        [Test("dropin_options_service_version")]
        private void OptionsServiceVersion()
        {
            string threadId = NewThread("version");
            ChatClientOptions o = new ChatClientOptions(ChatClientOptions.ServiceVersion.V2024_03_07);
            Assert.Equal("2024-03-07", o.ApiVersion, "ApiVersion from the service version");
            Assert.Equal("2025-03-15", new ChatClientOptions(ChatClientOptions.LatestVersion).ApiVersion, "latest");
            Assert.Equal(null, new ChatClientOptions().ApiVersion, "parameterless: the library's default");
            Assert.Throws<ArgumentOutOfRangeException>(() => new ChatClientOptions((ChatClientOptions.ServiceVersion)99), "unknown version");
            using (ChatClient client = NewClient(o))
            {
                client.GetChatThreadClient(threadId).SendTypingNotification();
            }
            Assert.Equal("2024-03-07", Json.Str(emulator.Requests(threadId).Single(), "apiVersion"), "api-version sent");
        }

        [Test("dropin_request_failed_exception")]
        private void RequestFailed()
        {
            string threadId = NewThread("failed");
            ChatClientOptions o = new ChatClientOptions();
            o.Retry.MaxRetries = 0;
            emulator.Fault(threadId, "messages", status: 403, headers: new Dictionary<string, string> { { "MS-CV", "dropin-cv.1" } },
                body: "{\"error\":{\"code\":\"Forbidden\",\"message\":\"Not a participant.\"}}");
            using (ChatClient client = NewClient(o))
            {
                try
                {
                    client.GetChatThreadClient(threadId).SendMessage("denied");
                    Assert.True(false, "a 403 throws");
                }
                catch (RequestFailedException e)
                {
                    Assert.Equal(403, e.Status, "Status");
                    Assert.Equal("Forbidden", e.ErrorCode, "ErrorCode");
                    Assert.True(e is AcsChatException, "it is an AcsChatException");
                    Assert.Equal(AcsResult.Forbidden, ((AcsChatException)e).Result, "Result");
                    Response raw = e.GetRawResponse();
                    Assert.True(raw != null, "a raw response");
                    Assert.Equal(403, raw.Status, "raw status");
                    Assert.Equal("dropin-cv.1", raw.Headers.RequestId, "raw request id");
                }
            }
            RequestFailedException made = new RequestFailedException(429, "slow down", "TooManyRequests", null);
            Assert.Equal(429, made.Status, "constructed status");
            Assert.Equal("TooManyRequests", made.ErrorCode, "constructed code");
            Assert.Equal(null, new RequestFailedException("no answer").GetRawResponse(), "no raw response without a status");
            AcsChatException acs = new AcsChatException(AcsResult.Timeout, "timed out");
            Assert.Equal(0, acs.Status, "AcsChatException.Status through the base");
            Assert.Equal(null, acs.ErrorCode, "AcsChatException.ErrorCode through the base");
        }

        [Test("dropin_response_types")]
        private void ResponseTypes()
        {
            Response raw = new Response(201, "cv");
            Response<string> wrapped = Response.FromValue("v", raw);
            string value = wrapped;
            Assert.Equal("v", value, "implicit conversion to T");
            Assert.True(wrapped.HasValue, "HasValue");
            Assert.True(ReferenceEquals(raw, wrapped.GetRawResponse()), "GetRawResponse");
            Assert.Equal("cv", raw.ClientRequestId, "ClientRequestId");
            Assert.Throws<ArgumentNullException>(() => new Response<string>("v", null), "null raw response");
            SendChatMessageResult made = new SendChatMessageResult("id");
            Assert.Equal(0, made.GetRawResponse().Status, "hand-made result: status 0");
            Response<SendChatMessageResult> asResponse = made;
            Assert.True(ReferenceEquals(made, asResponse.Value), "implicit conversion to Response<SendChatMessageResult>");
            TypingNotificationOptions fromString = "Ada";
            Assert.Equal("Ada", fromString.SenderDisplayName, "string -> TypingNotificationOptions");
        }
    }
}
