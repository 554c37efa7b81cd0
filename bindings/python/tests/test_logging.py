"""The library's log routed into Python's logging."""

from __future__ import annotations

import logging

import pytest

import acs_chat


@pytest.fixture
def routed(caplog):
    caplog.set_level(acs_chat.TRACE, logger="acs_chat")
    logger = acs_chat.enable_logging(logging.DEBUG)
    try:
        yield logger, caplog
    finally:
        acs_chat.disable_logging()


def native_records(caplog):
    return [r for r in caplog.records if r.name == "acs_chat"]


def test_enable_logging_routes_records_without_the_token(emulator, make_client, thread_id, token, routed):
    logger, caplog = routed
    assert logger is logging.getLogger("acs_chat")
    make_client(retry_total=1).get_chat_thread_client(thread_id).send_message("logged")
    records = native_records(caplog)
    assert records, "the library logged nothing at DEBUG for a send"
    assert {r.levelno for r in records} <= {logging.ERROR, logging.WARNING, logging.INFO, logging.DEBUG}
    text = "\n".join(r.getMessage() for r in records)
    assert token not in text
    assert token.split(".")[1] not in text  # not even the payload


def test_level_filters_at_the_source(emulator, make_client, thread_id, caplog):
    caplog.set_level(acs_chat.TRACE, logger="acs_chat")
    acs_chat.enable_logging(logging.ERROR)
    try:
        emulator.fault(thread_id, "typing", status=503)
        make_client(retry_total=1).get_chat_thread_client(thread_id).send_typing_notification()
    finally:
        acs_chat.disable_logging()
    assert all(r.levelno >= logging.ERROR for r in native_records(caplog))


def test_disable_logging_stops_records(emulator, make_client, thread_id, caplog):
    caplog.set_level(acs_chat.TRACE, logger="acs_chat")
    acs_chat.enable_logging("debug")
    acs_chat.disable_logging()
    make_client().get_chat_thread_client(thread_id).send_message("quiet")
    assert native_records(caplog) == []


def test_custom_logger_and_retry_warning(emulator, make_client, thread_id, caplog):
    custom = logging.getLogger("my.app.chat")
    caplog.set_level(logging.DEBUG, logger="my.app.chat")
    acs_chat.enable_logging(logging.INFO, logger=custom)
    try:
        emulator.fault(thread_id, "typing", status=503)
        make_client(retry_total=1).get_chat_thread_client(thread_id).send_typing_notification()
    finally:
        acs_chat.disable_logging()
    records = [r for r in caplog.records if r.name == "my.app.chat"]
    assert records, "a retried 503 logged nothing at INFO or above"
    assert all(r.levelno >= logging.INFO for r in records)
    assert any("503" in r.getMessage() for r in records)


def test_invalid_levels():
    with pytest.raises(ValueError):
        acs_chat.enable_logging("loud")
    with pytest.raises(TypeError):
        acs_chat.enable_logging(3.5)
    with pytest.raises(TypeError):
        acs_chat.enable_logging(logging.DEBUG, logger="acs_chat")
