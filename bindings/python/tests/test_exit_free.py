"""A client is never freed at interpreter exit while a daemon thread is inside a call on it."""

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

SCRIPT = textwrap.dedent(
    """
    import atexit, sys, threading, time
    # Registered before the library's finalizers exist, so it runs after them: the call in the
    # daemon thread gets its answer while the interpreter is already exiting.
    atexit.register(time.sleep, 0.8)
    from acs_chat import ChatClient

    url, token, thread_id = sys.argv[1:4]
    client = ChatClient(url, token, retry_backoff=0.05)
    thread = client.get_chat_thread_client(thread_id)
    result = {}

    def send():
        result["id"] = thread.send_message("in flight at exit").id
        print("sent", result["id"], flush=True)

    threading.Thread(target=send, daemon=True).start()
    print("started", flush=True)
    del thread, client
    time.sleep(0.1)
    """
)


def test_a_call_in_flight_at_exit_keeps_its_client(emulator, tmp_path):
    script = tmp_path / "exit_free.py"
    script.write_text(SCRIPT)
    thread_id = f"19:exit-free-{uuid.uuid4().hex}@thread.v2"
    # The first try is answered 503 after 400 ms, once the interpreter is exiting: the retry then
    # needs the client's settings and connection pool.
    emulator.fault(thread_id, "messages", count=1, status=503, delay_ms=400)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO / "bindings" / "python" / "src"), env.get("PYTHONPATH")])
    )
    # Freed memory is scribbled over, so a use after free shows.
    env["MALLOC_PERTURB_"] = "165"
    done = subprocess.run(
        [sys.executable, str(script), emulator.url, emulator.token(), thread_id],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert "sent " in done.stdout, (done.stdout, done.stderr)
    stored = [e["id"] for e in emulator.events(thread_id)]
    assert done.stdout.split("sent ")[1].split()[0] in stored
