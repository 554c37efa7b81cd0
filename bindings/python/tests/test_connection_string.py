"""Clients from a connection string: the signatures the library sends, checked here with
Python's own hmac over the documented string to sign, and tokens refreshed through the
identity service."""

import asyncio
import base64
import hashlib
import hmac
import time
import urllib.parse
from typing import Any, Dict, Iterator, List

import pytest

import acs_chat
import acs_chat.aio
from acs_chat import ChatClient, ClientAuthenticationError, ResourceNotFoundError
from acs_chat._errors import InsecureEndpointError, TokenError

from conftest import Emulator

KEY = base64.b64encode(b"a key for the python connection-string tests").decode()


@pytest.fixture(scope="module")
def identity() -> Iterator[Emulator]:
    instance = Emulator(["--access-key", KEY, "--no-limits"])
    try:
        yield instance
    finally:
        instance.stop()


def conn(emulator: Emulator, key: str = KEY) -> str:
    return f"endpoint={emulator.url}/;accesskey={key}"


def identity_requests(emulator: Emulator) -> List[Dict[str, Any]]:
    return emulator.call("GET", "/_emulator/identity/requests")["requests"]


def issued(emulator: Emulator) -> int:
    return sum(1 for r in identity_requests(emulator) if r["op"] == "issueAccessToken" and r["status"] == 200)


def set_token_seconds(emulator: Emulator, seconds: Any) -> None:
    emulator.call("POST", "/_emulator/identity", {"tokenSeconds": seconds})


def test_signatures_match_an_independent_hmac(identity: Emulator, thread_id: str) -> None:
    with ChatClient.from_connection_string(conn(identity), allow_insecure_http=False) as client:
        user = client.user_id
        assert user is not None and user.startswith("8:acs:")
        client.get_chat_thread_client(thread_id).send_typing_notification()
    with ChatClient.from_connection_string(conn(identity), user) as again:
        assert again.user_id == user
    requests = [r for r in identity_requests(identity) if user in (r["userId"] or "")]
    assert [r["op"] for r in requests] == ["createUser", "issueAccessToken"]
    host = urllib.parse.urlsplit(identity.url).netloc
    secret = base64.b64decode(KEY)
    for r in requests:
        assert r["status"] in (200, 201), r
        assert r["host"] == host
        assert r["signedHeaders"] == "x-ms-date;host;x-ms-content-sha256"
        content_hash = base64.b64encode(hashlib.sha256(r["body"].encode()).digest()).decode()
        assert r["contentSha256"] == content_hash
        string_to_sign = f"POST\n{r['pathAndQuery']}\n{r['date']};{host};{content_hash}"
        expected = base64.b64encode(hmac.new(secret, string_to_sign.encode(), hashlib.sha256).digest()).decode()
        assert r["signature"] == expected
        # The date is an HTTP date close to now.
        sent = time.mktime(time.strptime(r["date"], "%a, %d %b %Y %H:%M:%S GMT")) - time.timezone
        assert abs(sent - time.time()) < 60
    assert requests[0]["pathAndQuery"] == "/identities?api-version=2023-10-01"
    assert requests[1]["pathAndQuery"] == (
        f"/identities/{urllib.parse.quote(user, safe='')}/:issueAccessToken?api-version=2023-10-01"
    )
    assert identity.events(thread_id)[0]["user"] == user[len("8:") :]


def test_tokens_expire_and_are_refreshed(identity: Emulator, thread_id: str) -> None:
    set_token_seconds(identity, 2)
    try:
        with ChatClient.from_connection_string(conn(identity), retry_backoff=0.01) as client:
            thread = client.get_chat_thread_client(thread_id)
            before = issued(identity)
            thread.send_typing_notification()  # 2 s left: refreshed on demand first
            assert issued(identity) == before + 1
            thread.send_typing_notification()  # just refreshed, still valid
            assert issued(identity) == before + 1
            time.sleep(2.1)
            thread.send_typing_notification()  # expired: refreshed again
            assert issued(identity) == before + 2
            set_token_seconds(identity, None)
            time.sleep(2.1)
            thread.send_typing_notification()
            assert issued(identity) == before + 3
            identity.fault(thread_id, "messages", status=401, body='{"error":{"code":"Unauthorized","message":"x"}}')
            assert thread.send_message("after a 401").id
            assert issued(identity) == before + 4
    finally:
        set_token_seconds(identity, None)
    statuses = [r["status"] for r in identity.requests(thread_id) if r["op"] == "messages"]
    assert statuses == [401, 201]


def test_an_expired_token_from_the_service_is_a_token_error(identity: Emulator) -> None:
    set_token_seconds(identity, -10)
    try:
        with pytest.raises(TokenError, match="expired"):
            ChatClient.from_connection_string(conn(identity))
    finally:
        set_token_seconds(identity, None)


def test_failures(identity: Emulator) -> None:
    wrong = base64.b64encode(b"not the resource's key").decode()
    with pytest.raises(ClientAuthenticationError) as caught:
        ChatClient.from_connection_string(conn(identity, wrong))
    assert caught.value.error_code == "Denied"
    assert wrong not in str(caught.value)
    with pytest.raises(ResourceNotFoundError):
        ChatClient.from_connection_string(conn(identity), "8:acs:nobody")
    for bad in ["", f"accesskey={KEY}", f"endpoint={identity.url}/", f"endpoint={identity.url}/;accesskey=%%"]:
        with pytest.raises(ValueError) as caught:
            ChatClient.from_connection_string(bad)
        assert KEY not in str(caught.value)
    with pytest.raises(InsecureEndpointError):
        ChatClient.from_connection_string(f"endpoint=http://example.com/;accesskey={KEY}")
    with pytest.raises(TypeError, match="token_refresher"):
        ChatClient.from_connection_string(conn(identity), token_refresher=lambda: "x")
    with pytest.raises(TypeError):
        ChatClient.from_connection_string(None)  # type: ignore[arg-type]


def test_a_client_given_its_token_has_no_user_id(make_client: Any) -> None:
    with make_client() as client:
        assert client.user_id is None


def test_aio(identity: Emulator, thread_id: str) -> None:
    async def main() -> str:
        async with acs_chat.aio.ChatClient.from_connection_string(conn(identity)) as client:
            assert client.user_id is not None
            await client.get_chat_thread_client(thread_id).send_typing_notification()
            return client.user_id

    user = asyncio.run(main())
    assert identity.events(thread_id)[0]["user"] == user[len("8:") :]
