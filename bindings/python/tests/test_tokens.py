"""The token refresher: a Python callable behind a C callback."""

from __future__ import annotations

import gc
import threading
import time
from collections import namedtuple

import pytest

from acs_chat import ChatClient, ClientAuthenticationError, TokenError

AccessToken = namedtuple("AccessToken", ["token", "expires_on"])


class Refresher:
    """Counts calls and records the OS thread each ran on."""

    def __init__(self, produce):
        self.produce = produce
        self.calls = 0
        self.threads = []

    def __call__(self):
        self.calls += 1
        self.threads.append(threading.get_ident())
        return self.produce()


def test_expired_token_is_refreshed_before_the_call(emulator, thread_id):
    refresher = Refresher(lambda: emulator.token(user="refreshed-user"))
    with ChatClient(emulator.url, emulator.token(expires_in=-30), token_refresher=refresher) as client:
        thread = client.get_chat_thread_client(thread_id)
        thread.send_message("first")
        thread.send_message("second")
    assert refresher.calls == 1  # the fresh token lasts an hour
    assert refresher.threads == [threading.get_ident()]  # on the calling thread
    assert [e["user"] for e in emulator.events(thread_id)] == ["refreshed-user", "refreshed-user"]


def test_refresher_may_return_an_access_token_object(emulator, thread_id):
    def refresh():
        minted = emulator.mint(user="object-user")
        return AccessToken(minted["token"], minted["expiresOn"])

    with ChatClient(emulator.url, emulator.token(expires_in=-30), token_refresher=refresh) as client:
        client.get_chat_thread_client(thread_id).send_typing_notification()
    assert emulator.events(thread_id)[0]["user"] == "object-user"


def test_refresher_supplies_the_first_token(emulator, thread_id):
    refresher = Refresher(lambda: emulator.token(user="initial-user"))
    with ChatClient(emulator.url, None, token_refresher=refresher) as client:
        client.get_chat_thread_client(thread_id).send_typing_notification()
    assert refresher.calls == 1
    assert emulator.events(thread_id)[0]["user"] == "initial-user"


def test_token_near_expiry_is_refreshed_on_demand(emulator, thread_id):
    refresher = Refresher(lambda: emulator.token(user="new-user"))
    with ChatClient(emulator.url, emulator.token(expires_in=60, user="old-user"), token_refresher=refresher) as client:
        client.get_chat_thread_client(thread_id).send_typing_notification()
    assert refresher.calls == 1  # under 2 minutes left
    assert emulator.events(thread_id)[0]["user"] == "new-user"


@pytest.mark.parametrize(("proactive", "expected_calls", "expected_user"), [(False, 0, "old-user"), (True, 1, "new-user")])
def test_proactive_refresh_starts_ten_minutes_before_expiry(emulator, thread_id, proactive, expected_calls,
                                                           expected_user):
    refresher = Refresher(lambda: emulator.token(user="new-user"))
    minted = emulator.mint(expires_in=601, user="old-user")
    with ChatClient(emulator.url, minted["token"], token_refresher=refresher, proactive_refresh=proactive) as client:
        # Wait until under 10 minutes remain (still far from the 2-minute on-demand window).
        while time.time() < minted["expiresOn"] - 600 + 0.05:
            time.sleep(0.05)
        client.get_chat_thread_client(thread_id).send_typing_notification()
    assert refresher.calls == expected_calls
    assert emulator.events(thread_id)[0]["user"] == expected_user


def test_refresher_is_called_after_a_401_and_the_call_succeeds(emulator, thread_id):
    refresher = Refresher(lambda: emulator.token(user="after-401"))
    with ChatClient(emulator.url, emulator.token(user="before"), token_refresher=refresher,
                    retry_backoff=0.01) as client:
        emulator.fault(thread_id, "messages", status=401, body="")
        result = client.get_chat_thread_client(thread_id).send_message("x")
    assert refresher.calls == 1
    assert [r["status"] for r in emulator.requests(thread_id)] == [401, 201]
    assert [(e["id"], e["user"]) for e in emulator.events(thread_id)] == [(result.id, "after-401")]


def test_401_without_refresher_is_raised(emulator, make_client, thread_id):
    emulator.fault(thread_id, "messages", status=401, body="")
    with pytest.raises(ClientAuthenticationError) as info:
        make_client().get_chat_thread_client(thread_id).send_message("x")
    assert info.value.status_code == 401
    assert len(emulator.requests(thread_id)) == 1


class RefresherBroke(RuntimeError):
    pass


def test_raising_refresher_becomes_token_error_with_cause(emulator, thread_id):
    def refresh():
        raise RefresherBroke("identity service unreachable")

    with ChatClient(emulator.url, emulator.token(expires_in=-30), token_refresher=refresh) as client:
        thread = client.get_chat_thread_client(thread_id)
        for _ in range(2):  # the client stays usable after a failed refresh
            with pytest.raises(TokenError) as info:
                thread.send_message("never sent")
            err = info.value
            assert err.result == "ACS_RESULT_TOKEN"
            assert isinstance(err, ClientAuthenticationError)
            assert "identity service unreachable" in err.message
            assert "RefresherBroke" in err.message
            assert isinstance(err.__cause__, RefresherBroke)
            assert err.status_code is None
    assert emulator.requests(thread_id) == []


def test_refresher_returning_garbage_becomes_token_error(emulator, thread_id):
    with ChatClient(emulator.url, emulator.token(expires_in=-30), token_refresher=lambda: 42) as client:
        with pytest.raises(TokenError) as info:
            client.get_chat_thread_client(thread_id).send_typing_notification()
    assert isinstance(info.value.__cause__, TypeError)
    assert "int" in info.value.message


def test_refresher_returning_an_expired_token_fails_without_a_loop(emulator, thread_id):
    refresher = Refresher(lambda: emulator.token(expires_in=-5))
    with ChatClient(emulator.url, emulator.token(expires_in=-30), token_refresher=refresher) as client:
        with pytest.raises(TokenError) as info:
            client.get_chat_thread_client(thread_id).send_read_receipt("1")
    assert info.value.__cause__ is None  # the refresher itself did not fail
    assert 1 <= refresher.calls <= 2
    assert emulator.requests(thread_id) == []


def test_keyboard_interrupt_in_the_refresher_propagates(emulator, thread_id):
    def refresh():
        raise KeyboardInterrupt

    with ChatClient(emulator.url, emulator.token(expires_in=-30), token_refresher=refresh) as client:
        with pytest.raises(KeyboardInterrupt):
            client.get_chat_thread_client(thread_id).send_typing_notification()


def test_refresher_stays_alive_as_long_as_the_client(emulator, thread_id):
    """The refresher is referenced only by the client; collecting garbage must not free its
    C callback while the client may still call it."""
    client = ChatClient(emulator.url, emulator.token(expires_in=60), token_refresher=Refresher(
        lambda: emulator.token(user="kept-alive")))
    gc.collect()
    client.get_chat_thread_client(thread_id).send_typing_notification()
    assert emulator.events(thread_id)[0]["user"] == "kept-alive"
    client.close()


def test_refreshes_are_serialized_across_threads(emulator, thread_id):
    """Many threads needing a token at once: one refresh at a time, all calls succeed."""
    emulator.limits(False)
    lock_held = threading.Lock()
    overlapping = []

    def refresh():
        if not lock_held.acquire(blocking=False):
            overlapping.append(True)
            return emulator.token(user="serial")
        try:
            return emulator.token(user="serial")
        finally:
            lock_held.release()

    refresher = Refresher(refresh)
    errors = []
    try:
        with ChatClient(emulator.url, emulator.token(expires_in=-30), token_refresher=refresher) as client:
            thread = client.get_chat_thread_client(thread_id)
            barrier = threading.Barrier(8)

            def work():
                barrier.wait()
                try:
                    thread.send_typing_notification()
                except Exception as exc:  # noqa: BLE001
                    errors.append(exc)

            workers = [threading.Thread(target=work) for _ in range(8)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
    finally:
        emulator.limits(True)
    assert errors == []
    assert overlapping == []
    assert 1 <= refresher.calls <= 8
    assert {e["user"] for e in emulator.events(thread_id)} == {"serial"}
