// Fan-out from C# on Mono: N concurrent sends on one client, awaited together with Task.WhenAll,
// against an emulator that answers every call LATENCY ms after it arrived.
//
//   mono BenchFanout.exe --url URL --token TOKEN --mode async|taskrun [--calls 1000]
//                        [--rounds 3] [--latency-ms 50]
//
// async:   thread.SendMessageAsync(content)            (the library's asynchronous calls)
// taskrun: Task.Run(() => thread.SendMessage(content))  (the binding's former async methods:
//          a thread-pool thread blocks in the synchronous call)
//
// One mode per process, so its thread counts are its own. The client allows N connections
// (MaxConnectionsPerOrigin = N). One warm-up call, then ROUNDS rounds; the first is cold (the
// connections beyond the first are opened during it). Wall time runs from the first send
// started to Task.WhenAll done. Threads are the process's OS threads (/proc/self/status), read
// before, sampled every 5 ms during (by one dedicated sampler thread, counted in every figure),
// and after. Prints RESULT {json} lines (section "csasync").
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using AcsChat;

internal static class BenchFanout
{
    private const string Content = "Hello from the acs_chat benchmark";

    private static long ProcStatus(string field)
    {
        foreach (string line in File.ReadAllLines("/proc/self/status"))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
            {
                string[] parts = line.Substring(field.Length + 1).Trim().Split(' ');
                return long.Parse(parts[0], CultureInfo.InvariantCulture);
            }
        }
        return -1;
    }

    private static string Control(string url, string path, string body)
    {
        HttpWebRequest req = (HttpWebRequest)WebRequest.Create(url + path);
        req.Method = body == null ? "GET" : "POST";
        if (body != null)
        {
            byte[] b = Encoding.UTF8.GetBytes(body);
            req.ContentType = "application/json";
            req.ContentLength = b.Length;
            using (Stream s = req.GetRequestStream())
            {
                s.Write(b, 0, b.Length);
            }
        }
        using (HttpWebResponse resp = (HttpWebResponse)req.GetResponse())
        using (StreamReader r = new StreamReader(resp.GetResponseStream()))
        {
            return r.ReadToEnd();
        }
    }

    private static int CountDistinctConnections(string json, out int requests)
    {
        HashSet<string> seen = new HashSet<string>();
        requests = 0;
        int i = 0;
        const string Key = "\"connection\":";
        while ((i = json.IndexOf(Key, i, StringComparison.Ordinal)) >= 0)
        {
            i += Key.Length;
            int j = i;
            while (j < json.Length && char.IsDigit(json[j]))
            {
                j++;
            }
            seen.Add(json.Substring(i, j - i));
            requests++;
        }
        return seen.Count;
    }

    private static double Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 0)
        {
            return 0;
        }
        int rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        rank = Math.Max(1, Math.Min(sorted.Length, rank));
        return sorted[rank - 1];
    }

    private static int Main(string[] args)
    {
        string url = null, token = null, mode = "async";
        int calls = 1000, rounds = 3, latencyMs = 50;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--url": url = args[i + 1]; break;
                case "--token": token = args[i + 1]; break;
                case "--mode": mode = args[i + 1]; break;
                case "--calls": calls = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--rounds": rounds = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--latency-ms": latencyMs = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                default: Console.Error.WriteLine("unknown argument " + args[i]); return 2;
            }
        }
        if (url == null || token == null || (mode != "async" && mode != "taskrun"))
        {
            Console.Error.WriteLine("usage: BenchFanout --url URL --token TOKEN --mode async|taskrun ...");
            return 2;
        }
        long threadsStart = ProcStatus("Threads");
        int minWorker, minIo, maxWorker, maxIo;
        ThreadPool.GetMinThreads(out minWorker, out minIo);
        ThreadPool.GetMaxThreads(out maxWorker, out maxIo);
        Control(url, "/_emulator/latency", "{\"ms\":" + latencyMs + "}");

        ChatClientOptions options = new ChatClientOptions();
        options.MaxConnectionsPerOrigin = calls;
        options.TotalTimeout = TimeSpan.FromSeconds(120);
        int failures = 0;
        using (ChatClient client = new ChatClient(url, token, options))
        {
            ChatThreadClient warm = client.GetChatThreadClient("19:csasync-warmup@thread.v2");
            warm.SendMessage(Content);
            warm.SendMessageAsync(Content).Wait();
            long threadsWarm = ProcStatus("Threads");
            Console.WriteLine("RESULT {\"section\":\"csasync\",\"case\":\"process\",\"impl\":\"" + mode +
                "\",\"round\":0,\"threads_process_start\":" + threadsStart + ",\"threads_after_warmup\":" + threadsWarm +
                ",\"threadpool_min_worker\":" + minWorker + ",\"threadpool_max_worker\":" + maxWorker +
                ",\"processor_count\":" + Environment.ProcessorCount + ",\"runtime\":\"" +
                (Type.GetType("Mono.Runtime") != null ? "mono" : ".net") + "\"}");

            for (int round = 1; round <= rounds; round++)
            {
                string threadId = "19:csasync-" + mode + "-" + calls + "-" + round + "@thread.v2";
                Control(url, "/_emulator/reset", "");
                ChatThreadClient thread = client.GetChatThreadClient(threadId);
                double[] latency = new double[calls];
                Task<SendChatMessageResult>[] tasks = new Task<SendChatMessageResult>[calls];
                long before = ProcStatus("Threads"), rssBefore = ProcStatus("VmRSS");
                long peak = before, rssPeak = rssBefore;
                volatile_stop = false;
                Thread sampler = new Thread(() =>
                {
                    while (!volatile_stop)
                    {
                        long t = ProcStatus("Threads"), r = ProcStatus("VmRSS");
                        if (t > Interlocked.Read(ref peak)) Interlocked.Exchange(ref peak, t);
                        if (r > Interlocked.Read(ref rssPeak)) Interlocked.Exchange(ref rssPeak, r);
                        Thread.Sleep(5);
                    }
                });
                sampler.IsBackground = true;
                sampler.Start();
                // The sampler is running before the burst: count it in "before" too.
                before = ProcStatus("Threads");
                peak = before;
                TimeSpan cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                Stopwatch wall = Stopwatch.StartNew();
                for (int i = 0; i < calls; i++)
                {
                    int k = i;
                    long t0 = Stopwatch.GetTimestamp();
                    Task<SendChatMessageResult> t = mode == "async"
                        ? thread.SendMessageAsync(Content)
                        : Task.Run(() => thread.SendMessage(Content));
                    tasks[k] = t.ContinueWith(done =>
                    {
                        latency[k] = (Stopwatch.GetTimestamp() - t0) * 1e6 / Stopwatch.Frequency;
                        return done.Result;
                    }, TaskContinuationOptions.ExecuteSynchronously);
                }
                double submitMs = wall.Elapsed.TotalMilliseconds;
                int ok = 0, failed = 0;
                string firstError = null;
                try
                {
                    Task.WhenAll(tasks).Wait();
                }
                catch (AggregateException)
                {
                }
                double wallMs = wall.Elapsed.TotalMilliseconds;
                TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
                volatile_stop = true;
                sampler.Join();
                long after = ProcStatus("Threads"), rssAfter = ProcStatus("VmRSS");
                foreach (Task<SendChatMessageResult> t in tasks)
                {
                    if (t.Status == TaskStatus.RanToCompletion && !string.IsNullOrEmpty(t.Result.Id))
                    {
                        ok++;
                    }
                    else
                    {
                        failed++;
                        if (firstError == null && t.Exception != null)
                        {
                            firstError = t.Exception.GetBaseException().Message;
                        }
                    }
                }
                Array.Sort(latency);
                int requests;
                int connections = CountDistinctConnections(
                    Control(url, "/_emulator/threads/" + Uri.EscapeDataString(threadId) + "/requests", null), out requests);
                string rec = string.Format(CultureInfo.InvariantCulture,
                    "{{\"section\":\"csasync\",\"case\":\"N={0}\",\"impl\":\"{1}\",\"round\":{2},\"phase\":\"{3}\"," +
                    "\"n\":{0},\"calls\":{0},\"latency_ms\":{4},\"ok\":{5},\"failed\":{6},\"wall_ms\":{7:F2}," +
                    "\"submit_ms\":{8:F2},\"calls_per_s\":{9:F1},\"p50_us\":{10:F1},\"p99_us\":{11:F1}," +
                    "\"cpu_us_per_call\":{12:F2},\"threads_before\":{13},\"threads_peak\":{14},\"threads_after\":{15}," +
                    "\"rss_kb_before\":{16},\"rss_kb_peak\":{17},\"rss_kb_after\":{18},\"server_requests\":{19}," +
                    "\"server_connections\":{20}}}",
                    calls, mode, round, round == 1 ? "cold" : "warm", latencyMs, ok, failed, wallMs, submitMs,
                    calls * 1000.0 / wallMs, Percentile(latency, 50), Percentile(latency, 99),
                    cpu.TotalMilliseconds * 1000.0 / calls, before, Interlocked.Read(ref peak), after,
                    rssBefore, Interlocked.Read(ref rssPeak), rssAfter, requests, connections);
                Console.WriteLine("RESULT " + rec);
                Console.Error.WriteLine(string.Format(CultureInfo.InvariantCulture,
                    "{0,-8} N={1} round {2}: {3:F0} ms, {4:F0} calls/s, ok {5}/{1}, threads {6}->{7}->{8}, {9} connections{10}",
                    mode, calls, round, wallMs, calls * 1000.0 / wallMs, ok, before, Interlocked.Read(ref peak), after,
                    connections, firstError == null ? "" : ", first error: " + firstError));
                if (ok != calls)
                {
                    failures++;
                }
            }
        }
        return failures == 0 ? 0 : 1;
    }

    private static volatile bool volatile_stop;
}
