"""Fixtures: one emulator process for the session, unique thread ids, tokens, clients."""

from __future__ import annotations

import json
import os
import selectors
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

import pytest

REPO = Path(__file__).resolve().parents[3]
EMULATOR_BIN = Path(os.environ.get("ACS_EMULATOR_BIN", REPO / "target" / "debug" / "acs-chat-emulator"))


class Emulator:
    """A running ``acs-chat-emulator`` and its control API."""

    def __init__(self, args: Sequence[str] = (), cafile: Optional[str] = None) -> None:
        self._ssl = ssl.create_default_context(cafile=cafile) if cafile else None
        if not EMULATOR_BIN.is_file():
            raise RuntimeError(
                f"emulator binary not found at {EMULATOR_BIN}: build it with "
                "`cargo build -p acs-chat-emulator` or set ACS_EMULATOR_BIN"
            )
        self.process = subprocess.Popen(
            [str(EMULATOR_BIN), "--listen", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=30):
                self.process.kill()
                raise RuntimeError("the emulator printed nothing within 30 s")
        line = self.process.stdout.readline().decode().strip()
        prefix = "listening on "
        if not line.startswith(prefix):
            self.process.kill()
            raise RuntimeError(f"unexpected first line from the emulator: {line!r}")
        self.url = line[len(prefix) :]
        # Keep draining stdout so the emulator never blocks on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    # control API

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30, context=self._ssl) as response:
            return json.loads(response.read() or b"null")

    def mint(self, expires_in: int = 3600, user: Optional[str] = None) -> Dict[str, Any]:
        query = {"expires_in": str(expires_in)}
        if user is not None:
            query["user"] = user
        return self.call("GET", "/_emulator/token?" + urllib.parse.urlencode(query))

    def token(self, expires_in: int = 3600, user: Optional[str] = None) -> str:
        return self.mint(expires_in, user)["token"]

    def events(self, thread_id: str) -> List[Dict[str, Any]]:
        return self.call("GET", f"/_emulator/threads/{urllib.parse.quote(thread_id, safe='')}/events")["events"]

    def requests(self, thread_id: str) -> List[Dict[str, Any]]:
        return self.call("GET", f"/_emulator/threads/{urllib.parse.quote(thread_id, safe='')}/requests")["requests"]

    def pending(self) -> int:
        """Scripted faults not yet consumed, over all threads."""
        return int(self.call("GET", "/_emulator/faults")["pending"])

    def fault(
        self,
        thread_id: str,
        op: str = "*",
        *,
        count: int = 1,
        status: Optional[int] = None,
        headers: Optional[Dict[str, str]] = None,
        body: Optional[str] = None,
        delay_ms: int = 0,
        action: str = "respond",
    ) -> None:
        spec: Dict[str, Any] = {"threadId": thread_id, "op": op, "count": count, "delayMs": delay_ms, "action": action}
        if status is not None:
            spec["status"] = status
        if headers is not None:
            spec["headers"] = headers
        if body is not None:
            spec["body"] = body
        self.call("POST", "/_emulator/faults", spec)

    def limits(self, enabled: bool) -> None:
        self.call("POST", "/_emulator/limits", {"enabled": enabled})

    def set_latency(self, ms: int) -> None:
        """Every service call is stored on arrival and answered ``ms`` later."""
        self.call("POST", "/_emulator/latency", {"ms": ms})


@pytest.fixture(scope="module")
def slow_emulator() -> Iterator[Emulator]:
    """An emulator answering every call 50 ms after storing it, without rate limits."""
    instance = Emulator(["--latency-ms", "50", "--no-limits"])
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    instance = Emulator()
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def thread_id() -> str:
    return f"19:{uuid.uuid4().hex}@thread.v2"


@pytest.fixture
def user() -> str:
    return f"8:acs:{uuid.uuid4()}"


@pytest.fixture
def token(emulator: Emulator, user: str) -> str:
    return emulator.token(user=user)


@pytest.fixture
def make_client(emulator: Emulator, token: str) -> Iterator[Callable[..., Any]]:
    """``make_client(**options)``: a ChatClient on the emulator, closed after the test.
    Retries wait 10 ms unless the test says otherwise."""
    from acs_chat import ChatClient

    made: List[ChatClient] = []

    def make(endpoint: Optional[str] = None, token_: Optional[str] = token, **options: Any) -> ChatClient:
        options.setdefault("retry_backoff", 0.01)
        client = ChatClient(endpoint or emulator.url, token_, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., Any]) -> Any:
    return make_client()


@pytest.fixture
def thread(client: Any, thread_id: str) -> Any:
    return client.get_chat_thread_client(thread_id)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
