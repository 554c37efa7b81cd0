"""What the Python binding itself costs: the three blocking sends against a stub library that
answers at once (benches/python/stub_sends.c), next to the same C functions called through
ctypes with nothing around them; and the time ``import acs_chat`` takes in a fresh interpreter.

    bench_binding.py --stub STUB_SO --library LIBACS_CHAT_SO [--iters N] [--rounds N]
                     [--import-runs N]

The package is imported from ``sys.path`` (``PYTHONPATH``), so the same program measures any
checkout of the binding. Prints ``RESULT {json}`` lines like the other benchmarks."""

import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

THREAD_ID = "19:bench-binding@thread.v2"
CONTENT = "Hello from the acs_chat benchmark"
TOKEN = "stub.token.unchecked"
IMPORT_CODE = "import time; t = time.perf_counter_ns(); import acs_chat; print(time.perf_counter_ns() - t)"


def emit(**record):
    print("RESULT " + json.dumps(dict(section="pybinding", **record)), flush=True)


def per_call_us(call, iters):
    clock = time.perf_counter_ns
    start = clock()
    for _ in range(iters):
        call()
    return (clock() - start) / iters / 1000.0


def bare_calls(stub_path):
    """The C functions through ctypes with a restype and nothing else: the floor of any binding."""
    lib = ctypes.CDLL(stub_path)
    for name in ("acs_client_new", "acs_send_message", "acs_send_typing", "acs_send_read_receipt"):
        getattr(lib, name).restype = ctypes.c_uint32
    lib.acs_string_free.restype = None
    handle = ctypes.c_void_p()
    if lib.acs_client_new(b"https://stub.invalid", TOKEN.encode(), None, ctypes.byref(handle)):
        sys.exit("bench: the stub's acs_client_new failed")
    thread, content, out = THREAD_ID.encode(), CONTENT.encode(), ctypes.c_char_p()

    def send_message():
        if lib.acs_send_message(handle, thread, content, None, ctypes.byref(out)):
            raise RuntimeError("acs_send_message failed")
        out.value.decode()
        lib.acs_string_free(out)

    def typing():
        if lib.acs_send_typing(handle, thread, None):
            raise RuntimeError("acs_send_typing failed")

    def read_receipt():
        if lib.acs_send_read_receipt(handle, thread, b"1"):
            raise RuntimeError("acs_send_read_receipt failed")

    return {"send_message": send_message, "typing": typing, "read_receipt": read_receipt}


def binding_calls():
    from acs_chat import ChatClient

    thread = ChatClient("https://stub.invalid", TOKEN).get_chat_thread_client(THREAD_ID)
    if thread.send_message(CONTENT).id != "stub-message-id":
        sys.exit("bench: acs_chat did not load the stub library")
    return {
        "send_message": lambda: thread.send_message(CONTENT),
        "typing": lambda: thread.send_typing_notification(),
        "read_receipt": lambda: thread.send_read_receipt("1"),
    }


def import_times(library, runs):
    """Milliseconds of ``import acs_chat`` in fresh interpreters, with the bytecode cached as an
    installed package has it (in a directory of its own, not next to the sources)."""
    with tempfile.TemporaryDirectory(prefix="acs-chat-pycache-") as cache:
        env = dict(os.environ, ACS_CHAT_LIBRARY=library, ACS_CHAT_AZURE_CORE="0", PYTHONPYCACHEPREFIX=cache)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        times = []
        # The first run writes the bytecode and fills the page cache; it is not recorded.
        for i in range(runs + 1):
            done = subprocess.run([sys.executable, "-c", IMPORT_CODE], env=env, capture_output=True, text=True, check=True)
            if i:
                times.append(int(done.stdout) / 1e6)
    return times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stub", required=True, help="the stub library (stub_sends.c, built)")
    ap.add_argument("--library", required=True, help="the real libacs_chat, for the import time")
    ap.add_argument("--iters", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--import-runs", type=int, default=20)
    args = ap.parse_args()

    os.environ["ACS_CHAT_LIBRARY"] = args.stub
    ours = binding_calls()
    bare = bare_calls(args.stub)
    for op in ours:
        for rnd in range(1, args.rounds + 1):
            order = [("acs_chat", ours[op]), ("ctypes", bare[op])]
            if rnd % 2 == 0:
                order.reverse()
            for impl, call in order:
                per_call_us(call, args.iters // 10)  # warm-up
                emit(case=op, impl=impl, round=rnd, n=args.iters, mean_us=round(per_call_us(call, args.iters), 3))

    times = import_times(args.library, args.import_runs)
    emit(case="import acs_chat", impl="acs_chat", round=1, n=len(times),
         p50_ms=round(statistics.median(times), 2), min_ms=round(min(times), 2), max_ms=round(max(times), 2))


if __name__ == "__main__":
    main()
