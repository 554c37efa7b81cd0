"""Drop-in check: each sample here runs twice against acs-chat-emulator over HTTPS (a test CA):
unchanged, on the official SDK (azure-communication-chat with azure-core's transports: requests,
and aiohttp for ``aio``), then with only its ``azure.communication.chat`` import lines rewritten
to ``acs_chat``. Both runs must succeed, and the emulator must have stored the same events for
both (message ids aside), which must be what the samples send.

Run with the official SDK's virtualenv (tests/official_sdk/run.sh makes it and calls this):

    ACS_CHAT_LIBRARY=target/debug/libacs_chat.so python tests/drop_in/python/run.py [sample ...]
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.dont_write_bytecode = True
sys.path.insert(0, str(ROOT / "tests" / "official_sdk"))
from test_official_sdk import _get_json, _start, _stop, _write_certs  # noqa: E402

SAMPLES = ["chat_thread_client_sample.py", "chat_thread_client_sample_async.py"]

EXPECTED = [
    {"op": "message", "content": "Hello! My name is Fred Flinstone", "senderDisplayName": "Fred Flinstone",
     "type": "text"},
    {"op": "message", "content": "Hello! My name is Wilma Flinstone", "senderDisplayName": "Wilma Flinstone",
     "type": "text"},
    {"op": "message", "content": "hello world", "senderDisplayName": "sender name", "type": "html",
     "metadata": {"tags": "tag"}},
    {"op": "typing"},
    {"op": "typing", "senderDisplayName": "Fred Flinstone"},
    {"op": "readReceipt", "chatMessageId": "<first message>"},
]
"""What the samples send, in order (fields the emulator stores; others are compared between runs)."""

IMPORT = re.compile(r"^(\s*)from azure\.communication\.chat(\.aio)? import ", re.M)


def rewrite(source: str) -> str:
    """The sample with only its import lines changed to acs_chat."""
    changed, count = IMPORT.subn(lambda m: f"{m.group(1)}from acs_chat{m.group(2) or ''} import ", source)
    assert count > 0, "no azure.communication.chat import to rewrite"
    rest = [line for line in changed.splitlines() if re.match(r"\s*(from|import) azure", line)]
    assert not rest, rest
    return changed


def run_sample(path: Path, url: str, ca_file: str, variant: str) -> list:
    user = f"8:acs:drop-in-{variant}-{uuid.uuid4().hex[:8]}"
    thread_id = f"19:{uuid.uuid4().hex}@thread.v2"
    token = _get_json(url + "/_emulator/token?user=" + urllib.parse.quote(user, safe=""), ca_file)["token"]
    env = dict(os.environ)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(name, None)
    env.update(
        AZURE_COMMUNICATION_SERVICE_ENDPOINT=url,
        COMMUNICATION_USER_TOKEN=token,
        CHAT_THREAD_ID=thread_id,
        NO_PROXY="127.0.0.1,localhost",
        REQUESTS_CA_BUNDLE=ca_file,  # requests (the official sync transport)
        SSL_CERT_FILE=ca_file,  # aiohttp's default SSL context, and the native library's verifier
        PYTHONDONTWRITEBYTECODE="1",
    )
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / path.name
        source = path.read_text()
        if variant == "acs_chat":
            source = rewrite(source)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "bindings" / "python" / "src"),
                                                              env.get("PYTHONPATH")]))
        script.write_text(source)
        done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise AssertionError(f"{path.name} [{variant}] failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    events = _get_json(f"{url}/_emulator/threads/{urllib.parse.quote(thread_id, safe='')}/events", ca_file)["events"]
    requests = _get_json(f"{url}/_emulator/threads/{urllib.parse.quote(thread_id, safe='')}/requests",
                         ca_file)["requests"]
    assert all(e["user"] == user for e in events), events
    agent = "azsdk-python-communication-chat/" if variant == "official" else "acs"
    assert all(agent in e["userAgent"].lower().replace("_", "-") for e in events), [e["userAgent"] for e in events]
    assert [r["status"] for r in requests] == [201, 201, 201, 200, 200, 200], requests
    return events


def normalized(events: list) -> list:
    """Events without what differs between runs (ids, users, times, request ids, user agents)."""
    first_id = events[0].get("id") if events else None
    out = []
    for event in events:
        kept = {k: v for k, v in event.items()
                if k not in ("id", "user", "userAgent", "clientRequestId", "atMs", "at", "threadId", "seq")}
        if kept.get("chatMessageId") == first_id:
            kept["chatMessageId"] = "<first message>"
        out.append(kept)
    return out


def matches_expected(events: list) -> None:
    got = normalized(events)
    assert len(got) == len(EXPECTED), json.dumps(got, indent=1)
    for want, have in zip(EXPECTED, got):
        for key, value in want.items():
            assert have.get(key) == value, (key, want, have)
        for key in ("senderDisplayName", "metadata"):
            if key not in want:
                assert not have.get(key), (key, have)


def main(argv: list) -> int:
    samples = argv or SAMPLES
    with tempfile.TemporaryDirectory() as tmp:
        paths = _write_certs(tmp)
        proc, url = _start(["--tls-cert", paths["cert"], "--tls-key", paths["key"]])
        try:
            failures = 0
            for name in samples:
                path = HERE / name
                try:
                    official = run_sample(path, url, paths["ca"], "official")
                    ours = run_sample(path, url, paths["ca"], "acs_chat")
                    matches_expected(official)
                    assert normalized(ours) == normalized(official), (
                        json.dumps(normalized(official), indent=1), json.dumps(normalized(ours), indent=1))
                    print(f"ok   {name}: official SDK and acs_chat stored the same {len(ours)} events")
                except AssertionError as exc:
                    failures += 1
                    print(f"FAIL {name}: {exc}")
        finally:
            _stop(proc)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
