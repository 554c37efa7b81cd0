"""The official SDK's surface (azure.communication.chat): CommunicationTokenCredential, the
official keyword arguments, scheme-less endpoints, ChatThreadClient(endpoint, credential,
thread_id), and exceptions that azure-core's ``except`` clauses catch."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

import acs_chat
import acs_chat.aio
from acs_chat import (
    AccessToken,
    ChatClient,
    ChatThreadClient,
    CommunicationTokenCredential,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
)

from conftest import free_port
from test_options import tls_emulator  # noqa: F401 - a fixture


# CommunicationTokenCredential


def test_credential_returns_the_token_and_its_expiry(emulator):
    minted = emulator.mint(expires_in=3600)
    credential = CommunicationTokenCredential(minted["token"])
    token = credential.get_token()
    assert token == AccessToken(minted["token"], minted["expiresOn"])
    assert token.token == minted["token"] and token.expires_on == minted["expiresOn"]
    assert credential.get_token("https://communication.azure.com//.default") is token
    credential.close()
    with CommunicationTokenCredential(minted["token"]) as same:
        assert same.get_token().token == minted["token"]


def test_credential_refuses_what_the_official_one_refuses(emulator):
    with pytest.raises(TypeError):
        CommunicationTokenCredential(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CommunicationTokenCredential("not-a-jwt")
    with pytest.raises(ValueError, match="token_refresher"):
        CommunicationTokenCredential(emulator.token(), proactive_refresh=True)


def test_credential_refreshes_when_under_two_minutes_remain(emulator):
    fresh = emulator.mint(expires_in=3600)
    calls = []

    def refresher():
        calls.append(1)
        return AccessToken(fresh["token"], fresh["expiresOn"])

    credential = CommunicationTokenCredential(emulator.token(expires_in=300), token_refresher=refresher)
    credential.get_token()
    assert calls == []  # 5 minutes left: not yet
    credential = CommunicationTokenCredential(emulator.token(expires_in=60), token_refresher=refresher)
    assert credential.get_token().token == fresh["token"]
    assert credential.get_token().token == fresh["token"]
    assert calls == [1]


def test_credential_refuses_an_expired_refresh(emulator):
    stale = emulator.mint(expires_in=-10)
    credential = CommunicationTokenCredential(
        emulator.token(expires_in=30), token_refresher=lambda: AccessToken(stale["token"], stale["expiresOn"])
    )
    with pytest.raises(ValueError, match="expired"):
        credential.get_token()


def test_credential_refreshes_once_for_concurrent_callers(emulator):
    fresh = emulator.token(expires_in=3600)
    calls = []

    def refresher():
        calls.append(1)
        time.sleep(0.2)
        return fresh

    credential = CommunicationTokenCredential(emulator.token(expires_in=-5), token_refresher=refresher)
    results = []
    threads = [threading.Thread(target=lambda: results.append(credential.get_token().token)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]
    assert results == [fresh] * 8


def test_proactive_credential_refreshes_in_the_background_until_closed(emulator):
    fresh = emulator.token(expires_in=3600)
    refreshed = threading.Event()

    def refresher():
        refreshed.set()
        return fresh

    with CommunicationTokenCredential(
        emulator.token(expires_in=4), token_refresher=refresher, proactive_refresh=True
    ) as credential:
        assert refreshed.wait(10)  # inside the 10-minute window: half the remaining life
        assert credential.get_token().token == fresh
    with pytest.raises(RuntimeError):
        credential.get_token()


def test_client_takes_a_credential_and_calls_it_as_the_refresher(emulator, thread_id):
    fresh = emulator.mint(expires_in=3600, user="new-user")
    calls = []

    def refresher():
        calls.append(1)
        return AccessToken(fresh["token"], fresh["expiresOn"])

    credential = CommunicationTokenCredential(emulator.token(expires_in=60, user="old-user"), token_refresher=refresher)
    with ChatClient(emulator.url, credential=credential) as client:
        client.get_chat_thread_client(thread_id).send_typing_notification()
    assert calls  # the near-expiry token was refreshed through the credential
    assert [e["user"] for e in emulator.events(thread_id)] == ["new-user"]


class ForeignCredential:
    """Anything with the official get_token() shape."""

    def __init__(self, token):
        self.token, self.calls = token, 0

    def get_token(self, *scopes, **kwargs):
        self.calls += 1
        return AccessToken(self.token, int(time.time()) + 3600)


def test_client_takes_any_object_with_get_token(emulator, thread_id, user):
    credential = ForeignCredential(emulator.token(user=user))
    with ChatClient(emulator.url, credential) as client:
        client.get_chat_thread_client(thread_id).send_read_receipt("1")
    assert credential.calls >= 1
    assert [e["user"] for e in emulator.events(thread_id)] == [user]


def test_official_credential_is_accepted(emulator, thread_id, user):
    official = pytest.importorskip("azure.communication.chat")
    with ChatClient(emulator.url, official.CommunicationTokenCredential(emulator.token(user=user))) as client:
        client.get_chat_thread_client(thread_id).send_typing_notification()
    assert [e["user"] for e in emulator.events(thread_id)] == [user]


def test_plain_string_token_and_token_keyword_still_work(emulator, thread_id, token):
    with ChatClient(emulator.url, token) as a, ChatClient(emulator.url, token=token) as b:
        a.get_chat_thread_client(thread_id).send_typing_notification()
        b.get_chat_thread_client(thread_id).send_typing_notification()
    with pytest.raises(TypeError):
        ChatClient(emulator.url, token, token=token)
    with pytest.raises(TypeError):
        ChatClient(emulator.url, ForeignCredential(token), token_refresher=lambda: token)


# aio credential


def test_aio_credential_behaves_as_the_official_one(emulator, thread_id):
    fresh = emulator.mint(expires_in=3600, user="new-user")
    calls = []

    async def refresher():
        calls.append(1)
        return AccessToken(fresh["token"], fresh["expiresOn"])

    async def main():
        with pytest.raises(ValueError):
            acs_chat.aio.CommunicationTokenCredential(emulator.token(), proactive_refresh=True)
        async with acs_chat.aio.CommunicationTokenCredential(
            emulator.token(expires_in=60, user="old-user"), token_refresher=refresher
        ) as credential:
            token = await credential.get_token()
            assert token.token == fresh["token"] and calls == [1]
            stale = acs_chat.aio.CommunicationTokenCredential(
                emulator.token(expires_in=60, user="old-user"), token_refresher=refresher
            )
            async with acs_chat.aio.ChatClient(emulator.url, stale) as client:
                await client.get_chat_thread_client(thread_id).send_typing_notification()
            await stale.close()

    asyncio.run(main())
    assert calls == [1, 1]
    assert [e["user"] for e in emulator.events(thread_id)] == ["new-user"]


# endpoints


def test_endpoint_without_a_scheme_gets_https():
    client = ChatClient("acs-resource.communication.azure.com", _jwt())
    try:
        assert client.endpoint == "https://acs-resource.communication.azure.com"
    finally:
        client.close()


def test_endpoint_without_a_scheme_reaches_an_https_emulator(tls_emulator, thread_id):  # noqa: F811
    server, cert = tls_emulator
    bare = server.url[len("https://"):]
    with ChatClient(bare, server.token(user="bare"), connection_verify=str(cert), retry_total=0) as client:
        client.get_chat_thread_client(thread_id).send_typing_notification()
    assert [e["user"] for e in server.events(thread_id)] == ["bare"]


def _jwt():
    import base64
    import json

    payload = base64.urlsafe_b64encode(json.dumps({"exp": int(time.time()) + 3600}).encode()).rstrip(b"=")
    return "e30." + payload.decode() + ".sig"


# official keywords


def test_user_agent_is_the_application_id(emulator, make_client, thread_id):
    make_client(user_agent="contoso-app/2.1").get_chat_thread_client(thread_id).send_typing_notification()
    assert "contoso-app/2.1" in emulator.events(thread_id)[0]["userAgent"]
    with pytest.raises(TypeError, match="user_agent"):
        make_client(user_agent="a", application_id="b")


def test_retry_backoff_factor_and_retry_total(emulator, make_client, thread_id):
    emulator.fault(thread_id, "typing", count=2, status=503)
    thread = make_client(retry_total=2, retry_backoff=None, retry_backoff_factor=0.3).get_chat_thread_client(thread_id)
    thread.send_typing_notification()
    times = [r["atMs"] for r in emulator.requests(thread_id)]
    assert len(times) == 3
    assert times[1] - times[0] >= 300 * 0.75 and times[2] - times[1] >= 600 * 0.75


def test_retry_mode_fixed_keeps_the_delay_constant(emulator, make_client, thread_id):
    emulator.fault(thread_id, "typing", count=3, status=503)
    thread = make_client(retry_total=3, retry_backoff=None, retry_backoff_factor=0.15,
                         retry_mode="fixed").get_chat_thread_client(thread_id)
    thread.send_typing_notification()
    times = [r["atMs"] for r in emulator.requests(thread_id)]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert len(gaps) == 3 and all(100 <= gap < 400 for gap in gaps), gaps
    make_client(retry_mode="exponential", retry_backoff_max=5)
    make_client(retry_mode="fixed", retry_backoff_factor=2, retry_backoff=None, retry_backoff_max=0.5)
    with pytest.raises(ValueError):
        make_client(retry_mode="linear")


def test_read_timeout_bounds_each_try(emulator, make_client, thread_id):
    emulator.fault(thread_id, "messages", delay_ms=2000)
    thread = make_client(read_timeout=0.3, retry_total=0).get_chat_thread_client(thread_id)
    with pytest.raises(acs_chat.ServiceResponseError) as info:
        thread.send_message("slow")
    assert info.value.result == "ACS_RESULT_TIMEOUT"


def test_connection_timeout_and_retry_backoff_max_are_accepted(make_client):
    make_client(connection_timeout=2, retry_backoff_max=3, logging_enable=False, enforce_https=True,
                headers={}, connection_verify=True)
    with pytest.raises(TypeError, match="connection_timeout"):
        make_client(connection_timeout=2, connect_timeout=2)
    with pytest.raises(ValueError):
        make_client(connection_timeout=-1)


def test_enforce_https_false_allows_a_remote_http_host(token):
    # 192.0.2.1 (TEST-NET-1) is not loopback: refused without the opt-out, attempted with it.
    with pytest.raises(acs_chat.InsecureEndpointError):
        ChatClient("http://192.0.2.1:9", token, retry_total=0)
    with ChatClient("http://192.0.2.1:9", token, retry_total=0, enforce_https=False,
                    connection_timeout=0.2) as relaxed:
        with pytest.raises(ServiceRequestError) as info:
            relaxed.get_chat_thread_client("t").send_typing_notification()
        assert info.value.result in ("ACS_RESULT_CONNECT", "ACS_RESULT_TIMEOUT")


def test_logging_enable_turns_on_the_library_log(make_client, thread_id, caplog):
    try:
        with caplog.at_level(logging.DEBUG, logger="acs_chat"):
            make_client(logging_enable=True).get_chat_thread_client(thread_id).send_typing_notification()
        assert any(r.name == "acs_chat" for r in caplog.records)
    finally:
        acs_chat.disable_logging()


def test_custom_headers_are_refused_unless_empty(make_client, thread_id):
    with pytest.raises(ValueError, match="headers"):
        make_client(headers={"x-custom": "1"})
    thread = make_client().get_chat_thread_client(thread_id)
    thread.send_typing_notification(headers={})
    with pytest.raises(ValueError, match="headers"):
        thread.send_typing_notification(headers={"x-custom": "1"})


def test_connection_verify_false_is_refused(make_client):
    with pytest.raises(ValueError, match="connection_verify"):
        make_client(connection_verify=False)


def test_official_per_call_keywords(emulator, make_client, thread_id):
    thread = make_client().get_chat_thread_client(thread_id)
    result = thread.send_message("hi", enforce_https=False, logging_enable=False, headers=None)
    thread.send_typing_notification(enforce_https=False)
    thread.send_read_receipt(result.id, logging_enable=False)
    assert [e["op"] for e in emulator.events(thread_id)] == ["message", "typing", "readReceipt"]
    with pytest.raises(TypeError, match="total_timeout"):
        thread.send_message("hi", timeout=5)
    with pytest.raises(TypeError, match="'retry_on_status_codes'"):
        thread.send_typing_notification(retry_on_status_codes=[500])


@pytest.mark.parametrize("name", ["transport", "policies", "per_retry_policies", "proxies", "retries"])
def test_unknown_keywords_are_type_errors_naming_them(emulator, token, name):
    with pytest.raises(TypeError, match=name):
        ChatClient(emulator.url, token, **{name: None})
    with pytest.raises(TypeError, match=name):
        acs_chat.aio.ChatClient(emulator.url, token, **{name: None})


def test_aio_takes_the_official_keywords(emulator, token, thread_id):
    async def main():
        async with acs_chat.aio.ChatClient(emulator.url, token, user_agent="aio-app", retry_backoff_factor=0.1,
                                           connection_timeout=5, read_timeout=5, logging_enable=False) as client:
            thread = client.get_chat_thread_client(thread_id)
            await thread.send_typing_notification(headers={})
            with pytest.raises(TypeError, match="bogus"):
                await thread.send_read_receipt("1", bogus=1)

    asyncio.run(main())
    assert "aio-app" in emulator.events(thread_id)[0]["userAgent"]


# ChatThreadClient, the official way


def test_chat_thread_client_the_official_way(emulator, thread_id, user):
    credential = CommunicationTokenCredential(emulator.token(user=user))
    with ChatThreadClient(emulator.url, credential, thread_id, retry_total=1) as thread:
        assert thread.thread_id == thread_id
        result = thread.send_message("hello", sender_display_name="Ada")
        thread.send_read_receipt(result.id)
    with pytest.raises(ValueError):
        thread.send_typing_notification()  # its own client is closed
    assert [e["op"] for e in emulator.events(thread_id)] == ["message", "readReceipt"]


def test_closing_a_borrowed_thread_client_leaves_the_chat_client_open(client, thread_id):
    with client.get_chat_thread_client(thread_id) as thread:
        thread.send_typing_notification()
    client.get_chat_thread_client(thread_id).send_typing_notification()


def test_aio_chat_thread_client_the_official_way(emulator, thread_id, user):
    async def main():
        credential = acs_chat.aio.CommunicationTokenCredential(emulator.token(user=user))
        async with acs_chat.aio.ChatThreadClient(emulator.url, credential, thread_id) as thread:
            result = await thread.send_message("hello")
            await thread.send_read_receipt(result.id)
        with pytest.raises(ValueError):
            await thread.send_typing_notification()
        async with acs_chat.aio.ChatClient(emulator.url, credential) as client:
            async with client.get_chat_thread_client(thread_id) as borrowed:
                await borrowed.send_typing_notification()
            await client.get_chat_thread_client(thread_id).send_typing_notification()

    asyncio.run(main())
    assert [e["op"] for e in emulator.events(thread_id)] == ["message", "readReceipt", "typing", "typing"]


# errors


def test_errors_carry_the_azure_core_attributes(emulator, make_client, thread_id):
    emulator.fault(thread_id, "typing", status=404, body='{"error":{"code":"NotFound","message":"no thread"}}')
    with pytest.raises(ResourceNotFoundError) as info:
        make_client(retry_total=0).get_chat_thread_client(thread_id).send_typing_notification()
    err = info.value
    assert err.status_code == 404 and err.reason == "Not Found"
    assert err.error.code == "NotFound" and err.error.message == err.message
    assert err.response is None


def test_except_azure_core_http_response_error_catches_ours(emulator, make_client, thread_id):
    exceptions = pytest.importorskip("azure.core.exceptions")
    assert acs_chat.AZURE_CORE
    emulator.fault(thread_id, "typing", status=429, headers={"Retry-After": "1"})
    try:
        make_client(retry_total=0).get_chat_thread_client(thread_id).send_typing_notification()
    except exceptions.HttpResponseError as err:
        assert isinstance(err, HttpResponseError) and err.status_code == 429
        assert err.reason == "Too Many Requests"
    else:
        pytest.fail("no error")
    assert issubclass(acs_chat.ClientAuthenticationError, exceptions.ClientAuthenticationError)
    assert issubclass(acs_chat.TokenError, exceptions.ClientAuthenticationError)
    assert issubclass(acs_chat.ResourceNotFoundError, exceptions.ResourceNotFoundError)
    assert issubclass(acs_chat.ServiceRequestError, exceptions.ServiceRequestError)
    assert issubclass(acs_chat.InsecureEndpointError, exceptions.ServiceRequestError)
    assert issubclass(acs_chat.ServiceResponseError, exceptions.ServiceResponseError)
    port = free_port()
    with pytest.raises(exceptions.ServiceRequestError):
        make_client(endpoint=f"http://127.0.0.1:{port}", retry_total=0).get_chat_thread_client("t").send_typing_notification()


def test_send_message_result_carries_success_details(make_client, thread_id):
    result = make_client().get_chat_thread_client(thread_id).send_message("hi")
    assert result.status_code == 201 and result.request_id


def test_aio_send_message_result_carries_success_details(emulator, token, thread_id):
    async def main():
        async with acs_chat.aio.ChatClient(emulator.url, token) as client:
            return await client.get_chat_thread_client(thread_id).send_message("hi")

    result = asyncio.run(main())
    assert result.status_code == 201 and result.request_id
    assert result == acs_chat.SendChatMessageResult(result.id)  # compared by id only


def test_aio_per_call_timeout_is_a_deadline(emulator, token, thread_id):
    emulator.fault(thread_id, "messages", delay_ms=1500)
    emulator.fault(thread_id, "typing", delay_ms=1500)

    async def main():
        async with acs_chat.aio.ChatClient(emulator.url, token, retry_total=0) as client:
            thread = client.get_chat_thread_client(thread_id)
            started = time.monotonic()
            with pytest.raises(acs_chat.ServiceResponseError) as info:
                await thread.send_message("slow", timeout=0.3)
            assert time.monotonic() - started < 1.2
            assert info.value.result == "ACS_RESULT_TIMEOUT"
            assert info.value.may_have_been_delivered  # it was written: the emulator stored it
            with pytest.raises(acs_chat.ServiceResponseError) as typing_info:
                await thread.send_typing_notification(timeout=0.3)
            assert typing_info.value.result == "ACS_RESULT_TIMEOUT"
            result = await thread.send_message("fast", timeout=10)  # the fault is spent
            await thread.send_read_receipt(result.id, timeout=10)
            with pytest.raises(ValueError):
                await thread.send_read_receipt(result.id, timeout=0)
            with pytest.raises(TypeError):
                await thread.send_read_receipt(result.id, timeout="1")

    asyncio.run(main())


def test_aio_per_call_timeout_still_propagates_the_callers_cancellation(emulator, token, thread_id):
    emulator.fault(thread_id, "messages", delay_ms=1500)

    async def main():
        async with acs_chat.aio.ChatClient(emulator.url, token, retry_total=0) as client:
            thread = client.get_chat_thread_client(thread_id)
            caught = []

            async def send():
                try:
                    await thread.send_message("slow", timeout=30)
                except asyncio.CancelledError as exc:  # read inside the task: see CallCancelledError
                    caught.append(exc)
                    raise

            task = asyncio.ensure_future(send())
            await asyncio.sleep(0.3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert len(caught) == 1 and caught[0].may_have_been_delivered

    asyncio.run(main())


def test_an_async_credential_is_refused_by_the_blocking_client(emulator, token):
    with pytest.raises(TypeError, match="acs_chat.aio"):
        ChatClient(emulator.url, acs_chat.aio.CommunicationTokenCredential(token))
