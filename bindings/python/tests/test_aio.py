"""The asyncio face, acs_chat.aio."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest

from acs_chat import ChatMessageType, ResourceNotFoundError, SendChatMessageResult, TokenError
from acs_chat.aio import ChatClient, ChatThreadClient


def test_async_operations_and_context_manager(emulator, token, thread_id, user):
    async def main():
        async with ChatClient(emulator.url, token) as client:
            thread = client.get_chat_thread_client(thread_id)
            assert isinstance(thread, ChatThreadClient)
            assert thread.thread_id == thread_id
            result = await thread.send_message(
                "<i>async</i>", chat_message_type=ChatMessageType.HTML, sender_display_name="Async",
                metadata={"k": "v"},
            )
            await thread.send_typing_notification(sender_display_name="Async")
            await thread.send_read_receipt(result.id)
        return client, result

    client, result = asyncio.run(main())
    assert client.closed
    assert isinstance(result, SendChatMessageResult)
    events = emulator.events(thread_id)
    assert [e["op"] for e in events] == ["message", "typing", "readReceipt"]
    assert (events[0]["id"], events[0]["type"], events[0]["senderDisplayName"], events[0]["metadata"]) == (
        result.id, "html", "Async", {"k": "v"})
    assert events[1]["senderDisplayName"] == "Async"
    assert events[2]["chatMessageId"] == result.id
    assert {e["user"] for e in events} == {user}


def test_async_calls_run_concurrently_without_blocking_the_loop(emulator, token):
    count = 4
    threads = [f"19:{uuid.uuid4().hex}@thread.v2" for _ in range(count)]
    for thread_id in threads:
        emulator.fault(thread_id, "messages", delay_ms=1000)

    async def timed(thread):
        started = time.monotonic()
        result = await thread.send_message("slow")
        return started, time.monotonic(), result

    async def ticker(stop):
        ticks = 0
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0.01)
        return ticks

    async def main():
        stop = asyncio.Event()
        async with ChatClient(emulator.url, token) as client:
            tick_task = asyncio.create_task(ticker(stop))
            spans = await asyncio.gather(*(timed(client.get_chat_thread_client(t)) for t in threads))
            stop.set()
            return spans, await tick_task

    spans, ticks = asyncio.run(main())
    starts = [span[0] for span in spans]
    ends = [span[1] for span in spans]
    assert max(starts) < min(ends)  # every call overlapped every other
    assert ticks >= 20  # the loop kept running during the 1 s calls
    for (_, _, result), thread_id in zip(spans, threads):
        assert [e["id"] for e in emulator.events(thread_id)] == [result.id]


def test_async_errors_are_the_same_classes(emulator, token, thread_id):
    emulator.fault(thread_id, "typing", status=404, headers={"MS-CV": "async-cv"},
                   body='{"error":{"code":"NotFound","message":"No such thread."}}')

    async def main():
        async with ChatClient(emulator.url, token, retry_total=0) as client:
            thread = client.get_chat_thread_client(thread_id)
            with pytest.raises(ResourceNotFoundError) as info:
                await thread.send_typing_notification()
            with pytest.raises(ValueError):
                await thread.send_message("")
            with pytest.raises(TypeError):
                await thread.send_read_receipt(5)
            return info.value

    err = asyncio.run(main())
    assert (err.status_code, err.error_code, err.request_id) == (404, "NotFound", "async-cv")


def test_async_closed_client_refuses_calls(emulator, token, thread_id):
    async def main():
        client = ChatClient(emulator.url, token)
        thread = client.get_chat_thread_client(thread_id)
        await client.close()
        with pytest.raises(ValueError, match="closed"):
            await thread.send_message("late")

    asyncio.run(main())
    assert emulator.requests(thread_id) == []


def test_async_refresher_runs_on_the_event_loop(emulator, thread_id):
    seen = {}

    async def refresh():
        seen["loop_thread"] = threading.get_ident()
        await asyncio.sleep(0)
        return emulator.token(user="async-refreshed")

    async def main():
        seen["main_thread"] = threading.get_ident()
        async with ChatClient(emulator.url, emulator.token(expires_in=-30), token_refresher=refresh) as client:
            await client.get_chat_thread_client(thread_id).send_typing_notification()

    asyncio.run(main())
    assert seen["loop_thread"] == seen["main_thread"]
    assert emulator.events(thread_id)[0]["user"] == "async-refreshed"


def test_async_raising_refresher(emulator, thread_id):
    async def refresh():
        raise LookupError("no token today")

    async def main():
        async with ChatClient(emulator.url, emulator.token(expires_in=-30), token_refresher=refresh) as client:
            await client.get_chat_thread_client(thread_id).send_message("x")

    with pytest.raises(TokenError) as info:
        asyncio.run(main())
    assert isinstance(info.value.__cause__, LookupError)
    assert "no token today" in info.value.message


def test_async_set_token(emulator, token, thread_id):
    async def main():
        async with ChatClient(emulator.url, token) as client:
            await client.set_token(emulator.token(user="swapped"))
            await client.get_chat_thread_client(thread_id).send_typing_notification()

    asyncio.run(main())
    assert emulator.events(thread_id)[0]["user"] == "swapped"
