"""Lifetime of native handles."""

from __future__ import annotations

import weakref

from . import _ffi

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, List, Optional, TypeVar

    M = TypeVar("M", bound="Managed")


def _release(free: Callable[[Any], None], handle: Any, keep_alive: Any) -> None:
    # keep_alive holds whatever native code may still call back into (CFUNCTYPE objects) until
    # the handle is gone.
    free(handle)


class Managed:
    """Owns one native handle and frees it exactly once: on :meth:`close`, at the end of a
    ``with`` block, or when the object is collected.

    Calls borrow the handle through :meth:`_invoke`; closing while calls are in flight on other
    threads defers the free until the last of them returns. Each call in flight holds one entry
    of ``_borrowers``, added and removed with ``list.append`` and ``list.pop``, which are atomic,
    so no lock is taken per call: a call registers itself before it looks at ``_closing``, and
    :meth:`close` sets ``_closing`` before it looks for borrowers, so at least one of the two sees
    the other. Whichever then finds the handle closed and unborrowed runs the finalizer, which
    frees it at most once.
    """

    _closed_message = "operation on a closed object"

    def __init__(self, handle: Any, free: Callable[[Any], None], keep_alive: Any = None) -> None:
        self._handle = handle
        self._before_call: Optional[Callable[[], None]] = None
        """Called before each native call, on the calling thread, while the handle is borrowed."""
        self._borrowers: List[None] = []
        self._closing = False
        self._finalizer = weakref.finalize(self, _release, free, handle, keep_alive)
        # Not at interpreter exit: daemon threads may still be inside calls on the handle then,
        # and the process is about to release everything anyway.
        self._finalizer.atexit = False

    @property
    def closed(self) -> bool:
        return self._closing

    def _invoke(self, func: Callable[..., int], *args: Any) -> None:
        """``func(handle, *args)`` with the handle borrowed, for the :data:`acs_chat._ffi.DIRECT`
        functions (the per-call path): raises :meth:`_failure` of a result other than
        ``ACS_RESULT_OK``, read before the handle is given back. ``ValueError`` once closed."""
        borrowers = self._borrowers
        borrowers.append(None)
        try:
            if self._closing:
                raise ValueError(self._closed_message)
            before = self._before_call
            if before is not None:
                before()
            result = func(self._handle, *args)
            if result:
                raise self._failure(result)
        finally:
            borrowers.pop()
            if self._closing and not borrowers:
                self._finalizer()

    def _failure(self, result: int) -> BaseException:
        """The exception for a failed call that returned ``result``; runs on the failing thread."""
        return _ffi.last_error(result)

    def close(self) -> None:
        """Release the native handle. Idempotent; calls already running finish first."""
        if self._closing:
            return
        self._closing = True
        if not self._borrowers:
            self._finalizer()

    def __enter__(self: M) -> M:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
