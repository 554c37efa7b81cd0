"""Per-call latency of the three operations from Python: the acs_chat binding
next to the official azure-communication-chat SDK, in alternating rounds.

    bench_py.py --url URL --token TOKEN [--ca FILE] [--label http] [--iters N]
                [--warmup N] [--rounds N] [--ops send_message,typing,read_receipt]

Prints ``RESULT {json}`` lines like the C benchmarks."""

import argparse
import json
import math
import ssl
import sys
import time
import urllib.request

from acs_chat import ChatClient as OurClient
from azure.communication.chat import ChatThreadClient as OfficialThreadClient
from azure.communication.chat import CommunicationTokenCredential

THREAD_ID = "19:bench-py@thread.v2"
CONTENT = "Hello from the acs_chat benchmark"


def percentile(sorted_ns, p):
    rank = max(1, min(len(sorted_ns), math.ceil(p / 100.0 * len(sorted_ns))))
    return sorted_ns[rank - 1] / 1000.0


def emit(case, impl, rnd, lat, wall_ns, cpu_ns):
    lat.sort()
    n = len(lat)
    rec = {
        "section": "python",
        "case": case,
        "impl": impl,
        "round": rnd,
        "n": n,
        "p50_us": round(percentile(lat, 50), 2),
        "p99_us": round(percentile(lat, 99), 2),
        "mean_us": round(sum(lat) / n / 1000.0, 2),
        "min_us": round(lat[0] / 1000.0, 2),
        "max_us": round(lat[-1] / 1000.0, 2),
        "calls_per_s": round(n * 1e9 / wall_ns, 1),
        "cpu_us_per_call": round(cpu_ns / n / 1000.0, 2),
    }
    print("RESULT " + json.dumps(rec), flush=True)


def reset(url, ctx):
    req = urllib.request.Request(url + "/_emulator/reset", data=b"", method="POST")
    urllib.request.urlopen(req, context=ctx).read()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--ca")
    ap.add_argument("--label", default="http")
    ap.add_argument("--iters", type=int, default=5000)
    ap.add_argument("--warmup", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--ops", default="send_message,typing,read_receipt")
    args = ap.parse_args()

    https = args.url.startswith("https:")
    ctx = ssl.create_default_context(cafile=args.ca) if https else None
    ours = OurClient(args.url, args.token, ca_file=args.ca).get_chat_thread_client(THREAD_ID)
    official_kwargs = {"connection_verify": args.ca} if (https and args.ca) else {}
    official = OfficialThreadClient(
        args.url, CommunicationTokenCredential(args.token), THREAD_ID, **official_kwargs
    )
    # Bearer tokens over plain http need this per call in azure-core's policy.
    per_call = {} if https else {"enforce_https": False}

    ours_id = ours.send_message(CONTENT).id
    official_id = official.send_message(CONTENT, **per_call).id
    if not ours_id or not official_id:
        sys.exit("bench: a warm-up send returned no id")

    calls = {
        "send_message": (
            lambda: ours.send_message(CONTENT),
            lambda: official.send_message(CONTENT, **per_call),
        ),
        "typing": (
            lambda: ours.send_typing_notification(),
            lambda: official.send_typing_notification(**per_call),
        ),
        "read_receipt": (
            lambda: ours.send_read_receipt(ours_id),
            lambda: official.send_read_receipt(official_id, **per_call),
        ),
    }
    clock = time.perf_counter_ns
    for op in args.ops.split(","):
        ours_call, official_call = calls[op]
        for rnd in range(1, args.rounds + 1):
            reset(args.url, ctx)
            # Read receipts need a message that exists after the reset.
            ours_id = ours.send_message(CONTENT).id
            official_id = official.send_message(CONTENT, **per_call).id
            order = [("acs_chat", ours_call), ("official", official_call)]
            if rnd % 2 == 0:
                order.reverse()
            for impl, call in order:
                for _ in range(args.warmup):
                    call()
                lat = [0] * args.iters
                cpu_start = time.process_time_ns()
                start = clock()
                for i in range(args.iters):
                    t0 = clock()
                    call()
                    lat[i] = clock() - t0
                wall = clock() - start
                cpu = time.process_time_ns() - cpu_start
                emit(f"{args.label} {op}", impl, rnd, lat, wall, cpu)


if __name__ == "__main__":
    main()
