"""examples/python/send.py runs against the emulator and does what it prints."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import REPO

EXAMPLE = REPO / "examples" / "python" / "send.py"


def test_example_sends_message_typing_and_receipt(emulator, thread_id, user):
    env = dict(os.environ, ACS_ENDPOINT=emulator.url, ACS_TOKEN=emulator.token(user=user), ACS_THREAD_ID=thread_id)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "bindings" / "python" / "src"), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, str(EXAMPLE)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    events = emulator.events(thread_id)
    assert [e["op"] for e in events] == ["typing", "message", "readReceipt"]
    assert {e["user"] for e in events} == {user}
    assert events[1]["content"] == "Hello from acs_chat!"
    assert "acs-chat-example" in events[1]["userAgent"]
    message_id = events[1]["id"]
    assert events[2]["chatMessageId"] == message_id
    assert message_id in done.stdout


def test_example_reports_missing_configuration():
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACS_") or k == "ACS_CHAT_LIBRARY"}
    env["PYTHONPATH"] = str(REPO / "bindings" / "python" / "src")
    done = subprocess.run([sys.executable, str(EXAMPLE)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "ACS_ENDPOINT" in done.stderr
