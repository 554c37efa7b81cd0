"""acs_chat.aio on the library's asynchronous calls: fan-out without threads, cancellation
before and after the request is written, interpreter exit and fork with calls in flight, the
delivery verdict, token refreshers that await, and the options that go with them."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from typing import Any, Callable, List

import pytest

import acs_chat
from acs_chat import (
    AcsChatError,
    HttpResponseError,
    OperationCancelledError,
    ServiceResponseError,
    TokenError,
    _ffi,
)
from acs_chat.aio import CallCancelledError, ChatClient

from conftest import REPO

linux_only = pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc/self/status")
fork_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def new_thread_id() -> str:
    return f"19:{uuid.uuid4().hex}@thread.v2"


def os_threads() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise AssertionError("no Threads: line in /proc/self/status")


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "uvloop":
        uvloop = pytest.importorskip("uvloop", reason="uvloop is not installed (run_tests.sh installs it when it can)")
        return uvloop.new_event_loop()  # type: ignore[no-any-return]
    return asyncio.new_event_loop()


def run_on(kind: str, main: Callable[[], Any]) -> Any:
    loop = new_loop(kind)
    try:
        return loop.run_until_complete(main())
    finally:
        loop.close()


async def wait_until(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``condition`` (a blocking emulator query) until it is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


# fan-out


@linux_only
@pytest.mark.parametrize("loop_kind", ["asyncio", "uvloop"])
def test_a_thousand_concurrent_sends_hold_no_thread(slow_emulator, loop_kind):
    """1,000 awaited sends at once against 50 ms of service latency: every message stored
    once, and neither Python's threads nor the process's OS threads grow while they run."""
    emu = slow_emulator
    token = emu.token(user="fan-out")
    thread_ids = [new_thread_id() for _ in range(10)]
    count = 1000

    async def main():
        async with ChatClient(emu.url, token) as client:
            threads = [client.get_chat_thread_client(t) for t in thread_ids]
            await threads[0].send_typing_notification()  # the runtime's threads are up
            python_before, os_before = threading.active_count(), os_threads()
            samples: List[tuple] = []
            stop = asyncio.Event()

            async def sample():
                while not stop.is_set():
                    samples.append((threading.active_count(), os_threads()))
                    await asyncio.sleep(0.005)

            sampler = asyncio.ensure_future(sample())
            started = time.monotonic()
            results = await asyncio.gather(*(threads[i % 10].send_message(f"m{i}") for i in range(count)))
            elapsed = time.monotonic() - started
            print(f"{count} sends in {elapsed:.2f} s; threads: python {python_before}, OS {os_before}")
            stop.set()
            await sampler
            return results, elapsed, python_before, os_before, samples, threading.active_count(), os_threads()

    results, elapsed, python_before, os_before, samples, python_after, os_after = run_on(loop_kind, main)

    ids = [r.id for r in results]
    assert len(set(ids)) == count
    stored = {}
    for index, thread_id in enumerate(thread_ids):
        events = [e for e in emu.events(thread_id) if e["op"] == "message"]
        assert sorted(e["content"] for e in events) == sorted(f"m{i}" for i in range(index, count, 10))
        stored.update((e["content"], e["id"]) for e in events)
    assert stored == {f"m{i}": ids[i] for i in range(count)}  # each id is the one stored for it

    assert len(samples) >= 5
    assert {python for python, _ in samples} == {python_before} and python_after == python_before
    assert max(threads for _, threads in samples) <= os_before, (os_before, samples)
    assert os_after <= os_before
    assert elapsed < 25  # one after the other they would take 50 s


# cancellation


def test_cancel_while_queued_for_a_connection_sends_nothing(slow_emulator):
    """max_connections=1 and a slow call holding the connection: a second call waits in line;
    cancelled there, it completes at once with CANCELLED, not delivered, and never reaches the
    service."""
    emu = slow_emulator
    token = emu.token()
    busy, queued = new_thread_id(), new_thread_id()
    emu.fault(busy, "messages", delay_ms=1500)
    caught: List[CallCancelledError] = []

    async def main():
        async with ChatClient(emu.url, token, max_connections=1) as client:
            slow = asyncio.ensure_future(client.get_chat_thread_client(busy).send_message("holds the connection"))
            await wait_until(lambda: emu.requests(busy))

            async def queued_send():
                try:
                    return await client.get_chat_thread_client(queued).send_message("never sent")
                except CallCancelledError as exc:
                    caught.append(exc)
                    raise

            task = asyncio.ensure_future(queued_send())
            await asyncio.sleep(0.2)
            assert not task.done()  # waiting for the only connection
            cancelled_at = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            took = time.monotonic() - cancelled_at
            return await slow, took

    result, took = asyncio.run(main())
    (err,) = caught
    assert isinstance(err, asyncio.CancelledError)
    assert (err.result, err.may_have_been_delivered, err.message_id) == ("ACS_RESULT_CANCELLED", False, None)
    assert (err.operation, err.thread_id) == ("send_message", queued)
    assert isinstance(err.error, OperationCancelledError) and err.error.may_have_been_delivered is False
    assert "nothing was delivered" in err.args[0]
    assert took < 1.0  # did not wait for the slow call
    time.sleep(0.2)
    assert emu.requests(queued) == []
    assert emu.events(queued) == []
    assert [e["id"] for e in emu.events(busy)] == [result.id]


def test_cancel_after_the_request_was_sent_says_it_may_have_been_delivered(slow_emulator, caplog):
    """300 ms of latency: the emulator stores the message on arrival and answers later. Cancelled
    once the request is in its log, the call completes with CANCELLED and may-have-been-delivered
    True, a warning names it, and the message is indeed stored."""
    emu = slow_emulator
    token = emu.token()
    thread_id = new_thread_id()
    caught: List[CallCancelledError] = []
    caplog.set_level(logging.WARNING, logger="acs_chat")
    emu.set_latency(300)
    try:

        async def main():
            async with ChatClient(emu.url, token) as client:
                thread = client.get_chat_thread_client(thread_id)

                async def send(op: Callable[[], Any]):
                    try:
                        return await op()
                    except CallCancelledError as exc:
                        caught.append(exc)
                        raise

                for op, count in ((lambda: thread.send_message("cancelled late"), 1),
                                  (lambda: thread.send_typing_notification(sender_display_name="late"), 2)):
                    task = asyncio.ensure_future(send(op))
                    await wait_until(lambda: len(emu.requests(thread_id)) == count and len(emu.events(thread_id)) == count)
                    assert not task.done()
                    task.cancel()
                    with pytest.raises(asyncio.CancelledError):
                        await task

        asyncio.run(main())
    finally:
        emu.set_latency(50)

    message, typing = caught
    assert (message.operation, message.result, message.may_have_been_delivered) == (
        "send_message", "ACS_RESULT_CANCELLED", True)
    assert isinstance(message.error, OperationCancelledError) and message.error.may_have_been_delivered is True
    assert "may have been delivered" in message.args[0]
    assert (typing.operation, typing.result) == ("send_typing_notification", "ACS_RESULT_CANCELLED")
    assert typing.may_have_been_delivered is typing.error.may_have_been_delivered
    events = emu.events(thread_id)
    assert [(e["op"], e.get("content")) for e in events] == [("message", "cancelled late"), ("typing", None)]
    warnings = [r for r in caplog.records if r.name == "acs_chat" and r.levelno == logging.WARNING]
    assert len(warnings) == 1  # for the message only
    assert thread_id in warnings[0].getMessage() and "may have been delivered" in warnings[0].getMessage()


def test_wait_for_timeout_cancels_the_call(slow_emulator, caplog):
    """asyncio.wait_for cancels the awaited call: TimeoutError for the caller, the library's
    call cancelled (so the connection is free again), the warning for a message that was sent."""
    emu = slow_emulator
    token = emu.token()
    thread_id = new_thread_id()
    emu.fault(thread_id, "messages", delay_ms=1000)
    caplog.set_level(logging.WARNING, logger="acs_chat")

    async def main():
        async with ChatClient(emu.url, token, max_connections=1) as client:
            thread = client.get_chat_thread_client(thread_id)
            started = time.monotonic()
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(thread.send_message("too slow"), 0.3)
            took = time.monotonic() - started
            # The only connection was given back when the call was cancelled.
            return took, await asyncio.wait_for(thread.send_message("next"), 5)

    took, result = asyncio.run(main())
    assert took < 0.9
    assert [e["content"] for e in emu.events(thread_id)] == ["next"]  # the faulted one stores nothing
    assert [e["id"] for e in emu.events(thread_id)] == [result.id]
    assert any("may have been delivered" in r.getMessage() for r in caplog.records if r.name == "acs_chat")


def test_repeated_cancellation_still_waits_for_the_completion(slow_emulator):
    emu = slow_emulator
    token = emu.token()
    thread_id = new_thread_id()
    emu.fault(thread_id, "typing", delay_ms=2000)
    caught: List[CallCancelledError] = []

    async def main():
        async with ChatClient(emu.url, token) as client:
            async def send():
                try:
                    await client.get_chat_thread_client(thread_id).send_typing_notification()
                except CallCancelledError as exc:
                    caught.append(exc)
                    raise

            task = asyncio.ensure_future(send())
            await wait_until(lambda: emu.requests(thread_id))
            for _ in range(3):
                task.cancel()
                await asyncio.sleep(0)
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    assert [e.result for e in caught] == ["ACS_RESULT_CANCELLED"]


# interpreter exit


EXIT_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, threading, time
    from acs_chat.aio import ChatClient

    mode, url, token, thread_id = sys.argv[1:5]

    async def start():
        client = ChatClient(url, token, max_connections=1000)
        thread = client.get_chat_thread_client(thread_id)
        tasks = [asyncio.ensure_future(thread.send_message(f"m{i}")) for i in range(100)]
        await asyncio.sleep(0.15)
        # The first call is answered at once: once it is, the emulator has seen the calls
        # start, however slow the machine.
        deadline = time.monotonic() + 20
        while not any(t.done() for t in tasks) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        print("in flight:", sum(not t.done() for t in tasks), flush=True)
        return client, tasks

    if mode == "loop-stopped":
        loop = asyncio.new_event_loop()
        kept = loop.run_until_complete(start())
    elif mode == "loop-closed":
        loop = asyncio.new_event_loop()
        kept = loop.run_until_complete(start())
        loop.close()
    elif mode == "loop-in-daemon-thread":
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        def run():
            asyncio.set_event_loop(loop)
            loop.run_until_complete(start())
            ready.set()
            loop.run_forever()
        threading.Thread(target=run, daemon=True).start()
        ready.wait(30)
    elif mode == "exit-inside-asyncio-run":
        async def main():
            await start()
            sys.exit(0)
        asyncio.run(main())
    else:
        raise SystemExit(f"unknown mode {mode}")
    """
)

FATAL_SIGNS = ("Fatal Python error", "Segmentation fault", "panicked", "Aborted", "core dumped", "Traceback",
               "fatal runtime error")


@pytest.mark.parametrize("mode", ["loop-stopped", "loop-closed", "loop-in-daemon-thread", "exit-inside-asyncio-run"])
def test_interpreter_exit_with_a_hundred_calls_in_flight(slow_emulator, tmp_path, mode):
    """The interpreter exits while 100 awaited calls are in flight, their answers spread from
    before to after the exit: status 0, and nothing fatal on stderr."""
    emu = slow_emulator
    script = tmp_path / "exit.py"
    script.write_text(EXIT_SCRIPT)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "bindings" / "python" / "src"), env.get("PYTHONPATH")]))
    for run in range(3):
        thread_id = new_thread_id()
        emu.fault(thread_id, "messages", count=1, delay_ms=0)
        for i in range(99):
            emu.fault(thread_id, "messages", count=1, delay_ms=100 + 4 * i + 7 * run)
        done = subprocess.run(
            [sys.executable, str(script), mode, emu.url, emu.token(), thread_id],
            env=env, capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, (mode, run, done.returncode, done.stderr)
        assert not [sign for sign in FATAL_SIGNS if sign in done.stderr], (mode, run, done.stderr)
        in_flight = int(done.stdout.split("in flight:")[1].split()[0])
        assert in_flight >= 50, done.stdout
        assert len(emu.requests(thread_id)) >= 1


REFRESHER_EXIT_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, time
    from acs_chat.aio import ChatClient

    kind, url, expired, fresh, thread_id, delay = sys.argv[1:7]
    delay = float(delay)

    def blocking_refresh():
        time.sleep(delay)  # on the library's thread, across the interpreter's exit
        return fresh

    async def coroutine_refresh():
        await asyncio.sleep(delay)  # its loop stops before this ends
        return fresh

    async def start():
        client = ChatClient(url, expired, token_refresher=blocking_refresh if kind == "blocking" else coroutine_refresh)
        thread = client.get_chat_thread_client(thread_id)
        tasks = [asyncio.ensure_future(thread.send_typing_notification()) for _ in range(10)]
        await asyncio.sleep(0.03)
        return client, tasks

    loop = asyncio.new_event_loop()
    kept = loop.run_until_complete(start())
    print("exiting", flush=True)
    """
)


@pytest.mark.parametrize("kind", ["blocking", "coroutine"])
def test_interpreter_exit_while_a_token_refresher_runs(emulator, tmp_path, kind):
    """Exit while the library's thread is inside a Python token refresher (a blocking one that
    returns during the exit; a coroutine whose loop never runs again): the exit waits for it, or
    cancels it, before the interpreter finalizes."""
    script = tmp_path / "refresher_exit.py"
    script.write_text(REFRESHER_EXIT_SCRIPT)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "bindings" / "python" / "src"), env.get("PYTHONPATH")]))
    delays = ["0.04", "0.06", "0.08", "0.1", "0.2"] if kind == "blocking" else ["5"]
    for delay in delays:
        done = subprocess.run(
            [sys.executable, str(script), kind, emulator.url, emulator.token(expires_in=-30), emulator.token(),
             new_thread_id(), delay],
            env=env, capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, (kind, delay, done.returncode, done.stderr)
        assert done.stdout == "exiting\n"
        assert not [sign for sign in FATAL_SIGNS + ("exception not rethrown",) if sign in done.stderr], done.stderr


# fork


def child_sends(url: str, token: str, thread_id: str) -> int:
    """In a forked child: a new client, a blocking send and awaited sends. Exit status."""
    try:
        import acs_chat
        import acs_chat.aio

        with acs_chat.ChatClient(url, token) as client:
            client.get_chat_thread_client(thread_id).send_message("child sync")

        async def awaited():
            async with acs_chat.aio.ChatClient(url, token) as client:
                thread = client.get_chat_thread_client(thread_id)
                await asyncio.gather(*(thread.send_message(f"child aio {i}") for i in range(5)))
                await thread.send_typing_notification(sender_display_name="child")

        asyncio.run(awaited())
        return 0
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        return 1


def multiprocessing_child(url: str, token: str, thread_id: str) -> None:
    code = child_sends(url, token, thread_id)
    if code:
        raise SystemExit(code)


CHILD_EVENTS = ["child sync"] + [f"child aio {i}" for i in range(5)]


def check_child_events(emu, thread_id):
    events = emu.events(thread_id)
    assert sorted(e.get("content") or e["op"] for e in events) == sorted(CHILD_EVENTS + ["typing"])


@fork_only
@pytest.mark.parametrize("how", ["os.fork", "multiprocessing"])
def test_forked_child_sends_while_the_parent_has_calls_in_flight(slow_emulator, how):
    emu = slow_emulator
    token = emu.token()
    parent_thread, child_thread = new_thread_id(), new_thread_id()
    emu.fault(parent_thread, "messages", count=20, delay_ms=1500)

    async def main():
        loop = asyncio.get_running_loop()
        async with ChatClient(emu.url, token) as client:
            thread = client.get_chat_thread_client(parent_thread)
            in_flight = [asyncio.ensure_future(thread.send_message(f"parent {i}")) for i in range(20)]
            await wait_until(lambda: len(emu.requests(parent_thread)) == 20)
            if how == "os.fork":
                pid = os.fork()
                if pid == 0:
                    os._exit(child_sends(emu.url, token, child_thread))
                _, status = await loop.run_in_executor(None, os.waitpid, pid, 0)
                exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status)
            else:
                process = multiprocessing.get_context("fork").Process(
                    target=multiprocessing_child, args=(emu.url, token, child_thread))
                process.start()
                await loop.run_in_executor(None, process.join, 60)
                exit_code = process.exitcode
            assert not all(t.done() for t in in_flight)  # the child ran while the parent waited
            return exit_code, await asyncio.gather(*in_flight)

    exit_code, results = asyncio.run(main())
    assert exit_code == 0
    check_child_events(emu, child_thread)
    assert sorted(e["id"] for e in emu.events(parent_thread)) == sorted(r.id for r in results)


# the delivery verdict


VERDICT_CASES = [
    ("503", {"status": 503, "body": '{"error":{"code":"ServiceUnavailable","message":"down"}}'}, {},
     "ACS_RESULT_SERVICE_ERROR", False),
    ("timeout after the request was written", {"delay_ms": 1500}, {"timeout": 0.3},
     "ACS_RESULT_TIMEOUT", True),
    ("redirect", {"status": 307, "headers": {"Location": "http://127.0.0.1:9/chat/threads/other/messages"}}, {},
     "ACS_RESULT_PROTOCOL", False),
    ("2xx over the size cap", {"action": "oversize"}, {}, "ACS_RESULT_PROTOCOL", True),
]


@pytest.mark.parametrize(("fault", "options", "result", "expected"), [case[1:] for case in VERDICT_CASES],
                         ids=[case[0] for case in VERDICT_CASES])
def test_delivery_verdict_is_the_libraries(emulator, token, fault, options, result, expected):
    """The sync and the aio errors carry what the core reports (acs_last_error_* and
    acs_completion_may_have_been_delivered), not a guess from the result code."""
    thread_id = new_thread_id()
    with acs_chat.ChatClient(emulator.url, token, retry_total=0, **options) as client:
        emulator.fault(thread_id, "messages", **fault)
        with pytest.raises(AcsChatError) as sync_info:
            client.get_chat_thread_client(thread_id).send_message("sync")

        emulator.fault(thread_id, "messages", **fault)
        out = ctypes.c_char_p()

        code = _ffi.acs_send_message(client._handle, thread_id.encode(), b"core", None, ctypes.byref(out))
        core_verdict = _ffi.acs_last_error_may_have_been_delivered()

    async def awaited():
        async with ChatClient(emulator.url, token, retry_total=0, **options) as client:
            emulator.fault(thread_id, "messages", **fault)
            with pytest.raises(AcsChatError) as info:
                await client.get_chat_thread_client(thread_id).send_message("aio")
            return info.value

    aio_error = asyncio.run(awaited())
    assert acs_chat._errors.result_name(code) == result
    assert (sync_info.value.result, aio_error.result) == (result, result)
    assert type(sync_info.value) is type(aio_error)
    assert core_verdict is expected
    assert sync_info.value.may_have_been_delivered is expected
    assert aio_error.may_have_been_delivered is expected


# token refreshers


def test_coroutine_refresher_runs_once_on_the_loop_for_many_waiting_calls(emulator):
    thread_id = new_thread_id()
    seen = {"calls": 0, "threads": set()}
    ticks: List[float] = []

    async def refresh():
        seen["calls"] += 1
        seen["threads"].add(threading.get_ident())
        started = time.monotonic()
        await asyncio.sleep(0.3)
        seen["span"] = (started, time.monotonic())
        return emulator.token(user="awaited-refresh")

    async def main():
        seen["loop_thread"] = threading.get_ident()
        stop = asyncio.Event()

        async def ticker():
            while not stop.is_set():
                ticks.append(time.monotonic())
                await asyncio.sleep(0.01)

        tick_task = asyncio.ensure_future(ticker())
        async with ChatClient(emulator.url, emulator.token(expires_in=-30), token_refresher=refresh) as client:
            thread = client.get_chat_thread_client(thread_id)
            await asyncio.gather(*(thread.send_typing_notification(sender_display_name=f"n{i}") for i in range(5)))
        stop.set()
        await tick_task

    emulator.limits(False)
    try:
        asyncio.run(main())
    finally:
        emulator.limits(True)
    assert seen["calls"] == 1  # one refresh, its outcome shared
    assert seen["threads"] == {seen["loop_thread"]}
    start, end = seen["span"]
    assert len([t for t in ticks if start < t < end]) >= 10  # the loop kept running meanwhile
    assert {e["user"] for e in emulator.events(thread_id)} == {"awaited-refresh"}
    assert len(emulator.events(thread_id)) == 5


def test_plain_refresher_runs_on_the_librarys_thread_not_the_loop(emulator):
    thread_id = new_thread_id()
    seen = {}

    def refresh():
        seen["refresh_thread"] = threading.get_ident()
        time.sleep(0.2)  # blocks the library's thread, not the loop
        return emulator.token(user="plain-refresh")

    async def main():
        seen["loop_thread"] = threading.get_ident()
        async with ChatClient(emulator.url, emulator.token(expires_in=-30), token_refresher=refresh) as client:
            ticker_ran = 0
            call = asyncio.ensure_future(client.get_chat_thread_client(thread_id).send_message("x"))
            while not call.done():
                ticker_ran += 1
                await asyncio.sleep(0.01)
            await call
            return ticker_ran

    ticks = asyncio.run(main())
    assert seen["refresh_thread"] != seen["loop_thread"]
    assert ticks >= 10
    assert emulator.events(thread_id)[0]["user"] == "plain-refresh"


def test_hung_coroutine_refresher_is_bounded_and_cancelled(emulator):
    thread_id = new_thread_id()
    state = {"cancelled": False}

    async def refresh():
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            state["cancelled"] = True
            raise
        return "unreachable"

    async def main():
        async with ChatClient(emulator.url, emulator.token(expires_in=-30), token_refresher=refresh,
                              total_timeout=0.5) as client:
            started = time.monotonic()
            with pytest.raises(AcsChatError) as info:
                await client.get_chat_thread_client(thread_id).send_message("x")
            took = time.monotonic() - started
            await wait_until(lambda: state["cancelled"], timeout=5)
            return info.value, took

    err, took = asyncio.run(main())
    assert isinstance(err, (TokenError, ServiceResponseError)), err
    assert took < 3
    assert state["cancelled"]
    assert emulator.requests(thread_id) == []


def test_coroutine_refresher_cannot_supply_the_first_token(emulator):
    async def refresh():
        return emulator.token()

    async def main():
        with pytest.raises(RuntimeError, match="initial token"):
            ChatClient(emulator.url, None, token_refresher=refresh)

    asyncio.run(main())
    with pytest.raises(RuntimeError, match="initial token"):
        ChatClient(emulator.url, None, token_refresher=refresh)


# options


@pytest.mark.parametrize("client_class", [acs_chat.ChatClient, ChatClient], ids=["sync", "aio"])
@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"total_timeout": 0}, ValueError),
        ({"total_timeout": -1}, ValueError),
        ({"total_timeout": float("nan")}, ValueError),
        ({"total_timeout": 5e6}, ValueError),
        ({"total_timeout": "1"}, TypeError),
        ({"max_connections": 0}, ValueError),
        ({"max_connections": 65537}, ValueError),
        ({"max_connections": 2.0}, TypeError),
        ({"max_connections": True}, TypeError),
    ],
)
def test_invalid_new_options_raise(emulator, token, client_class, options, error):
    with pytest.raises(error):
        client_class(emulator.url, token, **options)


def test_total_timeout_bounds_the_whole_call(emulator, token):
    thread_id = new_thread_id()
    emulator.fault(thread_id, "typing", count=10, status=503)
    with acs_chat.ChatClient(emulator.url, token, total_timeout=0.5, retry_total=10, retry_backoff=0.2,
                             retry_backoff_max=0.2) as client:
        started = time.monotonic()
        with pytest.raises(AcsChatError) as info:
            client.get_chat_thread_client(thread_id).send_typing_notification()
        took = time.monotonic() - started
    assert info.value.result == "ACS_RESULT_TIMEOUT"
    assert took < 1.5
    assert 2 <= len(emulator.requests(thread_id)) < 6

    thread_id = new_thread_id()
    emulator.fault(thread_id, "messages", delay_ms=1500)

    async def main():
        async with ChatClient(emulator.url, token, total_timeout=0.4, timeout=30) as client:
            started = time.monotonic()
            with pytest.raises(ServiceResponseError) as info:
                await client.get_chat_thread_client(thread_id).send_message("x")
            return info.value, time.monotonic() - started

    err, took = asyncio.run(main())
    assert (err.result, err.may_have_been_delivered) == ("ACS_RESULT_TIMEOUT", True)
    assert took < 1.2
    assert math_inf_means_no_total_timeout(emulator, token)


def math_inf_means_no_total_timeout(emulator, token) -> bool:
    thread_id = new_thread_id()
    emulator.fault(thread_id, "messages", delay_ms=300)
    with acs_chat.ChatClient(emulator.url, token, total_timeout=float("inf")) as client:
        client.get_chat_thread_client(thread_id).send_message("no deadline")
    return True


def test_max_connections_serializes_requests(slow_emulator):
    emu = slow_emulator
    token = emu.token()
    thread_ids = [new_thread_id() for _ in range(3)]
    for thread_id in thread_ids:
        emu.fault(thread_id, "typing", delay_ms=300)

    async def main(limit):
        async with ChatClient(emu.url, token, max_connections=limit) as client:
            await asyncio.gather(*(client.get_chat_thread_client(t).send_typing_notification() for t in thread_ids))

    asyncio.run(main(1))
    arrivals = sorted(emu.requests(t)[0]["atMs"] for t in thread_ids)
    assert all(later - earlier >= 300 for earlier, later in zip(arrivals, arrivals[1:])), arrivals

    with acs_chat.ChatClient(emu.url, token, max_connections=2) as client:  # the sync client takes it too
        client.get_chat_thread_client(thread_ids[0]).send_typing_notification()


def test_completion_errors_keep_their_details(emulator, token):
    thread_id = new_thread_id()
    emulator.fault(thread_id, "messages", status=429, headers={"retry-after-ms": "1500", "MS-CV": "aio-cv"},
                   body='{"error":{"code":"TooManyRequests","message":"Slow down."}}')

    async def main():
        async with ChatClient(emulator.url, token, retry_total=0) as client:
            with pytest.raises(HttpResponseError) as info:
                await client.get_chat_thread_client(thread_id).send_message("x")
            return info.value

    err = asyncio.run(main())
    assert type(err) is acs_chat.ThrottledError
    assert (err.status_code, err.error_code, err.request_id, err.retry_after) == (429, "TooManyRequests", "aio-cv", 1.5)
    assert "Slow down." in err.message
    assert err.may_have_been_delivered is False


def test_submit_refusals_raise_at_once_and_leave_nothing_pending(emulator, token):
    from acs_chat.aio import _calls

    async def main():
        client = ChatClient(emulator.url, token)
        thread = client.get_chat_thread_client(new_thread_id())
        await client.close()
        with pytest.raises(ValueError, match="closed"):
            await thread.send_typing_notification()
        with pytest.raises(ValueError):
            await thread.send_message("x", metadata={"k": "v"}, chat_message_type="html")

    before = len(_calls._pending)
    asyncio.run(main())
    assert len(_calls._pending) == before
