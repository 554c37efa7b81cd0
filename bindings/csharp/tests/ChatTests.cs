using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace AcsChat.Tests
{
    /// <summary>The binding's tests, run against a live emulator.</summary>
    internal sealed class ChatTests
    {
        /// <summary>The function list every binding declares (spec/API.md).</summary>
        private static readonly string[] ApiFunctions =
        {
            "acs_client_new", "acs_client_free", "acs_client_set_token", "acs_send_message", "acs_send_typing",
            "acs_send_read_receipt", "acs_string_free", "acs_client_options_new", "acs_client_options_free",
            "acs_client_options_set_api_version", "acs_client_options_set_timeout_ms",
            "acs_client_options_set_connect_timeout_ms", "acs_client_options_set_max_retries",
            "acs_client_options_set_retry_delay_ms", "acs_client_options_set_application_id",
            "acs_client_options_set_ca_file", "acs_client_options_set_allow_insecure_http",
            "acs_client_options_set_token_refresher", "acs_client_options_set_proactive_refresh",
            "acs_token_sink_set", "acs_message_options_new", "acs_message_options_free",
            "acs_message_options_set_type", "acs_message_options_set_sender_display_name",
            "acs_message_options_add_metadata", "acs_result_str", "acs_last_error_message",
            "acs_last_error_http_status", "acs_last_error_code", "acs_last_error_request_id",
            "acs_last_error_retry_after_ms", "acs_version", "acs_set_log_callback",
            // 0.2: asynchronous calls and the delivery verdict.
            "acs_last_error_may_have_been_delivered", "acs_send_message_async", "acs_send_typing_async",
            "acs_send_read_receipt_async", "acs_call_cancel", "acs_call_free", "acs_completion_result",
            "acs_completion_message_id", "acs_completion_http_status", "acs_completion_error_message",
            "acs_completion_error_code", "acs_completion_request_id", "acs_completion_retry_after_ms",
            "acs_completion_may_have_been_delivered", "acs_shutdown", "acs_client_options_set_total_timeout_ms",
            "acs_client_options_set_max_connections_per_origin",
            // 0.3: the answer to a successful blocking call (Response.Status and the request id).
            "acs_last_call_http_status", "acs_last_call_request_id",
        };

        private readonly Emulator emulator;
        private readonly string root;

        internal ChatTests(Emulator emulator, string root)
        {
            this.emulator = emulator;
            this.root = root;
        }

        internal void Register(Runner r)
        {
            r.Add("version_matches_header", VersionMatchesHeader);
            r.Add("every_header_function_has_dllimport", EveryHeaderFunctionHasDllImport);
            r.Add("result_and_log_level_values_match_header", ResultValuesMatchHeader);
            r.Add("send_message_defaults", SendMessageDefaults);
            r.Add("send_message_all_fields", SendMessageAllFields);
            r.Add("send_message_options_overload", SendMessageOptionsOverload);
            r.Add("send_typing_notification", SendTypingNotification);
            r.Add("send_read_receipt", SendReadReceipt);
            r.Add("thread_id_is_one_path_segment", ThreadIdIsOnePathSegment);
            r.Add("async_methods", AsyncMethods);
            r.Add("async_cancelled_before_start_sends_nothing", AsyncCancelledBeforeStart);
            r.Add("async_failure_is_acs_chat_exception", AsyncFailure);
            r.Add("error_401", Error401);
            r.Add("error_403_pascal_case_body", Error403);
            r.Add("error_404", Error404);
            r.Add("error_400_not_json", Error400);
            r.Add("error_429_retry_after", Error429);
            r.Add("error_503_after_retries", Error503AfterRetries);
            r.Add("retry_then_success", RetryThenSuccess);
            r.Add("max_retries_zero", MaxRetriesZero);
            r.Add("connect_refused", ConnectRefused);
            r.Add("timeout", TimeoutError);
            r.Add("typing_retries_timeouts", TypingRetriesTimeouts);
            r.Add("dropped_connection_is_io", DroppedConnection);
            r.Add("oversized_answer_is_protocol", OversizedAnswer);
            r.Add("insecure_endpoint", InsecureEndpoint);
            r.Add("invalid_endpoint", InvalidEndpoint);
            r.Add("token_validation_and_set_token", TokenValidationAndSetToken);
            r.Add("options_defaults_and_validation", OptionsDefaultsAndValidation);
            r.Add("options_api_version_application_id", OptionsApiVersionAndApplicationId);
            r.Add("options_timeouts_accepted", OptionsTimeoutsAccepted);
            r.Add("options_ca_file_tls", OptionsCaFile);
            r.Add("token_refresher_on_demand", TokenRefresherOnDemand);
            r.Add("token_refresher_after_401", TokenRefresherAfter401);
            r.Add("token_refresher_failures", TokenRefresherFailures);
            r.Add("token_refresher_proactive", TokenRefresherProactive);
            r.Add("token_refresher_handles_released", TokenRefresherHandlesReleased);
            r.Add("dispose_semantics", DisposeSemantics);
            r.Add("dispose_during_call", DisposeDuringCall);
            r.Add("concurrent_16_tasks_one_client", Concurrent16Tasks);
            r.Add("argument_checks", ArgumentChecks);
            r.Add("logging_handler", LoggingHandler);
            r.Add("exception_type_surface", ExceptionSurface);
        }

        // ---- helpers ----

        private static string NewThread(string tag)
        {
            return "19:" + tag + "-" + Guid.NewGuid().ToString("N") + "@thread.v2";
        }

        private ChatClient NewClient(ChatClientOptions options = null)
        {
            return new ChatClient(emulator.Url, emulator.Token(), options);
        }

        private static ChatClientOptions FastRetries(int maxRetries)
        {
            ChatClientOptions options = new ChatClientOptions();
            options.MaxRetries = maxRetries;
            options.RetryDelay = TimeSpan.FromMilliseconds(10);
            options.MaxRetryDelay = TimeSpan.FromMilliseconds(50);
            return options;
        }

        private string Header()
        {
            string path = Path.Combine(root, "include/acs_chat.h");
            Assert.True(File.Exists(path), path + " exists");
            return File.ReadAllText(path);
        }

        private static string StripComments(string c)
        {
            c = Regex.Replace(c, @"/\*.*?\*/", " ", RegexOptions.Singleline);
            return Regex.Replace(c, @"//[^\n]*", " ");
        }

        private static Dictionary<string, string> Metadata(Dictionary<string, object> ev)
        {
            Dictionary<string, string> result = new Dictionary<string, string>();
            Dictionary<string, object> obj = Json.Get(ev, "metadata") as Dictionary<string, object>;
            if (obj != null)
            {
                foreach (KeyValuePair<string, object> pair in obj)
                {
                    result[pair.Key] = pair.Value as string;
                }
            }
            return result;
        }

        private List<Dictionary<string, object>> EventsOf(string threadId, string op)
        {
            return emulator.Events(threadId).Where(e => Json.Str(e, "op") == op).ToList();
        }

        private static int FreePort()
        {
            TcpListener listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }

        private static Dictionary<string, string> Headers(string name, string value)
        {
            Dictionary<string, string> headers = new Dictionary<string, string>();
            headers[name] = value;
            return headers;
        }

        // ---- header and version ----

        private void VersionMatchesHeader()
        {
            string version = ChatClient.Version;
            Assert.True(Regex.IsMatch(version, @"^\d+\.\d+\.\d+"), "version looks like x.y.z: " + version);
            string header = Header();
            Match m = Regex.Match(header, "#define\\s+ACS_CHAT_VERSION\\s+\"([^\"]+)\"");
            Assert.True(m.Success, "header defines ACS_CHAT_VERSION");
            Assert.Equal(m.Groups[1].Value, version, "ChatClient.Version == ACS_CHAT_VERSION");
            string[] parts = new string[3];
            string[] names = { "MAJOR", "MINOR", "PATCH" };
            for (int i = 0; i < 3; i++)
            {
                Match part = Regex.Match(header, @"#define\s+ACS_CHAT_VERSION_" + names[i] + @"\s+(\d+)");
                Assert.True(part.Success, "header defines ACS_CHAT_VERSION_" + names[i]);
                parts[i] = part.Groups[1].Value;
            }
            Assert.Equal(string.Join(".", parts), version.Split('-', '+')[0], "ACS_CHAT_VERSION_MAJOR.MINOR.PATCH == ChatClient.Version");
            Assert.Equal(version, ChatClient.Version, "Version is stable across reads");
        }

        private void EveryHeaderFunctionHasDllImport()
        {
            string code = StripComments(Header());
            HashSet<string> declared = new HashSet<string>();
            foreach (Match m in Regex.Matches(code, @"(?<!\w)(acs_[a-z0-9_]+)\s*\((?!\s*\*)"))
            {
                declared.Add(m.Groups[1].Value);
            }
            foreach (string name in ApiFunctions)
            {
                Assert.True(declared.Contains(name), "the header declares " + name);
            }
            Type native = typeof(ChatClient).Assembly.GetType("AcsChat.NativeMethods", true);
            Dictionary<string, MethodInfo> imports = new Dictionary<string, MethodInfo>();
            foreach (MethodInfo method in native.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public))
            {
                DllImportAttribute attr = (DllImportAttribute)Attribute.GetCustomAttribute(method, typeof(DllImportAttribute));
                if (attr == null)
                {
                    // A runtime that does not surface the [DllImport] pseudo-attribute: use the method flags.
                    if ((method.Attributes & MethodAttributes.PinvokeImpl) == 0)
                    {
                        continue;
                    }
                    imports[method.Name] = method;
                    continue;
                }
                Assert.Equal("acs_chat", attr.Value, method.Name + " imports from acs_chat");
                Assert.Equal(CallingConvention.Cdecl, attr.CallingConvention, method.Name + " calling convention");
                imports[string.IsNullOrEmpty(attr.EntryPoint) ? method.Name : attr.EntryPoint] = method;
            }
            List<string> missing = declared.Where(n => !imports.ContainsKey(n)).OrderBy(n => n).ToList();
            Assert.True(missing.Count == 0, "every header function has a [DllImport]; missing: " + string.Join(", ", missing));
            List<string> extra = imports.Keys.Where(n => !declared.Contains(n)).OrderBy(n => n).ToList();
            Assert.True(extra.Count == 0, "every [DllImport] exists in the header; unknown: " + string.Join(", ", extra));
            foreach (MethodInfo method in imports.Values)
            {
                foreach (ParameterInfo p in method.GetParameters())
                {
                    Assert.True(p.ParameterType != typeof(string), method.Name + "(" + p.Name + ") marshals strings explicitly");
                    if (p.ParameterType == typeof(bool))
                    {
                        MarshalAsAttribute ma = (MarshalAsAttribute)Attribute.GetCustomAttribute(p, typeof(MarshalAsAttribute));
                        Assert.True(ma != null && ma.Value == UnmanagedType.U1, method.Name + "(" + p.Name + ") bool is marshalled as U1");
                    }
                }
                Assert.True(method.ReturnType != typeof(string), method.Name + " returns no string");
                if (method.ReturnType == typeof(bool))
                {
                    MarshalAsAttribute ma = (MarshalAsAttribute)Attribute.GetCustomAttribute(method.ReturnParameter, typeof(MarshalAsAttribute));
                    Assert.True(ma != null && ma.Value == UnmanagedType.U1, method.Name + " returns a bool marshalled as U1");
                }
            }
        }

        private void ResultValuesMatchHeader()
        {
            string code = StripComments(Header());
            Dictionary<string, ulong> values = new Dictionary<string, ulong>();
            foreach (Match m in Regex.Matches(code, @"\bACS_RESULT_([A-Z0-9_]+)\b\s*=?\s*\(?\s*(?:\([a-z0-9_ ]+\)\s*)?(\d+)"))
            {
                values[m.Groups[1].Value] = ulong.Parse(m.Groups[2].Value);
            }
            Assert.True(values.Count >= 17, "the header defines the ACS_RESULT_* values (found " + values.Count + ")");
            foreach (KeyValuePair<string, ulong> pair in values)
            {
                string pascal = string.Concat(pair.Key.ToLowerInvariant().Split('_').Select(w => char.ToUpperInvariant(w[0]) + w.Substring(1)));
                Assert.True(Enum.IsDefined(typeof(AcsResult), pascal), "AcsResult." + pascal + " exists for ACS_RESULT_" + pair.Key);
                Assert.Equal(pair.Value, (ulong)(AcsResult)Enum.Parse(typeof(AcsResult), pascal), "AcsResult." + pascal);
            }
            Assert.Equal(values.Count, Enum.GetValues(typeof(AcsResult)).Length, "AcsResult has exactly the header's values");
            foreach (AcsLogLevel level in Enum.GetValues(typeof(AcsLogLevel)))
            {
                Match m = Regex.Match(code, @"\bACS_LOG_LEVEL_" + level.ToString().ToUpperInvariant() + @"\s*=\s*(\d+)");
                Assert.True(m.Success, "header has ACS_LOG_LEVEL_" + level.ToString().ToUpperInvariant());
                Assert.Equal(ulong.Parse(m.Groups[1].Value), (ulong)level, "AcsLogLevel." + level);
            }
            Match text = Regex.Match(code, @"ACS_MESSAGE_TYPE_HTML\s*=\s*(\d+)");
            Assert.True(text.Success && int.Parse(text.Groups[1].Value) == (int)ChatMessageType.Html, "ChatMessageType.Html matches the header");
        }

        // ---- the three operations ----

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

        // ---- async ----

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

        // ---- errors ----

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

        // ---- options ----

        private void OptionsDefaultsAndValidation()
        {
            ChatClientOptions o = new ChatClientOptions();
            Assert.Equal(null, o.ApiVersion, "ApiVersion default");
            Assert.Equal(TimeSpan.FromSeconds(30), o.Timeout, "Timeout default");
            Assert.Equal(TimeSpan.FromSeconds(10), o.ConnectTimeout, "ConnectTimeout default");
            Assert.Equal(3, o.MaxRetries, "MaxRetries default");
            Assert.Equal(TimeSpan.FromMilliseconds(800), o.RetryDelay, "RetryDelay default");
            Assert.Equal(TimeSpan.FromSeconds(60), o.MaxRetryDelay, "MaxRetryDelay default");
            Assert.Equal(null, o.CaFile, "CaFile default");
            Assert.Equal(null, o.ApplicationId, "ApplicationId default");
            Assert.True(!o.AllowInsecureHttp, "AllowInsecureHttp default");
            Assert.True(o.TokenRefresher == null, "TokenRefresher default");
            Assert.True(!o.ProactiveRefresh, "ProactiveRefresh default");
            Assert.Equal(TimeSpan.Zero, o.TotalTimeout, "TotalTimeout default (none)");
            Assert.Equal(100, o.MaxConnectionsPerOrigin, "MaxConnectionsPerOrigin default");

            Assert.Throws<ArgumentOutOfRangeException>(() => o.Timeout = TimeSpan.FromSeconds(-1), "negative Timeout");
            Assert.Throws<ArgumentOutOfRangeException>(() => o.Timeout = TimeSpan.FromDays(60), "Timeout over uint ms");
            Assert.Throws<ArgumentOutOfRangeException>(() => o.ConnectTimeout = TimeSpan.Zero, "zero ConnectTimeout");
            Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxRetries = -1, "negative MaxRetries");
            Assert.Throws<ArgumentOutOfRangeException>(() => o.RetryDelay = TimeSpan.FromMilliseconds(-5), "negative RetryDelay");
            Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxRetryDelay = TimeSpan.FromMilliseconds(-5), "negative MaxRetryDelay");
            Assert.Equal(TimeSpan.FromSeconds(30), o.Timeout, "a rejected value is not stored");
            o.Timeout = Timeout.InfiniteTimeSpan;
            Assert.Equal(Timeout.InfiniteTimeSpan, o.Timeout, "infinite Timeout is accepted");
            Assert.Throws<ArgumentOutOfRangeException>(() => o.TotalTimeout = TimeSpan.FromSeconds(-1), "negative TotalTimeout");
            Assert.Throws<ArgumentOutOfRangeException>(() => o.TotalTimeout = TimeSpan.FromDays(60), "TotalTimeout over uint ms");
            o.TotalTimeout = Timeout.InfiniteTimeSpan;
            Assert.Equal(Timeout.InfiniteTimeSpan, o.TotalTimeout, "infinite TotalTimeout is accepted");
            o.TotalTimeout = TimeSpan.FromSeconds(5);
            Assert.Equal(TimeSpan.FromSeconds(5), o.TotalTimeout, "TotalTimeout reads back");
            Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxConnectionsPerOrigin = 0, "zero MaxConnectionsPerOrigin");
            Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxConnectionsPerOrigin = -1, "negative MaxConnectionsPerOrigin");
            Assert.Equal(100, o.MaxConnectionsPerOrigin, "a rejected MaxConnectionsPerOrigin is not stored");
            o.MaxConnectionsPerOrigin = 65536;
            Assert.Equal(65536, o.MaxConnectionsPerOrigin, "MaxConnectionsPerOrigin reads back");

            string token = emulator.Token();
            ChatClientOptions tooMany = new ChatClientOptions();
            tooMany.MaxRetries = 11;
            ArgumentException e = Assert.Throws<ArgumentException>(() => new ChatClient(emulator.Url, token, tooMany).Dispose(), "MaxRetries 11");
            Assert.Equal(AcsResult.InvalidArgument, ((AcsChatException)e.InnerException).Result, "inner result");
            Assert.Equal("MaxRetries", e.ParamName, "ParamName names the option");

            ChatClientOptions tooManyConnections = new ChatClientOptions();
            tooManyConnections.MaxConnectionsPerOrigin = 65537;
            e = Assert.Throws<ArgumentException>(() => new ChatClient(emulator.Url, token, tooManyConnections).Dispose(), "MaxConnectionsPerOrigin 65537");
            Assert.Equal("MaxConnectionsPerOrigin", e.ParamName, "ParamName names MaxConnectionsPerOrigin");
            using (ChatClient accepted = new ChatClient(emulator.Url, token, o))
            {
                Assert.Equal(emulator.Url, accepted.Endpoint, "TotalTimeout and MaxConnectionsPerOrigin accepted by the library");
            }

            ChatClientOptions inverted = new ChatClientOptions();
            inverted.RetryDelay = TimeSpan.FromSeconds(2);
            inverted.MaxRetryDelay = TimeSpan.FromSeconds(1);
            Assert.Throws<ArgumentException>(() => new ChatClient(emulator.Url, token, inverted).Dispose(), "RetryDelay above MaxRetryDelay");

            ChatClientOptions missingCa = new ChatClientOptions();
            missingCa.CaFile = "/nonexistent/ca-" + Guid.NewGuid().ToString("N") + ".pem";
            Assert.Throws<ArgumentException>(() => new ChatClient(emulator.Url, token, missingCa).Dispose(), "unreadable CaFile");

            ChatClientOptions nul = new ChatClientOptions();
            nul.ApplicationId = "bad\0id";
            Assert.Throws<ArgumentException>(() => new ChatClient(emulator.Url, token, nul).Dispose(), "NUL in ApplicationId");
        }

        private void OptionsApiVersionAndApplicationId()
        {
            string threadId = NewThread("apiversion");
            ChatClientOptions options = new ChatClientOptions();
            options.ApiVersion = "2024-03-07";
            options.ApplicationId = "csharp-tests";
            Assert.Equal("2024-03-07", options.ApiVersion, "ApiVersion reads back");
            Assert.Equal("csharp-tests", options.ApplicationId, "ApplicationId reads back");
            using (ChatClient client = NewClient(options))
            {
                options.ApiVersion = "2021-03-07";
                client.GetChatThreadClient(threadId).SendTypingNotification();
            }
            Dictionary<string, object> request = emulator.Requests(threadId).Single();
            Assert.Equal("2024-03-07", Json.Str(request, "apiVersion"), "api-version from the options at creation");
            Assert.True((Json.Str(request, "userAgent") ?? "").Contains("csharp-tests"), "User-Agent carries the application id: " + Json.Str(request, "userAgent"));
        }

        private void OptionsTimeoutsAccepted()
        {
            string threadId = NewThread("timeouts");
            ChatClientOptions options = new ChatClientOptions();
            options.ConnectTimeout = TimeSpan.FromMilliseconds(1500);
            options.Timeout = TimeSpan.Zero;
            options.MaxRetryDelay = TimeSpan.FromSeconds(2);
            Assert.Equal(TimeSpan.FromMilliseconds(1500), options.ConnectTimeout, "ConnectTimeout reads back");
            Assert.Equal(TimeSpan.Zero, options.Timeout, "Timeout zero reads back");
            emulator.Fault(threadId, "messages", delayMs: 800);
            using (ChatClient client = NewClient(options))
            {
                Assert.NotEmpty(client.GetChatThreadClient(threadId).SendMessage("no per-try limit").Id, "a slow answer within no per-try limit");
            }
            ChatClientOptions infinite = new ChatClientOptions();
            infinite.Timeout = Timeout.InfiniteTimeSpan;
            using (ChatClient client = NewClient(infinite))
            {
                client.GetChatThreadClient(threadId).SendTypingNotification();
            }
            Assert.Equal(2, emulator.Events(threadId).Count, "both calls stored");
        }

        private void OptionsCaFile()
        {
            string dir = Environment.GetEnvironmentVariable("ACS_TEST_TLS_DIR");
            Assert.True(!string.IsNullOrEmpty(dir) && File.Exists(Path.Combine(dir, "ca.pem")),
                "ACS_TEST_TLS_DIR holds ca.pem, server.pem, server.key (run_tests.sh makes them)");
            string binary = Environment.GetEnvironmentVariable("ACS_EMULATOR_BIN");
            if (string.IsNullOrEmpty(binary))
            {
                binary = Path.Combine(root, "target/debug/acs-chat-emulator");
            }
            using (Emulator tls = Emulator.Start(binary, "--tls-cert " + Path.Combine(dir, "server.pem") + " --tls-key " + Path.Combine(dir, "server.key")))
            {
                Assert.True(tls.Url.StartsWith("https://", StringComparison.Ordinal), "TLS emulator URL: " + tls.Url);
                string threadId = NewThread("tls");
                string token = emulator.Token();
                ChatClientOptions untrusted = FastRetries(0);
                using (ChatClient client = new ChatClient(tls.Url, token, untrusted))
                {
                    Assert.Fails(AcsResult.Connect, () => client.GetChatThreadClient(threadId).SendMessage("x"), "unknown CA is a connect failure");
                }
                ChatClientOptions trusted = FastRetries(0);
                trusted.CaFile = Path.Combine(dir, "ca.pem");
                Assert.Equal(Path.Combine(dir, "ca.pem"), trusted.CaFile, "CaFile reads back");
                using (ChatClient client = new ChatClient(tls.Url, token, trusted))
                {
                    string id = client.GetChatThreadClient(threadId).SendMessage("over TLS").Id;
                    Assert.NotEmpty(id, "message id over TLS");
                }
            }
        }

        // ---- token refresher ----

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

        // ---- lifetime ----

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

        // ---- arguments ----

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

        // ---- logging and exception surface ----

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
