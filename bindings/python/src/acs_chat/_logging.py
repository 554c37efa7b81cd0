"""Routing the native library's log into :mod:`logging`.

:mod:`logging` itself is imported by :func:`enable_logging`; the levels below are its documented
numeric values.
"""

from __future__ import annotations

import _thread
import atexit

from . import _constants, _ffi

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from typing import Any, List, Optional, Union

TRACE = 5
"""Level of the library's trace messages (below ``logging.DEBUG``)."""

_CRITICAL = 50
_ERROR = 40
_WARNING = 30
_INFO = 20
_DEBUG = 10

_TO_PYTHON = {
    _constants.ACS_LOG_LEVEL_ERROR: _ERROR,
    _constants.ACS_LOG_LEVEL_WARN: _WARNING,
    _constants.ACS_LOG_LEVEL_INFO: _INFO,
    _constants.ACS_LOG_LEVEL_DEBUG: _DEBUG,
    _constants.ACS_LOG_LEVEL_TRACE: TRACE,
}

_lock = _thread.allocate_lock()
# Every callback ever installed stays referenced: native code on another thread may be inside
# an old one while a new one is being installed.
_installed: List[Any] = []
_atexit_registered = False


def _native_level(level: int) -> int:
    if level <= TRACE:
        return _constants.ACS_LOG_LEVEL_TRACE
    if level <= _DEBUG:
        return _constants.ACS_LOG_LEVEL_DEBUG
    if level <= _INFO:
        return _constants.ACS_LOG_LEVEL_INFO
    if level <= _WARNING:
        return _constants.ACS_LOG_LEVEL_WARN
    if level <= _CRITICAL:
        return _constants.ACS_LOG_LEVEL_ERROR
    return _constants.ACS_LOG_LEVEL_OFF


def _python_level(level: Union[int, str]) -> int:
    import logging

    if isinstance(level, bool):
        raise TypeError("level must be a logging level (int or name), not bool")
    if isinstance(level, int):
        return level
    if isinstance(level, str):
        value = logging.getLevelName(level.upper())
        if isinstance(value, int):
            return value
        if level.upper() == "TRACE":
            return TRACE
        raise ValueError(f"unknown logging level {level!r}")
    raise TypeError(f"level must be a logging level (int or name), not {type(level).__name__}")


def enable_logging(level: Union[int, str] = _DEBUG, logger: Optional[logging.Logger] = None) -> logging.Logger:
    """Send the native library's log records at ``level`` and above to ``logger``
    (default ``logging.getLogger("acs_chat")``), process-wide. Returns the logger.

    Library levels map to ``ERROR``, ``WARNING``, ``INFO``, ``DEBUG`` and :data:`TRACE` (5).
    Records may come from any thread. Messages never contain the token.
    """
    global _atexit_registered
    import logging

    target = logger if logger is not None else logging.getLogger("acs_chat")
    if not isinstance(target, logging.Logger):
        raise TypeError(f"logger must be a logging.Logger, not {type(target).__name__}")
    python_level = _python_level(level)
    if logging.getLevelName(TRACE) == f"Level {TRACE}":
        logging.addLevelName(TRACE, "TRACE")

    def forward(user_data: Any, native_level: int, message: Optional[bytes]) -> None:
        try:
            record_level = _TO_PYTHON.get(native_level, _DEBUG)
            if target.isEnabledFor(record_level):
                text = message.decode("utf-8", "replace") if message else ""
                target.log(record_level, "%s", text)
        except BaseException:  # noqa: B902 - nothing may propagate into native code
            pass

    callback = _ffi.acs_log_callback(forward)
    with _lock:
        _installed.append(callback)
        _ffi.acs_set_log_callback(callback, _native_level(python_level), None)
        if not _atexit_registered:
            atexit.register(disable_logging)
            _atexit_registered = True
    return target


def disable_logging() -> None:
    """Stop routing the library's log (``ACS_CHAT_LOG`` on stderr applies again)."""
    with _lock:
        _ffi.acs_set_log_callback(_ffi.NO_LOG_CALLBACK, _constants.ACS_LOG_LEVEL_OFF, None)
