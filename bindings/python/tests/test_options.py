"""Client options: validation in Python, and their effect on the wire."""

from __future__ import annotations

import math
import socket
import subprocess
import time
from pathlib import Path

import pytest

from acs_chat import ChatClient, HttpResponseError, InvalidArgumentError, ServiceRequestError, ServiceResponseError
from acs_chat._constants import ACS_MAX_CONNECTIONS_PER_ORIGIN, ACS_MAX_RETRIES

from conftest import Emulator


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"timeout": -1}, ValueError),
        ({"timeout": 0}, ValueError),
        ({"timeout": math.nan}, ValueError),
        ({"timeout": 5e6}, ValueError),
        ({"timeout": "5"}, TypeError),
        ({"connect_timeout": 0}, ValueError),
        ({"connect_timeout": math.inf}, ValueError),
        ({"connect_timeout": -0.5}, ValueError),
        ({"retry_total": -1}, ValueError),
        ({"retry_total": 11}, ValueError),
        ({"retry_total": 2.0}, TypeError),
        ({"retry_total": True}, TypeError),
        ({"retry_backoff": -0.1}, ValueError),
        ({"retry_backoff": 61}, ValueError),
        ({"retry_backoff": 2, "retry_backoff_max": 1}, ValueError),
        ({"retry_backoff": None, "retry_backoff_max": 0.5}, ValueError),
        ({"retry_backoff": "fast"}, TypeError),
        ({"api_version": ""}, ValueError),
        ({"api_version": 20250315}, TypeError),
        ({"application_id": 7}, TypeError),
        ({"application_id": "a\x00b"}, ValueError),
        ({"application_id": "has space"}, ValueError),
        ({"application_id": "x" * 25}, ValueError),
        ({"ca_file": 3}, TypeError),
        ({"allow_insecure_http": 1}, TypeError),
        ({"proactive_refresh": "yes"}, TypeError),
        ({"token_refresher": "not callable"}, TypeError),
    ],
)
def test_invalid_options_raise(emulator, token, options, error):
    with pytest.raises(error):
        ChatClient(emulator.url, token, **options)


def test_limits_are_the_librarys(emulator, token):
    ChatClient(emulator.url, token, retry_total=ACS_MAX_RETRIES, max_connections=ACS_MAX_CONNECTIONS_PER_ORIGIN).close()
    for options in (
        {"retry_total": ACS_MAX_RETRIES + 1},
        {"max_connections": ACS_MAX_CONNECTIONS_PER_ORIGIN + 1},
        {"max_connections": 0},
        {"retry_backoff": 2, "retry_backoff_max": 1},
    ):
        with pytest.raises(InvalidArgumentError):
            ChatClient(emulator.url, token, **options)
    for options in ({"retry_total": 2**32}, {"max_connections": -1}):  # no uint32_t: the binding refuses
        with pytest.raises(ValueError, match="between 0 and"):
            ChatClient(emulator.url, token, **options)


def test_unknown_option_is_a_type_error(emulator, token):
    with pytest.raises(TypeError):
        ChatClient(emulator.url, token, retries=3)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("endpoint", "token_value", "error"),
    [
        ("", "t", ValueError),
        (None, "t", TypeError),
        (b"http://127.0.0.1", "t", TypeError),
        ("http://127.0.0.1:1", "", ValueError),
        ("http://127.0.0.1:1", 42, TypeError),
        ("http://127.0.0.1:1", None, TypeError),
    ],
)
def test_invalid_endpoint_or_token(endpoint, token_value, error):
    with pytest.raises(error):
        ChatClient(endpoint, token_value)


def test_invalid_call_arguments(thread, client, emulator, thread_id):
    with pytest.raises(ValueError):
        client.get_chat_thread_client("")
    with pytest.raises(TypeError):
        client.get_chat_thread_client(123)
    with pytest.raises(TypeError):
        client.get_chat_thread_client(None)
    with pytest.raises(ValueError):
        thread.send_message("")
    with pytest.raises(TypeError):
        thread.send_message(None)
    with pytest.raises(TypeError):
        thread.send_message(b"bytes")
    with pytest.raises(ValueError):
        thread.send_message("nul\x00inside")
    with pytest.raises(ValueError):
        thread.send_message("lone surrogate \ud800")
    with pytest.raises(ValueError):
        thread.send_message("x", chat_message_type="markdown")
    with pytest.raises(TypeError):
        thread.send_message("x", chat_message_type=1)
    with pytest.raises(TypeError):
        thread.send_message("x", sender_display_name=5)
    with pytest.raises(TypeError):
        thread.send_message("x", metadata=[("a", "b")])
    with pytest.raises(TypeError):
        thread.send_message("x", metadata={"a": 1})
    with pytest.raises(TypeError):
        thread.send_message("x", metadata={1: "a"})
    with pytest.raises(TypeError):
        thread.send_message("x", "html")  # options are keyword-only
    with pytest.raises(TypeError):
        thread.send_typing_notification("name")  # keyword-only
    with pytest.raises(TypeError):
        thread.send_typing_notification(sender_display_name=b"x")
    with pytest.raises(ValueError):
        thread.send_read_receipt("")
    with pytest.raises(TypeError):
        thread.send_read_receipt(17)
    with pytest.raises(TypeError):
        client.set_token(None)
    assert emulator.requests(thread_id) == []


@pytest.mark.parametrize("retry_total", [4, 0])
def test_retry_total_sets_the_number_of_tries(emulator, make_client, thread_id, retry_total):
    emulator.fault(thread_id, "readReceipts", count=10, status=503)
    thread = make_client(retry_total=retry_total).get_chat_thread_client(thread_id)
    with pytest.raises(HttpResponseError) as info:
        thread.send_read_receipt("1")
    assert info.value.status_code == 503
    assert len(emulator.requests(thread_id)) == retry_total + 1


def test_default_retries_recover_from_transient_errors(emulator, make_client, thread_id):
    emulator.fault(thread_id, "messages", count=1, status=503)
    emulator.fault(thread_id, "messages", count=1, status=500)
    emulator.fault(thread_id, "messages", count=1, status=429, headers={"Retry-After": "0"})
    thread = make_client().get_chat_thread_client(thread_id)
    result = thread.send_message("eventually")
    requests = emulator.requests(thread_id)
    assert [r["status"] for r in requests] == [503, 500, 429, 201]
    assert len({r["clientRequestId"] for r in requests}) == 1
    assert [e["id"] for e in emulator.events(thread_id)] == [result.id]


def test_retry_backoff_sets_the_delay_between_tries(emulator, make_client, thread_id):
    emulator.fault(thread_id, "typing", count=2, status=503)
    thread = make_client(retry_total=2, retry_backoff=0.4).get_chat_thread_client(thread_id)
    thread.send_typing_notification()
    times = [r["atMs"] for r in emulator.requests(thread_id)]
    assert len(times) == 3
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    # 0.4 s then 0.8 s, each with a jitter of a fraction of the delay.
    assert gaps[0] >= 400 * 0.75
    assert gaps[1] >= 800 * 0.75


def test_retry_backoff_max_caps_the_delay(emulator, make_client, thread_id):
    emulator.fault(thread_id, "typing", count=4, status=503)
    thread = make_client(retry_total=4, retry_backoff=0.1, retry_backoff_max=0.1).get_chat_thread_client(thread_id)
    thread.send_typing_notification()
    times = [r["atMs"] for r in emulator.requests(thread_id)]
    assert len(times) == 5
    # Uncapped, the waits would be 0.1, 0.2, 0.4 and 0.8 s (each within 20 %).
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert all(gap >= 100 * 0.75 for gap in gaps)
    assert gaps[-1] < 400


def test_timeout_is_retried_for_typing_but_not_for_messages(emulator, make_client, thread_id):
    thread = make_client(timeout=0.25, retry_total=2).get_chat_thread_client(thread_id)
    # Two slow answers, then normal ones: typing times out twice, then succeeds.
    emulator.fault(thread_id, "typing", count=2, delay_ms=1500)
    before = emulator.pending()
    started = time.monotonic()
    thread.send_typing_notification()
    assert time.monotonic() - started >= 0.5
    assert emulator.pending() == before - 2  # both slow answers were tried
    assert [e["op"] for e in emulator.events(thread_id)] == ["typing"]
    # A slow answer then a scripted 500: a retry of send-message would consume the 500.
    emulator.fault(thread_id, "messages", delay_ms=1500)
    emulator.fault(thread_id, "messages", status=500)
    before = emulator.pending()
    with pytest.raises(ServiceResponseError) as info:
        thread.send_message("once")
    assert info.value.result == "ACS_RESULT_TIMEOUT"
    assert emulator.pending() == before - 1  # only the slow one was consumed


def test_infinite_timeout_waits_for_a_slow_answer(emulator, make_client, thread_id):
    emulator.fault(thread_id, "messages", delay_ms=600)
    thread = make_client(timeout=math.inf, retry_total=0).get_chat_thread_client(thread_id)
    assert thread.send_message("patient").id


def test_timeout_bounds_each_try(emulator, make_client, thread_id):
    emulator.fault(thread_id, "messages", delay_ms=600)
    thread = make_client(timeout=2.0, retry_total=0).get_chat_thread_client(thread_id)
    assert thread.send_message("within the limit").id
    emulator.fault(thread_id, "messages", delay_ms=1500)
    quick = make_client(timeout=0.2, retry_total=0).get_chat_thread_client(thread_id)
    with pytest.raises(ServiceResponseError) as info:
        quick.send_message("too slow")
    assert info.value.result == "ACS_RESULT_TIMEOUT"


def test_connect_timeout_applies_to_an_unanswered_connection(make_client):
    # A listener whose accept queue is full: further SYNs are dropped, so connecting hangs.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        probe = socket.socket()
        probe.settimeout(0.3)
        try:
            probe.connect(("127.0.0.1", port))
            pytest.skip("this kernel completes connections beyond the backlog")
        except (socket.timeout, OSError):
            pass
        finally:
            probe.close()
        thread = make_client(endpoint=f"http://127.0.0.1:{port}", connect_timeout=0.3, retry_total=0,
                             timeout=30).get_chat_thread_client("t")
        started = time.monotonic()
        with pytest.raises(ServiceRequestError) as info:
            thread.send_message("x")
        elapsed = time.monotonic() - started
        assert info.value.result == "ACS_RESULT_CONNECT"
        assert 0.25 <= elapsed < 5
    finally:
        for filler in fillers:
            filler.close()
        server.close()


@pytest.fixture(scope="module")
def tls_emulator(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:FALSE",
         "-keyout", str(key), "-out", str(cert)],
        capture_output=True,
    )
    if made.returncode != 0:
        pytest.skip(f"openssl could not make a certificate: {made.stderr.decode(errors='replace')}")
    server = Emulator(["--tls-cert", str(cert), "--tls-key", str(key)], cafile=str(cert))
    try:
        yield server, cert
    finally:
        server.stop()


def test_ca_file_trusts_a_private_certificate(tls_emulator, thread_id):
    server, cert = tls_emulator
    assert server.url.startswith("https://")
    token = server.token(user="tls-user")
    with ChatClient(server.url, token, retry_total=0) as untrusting:
        with pytest.raises(ServiceRequestError) as info:
            untrusting.get_chat_thread_client(thread_id).send_message("x")
        assert info.value.result == "ACS_RESULT_CONNECT"
    with ChatClient(server.url, token, ca_file=Path(cert), retry_total=0) as trusting:
        result = trusting.get_chat_thread_client(thread_id).send_message("over tls")
    events = server.events(thread_id)
    assert [(e["content"], e["id"], e["user"]) for e in events] == [("over tls", result.id, "tls-user")]


def test_missing_ca_file_is_reported(emulator, token):
    with pytest.raises(InvalidArgumentError):
        with ChatClient(emulator.url, token, ca_file="/nonexistent/ca.pem") as client:
            client.get_chat_thread_client("t").send_typing_notification()


def local_non_loopback_address():
    """An IPv4 address of this machine outside 127/8, found by asking the kernel which source
    address it would route from (connecting a UDP socket sends no packet)."""
    for target in ("10.254.254.254", "192.0.2.1", "198.51.100.1"):
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            probe.connect((target, 9))
            address = probe.getsockname()[0]
        except OSError:
            continue
        finally:
            probe.close()
        if not address.startswith("127.") and address != "0.0.0.0":
            return address
    return None


def test_allow_insecure_http_reaches_a_plain_http_host_that_is_not_loopback(thread_id):
    address = local_non_loopback_address()
    if address is None:
        pytest.skip("no non-loopback IPv4 address on this machine")
    server = Emulator(["--listen", f"{address}:0"])
    try:
        assert server.url.startswith(f"http://{address}:")
        token = server.token(user="lan-user")
        with pytest.raises(ServiceRequestError) as info:
            ChatClient(server.url, token)
        assert info.value.result == "ACS_RESULT_INSECURE_ENDPOINT"
        with ChatClient(server.url, token, allow_insecure_http=True, retry_total=0) as client:
            result = client.get_chat_thread_client(thread_id).send_message("over plain http")
        assert [(e["id"], e["user"]) for e in server.events(thread_id)] == [(result.id, "lan-user")]
    finally:
        server.stop()
