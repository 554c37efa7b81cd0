"""Every exception class and every attribute, from real and scripted failures."""

from __future__ import annotations

import base64
import json
import pickle
import socket
import time

import pytest

import acs_chat
from acs_chat import (
    AcsChatError,
    ClientAuthenticationError,
    ForbiddenError,
    HttpResponseError,
    InsecureEndpointError,
    InvalidArgumentError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
    ThrottledError,
    TokenError,
)

from conftest import free_port


def error_body(code: str, message: str) -> str:
    return json.dumps({"error": {"code": code, "message": message}})


@pytest.mark.parametrize(
    ("status", "code", "cls", "result"),
    [
        (401, "Unauthorized", ClientAuthenticationError, "ACS_RESULT_UNAUTHORIZED"),
        (403, "Forbidden", ForbiddenError, "ACS_RESULT_FORBIDDEN"),
        (404, "NotFound", ResourceNotFoundError, "ACS_RESULT_NOT_FOUND"),
        (400, "BadRequest", HttpResponseError, "ACS_RESULT_BAD_REQUEST"),
        (409, "Conflict", HttpResponseError, "ACS_RESULT_BAD_REQUEST"),
    ],
)
def test_error_status_maps_to_class_and_attributes(emulator, make_client, thread_id, status, code, cls, result):
    thread = make_client(retry_total=0).get_chat_thread_client(thread_id)
    emulator.fault(
        thread_id,
        "messages",
        status=status,
        headers={"MS-CV": f"cv-{status}", "Content-Type": "application/json"},
        body=error_body(code, f"The service says {code}."),
    )
    with pytest.raises(cls) as info:
        thread.send_message("x")
    err = info.value
    assert type(err) is cls
    assert isinstance(err, HttpResponseError) and isinstance(err, AcsChatError)
    assert err.result == result
    assert err.result_code == acs_chat._errors.RESULT_VALUES[result]
    assert err.status_code == status
    assert err.error_code == code
    assert f"The service says {code}." in err.message
    assert str(err) == err.message
    assert err.request_id == f"cv-{status}"
    assert err.retry_after is None
    assert err.may_have_been_delivered is False
    assert emulator.events(thread_id) == []


def test_pascal_case_error_body(emulator, make_client, thread_id):
    thread = make_client(retry_total=0).get_chat_thread_client(thread_id)
    body = json.dumps({"CommunicationError": {"Code": "Forbidden", "Message": "Not a participant.", "Details": []}})
    emulator.fault(thread_id, "typing", status=403, body=body, headers={"Content-Type": "application/json"})
    with pytest.raises(ForbiddenError) as info:
        thread.send_typing_notification()
    assert info.value.error_code == "Forbidden"
    assert "Not a participant." in info.value.message


def test_unreadable_error_bodies_still_report_the_status(emulator, make_client, thread_id):
    thread = make_client(retry_total=0).get_chat_thread_client(thread_id)
    emulator.fault(thread_id, "readReceipts", status=401, body="")
    emulator.fault(thread_id, "readReceipts", status=403, body="<html><body>Gateway says no</body></html>",
                   headers={"Content-Type": "text/html"})
    with pytest.raises(ClientAuthenticationError) as empty:
        thread.send_read_receipt("1")
    assert empty.value.status_code == 401
    assert empty.value.error_code is None
    assert empty.value.message
    with pytest.raises(ForbiddenError) as html:
        thread.send_read_receipt("1")
    assert html.value.status_code == 403
    assert html.value.error_code is None
    assert html.value.message


def test_real_400_from_the_service(emulator, make_client, thread_id):
    thread = make_client(api_version="1999-01-01").get_chat_thread_client(thread_id)
    with pytest.raises(HttpResponseError) as info:
        thread.send_message("x")
    err = info.value
    assert type(err) is HttpResponseError
    assert (err.result, err.status_code, err.error_code) == ("ACS_RESULT_BAD_REQUEST", 400, "UnsupportedApiVersion")
    assert "1999-01-01" in err.message
    assert err.request_id  # the emulator's MS-CV
    assert len(emulator.requests(thread_id)) == 1  # 4xx is not retried


def test_token_without_expiry_is_refused(emulator, make_client, thread_id):
    def part(value):
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    token = f"{part({'alg': 'none'})}.{part({'skypeid': 'x'})}.sig"
    with pytest.raises(ClientAuthenticationError) as info:
        client = make_client(token_=token, retry_total=0)  # refused here (TokenError) ...
        client.get_chat_thread_client(thread_id).send_message("x")  # ... or by the service (401)
    err = info.value
    if err.result == "ACS_RESULT_TOKEN":
        assert type(err) is TokenError and err.status_code is None
        assert emulator.requests(thread_id) == []
    else:
        assert (err.status_code, err.error_code) == (401, "Unauthorized")
    assert token not in err.message


def test_throttled_with_retry_after_from_the_real_limits(emulator, make_client, thread_id):
    thread = make_client(retry_total=0).get_chat_thread_client(thread_id)
    sent = 0
    with pytest.raises(ThrottledError) as info:
        for _ in range(40):
            thread.send_message("flood")
            sent += 1
    assert sent == 10  # the service's limit: 10 messages per thread per 10 s
    err = info.value
    assert err.result == "ACS_RESULT_THROTTLED"
    assert err.status_code == 429
    assert err.error_code == "TooManyRequests"
    assert err.retry_after is not None and 1.0 <= err.retry_after <= 10.0
    assert err.retry_after == int(err.retry_after)  # Retry-After is whole seconds
    assert err.may_have_been_delivered is False


def test_throttled_is_retried_then_raised(emulator, make_client, thread_id):
    thread = make_client(retry_total=2).get_chat_thread_client(thread_id)
    emulator.fault(thread_id, "typing", count=3, status=429, headers={"Retry-After": "0"},
                   body=error_body("TooManyRequests", "Slow down."))
    with pytest.raises(ThrottledError) as info:
        thread.send_typing_notification()
    assert info.value.status_code == 429
    assert [r["status"] for r in emulator.requests(thread_id)] == [429, 429, 429]


def test_retry_after_ms_header_is_reported_in_seconds(emulator, make_client, thread_id):
    thread = make_client(retry_total=0).get_chat_thread_client(thread_id)
    emulator.fault(thread_id, "typing", status=429, headers={"retry-after-ms": "1500"},
                   body=error_body("TooManyRequests", "Slow down."))
    with pytest.raises(ThrottledError) as info:
        thread.send_typing_notification()
    assert info.value.retry_after == 1.5


def test_service_error_after_retries(emulator, make_client, thread_id):
    thread = make_client(retry_total=2).get_chat_thread_client(thread_id)
    emulator.fault(thread_id, "messages", count=3, status=503,
                   body=error_body("ServiceUnavailable", "Try later."), headers={"Content-Type": "application/json"})
    with pytest.raises(HttpResponseError) as info:
        thread.send_message("x")
    err = info.value
    assert type(err) is HttpResponseError
    assert (err.result, err.status_code, err.error_code) == ("ACS_RESULT_SERVICE_ERROR", 503, "ServiceUnavailable")
    assert err.may_have_been_delivered is False  # answered with an error status: not applied
    requests = emulator.requests(thread_id)
    assert [r["status"] for r in requests] == [503, 503, 503]
    assert len({r["clientRequestId"] for r in requests}) == 1  # one call, one client request id
    assert emulator.events(thread_id) == []


def test_connect_refused_is_a_service_request_error(make_client):
    port = free_port()
    thread = make_client(endpoint=f"http://127.0.0.1:{port}", retry_total=1).get_chat_thread_client("t")
    with pytest.raises(ServiceRequestError) as info:
        thread.send_message("x")
    err = info.value
    assert type(err) is ServiceRequestError
    assert err.result == "ACS_RESULT_CONNECT"
    assert err.status_code is None
    assert err.error_code is None
    assert err.retry_after is None
    assert err.message
    assert err.may_have_been_delivered is False


def test_timeout_is_a_service_response_error(emulator, make_client, thread_id):
    thread = make_client(timeout=0.3, retry_total=2).get_chat_thread_client(thread_id)
    emulator.fault(thread_id, "messages", delay_ms=2000)
    started = time.monotonic()
    with pytest.raises(ServiceResponseError) as info:
        thread.send_message("slow")
    elapsed = time.monotonic() - started
    err = info.value
    assert err.result == "ACS_RESULT_TIMEOUT"
    assert err.status_code is None
    assert err.may_have_been_delivered is True
    assert elapsed < 1.9  # gave up before the answer


def test_broken_connection_is_io_and_not_retried_for_messages(emulator, make_client, thread_id):
    thread = make_client(retry_total=3).get_chat_thread_client(thread_id)
    emulator.fault(thread_id, "messages", action="drop")
    with pytest.raises(ServiceResponseError) as info:
        thread.send_message("maybe")
    assert info.value.result == "ACS_RESULT_IO"
    assert info.value.may_have_been_delivered is True
    assert [r["status"] for r in emulator.requests(thread_id)] == [0]


@pytest.mark.parametrize(
    ("fault", "description"),
    [
        ({"action": "oversize"}, "a body over the cap"),
        ({"status": 201, "body": "{}"}, "a 201 without an id or Location"),
        ({"status": 302, "headers": {"Location": "http://127.0.0.2:9/elsewhere"}}, "a redirect"),
    ],
)
def test_unusable_answers_are_protocol_errors(emulator, make_client, thread_id, fault, description):
    thread = make_client(retry_total=0).get_chat_thread_client(thread_id)
    emulator.fault(thread_id, "messages", **fault)
    with pytest.raises(ServiceResponseError) as info:
        thread.send_message("x")
    assert info.value.result == "ACS_RESULT_PROTOCOL", description
    assert info.value.message
    assert len(emulator.requests(thread_id)) == 1  # never followed, never retried


def test_location_header_supplies_a_missing_id(emulator, make_client, thread_id):
    thread = make_client(retry_total=0).get_chat_thread_client(thread_id)
    emulator.fault(thread_id, "messages", status=201, body="",
                   headers={"Location": "http://x/chat/threads/t/messages/424242"})
    assert thread.send_message("x").id == "424242"


def test_insecure_endpoint(make_client):
    with pytest.raises(InsecureEndpointError) as info:
        make_client(endpoint="http://chat.example.com")
    err = info.value
    assert isinstance(err, ServiceRequestError)
    assert err.result == "ACS_RESULT_INSECURE_ENDPOINT"
    assert err.may_have_been_delivered is False
    make_client(endpoint="http://chat.example.com", allow_insecure_http=True)


def test_library_argument_errors_are_value_errors(make_client):
    with pytest.raises(InvalidArgumentError) as info:
        make_client(endpoint="not a url")
    assert isinstance(info.value, ValueError)
    assert info.value.result == "ACS_RESULT_INVALID_ARGUMENT"


def test_token_errors(emulator, make_client):
    with pytest.raises(TokenError) as info:
        make_client(token_="not-a-jwt")
    err = info.value
    assert isinstance(err, ClientAuthenticationError)
    assert err.result == "ACS_RESULT_TOKEN"
    assert err.status_code is None
    assert "not-a-jwt" not in err.message


def test_expired_token_without_refresher_is_an_authentication_error(emulator, make_client, thread_id):
    """Refused before sending (TokenError) or by the service (401): both are
    ClientAuthenticationError, and neither message shows the token."""
    expired = emulator.token(expires_in=-60)
    with pytest.raises(ClientAuthenticationError) as info:
        make_client(token_=expired, retry_total=0).get_chat_thread_client(thread_id).send_message("x")
    err = info.value
    assert err.result in ("ACS_RESULT_TOKEN", "ACS_RESULT_UNAUTHORIZED")
    assert expired not in err.message
    if err.result == "ACS_RESULT_UNAUTHORIZED":
        assert (err.status_code, err.error_code) == (401, "Unauthorized")
        assert "expired" in err.message
    assert emulator.events(thread_id) == []


def test_set_token_refuses_a_non_jwt_and_keeps_the_old_one(emulator, client, thread_id, user):
    with pytest.raises(TokenError) as info:
        client.set_token("definitely.not-a-jwt")
    assert "definitely.not-a-jwt" not in info.value.message
    client.get_chat_thread_client(thread_id).send_typing_notification()
    assert emulator.events(thread_id)[0]["user"] == user


def test_errors_pickle_with_their_attributes():
    err = ThrottledError("Rate limit exceeded.", result="ACS_RESULT_THROTTLED", status_code=429,
                         error_code="TooManyRequests", request_id="cv", retry_after=2.0)
    copy = pickle.loads(pickle.dumps(err))
    assert type(copy) is ThrottledError
    assert (copy.message, copy.result, copy.status_code, copy.error_code, copy.request_id, copy.retry_after) == (
        "Rate limit exceeded.", "ACS_RESULT_THROTTLED", 429, "TooManyRequests", "cv", 2.0)
    assert copy.may_have_been_delivered is False
    assert "retry_after=2.0" in repr(copy)
    maybe = ServiceResponseError("Timed out.", result="ACS_RESULT_TIMEOUT", may_have_been_delivered=True)
    assert pickle.loads(pickle.dumps(maybe)).may_have_been_delivered is True
    assert "may_have_been_delivered=True" in repr(maybe)


def test_cancelled_result_maps_to_operation_cancelled_error():
    assert acs_chat._errors.result_name(25) == "ACS_RESULT_CANCELLED"
    assert acs_chat._errors.error_class("ACS_RESULT_CANCELLED") is acs_chat.OperationCancelledError
    err = acs_chat._errors.make_error(25, "cancelled", 0, "", "rid", 0, True)
    assert type(err) is acs_chat.OperationCancelledError and isinstance(err, AcsChatError)
    assert (err.result, err.result_code, err.may_have_been_delivered, err.status_code) == (
        "ACS_RESULT_CANCELLED", 25, True, None)


def test_concurrent_failures_keep_their_own_details(emulator, make_client):
    """The last error is per OS thread: failures racing on many threads each report theirs."""
    import threading
    import uuid

    client = make_client(retry_total=0)
    statuses = [400, 401, 403, 404, 409, 410, 418, 422]
    threads = {status: f"19:{uuid.uuid4().hex}@thread.v2" for status in statuses}
    for status, tid in threads.items():
        emulator.fault(tid, "messages", status=status, delay_ms=200, headers={"MS-CV": f"cv-{status}"},
                       body=error_body(f"Code{status}", f"Message {status}."))
    barrier = threading.Barrier(len(statuses))
    caught = {}

    def run(status):
        barrier.wait()
        try:
            client.get_chat_thread_client(threads[status]).send_message("x")
        except HttpResponseError as err:
            caught[status] = err

    workers = [threading.Thread(target=run, args=(status,)) for status in statuses]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(caught) == statuses
    for status, err in caught.items():
        assert (err.status_code, err.error_code, err.request_id) == (status, f"Code{status}", f"cv-{status}")
        assert f"Message {status}." in err.message
