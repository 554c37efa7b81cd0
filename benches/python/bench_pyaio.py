"""Fan-out from asyncio: N concurrent awaited send_message calls on one client, the acs_chat.aio
binding next to the official azure.communication.chat.aio (azure-core's aiohttp transport),
against an emulator that answers every call LATENCY ms after it arrived.

    bench_pyaio.py --url URL --token TOKEN [--counts 1000:3,10000:1] [--latency-ms 50]
                   [--impls acs_chat,official]

``--counts`` lists N[:rounds]. Each (N, implementation) pair gets a client of its own allowing N
connections (acs_chat.aio ``max_connections=N``; the official SDK an aiohttp ``TCPConnector`` with
``limit=N``, its default being 100), one warm-up send, then its rounds (alternating which
implementation goes first when both run in one process; benches/run.sh runs one implementation
per process so that thread counts are each one's own, and only the named one is imported). The
first round of each is cold (its connections are opened during the burst). A round is ``asyncio.gather`` over N coroutines each awaiting one send; wall time runs
from the gather's start to its end. Threads (``threading.active_count`` and /proc/self/status
``Threads``) are read before, sampled every 5 ms during, and after. Prints ``RESULT {json}`` lines
(section "pyaio")."""

import argparse
import asyncio
import json
import math
import os
import resource
import sys
import threading
import time
import urllib.request

CONTENT = "Hello from the acs_chat benchmark"


def proc_status(field):
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def percentile(sorted_ns, p):
    if not sorted_ns:
        return 0.0
    rank = max(1, min(len(sorted_ns), math.ceil(p / 100.0 * len(sorted_ns))))
    return sorted_ns[rank - 1] / 1000.0


def control(url, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method="GET" if data is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"{}")


def server_view(url, thread_id):
    enc = urllib.request.quote(thread_id, safe="")
    reqs = control(url, f"/_emulator/threads/{enc}/requests")["requests"]
    if not reqs:
        return {"server_requests": 0}
    at = [r["atMs"] for r in reqs]
    return {
        "server_requests": len(reqs),
        "server_201": sum(1 for r in reqs if r["status"] == 201),
        "server_connections": len({r["connection"] for r in reqs}),
        "server_http_versions": sorted({r["httpVersion"] for r in reqs}),
        "server_arrival_spread_ms": round(max(at) - min(at), 2),
    }


class Ours:
    name = "acs_chat"

    def __init__(self, url, token, n):
        from acs_chat import aio

        try:
            self.client = aio.ChatClient(url, token, max_connections=n, total_timeout=60.0)
        except TypeError:  # an aio binding without these keywords
            self.client = aio.ChatClient(url, token)

    async def __aenter__(self):
        await self.client.__aenter__()
        return self

    async def __aexit__(self, *exc):
        await self.client.__aexit__(*exc)

    def thread(self, thread_id):
        t = self.client.get_chat_thread_client(thread_id)
        return lambda: t.send_message(CONTENT)


class Official:
    name = "official"

    def __init__(self, url, token, n):
        self.url, self.token, self.n = url, token, n

    async def __aenter__(self):
        import aiohttp
        from azure.communication.chat.aio import CommunicationTokenCredential
        from azure.core.pipeline.transport import AioHttpTransport

        self.session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self.n))
        self.transport = AioHttpTransport(session=self.session, session_owner=False)
        self.credential = CommunicationTokenCredential(self.token)
        self.clients = []
        return self

    async def __aexit__(self, *exc):
        for c in self.clients:
            await c.close()
        await self.session.close()

    def thread(self, thread_id):
        from azure.communication.chat.aio import ChatThreadClient

        c = ChatThreadClient(self.url, self.credential, thread_id, transport=self.transport)
        self.clients.append(c)
        # Bearer tokens over plain http need this per call in azure-core's policy.
        per_call = {} if self.url.startswith("https:") else {"enforce_https": False}
        return lambda: c.send_message(CONTENT, **per_call)


class Sleep:
    """Reference: no client at all, each call is ``await asyncio.sleep(latency)``. What asyncio
    itself can do with N tasks and N timers (gather, tasks, timers), with no I/O and no thread."""

    name = "asyncio.sleep"

    def __init__(self, url, token, n):
        self.delay = 0.05

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        pass

    def thread(self, thread_id):
        class Result:
            id = "reference"

        async def send():
            await asyncio.sleep(self.delay)
            return Result

        return send


async def sampler(stop, peaks):
    while not stop.is_set():
        peaks["os"] = max(peaks["os"], proc_status("Threads"))
        peaks["py"] = max(peaks["py"], threading.active_count())
        peaks["rss"] = max(peaks["rss"], proc_status("VmRSS"))
        try:
            await asyncio.wait_for(stop.wait(), 0.005)
        except asyncio.TimeoutError:
            pass


async def one_round(url, impl, n, rnd, phase, latency_ms, seq):
    thread_id = f"19:pyaio-{impl.name}-{n}-{seq}@thread.v2"
    control(url, "/_emulator/reset", {})
    send = impl.thread(thread_id)
    lat = [0] * n
    clock = time.perf_counter_ns

    async def timed(i):
        t0 = clock()
        try:
            r = await send()
            return bool(getattr(r, "id", None))
        finally:
            lat[i] = clock() - t0

    before = {"os": proc_status("Threads"), "py": threading.active_count(), "rss": proc_status("VmRSS")}
    peaks = dict(before)
    stop = asyncio.Event()
    samp = asyncio.ensure_future(sampler(stop, peaks))
    await asyncio.sleep(0)
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = time.process_time_ns()
    start = clock()
    results = await asyncio.gather(*(timed(i) for i in range(n)), return_exceptions=True)
    wall = clock() - start
    cpu = time.process_time_ns() - cpu0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    csw = (ru1.ru_nvcsw - ru0.ru_nvcsw) + (ru1.ru_nivcsw - ru0.ru_nivcsw)
    stop.set()
    await samp
    after = {"os": proc_status("Threads"), "py": threading.active_count(), "rss": proc_status("VmRSS")}
    ok = sum(1 for r in results if r is True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        print(f"bench: {impl.name} N={n}: {len(errors)} failed, first: {errors[0]!r}", file=sys.stderr)
    lat.sort()
    rec = {
        "section": "pyaio", "case": f"N={n}", "impl": impl.name, "round": rnd, "phase": phase,
        "n": n, "calls": n, "latency_ms": latency_ms, "ok": ok, "failed": len(errors),
        "wall_ms": round(wall / 1e6, 2),
        "calls_per_s": round(n * 1e9 / wall, 1),
        "p50_us": round(percentile(lat, 50), 2), "p99_us": round(percentile(lat, 99), 2),
        "cpu_us_per_call": round(cpu / n / 1000.0, 2),
        "csw_per_call": round(csw / n, 2),
        "threads_os_before": before["os"], "threads_os_peak": peaks["os"], "threads_os_after": after["os"],
        "threads_py_before": before["py"], "threads_py_peak": peaks["py"], "threads_py_after": after["py"],
        "rss_kb_before": before["rss"], "rss_kb_peak": peaks["rss"], "rss_kb_after": after["rss"],
    }
    if not isinstance(impl, Sleep):
        rec.update(server_view(url, thread_id))
    if phase != "warmup":
        print("RESULT " + json.dumps(rec), flush=True)
    print(f"{impl.name:8} N={n} {phase} round {rnd}: {wall / 1e6:.0f} ms, {rec['calls_per_s']:.0f} calls/s, "
          f"ok {ok}/{n}, OS threads {before['os']}->{peaks['os']}->{after['os']}, "
          f"{rec.get('server_connections')} connections", file=sys.stderr, flush=True)
    return ok == n


async def main_async(args):
    impls = {"acs_chat": Ours, "official": Official, "asyncio.sleep": Sleep}
    names = args.impls.split(",")
    failures = 0
    seq = 0
    control(args.url, "/_emulator/latency", {"ms": args.latency_ms})
    print("RESULT " + json.dumps({"section": "pyaio", "case": "process", "impl": "process", "round": 0,
                                  "threads_os_start": proc_status("Threads"),
                                  "threads_py_start": threading.active_count()}), flush=True)
    for spec in args.counts.split(","):
        n, _, r = spec.partition(":")
        n, rounds = int(n), int(r or 1)
        opened = {}
        try:
            for name in names:
                impl = impls[name](args.url, args.token, n)
                if isinstance(impl, Sleep):
                    impl.delay = args.latency_ms / 1000.0
                opened[name] = await impl.__aenter__()
                # Warm-up: the client's first call (imports, runtime, one connection).
                seq += 1
                ok = await one_round(args.url, opened[name], 1, 0, "warmup", args.latency_ms, seq)
                failures += not ok
            for rnd in range(1, rounds + 1):
                order = names if rnd % 2 == 1 else list(reversed(names))
                for name in order:
                    seq += 1
                    ok = await one_round(args.url, opened[name], n, rnd, "cold" if rnd == 1 else "warm",
                                         args.latency_ms, seq)
                    failures += not ok
        finally:
            for impl in opened.values():
                await impl.__aexit__(None, None, None)
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--counts", default="1000:3,10000:1")
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--impls", default="acs_chat,official",
                    help="comma-separated: acs_chat, official, asyncio.sleep (reference: the event loop alone)")
    args = ap.parse_args()
    failures = asyncio.run(main_async(args))
    if failures:
        sys.exit(f"bench: {failures} rounds had failed calls")


if __name__ == "__main__":
    main()
