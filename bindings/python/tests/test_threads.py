"""One client shared by many threads; the GIL is released while calls wait; handle lifetime."""

from __future__ import annotations

import gc
import threading
import time
import uuid
import weakref

import pytest

from acs_chat import ChatClient


def run_in_threads(count, target):
    barrier = threading.Barrier(count)
    errors = []

    def body(index):
        barrier.wait()
        try:
            target(index)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    workers = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return errors


def test_sixteen_threads_share_one_client(emulator, client):
    threads = [f"19:{uuid.uuid4().hex}@thread.v2" for _ in range(16)]
    ids = {}

    def work(index):
        thread = client.get_chat_thread_client(threads[index])
        sent = [thread.send_message(f"t{index}-m{n}").id for n in range(6)]
        thread.send_typing_notification(sender_display_name=f"worker {index}")
        thread.send_read_receipt(sent[-1])
        ids[index] = sent

    assert run_in_threads(16, work) == []
    all_ids = [message_id for sent in ids.values() for message_id in sent]
    assert len(set(all_ids)) == 16 * 6
    for index, thread_id in enumerate(threads):
        events = emulator.events(thread_id)
        assert [e["op"] for e in events] == ["message"] * 6 + ["typing", "readReceipt"]
        assert [e["content"] for e in events[:6]] == [f"t{index}-m{n}" for n in range(6)]
        assert [e["id"] for e in events[:6]] == ids[index]
        assert events[6]["senderDisplayName"] == f"worker {index}"
        assert events[7]["chatMessageId"] == ids[index][-1]


def test_calls_overlap_because_the_gil_is_released(emulator, client):
    """Each call waits 1 s in the emulator. If calls held the GIL they would run one after the
    other; released, every call's interval overlaps every other's: the last to start starts
    before the first to finish ends."""
    count = 8
    threads = [f"19:{uuid.uuid4().hex}@thread.v2" for _ in range(count)]
    for thread_id in threads:
        emulator.fault(thread_id, "messages", delay_ms=1000)
    spans = [None] * count

    def work(index):
        thread = client.get_chat_thread_client(threads[index])
        started = time.monotonic()
        thread.send_message("slow")
        spans[index] = (started, time.monotonic())

    assert run_in_threads(count, work) == []
    starts = [span[0] for span in spans]
    ends = [span[1] for span in spans]
    assert all(end - start >= 1.0 for start, end in spans)
    assert max(starts) < min(ends)
    # The emulator saw them concurrently too.
    arrivals = [emulator.requests(t)[0]["atMs"] for t in threads]
    finishes = [emulator.requests(t)[0]["doneMs"] for t in threads]
    assert max(arrivals) < min(finishes)


def test_python_keeps_running_during_a_call(emulator, client, thread_id):
    emulator.fault(thread_id, "typing", delay_ms=800)
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    background = threading.Thread(target=ticker)
    started = time.monotonic()
    background.start()
    try:
        client.get_chat_thread_client(thread_id).send_typing_notification()
        finished = time.monotonic()
    finally:
        done.set()
        background.join()
    during = [t for t in ticks if started < t < finished]
    assert finished - started >= 0.8
    assert len(during) >= 10  # the ticker ran while the main thread was inside the call


def test_close_while_calls_are_in_flight_waits_for_them(emulator, token, thread_id):
    client = ChatClient(emulator.url, token)
    thread = client.get_chat_thread_client(thread_id)
    emulator.fault(thread_id, "messages", delay_ms=700)
    pending = emulator.call("GET", "/_emulator/faults")["pending"]
    outcome = {}

    def work():
        try:
            outcome["id"] = thread.send_message("in flight").id
        except BaseException as exc:  # noqa: BLE001
            outcome["error"] = exc

    worker = threading.Thread(target=work)
    worker.start()
    # The fault is consumed when the request arrives: from then on the call is in flight.
    deadline = time.monotonic() + 10
    while emulator.call("GET", "/_emulator/faults")["pending"] == pending and time.monotonic() < deadline:
        time.sleep(0.01)
    client.close()
    assert client.closed
    assert client._finalizer.alive  # the native client is still in use
    worker.join()
    assert "error" not in outcome, outcome.get("error")
    assert [e["id"] for e in emulator.events(thread_id)] == [outcome["id"]]
    assert not client._finalizer.alive  # freed by the last call out
    with pytest.raises(ValueError):
        thread.send_typing_notification()


def test_unclosed_client_is_freed_when_collected(emulator, token, thread_id):
    client = ChatClient(emulator.url, token)
    client.get_chat_thread_client(thread_id).send_typing_notification()
    finalizer = client._finalizer
    reference = weakref.ref(client)
    assert finalizer.alive
    del client
    gc.collect()
    assert reference() is None
    assert not finalizer.alive


def test_thread_client_keeps_its_client_alive(emulator, token, thread_id):
    thread = ChatClient(emulator.url, token).get_chat_thread_client(thread_id)
    gc.collect()
    thread.send_message("still alive")
    assert [e["content"] for e in emulator.events(thread_id)] == ["still alive"]
