using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;

namespace AcsChat.Tests
{
    /// <summary><see cref="ChatClientOptions"/>: defaults, validation and their effect on the wire.</summary>
    internal sealed class OptionsTests : EmulatorTests
    {
        [Test("options_defaults_and_validation")]
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

        [Test("options_api_version_application_id")]
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

        [Test("options_timeouts_accepted")]
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

        [Test("options_ca_file_tls")]
        private void OptionsCaFile()
        {
            string dir = Environment.GetEnvironmentVariable("ACS_TEST_TLS_DIR");
            Assert.True(!string.IsNullOrEmpty(dir) && File.Exists(Path.Combine(dir, "ca.pem")),
                "ACS_TEST_TLS_DIR holds ca.pem, server.pem, server.key (run_tests.sh makes them)");
            using (Emulator tls = Emulator.Start(Program.EmulatorBin, "--tls-cert " + Path.Combine(dir, "server.pem") + " --tls-key " + Path.Combine(dir, "server.key")))
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
    }
}
