"""Declarations of the C ABI of ``acs_chat`` (``include/acs_chat.h``).

Every function is declared with ``argtypes``, ``restype`` and ``errcheck``. Functions returning
``acs_result`` raise the matching :class:`acs_chat.AcsChatError` subclass on failure, filled from
the thread-local last error right after the call, on the calling thread. Handles are typed
pointers to opaque structures. ``ctypes.CDLL`` releases the GIL for the duration of each call.

The per-call operations also have ``raw_*`` twins for the clients' hot path: separate function
objects with only a ``restype``, so a call skips the per-argument ``from_param`` conversion and
the ``errcheck`` callback. Without ``argtypes`` ctypes passes ``bytes`` as ``const char *``,
``None`` as ``NULL``, and pointer instances and ``byref()`` results as the pointers they hold, so
callers pass nothing else (no ``int``, no ``str``), and check the returned ``acs_result``
themselves: a value other than ``ACS_RESULT_OK`` becomes :func:`last_error`, read on the same
thread before any other call. ``raw_send_message`` takes ``byref()`` of a ``c_char_p`` for the new
message id, which goes back to ``raw_string_free`` as that ``c_char_p``. The asynchronous
submits (``raw_send_*_async``) take the callback as the :data:`acs_completion_callback` instance,
``user_data`` as a ``c_void_p`` instance and ``byref()`` of an :data:`acs_call_p` for the handle.

Functions that read a value rather than report a failure (``acs_completion_result``, the
``acs_last_error_*`` and ``acs_completion_*`` getters) return it as is.
"""

from __future__ import annotations

import ctypes
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char,
    c_char_p,
    c_size_t,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)

from . import _errors, _library

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

ACS_RESULT_OK = 0
ACS_RESULT_TOKEN = 24
ACS_RESULT_CANCELLED = 25

ACS_MESSAGE_TYPE_TEXT = 0
ACS_MESSAGE_TYPE_HTML = 1

ACS_LOG_LEVEL_OFF = 0
ACS_LOG_LEVEL_ERROR = 1
ACS_LOG_LEVEL_WARN = 2
ACS_LOG_LEVEL_INFO = 3
ACS_LOG_LEVEL_DEBUG = 4
ACS_LOG_LEVEL_TRACE = 5

acs_client_p = POINTER(acs_client)
acs_client_options_p = POINTER(acs_client_options)
acs_message_options_p = POINTER(acs_message_options)
acs_token_sink_p = POINTER(acs_token_sink)
acs_call_p = POINTER(acs_call)
acs_completion_p = POINTER(acs_completion)
# Strings the library allocates: kept as raw pointers so they can be handed back to acs_string_free.
owned_string_p = POINTER(c_char)

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
    message = _read_string(lib.acs_last_error_message)
    if not message:
        message = result_str(value)
    return _errors.make_error(
        value,
        message,
        lib.acs_last_error_http_status(),
        _read_string(lib.acs_last_error_code),
        _read_string(lib.acs_last_error_request_id),
        lib.acs_last_error_retry_after_ms(),
        lib.acs_last_error_may_have_been_delivered(),
    )


_NO_DETAILS: Dict[str, Any] = {}


def last_call_details() -> Dict[str, Any]:
    """``{"status_code": ..., "request_id": ...}`` of this thread's last answered call, for a
    :class:`SendChatMessageResult`; empty when the library cannot tell
    (no ``acs_last_call_http_status``)."""
    if "acs_last_call_http_status" not in SIGNATURES:
        return _NO_DETAILS
    return {
        "status_code": lib.acs_last_call_http_status() or None,
        "request_id": _read_string(lib.acs_last_call_request_id) or None,
    }


def completion_details(completion: Any) -> Tuple[Optional[int], Optional[str]]:
    """``(status, request id)`` of a successful completion (None when not reported)."""
    status: int = acs_completion_http_status(completion)
    request_id = _read_string(lambda buf, size: acs_completion_request_id(completion, buf, size))
    return status or None, request_id or None


def completion_outcome(completion: Any) -> Tuple[int, Any]:
    """Everything a completion says, copied (it is valid during its callback only):
    ``(ACS_RESULT_OK, message id bytes or None)`` for a success, else ``(result, fields)`` with
    the fields :func:`completion_error` takes."""
    result: int = acs_completion_result(completion)
    if result == ACS_RESULT_OK:
        return result, acs_completion_message_id(completion)
    fields = (
        _read_string(lambda buf, size: acs_completion_error_message(completion, buf, size)),
        acs_completion_http_status(completion),
        _read_string(lambda buf, size: acs_completion_error_code(completion, buf, size)),
        _read_string(lambda buf, size: acs_completion_request_id(completion, buf, size)),
        acs_completion_retry_after_ms(completion),
        acs_completion_may_have_been_delivered(completion),
    )
    return result, fields


def completion_error(value: int, fields: Tuple[str, int, str, str, int, bool]) -> _errors.AcsChatError:
    """The exception for a failed asynchronous call, from :func:`completion_outcome`'s fields."""
    message, status, code, request_id, retry_after_ms, delivered = fields
    return _errors.make_error(
        value, message or result_str(value), status, code, request_id, retry_after_ms, delivered
    )


def _check_result(result: int, func: Any, args: Any) -> int:
    if result != ACS_RESULT_OK:
        raise last_error(result)
    return result


def _static_text(result: Optional[bytes], func: Any, args: Any) -> Optional[bytes]:
    return result


def _no_result(result: None, func: Any, args: Any) -> None:
    return None


def _as_is(result: int, func: Any, args: Any) -> int:
    return result


# Functions whose acs_result is a value read, not the outcome of the call itself.
RESULT_GETTERS = frozenset({"acs_completion_result"})

# name: (restype, argtypes, errcheck)
SIGNATURES: Dict[str, Any] = {
    # client
    "acs_client_new": (acs_result, [c_char_p, c_char_p, acs_client_options_p, POINTER(acs_client_p)], _check_result),
    "acs_client_free": (None, [acs_client_p], _no_result),
    "acs_client_set_token": (acs_result, [acs_client_p, c_char_p], _check_result),
    "acs_client_new_from_connection_string": (
        acs_result,
        [c_char_p, c_char_p, acs_client_options_p, POINTER(acs_client_p)],
        _check_result,
    ),
    "acs_client_user_id": (acs_result, [acs_client_p, POINTER(owned_string_p)], _check_result),
    # operations
    "acs_send_message": (
        acs_result,
        [acs_client_p, c_char_p, c_char_p, acs_message_options_p, POINTER(owned_string_p)],
        _check_result,
    ),
    "acs_send_typing": (acs_result, [acs_client_p, c_char_p, c_char_p], _check_result),
    "acs_send_read_receipt": (acs_result, [acs_client_p, c_char_p, c_char_p], _check_result),
    "acs_string_free": (None, [owned_string_p], _no_result),
    # asynchronous operations
    "acs_send_message_async": (
        acs_result,
        [
            acs_client_p,
            c_char_p,
            c_char_p,
            acs_message_options_p,
            acs_completion_callback,
            c_void_p,
            POINTER(acs_call_p),
        ],
        _check_result,
    ),
    "acs_send_typing_async": (
        acs_result,
        [acs_client_p, c_char_p, c_char_p, acs_completion_callback, c_void_p, POINTER(acs_call_p)],
        _check_result,
    ),
    "acs_send_read_receipt_async": (
        acs_result,
        [acs_client_p, c_char_p, c_char_p, acs_completion_callback, c_void_p, POINTER(acs_call_p)],
        _check_result,
    ),
    "acs_call_cancel": (None, [acs_call_p], _no_result),
    "acs_call_free": (None, [acs_call_p], _no_result),
    "acs_shutdown": (None, [], _no_result),
    # completions (valid during the callback only)
    "acs_completion_result": (acs_result, [acs_completion_p], _as_is),
    "acs_completion_message_id": (c_char_p, [acs_completion_p], _static_text),
    "acs_completion_http_status": (c_uint16, [acs_completion_p], _as_is),
    "acs_completion_error_message": (c_size_t, [acs_completion_p, c_char_p, c_size_t], _as_is),
    "acs_completion_error_code": (c_size_t, [acs_completion_p, c_char_p, c_size_t], _as_is),
    "acs_completion_request_id": (c_size_t, [acs_completion_p, c_char_p, c_size_t], _as_is),
    "acs_completion_retry_after_ms": (c_uint64, [acs_completion_p], _as_is),
    "acs_completion_may_have_been_delivered": (c_bool, [acs_completion_p], _as_is),
    # client options
    "acs_client_options_new": (acs_result, [POINTER(acs_client_options_p)], _check_result),
    "acs_client_options_free": (None, [acs_client_options_p], _no_result),
    "acs_client_options_set_api_version": (acs_result, [acs_client_options_p, c_char_p], _check_result),
    "acs_client_options_set_timeout_ms": (acs_result, [acs_client_options_p, c_uint32], _check_result),
    "acs_client_options_set_connect_timeout_ms": (acs_result, [acs_client_options_p, c_uint32], _check_result),
    "acs_client_options_set_max_retries": (acs_result, [acs_client_options_p, c_uint32], _check_result),
    "acs_client_options_set_retry_delay_ms": (
        acs_result,
        [acs_client_options_p, c_uint32, c_uint32],
        _check_result,
    ),
    "acs_client_options_set_application_id": (acs_result, [acs_client_options_p, c_char_p], _check_result),
    "acs_client_options_set_ca_file": (acs_result, [acs_client_options_p, c_char_p], _check_result),
    "acs_client_options_set_allow_insecure_http": (acs_result, [acs_client_options_p, c_bool], _check_result),
    "acs_client_options_set_token_refresher": (
        acs_result,
        [acs_client_options_p, acs_token_refresher, c_void_p, acs_user_data_free],
        _check_result,
    ),
    "acs_client_options_set_proactive_refresh": (acs_result, [acs_client_options_p, c_bool], _check_result),
    "acs_client_options_set_total_timeout_ms": (acs_result, [acs_client_options_p, c_uint32], _check_result),
    "acs_client_options_set_max_connections_per_origin": (
        acs_result,
        [acs_client_options_p, c_uint32],
        _check_result,
    ),
    "acs_token_sink_set": (acs_result, [acs_token_sink_p, c_char_p], _check_result),
    # message options
    "acs_message_options_new": (acs_result, [POINTER(acs_message_options_p)], _check_result),
    "acs_message_options_free": (None, [acs_message_options_p], _no_result),
    "acs_message_options_set_type": (acs_result, [acs_message_options_p, acs_message_type], _check_result),
    "acs_message_options_set_sender_display_name": (
        acs_result,
        [acs_message_options_p, c_char_p],
        _check_result,
    ),
    "acs_message_options_add_metadata": (
        acs_result,
        [acs_message_options_p, c_char_p, c_char_p],
        _check_result,
    ),
    # errors
    "acs_result_str": (c_char_p, [acs_result], _static_text),
    "acs_last_error_message": (c_size_t, [c_char_p, c_size_t], _as_is),
    "acs_last_error_http_status": (c_uint16, [], _as_is),
    "acs_last_error_code": (c_size_t, [c_char_p, c_size_t], _as_is),
    "acs_last_error_request_id": (c_size_t, [c_char_p, c_size_t], _as_is),
    "acs_last_error_retry_after_ms": (c_uint64, [], _as_is),
    "acs_last_error_may_have_been_delivered": (c_bool, [], _as_is),
    # version, logging
    "acs_version": (c_char_p, [], _static_text),
    "acs_set_log_callback": (acs_result, [acs_log_callback, acs_log_level, c_void_p], _check_result),
}


OPTIONAL_SIGNATURES: Dict[str, Tuple[Any, List[Any], Any]] = {
    # success details (this thread's last call that got an answer); newer libraries only
    "acs_last_call_http_status": (c_uint16, [], _as_is),
    "acs_last_call_request_id": (c_size_t, [c_char_p, c_size_t], _as_is),
}
"""Functions declared when the loaded library exports them (see :func:`last_call_details`)."""


def _declare() -> None:
    for name, (restype, argtypes, errcheck) in OPTIONAL_SIGNATURES.items():
        if hasattr(lib, name):
            SIGNATURES[name] = (restype, argtypes, errcheck)
    for name, (restype, argtypes, errcheck) in SIGNATURES.items():
        func = getattr(lib, name)
        func.restype = restype
        func.argtypes = argtypes
        func.errcheck = errcheck
        globals()[name] = func


_declare()

# Module-level names for type checkers and readers; bound by _declare() above.
acs_client_new: Any
acs_client_free: Any
acs_client_set_token: Any
acs_client_new_from_connection_string: Any
acs_client_user_id: Any
acs_send_message: Any
acs_send_typing: Any
acs_send_read_receipt: Any
acs_string_free: Any
acs_send_message_async: Any
acs_send_typing_async: Any
acs_send_read_receipt_async: Any
acs_call_cancel: Any
acs_call_free: Any
acs_shutdown: Any
acs_completion_result: Any
acs_completion_message_id: Any
acs_completion_http_status: Any
acs_completion_error_message: Any
acs_completion_error_code: Any
acs_completion_request_id: Any
acs_completion_retry_after_ms: Any
acs_completion_may_have_been_delivered: Any
acs_client_options_new: Any
acs_client_options_free: Any
acs_client_options_set_api_version: Any
acs_client_options_set_timeout_ms: Any
acs_client_options_set_connect_timeout_ms: Any
acs_client_options_set_max_retries: Any
acs_client_options_set_retry_delay_ms: Any
acs_client_options_set_application_id: Any
acs_client_options_set_ca_file: Any
acs_client_options_set_allow_insecure_http: Any
acs_client_options_set_token_refresher: Any
acs_client_options_set_proactive_refresh: Any
acs_client_options_set_total_timeout_ms: Any
acs_client_options_set_max_connections_per_origin: Any
acs_token_sink_set: Any
acs_message_options_new: Any
acs_message_options_free: Any
acs_message_options_set_type: Any
acs_message_options_set_sender_display_name: Any
acs_message_options_add_metadata: Any
acs_result_str: Any
acs_last_error_message: Any
acs_last_error_http_status: Any
acs_last_error_code: Any
acs_last_error_request_id: Any
acs_last_error_retry_after_ms: Any
acs_last_error_may_have_been_delivered: Any
acs_version: Any
acs_set_log_callback: Any


def result_str(value: int) -> str:
    """The library's static description of an ``acs_result`` value."""
    text: Optional[bytes] = lib.acs_result_str(value)
    return text.decode("utf-8", "replace") if text else ""


def version() -> str:
    """The library's version string (``ACS_CHAT_VERSION``)."""
    text: bytes = lib.acs_version()
    return text.decode("ascii")


def _raw(name: str, restype: Any) -> Any:
    """A second function object for ``name`` with ``restype`` only (see the module docstring)."""
    func = lib[name]
    func.restype = restype
    return func


raw_client_set_token: Any = _raw("acs_client_set_token", acs_result)
raw_client_user_id: Any = _raw("acs_client_user_id", acs_result)
raw_send_message: Any = _raw("acs_send_message", acs_result)
raw_send_typing: Any = _raw("acs_send_typing", acs_result)
raw_send_read_receipt: Any = _raw("acs_send_read_receipt", acs_result)
raw_string_free: Any = _raw("acs_string_free", None)
raw_send_message_async: Any = _raw("acs_send_message_async", acs_result)
raw_send_typing_async: Any = _raw("acs_send_typing_async", acs_result)
raw_send_read_receipt_async: Any = _raw("acs_send_read_receipt_async", acs_result)
