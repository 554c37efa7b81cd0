"""Declarations of the C ABI of ``acs_chat`` (``include/acs_chat.h``), in one table.

Each row of :data:`FUNCTIONS` is a function's kind, ``restype`` and ``argtypes``; every one is
bound as an attribute of this module. Handles are typed pointers to opaque structures, and
``ctypes.CDLL`` releases the GIL for the duration of each call. The kinds:

- :data:`CHECKED`: returns an ``acs_result``; a value other than ``ACS_RESULT_OK`` raises the
  matching :class:`acs_chat.AcsChatError` (``errcheck``), filled from the thread-local last error
  right after the call, on the calling thread.
- :data:`VALUE`: returns what it reads (getters, static text, ``_free`` functions) as it is.
- :data:`DIRECT`: the clients' per-call operations (the sends, their asynchronous submits,
  ``acs_client_set_token``), bound with their ``restype`` only, so ctypes converts no argument and
  calls no ``errcheck``. Callers pass ``bytes`` for ``const char *``, ``None`` for ``NULL``, and
  pointer instances or ``byref()`` results, nothing else (no ``int``, no ``str``), and check the
  returned ``acs_result`` themselves: :meth:`acs_chat._managed.Managed._invoke` is the one caller.
  The ``argtypes`` in the table are what the C declaration says; the test suite checks them, as
  every row, against the header.

Adding a function is one row.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_size_t,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)

from . import _errors, _library
from ._constants import ACS_RESULT_OK

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple

lib, library_path = _library.load(os.path.dirname(os.path.realpath(__file__)))


class acs_client(Structure):
    """Opaque client handle; thread-safe."""

    _fields_ = []


class acs_client_options(Structure):
    """Opaque client options builder; one thread at a time."""

    _fields_ = []


class acs_message_options(Structure):
    """Opaque message options builder; one thread at a time."""

    _fields_ = []


class acs_token_sink(Structure):
    """Opaque sink a token refresher delivers its token to; valid during the callback only."""

    _fields_ = []


class acs_call(Structure):
    """Opaque handle of one asynchronous call; thread-safe. Released with ``acs_call_free``."""

    _fields_ = []


class acs_completion(Structure):
    """Opaque outcome of an asynchronous call; valid during its callback only."""

    _fields_ = []


acs_result = c_uint32
acs_message_type = c_uint32
acs_log_level = c_uint32

acs_client_p = POINTER(acs_client)
acs_client_options_p = POINTER(acs_client_options)
acs_message_options_p = POINTER(acs_message_options)
acs_token_sink_p = POINTER(acs_token_sink)
acs_call_p = POINTER(acs_call)
acs_completion_p = POINTER(acs_completion)

acs_token_refresher = CFUNCTYPE(acs_result, c_void_p, acs_token_sink_p)
acs_user_data_free = CFUNCTYPE(None, c_void_p)
acs_log_callback = CFUNCTYPE(None, c_void_p, acs_log_level, c_char_p)
acs_completion_callback = CFUNCTYPE(None, c_void_p, acs_completion_p)
# NULL function pointers (ctypes does not accept None for a CFUNCTYPE argument).
NO_TOKEN_REFRESHER = acs_token_refresher()
NO_USER_DATA_FREE = acs_user_data_free()
NO_LOG_CALLBACK = acs_log_callback()


def _read_string(fn: Callable[[Any, int], int]) -> str:
    size = 256
    while True:
        buf = ctypes.create_string_buffer(size)
        full = fn(buf, size)
        if full < size:
            return buf.value.decode("utf-8", "replace")
        size = full + 1


def last_error(value: int) -> _errors.AcsChatError:
    """The exception for a failed call that returned ``value``; read on the failing thread."""
    return _errors.make_error(
        value,
        _read_string(lib.acs_last_error_message) or result_str(value),
        lib.acs_last_error_http_status(),
        _read_string(lib.acs_last_error_code),
        _read_string(lib.acs_last_error_request_id),
        lib.acs_last_error_retry_after_ms(),
        lib.acs_last_error_may_have_been_delivered(),
    )


def last_call_details() -> Tuple[Optional[int], Optional[str]]:
    """``(HTTP status, request id)`` of this thread's last call that got an answer (None when
    not reported), for a :class:`SendChatMessageResult`."""
    return lib.acs_last_call_http_status() or None, _read_string(lib.acs_last_call_request_id) or None


def completion_details(completion: Any) -> Tuple[Optional[int], Optional[str]]:
    """``(HTTP status, request id)`` of a successful completion (None when not reported)."""
    status: int = lib.acs_completion_http_status(completion)
    request_id = _read_string(lambda buf, size: lib.acs_completion_request_id(completion, buf, size))
    return status or None, request_id or None


def completion_outcome(completion: Any) -> Tuple[int, Any]:
    """Everything a completion says, copied (it is valid during its callback only):
    ``(ACS_RESULT_OK, message id bytes or None)`` for a success, else ``(result, fields)`` with
    the fields :func:`completion_error` takes."""
    result: int = lib.acs_completion_result(completion)
    if result == ACS_RESULT_OK:
        return result, lib.acs_completion_message_id(completion)
    fields = (
        _read_string(lambda buf, size: lib.acs_completion_error_message(completion, buf, size)),
        lib.acs_completion_http_status(completion),
        _read_string(lambda buf, size: lib.acs_completion_error_code(completion, buf, size)),
        _read_string(lambda buf, size: lib.acs_completion_request_id(completion, buf, size)),
        lib.acs_completion_retry_after_ms(completion),
        lib.acs_completion_may_have_been_delivered(completion),
    )
    return result, fields


def completion_error(value: int, fields: Tuple[str, int, str, str, int, bool]) -> _errors.AcsChatError:
    """The exception for a failed asynchronous call, from :func:`completion_outcome`'s fields."""
    message, status, code, request_id, retry_after_ms, delivered = fields
    return _errors.make_error(
        value, message or result_str(value), status, code, request_id, retry_after_ms, delivered
    )


def result_str(value: int) -> str:
    """The library's static description of an ``acs_result`` value."""
    text: Optional[bytes] = lib.acs_result_str(value)
    return text.decode("utf-8", "replace") if text else ""


def version() -> str:
    """The library's version string (``ACS_CHAT_VERSION``)."""
    text: bytes = lib.acs_version()
    return text.decode("ascii")


def _check_result(result: int, func: Any, args: Any) -> int:
    if result != ACS_RESULT_OK:
        raise last_error(result)
    return result


CHECKED = "checked"
"""Returns an ``acs_result``; a failure raises (see the module docstring)."""
VALUE = "value"
"""Returns its value as it is."""
DIRECT = "direct"
"""Called without argument conversion; the caller checks the ``acs_result``."""

_completion = [acs_completion_p]
_buffer = [c_char_p, c_size_t]
_submit = [acs_completion_callback, c_void_p, POINTER(acs_call_p)]  # the tail of every async submit

FUNCTIONS: Dict[str, Tuple[str, Any, List[Any]]] = {
    # client
    "acs_client_new": (CHECKED, acs_result, [c_char_p, c_char_p, acs_client_options_p, POINTER(acs_client_p)]),
    "acs_client_free": (VALUE, None, [acs_client_p]),
    "acs_client_set_token": (DIRECT, acs_result, [acs_client_p, c_char_p]),
    "acs_client_new_from_connection_string": (
        CHECKED,
        acs_result,
        [c_char_p, c_char_p, acs_client_options_p, POINTER(acs_client_p)],
    ),
    "acs_client_user_id": (CHECKED, acs_result, [acs_client_p, POINTER(c_char_p)]),
    # operations
    "acs_send_message": (DIRECT, acs_result, [acs_client_p, c_char_p, c_char_p, acs_message_options_p, POINTER(c_char_p)]),
    "acs_send_typing": (DIRECT, acs_result, [acs_client_p, c_char_p, c_char_p]),
    "acs_send_read_receipt": (DIRECT, acs_result, [acs_client_p, c_char_p, c_char_p]),
    "acs_string_free": (VALUE, None, [c_char_p]),
    "acs_last_call_http_status": (VALUE, c_uint16, []),
    "acs_last_call_request_id": (VALUE, c_size_t, _buffer),
    # asynchronous operations
    "acs_send_message_async": (DIRECT, acs_result, [acs_client_p, c_char_p, c_char_p, acs_message_options_p] + _submit),
    "acs_send_typing_async": (DIRECT, acs_result, [acs_client_p, c_char_p, c_char_p] + _submit),
    "acs_send_read_receipt_async": (DIRECT, acs_result, [acs_client_p, c_char_p, c_char_p] + _submit),
    "acs_call_cancel": (VALUE, None, [acs_call_p]),
    "acs_call_free": (VALUE, None, [acs_call_p]),
    "acs_shutdown": (VALUE, None, []),
    # completions (valid during the callback only)
    "acs_completion_result": (VALUE, acs_result, _completion),
    "acs_completion_message_id": (VALUE, c_char_p, _completion),
    "acs_completion_http_status": (VALUE, c_uint16, _completion),
    "acs_completion_error_message": (VALUE, c_size_t, _completion + _buffer),
    "acs_completion_error_code": (VALUE, c_size_t, _completion + _buffer),
    "acs_completion_request_id": (VALUE, c_size_t, _completion + _buffer),
    "acs_completion_retry_after_ms": (VALUE, c_uint64, _completion),
    "acs_completion_may_have_been_delivered": (VALUE, c_bool, _completion),
    # client options
    "acs_client_options_new": (CHECKED, acs_result, [POINTER(acs_client_options_p)]),
    "acs_client_options_free": (VALUE, None, [acs_client_options_p]),
    "acs_client_options_set_api_version": (CHECKED, acs_result, [acs_client_options_p, c_char_p]),
    "acs_client_options_set_timeout_ms": (CHECKED, acs_result, [acs_client_options_p, c_uint32]),
    "acs_client_options_set_connect_timeout_ms": (CHECKED, acs_result, [acs_client_options_p, c_uint32]),
    "acs_client_options_set_max_retries": (CHECKED, acs_result, [acs_client_options_p, c_uint32]),
    "acs_client_options_set_retry_delay_ms": (CHECKED, acs_result, [acs_client_options_p, c_uint32, c_uint32]),
    "acs_client_options_set_application_id": (CHECKED, acs_result, [acs_client_options_p, c_char_p]),
    "acs_client_options_set_ca_file": (CHECKED, acs_result, [acs_client_options_p, c_char_p]),
    "acs_client_options_set_allow_insecure_http": (CHECKED, acs_result, [acs_client_options_p, c_bool]),
    "acs_client_options_set_token_refresher": (
        CHECKED,
        acs_result,
        [acs_client_options_p, acs_token_refresher, c_void_p, acs_user_data_free],
    ),
    "acs_client_options_set_proactive_refresh": (CHECKED, acs_result, [acs_client_options_p, c_bool]),
    "acs_client_options_set_total_timeout_ms": (CHECKED, acs_result, [acs_client_options_p, c_uint32]),
    "acs_client_options_set_max_connections_per_origin": (CHECKED, acs_result, [acs_client_options_p, c_uint32]),
    "acs_token_sink_set": (CHECKED, acs_result, [acs_token_sink_p, c_char_p]),
    # message options
    "acs_message_options_new": (CHECKED, acs_result, [POINTER(acs_message_options_p)]),
    "acs_message_options_free": (VALUE, None, [acs_message_options_p]),
    "acs_message_options_set_type": (CHECKED, acs_result, [acs_message_options_p, acs_message_type]),
    "acs_message_options_set_sender_display_name": (CHECKED, acs_result, [acs_message_options_p, c_char_p]),
    "acs_message_options_add_metadata": (CHECKED, acs_result, [acs_message_options_p, c_char_p, c_char_p]),
    # errors
    "acs_result_str": (VALUE, c_char_p, [acs_result]),
    "acs_last_error_message": (VALUE, c_size_t, _buffer),
    "acs_last_error_http_status": (VALUE, c_uint16, []),
    "acs_last_error_code": (VALUE, c_size_t, _buffer),
    "acs_last_error_request_id": (VALUE, c_size_t, _buffer),
    "acs_last_error_retry_after_ms": (VALUE, c_uint64, []),
    "acs_last_error_may_have_been_delivered": (VALUE, c_bool, []),
    # version, logging
    "acs_version": (VALUE, c_char_p, []),
    "acs_set_log_callback": (CHECKED, acs_result, [acs_log_callback, acs_log_level, c_void_p]),
}
"""``name: (kind, restype, argtypes)`` of every function of the header."""


def _declare() -> None:
    namespace = globals()
    for name, (kind, restype, argtypes) in FUNCTIONS.items():
        func = getattr(lib, name)
        func.restype = restype
        if kind != DIRECT:
            func.argtypes = argtypes
        if kind == CHECKED:
            func.errcheck = _check_result
        namespace[name] = func


def __getattr__(name: str) -> Any:
    # Only reached for a name _declare() did not bind; declared so that type checkers read the
    # functions bound from FUNCTIONS as module attributes.
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_declare()
