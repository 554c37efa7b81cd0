"""The three operations and what they put on the wire."""

from __future__ import annotations

import re

import pytest

from acs_chat import ChatClient, ChatMessageType, ChatThreadClient, SendChatMessageResult


def test_send_message_returns_the_id_the_service_stored(emulator, thread, thread_id, user):
    result = thread.send_message("hello there")
    assert isinstance(result, SendChatMessageResult)
    events = emulator.events(thread_id)
    assert len(events) == 1
    event = events[0]
    assert event["op"] == "message"
    assert event["id"] == result.id
    assert event["content"] == "hello there"
    assert event["type"] == "text"
    assert event["senderDisplayName"] is None
    assert event["metadata"] is None
    assert event["user"] == user


def test_default_request_headers(emulator, thread, thread_id):
    thread.send_message("hi")
    thread.send_typing_notification()
    thread.send_read_receipt("1")
    requests = emulator.requests(thread_id)
    assert [r["op"] for r in requests] == ["messages", "typing", "readReceipts"]
    for request in requests:
        assert request["apiVersion"] == "2025-03-15"
        assert request["authorization"] == "Bearer"
        assert request["contentType"].split(";")[0] == "application/json"
        assert request["accept"] == "application/json"
        assert request["clientRequestId"]
        assert request["fault"] is False
    assert [r["status"] for r in requests] == [201, 200, 200]
    assert len({r["clientRequestId"] for r in requests}) == 3


def test_every_message_option_reaches_the_service(emulator, thread, thread_id):
    result = thread.send_message(
        "<b>bold</b>",
        chat_message_type=ChatMessageType.HTML,
        sender_display_name="Ada Lovelace",
        metadata={"tag": "demo", "empty": "", "ünï": "côdé"},
    )
    (event,) = emulator.events(thread_id)
    assert event["id"] == result.id
    assert event["content"] == "<b>bold</b>"
    assert event["type"] == "html"
    assert event["senderDisplayName"] == "Ada Lovelace"
    assert event["metadata"] == {"tag": "demo", "empty": "", "ünï": "côdé"}


@pytest.mark.parametrize(
    ("given", "expected"),
    [("html", "html"), ("HTML", "html"), ("Text", "text"), (ChatMessageType.TEXT, "text"), (None, "text")],
)
def test_message_type_accepts_strings_like_the_official_sdk(emulator, thread, thread_id, given, expected):
    thread.send_message("x", chat_message_type=given)
    assert emulator.events(thread_id)[0]["type"] == expected


def test_typing_with_and_without_a_name(emulator, thread, thread_id):
    assert thread.send_typing_notification() is None
    assert thread.send_typing_notification(sender_display_name="Grace") is None
    events = emulator.events(thread_id)
    assert [e["op"] for e in events] == ["typing", "typing"]
    assert events[0]["senderDisplayName"] is None
    assert events[1]["senderDisplayName"] == "Grace"


def test_read_receipt_names_the_message(emulator, thread, thread_id):
    sent = thread.send_message("read me")
    assert thread.send_read_receipt(sent.id) is None
    events = emulator.events(thread_id)
    assert events[1]["op"] == "readReceipt"
    assert events[1]["chatMessageId"] == sent.id


def test_unicode_content_round_trips(emulator, thread, thread_id):
    content = "Grüße 👋 — 你好\nsecond line\t\"quoted\" \\ backslash"
    thread.send_message(content)
    assert emulator.events(thread_id)[0]["content"] == content


def test_thread_id_is_one_path_segment(emulator, client):
    tricky = "a/b?c#d e%2F"
    thread = client.get_chat_thread_client(tricky)
    thread.send_message("routed")
    assert [e["content"] for e in emulator.events(tricky)] == ["routed"]
    assert emulator.events("a") == []


def test_thread_clients_share_the_client(emulator, client, thread_id):
    first = client.get_chat_thread_client(thread_id)
    second = client.get_chat_thread_client(thread_id)
    assert isinstance(first, ChatThreadClient)
    assert first.thread_id == thread_id
    first.send_message("one")
    second.send_message("two")
    assert [e["content"] for e in emulator.events(thread_id)] == ["one", "two"]


def test_message_ids_are_distinct(emulator, make_client, thread_id):
    emulator.limits(False)
    try:
        thread = make_client().get_chat_thread_client(thread_id)
        ids = [thread.send_message(f"m{i}").id for i in range(25)]
    finally:
        emulator.limits(True)
    assert len(set(ids)) == 25
    assert [e["id"] for e in emulator.events(thread_id)] == ids


def test_api_version_option(emulator, make_client, thread_id):
    thread = make_client(api_version="2024-03-07").get_chat_thread_client(thread_id)
    thread.send_message("x")
    thread.send_typing_notification()
    assert [r["apiVersion"] for r in emulator.requests(thread_id)] == ["2024-03-07", "2024-03-07"]


def test_application_id_goes_into_the_user_agent(emulator, make_client, thread_id, user):
    make_client(application_id="contoso-app/2.1").get_chat_thread_client(thread_id).send_message("x")
    make_client().get_chat_thread_client(thread_id).send_message("y")
    with_id, without = emulator.requests(thread_id)
    assert "contoso-app/2.1" in with_id["userAgent"]
    assert "contoso-app" not in without["userAgent"]
    assert re.search(r"acs[-_]chat", without["userAgent"], re.I)
    events = emulator.events(thread_id)
    assert "contoso-app/2.1" in events[0]["userAgent"]


def test_set_token_switches_the_user(emulator, client, thread_id):
    thread = client.get_chat_thread_client(thread_id)
    thread.send_message("as first user")
    client.set_token(emulator.token(user="second-user"))
    thread.send_message("as second user")
    events = emulator.events(thread_id)
    assert events[1]["user"] == "second-user"
    assert events[0]["user"] != "second-user"


def test_set_token_accepts_an_access_token_object(emulator, client, thread_id):
    class AccessToken:
        def __init__(self, token, expires_on):
            self.token = token
            self.expires_on = expires_on

    minted = emulator.mint(user="object-user")
    client.set_token(AccessToken(minted["token"], minted["expiresOn"]))
    client.get_chat_thread_client(thread_id).send_typing_notification()
    assert emulator.events(thread_id)[0]["user"] == "object-user"


def test_context_manager_closes(emulator, token, thread_id):
    with ChatClient(emulator.url, token) as client:
        thread = client.get_chat_thread_client(thread_id)
        thread.send_message("inside")
        assert not client.closed
    assert client.closed
    with pytest.raises(ValueError, match="closed"):
        thread.send_message("after")
    with pytest.raises(ValueError, match="closed"):
        client.set_token(token)
    client.close()  # idempotent
    assert [e["content"] for e in emulator.events(thread_id)] == ["inside"]


def test_repr_names_endpoint_and_thread(emulator, client, thread_id):
    assert emulator.url in repr(client)
    assert thread_id in repr(client.get_chat_thread_client(thread_id))
