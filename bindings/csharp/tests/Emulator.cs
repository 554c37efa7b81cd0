using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace AcsChat.Tests
{
    /// <summary>A running acs-chat-emulator process and its control API.</summary>
    internal sealed class Emulator : IDisposable
    {
        private readonly Process process;

        private Emulator(Process process, string url)
        {
            this.process = process;
            Url = url;
        }

        /// <summary>Base URL, such as http://127.0.0.1:41234.</summary>
        internal string Url { get; }

        internal static Emulator Start(string binary, string extraArgs)
        {
            ProcessStartInfo info = new ProcessStartInfo(binary, "--listen 127.0.0.1:0 " + (extraArgs ?? ""));
            info.UseShellExecute = false;
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
            info.RedirectStandardInput = false;
            Process process = Process.Start(info);
            StringBuilder errors = new StringBuilder();
            Thread errorPump = new Thread(() =>
            {
                string line;
                while ((line = process.StandardError.ReadLine()) != null)
                {
                    lock (errors)
                    {
                        errors.AppendLine(line);
                    }
                }
            });
            errorPump.IsBackground = true;
            errorPump.Start();
            Task<string> first = Task.Run(() => process.StandardOutput.ReadLine());
            if (!first.Wait(TimeSpan.FromSeconds(30)) || first.Result == null)
            {
                try { process.Kill(); } catch (InvalidOperationException) { }
                string err;
                lock (errors) { err = errors.ToString(); }
                throw new InvalidOperationException("The emulator did not announce its address. stderr: " + err);
            }
            const string prefix = "listening on ";
            string announced = first.Result.Trim();
            if (!announced.StartsWith(prefix, StringComparison.Ordinal))
            {
                try { process.Kill(); } catch (InvalidOperationException) { }
                throw new InvalidOperationException("Unexpected first line from the emulator: " + announced);
            }
            Thread outputPump = new Thread(() =>
            {
                while (process.StandardOutput.ReadLine() != null)
                {
                }
            });
            outputPump.IsBackground = true;
            outputPump.Start();
            return new Emulator(process, announced.Substring(prefix.Length).TrimEnd('/'));
        }

        public void Dispose()
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    process.WaitForExit(10000);
                }
            }
            catch (InvalidOperationException)
            {
            }
            process.Dispose();
        }

        /// <summary>Mints a token for <paramref name="user"/> (or a fresh user) valid for <paramref name="expiresIn"/> seconds.</summary>
        internal string Token(string user = null, int expiresIn = 3600)
        {
            return Mint(user, expiresIn).Token;
        }

        /// <summary>Mints a token; also returns the user id the emulator records for it.</summary>
        internal MintedToken Mint(string user = null, int expiresIn = 3600)
        {
            string query = "?expires_in=" + expiresIn.ToString(CultureInfo.InvariantCulture);
            if (user != null)
            {
                query += "&user=" + Uri.EscapeDataString(user);
            }
            Dictionary<string, object> answer = Json.Obj(Json.Parse(Request("GET", "/_emulator/token" + query, null)));
            string token = Json.Str(answer, "token");
            if (string.IsNullOrEmpty(token))
            {
                throw new InvalidOperationException("The emulator returned no token");
            }
            return new MintedToken(token, Json.Str(answer, "user"));
        }

        internal List<Dictionary<string, object>> Events(string threadId)
        {
            return List("/_emulator/threads/" + Uri.EscapeDataString(threadId) + "/events", "events");
        }

        internal List<Dictionary<string, object>> Requests(string threadId)
        {
            return List("/_emulator/threads/" + Uri.EscapeDataString(threadId) + "/requests", "requests");
        }

        /// <summary>Scripts the next <paramref name="count"/> calls of <paramref name="op"/> on the thread.</summary>
        internal void Fault(string threadId, string op, int status = 0, int count = 1, IDictionary<string, string> headers = null,
            string body = null, int delayMs = 0, string action = "respond")
        {
            StringBuilder sb = new StringBuilder("{");
            sb.Append("\"threadId\":").Append(Json.Quote(threadId));
            sb.Append(",\"op\":").Append(Json.Quote(op));
            sb.Append(",\"count\":").Append(count.ToString(CultureInfo.InvariantCulture));
            if (status != 0)
            {
                sb.Append(",\"status\":").Append(status.ToString(CultureInfo.InvariantCulture));
            }
            if (headers != null)
            {
                sb.Append(",\"headers\":{");
                bool first = true;
                foreach (KeyValuePair<string, string> pair in headers)
                {
                    if (!first)
                    {
                        sb.Append(',');
                    }
                    first = false;
                    sb.Append(Json.Quote(pair.Key)).Append(':').Append(Json.Quote(pair.Value));
                }
                sb.Append('}');
            }
            sb.Append(",\"body\":").Append(body == null ? "null" : Json.Quote(body));
            sb.Append(",\"delayMs\":").Append(delayMs.ToString(CultureInfo.InvariantCulture));
            sb.Append(",\"action\":").Append(Json.Quote(action));
            sb.Append('}');
            Request("POST", "/_emulator/faults", sb.ToString());
        }

        /// <summary>Sets the service latency: every service call is stored on arrival and answered <paramref name="ms"/> later.</summary>
        internal void Latency(int ms)
        {
            Request("POST", "/_emulator/latency", "{\"ms\":" + ms.ToString(CultureInfo.InvariantCulture) + "}");
        }

        internal void Limits(bool enabled)
        {
            Request("POST", "/_emulator/limits", enabled ? "{\"enabled\":true}" : "{\"enabled\":false}");
        }

        /// <summary>Polls the thread's events until <paramref name="done"/> holds or <paramref name="timeout"/> passes.</summary>
        internal List<Dictionary<string, object>> WaitForEvents(string threadId, Func<List<Dictionary<string, object>>, bool> done, TimeSpan timeout)
        {
            Stopwatch watch = Stopwatch.StartNew();
            while (true)
            {
                List<Dictionary<string, object>> events = Events(threadId);
                if (done(events) || watch.Elapsed > timeout)
                {
                    return events;
                }
                Thread.Sleep(50);
            }
        }

        private List<Dictionary<string, object>> List(string path, string key)
        {
            Dictionary<string, object> answer = Json.Obj(Json.Parse(Request("GET", path, null)));
            List<Dictionary<string, object>> items = new List<Dictionary<string, object>>();
            foreach (object item in Json.Arr(Json.Get(answer, key)))
            {
                items.Add(Json.Obj(item));
            }
            return items;
        }

        internal string Request(string method, string path, string body)
        {
            HttpWebRequest request = (HttpWebRequest)WebRequest.Create(Url + path);
            request.Method = method;
            request.Timeout = 30000;
            request.Proxy = null;
            request.KeepAlive = false;
            if (body != null)
            {
                byte[] bytes = Encoding.UTF8.GetBytes(body);
                request.ContentType = "application/json";
                request.ContentLength = bytes.Length;
                using (Stream stream = request.GetRequestStream())
                {
                    stream.Write(bytes, 0, bytes.Length);
                }
            }
            try
            {
                using (HttpWebResponse response = (HttpWebResponse)request.GetResponse())
                using (StreamReader reader = new StreamReader(response.GetResponseStream(), Encoding.UTF8))
                {
                    return reader.ReadToEnd();
                }
            }
            catch (WebException e)
            {
                string detail = "";
                HttpWebResponse response = e.Response as HttpWebResponse;
                if (response != null)
                {
                    using (StreamReader reader = new StreamReader(response.GetResponseStream(), Encoding.UTF8))
                    {
                        detail = " " + (int)response.StatusCode + ": " + reader.ReadToEnd();
                    }
                }
                throw new InvalidOperationException("Emulator control call " + method + " " + path + " failed:" + detail + " " + e.Message, e);
            }
        }
    }

    internal sealed class MintedToken
    {
        internal MintedToken(string token, string user)
        {
            Token = token;
            User = user;
        }

        internal string Token { get; }

        internal string User { get; }
    }
}
