"""Lifetime of native handles."""

from __future__ import annotations

import threading
import weakref
from typing import Any, Callable, Generic, TypeVar

H = TypeVar("H")
M = TypeVar("M", bound="Managed[Any]")


def _release(free: Callable[[Any], None], handle: Any, keep_alive: Any) -> None:
    # keep_alive holds whatever native code may still call back into (CFUNCTYPE objects) until
    # the handle is gone.
    free(handle)


class Managed(Generic[H]):
    """Owns one native handle and frees it exactly once: on :meth:`close`, at the end of a
    ``with`` block, or when the object is collected.

    Calls borrow the handle with :meth:`_acquire` / :meth:`_release_use`; closing while calls are
    in flight on other threads defers the free until the last of them returns.
    """

    _closed_message = "operation on a closed object"

    def __init__(self, handle: H, free: Callable[[H], None], keep_alive: Any = None) -> None:
        self.__handle = handle
        self.__lock = threading.Lock()
        self.__users = 0
        self.__closed = False
        self._finalizer = weakref.finalize(self, _release, free, handle, keep_alive)

    @property
    def closed(self) -> bool:
        return self.__closed

    def _acquire(self) -> H:
        with self.__lock:
            if self.__closed:
                raise ValueError(self._closed_message)
            self.__users += 1
        return self.__handle

    def _release_use(self) -> None:
        with self.__lock:
            self.__users -= 1
            free_now = self.__closed and self.__users == 0
        if free_now:
            self._finalizer()

    def close(self) -> None:
        """Release the native handle. Idempotent; calls already running finish first."""
        with self.__lock:
            if self.__closed:
                return
            self.__closed = True
            free_now = self.__users == 0
        if free_now:
            self._finalizer()

    def __enter__(self: M) -> M:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
