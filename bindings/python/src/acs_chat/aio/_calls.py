"""Awaitable calls on the library's asynchronous C API.

**Completions.** One module-level ``acs_completion_callback`` serves every call of the process.
Each call passes a small integer key as ``user_data``; its :class:`Pending` entry waits under
that key in ``_pending``. The library runs the callback on one of its I/O threads (a fixed
number of them, possibly before the submit returns): it takes the entry out of the table, copies
everything the completion says (the completion is valid during the callback only) and hands it
to the entry's event loop with ``loop.call_soon_threadsafe``, where the awaiting coroutine's
future is completed. No executor, no thread per call: a call in flight costs this entry, a
future and what the library holds.

**Cancellation.** Cancelling the awaiting task calls ``acs_call_cancel``, waits for the
library's completion (which always comes, soon), and raises :class:`CallCancelledError`, an
:class:`asyncio.CancelledError` carrying the library's verdict on whether the request may have
been delivered.

**Token refreshers.** For asynchronous calls the library runs the refresher on its blocking pool
thread, never on an I/O thread. A refresher that returns an awaitable (a coroutine function) is
run on the event loop of the client's latest call with :func:`asyncio.run_coroutine_threadsafe`,
and that library thread waits for the result, for a bounded time. One module-level
``acs_token_refresher`` serves every client; ``user_data`` is again a key.

**Exit and fork.** At interpreter exit (``atexit``) the callbacks become no-ops and
``acs_shutdown`` stops the library from calling them and waits for those running, so no callback
enters a finalizing interpreter. After ``os.fork()`` the child's table of pending calls is
emptied: the parent's calls, futures and loops are not the child's.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import inspect
import itertools
import logging
import math
import os
import threading
import weakref
from ctypes import byref, c_void_p

from .. import _constants, _ffi
from .._client import _token_text, explain_refresher_failure
from .._errors import AcsChatError, TokenError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, TypeVar, Union

    from .._client import TokenLike
    from .._managed import Managed

    T = TypeVar("T")
    AsyncTokenRefresher = Callable[[], Union[TokenLike, Awaitable[TokenLike]]]
    Outcome = Tuple[int, Any]

logger = logging.getLogger("acs_chat")

DEFAULT_REFRESH_TIMEOUT = 60.0
"""Seconds the library's thread waits for an awaitable token refresher, unless the client's
``total_timeout`` is shorter."""

_ACS_RESULT_OK = _constants.ACS_RESULT_OK
_ACS_RESULT_TOKEN = _constants.ACS_RESULT_TOKEN
_completion_outcome = _ffi.completion_outcome
_completion_details = _ffi.completion_details

_keys = itertools.count(1)  # next() is atomic under the GIL; 0 would be NULL
_pending: Dict[int, "Pending"] = {}
_stopping = False
"""Set when interpreter exit begins: from then on the native callbacks do nothing."""


CallCancelledError = asyncio.CancelledError
"""What an awaited call whose task was cancelled raises, once the library has completed it: a
plain :class:`asyncio.CancelledError` (exactly that class, so that ``asyncio.wait_for`` and
``asyncio.timeout`` turn it into ``TimeoutError`` on every Python version), carrying what happened
to the request as attributes:

- ``operation``: ``"send_message"``, ``"send_typing_notification"`` or ``"send_read_receipt"``;
- ``thread_id``: the chat thread;
- ``may_have_been_delivered``: the library's verdict (``acs_completion_may_have_been_delivered``):
  False when cancelled before the request was written; True when the request had been sent (the
  message may exist) or the call had already succeeded;
- ``result``: the ``ACS_RESULT_*`` name the library completed the call with
  (``"ACS_RESULT_CANCELLED"``; ``"ACS_RESULT_OK"`` when the call finished before the cancellation
  took effect; another failure's name if it had failed), or None if the process was exiting;
- ``message_id``: the new message's id when a ``send_message`` succeeded first, else None;
- ``error``: the :class:`acs_chat.AcsChatError` the completion stands for
  (:class:`acs_chat.OperationCancelledError` for a cancellation), or None.

``args[0]`` says the same in words. Catch it inside the cancelled task to read the attributes:
before Python 3.11, asyncio replaces the exception by a new one when the task is awaited from
outside. A ``send_message`` that may have been delivered is also logged as a warning.
"""


def _call_cancelled(message: str, **attributes: Any) -> asyncio.CancelledError:
    """A :data:`CallCancelledError` with the given attributes."""
    exc = asyncio.CancelledError(message)
    for name, value in attributes.items():
        setattr(exc, name, value)
    setattr(exc, "_acs_chat_call", True)
    return exc


def is_call_cancelled(exc: BaseException) -> bool:
    """Whether ``exc`` was raised by a cancelled call (and carries its attributes)."""
    return getattr(exc, "_acs_chat_call", False) is True


class Pending:
    """One call in flight: where its outcome goes."""

    __slots__ = ("loop", "future", "waiter", "outcome", "call", "keep_alive", "operation", "thread_id", "details")

    def __init__(self, loop: asyncio.AbstractEventLoop, keep_alive: Any, operation: str, thread_id: str) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self.waiter: Optional[asyncio.Future[None]] = None
        self.outcome: Optional[Outcome] = None
        self.call = _ffi.acs_call_p()
        # What native code may call back into while the call runs (the client's refresher).
        self.keep_alive = keep_alive
        self.operation = operation
        self.thread_id = thread_id
        self.details: Tuple[Optional[int], Optional[str]] = (None, None)
        """``(HTTP status, request id)`` of a sent message's answer, when the library says."""


def _settle(entry: Pending, outcome: Outcome) -> None:
    """On the entry's event loop: record the outcome and wake the awaiting coroutine."""
    entry.outcome = outcome
    for future in (entry.future, entry.waiter):
        if future is not None and not future.done():
            future.set_result(None)


_batches: Dict[asyncio.AbstractEventLoop, List[Tuple[Pending, Outcome]]] = {}
"""Completions waiting for their loop, per loop. A batch exists from the first completion to the
loop's next :func:`_drain`, so many completions wake a busy loop once, not once each."""
_batches_lock = threading.Lock()


def _drain(loop: asyncio.AbstractEventLoop) -> None:
    """On ``loop``: settle every completion that arrived for it since the last drain."""
    with _batches_lock:
        batch = _batches.pop(loop, [])
    for entry, outcome in batch:
        _settle(entry, outcome)


def _on_completion(user_data: Optional[int], completion: Any) -> None:
    """The ``acs_completion_callback``: on a library I/O thread, holding the GIL. Never raises."""
    if _stopping:
        return
    try:
        entry = _pending.pop(user_data, None)  # type: ignore[arg-type]
        if entry is None:
            return
        outcome = _completion_outcome(completion)
        if outcome[1] is not None and outcome[0] == _ACS_RESULT_OK:
            entry.details = _completion_details(completion)
        loop = entry.loop
        with _batches_lock:
            batch = _batches.get(loop)
            if batch is None:
                _batches[loop] = [(entry, outcome)]
            else:
                batch.append((entry, outcome))
        if batch is None:
            try:
                loop.call_soon_threadsafe(_drain, loop)
            except BaseException:  # noqa: B902 - a closed loop: nothing will drain this batch
                with _batches_lock:
                    _batches.pop(loop, None)
    except BaseException:  # noqa: B902 - nothing may propagate into native code
        pass


COMPLETION_CALLBACK = _ffi.acs_completion_callback(_on_completion)
"""The one completion callback; module-level, so alive as long as the library may call it."""


def start(
    client: Managed,
    submit: Callable[..., int],
    args: Tuple[Any, ...],
    keep_alive: Any,
    operation: str,
    thread_id: str,
) -> Pending:
    """Submit ``submit(handle, *args, callback, key, &call)`` (a :data:`acs_chat._ffi.DIRECT`
    function) for the running loop; raise the library's error if it refuses. Synchronous: call
    it right before awaiting :func:`finish`."""
    loop = asyncio.get_running_loop()
    entry = Pending(loop, keep_alive, operation, thread_id)
    key = next(_keys)
    _pending[key] = entry
    try:
        client._invoke(submit, *args, COMPLETION_CALLBACK, c_void_p(key), byref(entry.call))
    except BaseException:
        _pending.pop(key, None)
        raise
    return entry


async def finish(
    entry: Pending,
    _cancel: Callable[[Any], None] = _ffi.acs_call_cancel,
    _free: Callable[[Any], None] = _ffi.acs_call_free,
) -> Outcome:
    """Wait for the call's completion and return ``(result, value)``; on cancellation, cancel the
    native call, wait for its completion and raise :class:`CallCancelledError`.

    The handle is released however the coroutine ends, also when it is closed unfinished (a
    task collected with its loop, at exit): the native functions are bound as defaults so that
    they are still there while modules are torn down."""
    call = entry.call
    try:
        try:
            await entry.future
        except asyncio.CancelledError:
            _cancel(call)
            await _completion(entry)
            raise _cancelled(entry) from None
    finally:
        _free(call)
    outcome = entry.outcome
    assert outcome is not None
    return outcome


async def _completion(entry: Pending) -> None:
    """Wait until the library has completed a cancelled call. Further cancellations of the task
    are absorbed: the call is being cancelled already, and the caller raises CancelledError."""
    while entry.outcome is None and not _stopping:
        waiter = entry.loop.create_future()
        entry.waiter = waiter
        try:
            await waiter
        except asyncio.CancelledError:
            pass


def _cancelled(entry: Pending) -> asyncio.CancelledError:
    operation, thread_id = entry.operation, entry.thread_id
    outcome = entry.outcome
    error: Optional[AcsChatError] = None
    message_id: Optional[str] = None
    if outcome is None:
        result = None
        delivered = True
        fate = "the process is exiting and the call's outcome is unknown: it may have been delivered"
    elif outcome[0] == _ACS_RESULT_OK:
        result = "ACS_RESULT_OK"
        delivered = True
        if outcome[1]:
            message_id = outcome[1].decode("utf-8", "replace")
            fate = f"it had already succeeded: the message was delivered with id {message_id!r}"
        else:
            fate = "it had already succeeded: it was delivered"
    else:
        error = _ffi.completion_error(outcome[0], outcome[1])
        result = error.result
        delivered = error.may_have_been_delivered
        if result == "ACS_RESULT_CANCELLED":
            fate = "its request may have been delivered" if delivered else "nothing was delivered"
        else:
            fate = f"it had already failed ({error.message})" + (
                "; its request may have been delivered" if delivered else ""
            )
    text = f"{operation} on thread {thread_id!r} was cancelled; {fate}"
    if delivered and operation == "send_message":
        logger.warning("%s", text)
    return _call_cancelled(
        text,
        operation=operation,
        thread_id=thread_id,
        may_have_been_delivered=delivered,
        result=result,
        message_id=message_id,
        error=error,
    )


# token refreshers


_refreshers: Dict[int, "weakref.ref[LoopRefresher]"] = {}
_refreshing: List[None] = []
"""One entry per refresher running now (``list.append``/``pop`` are atomic)."""
_awaited: Dict[int, "concurrent.futures.Future[Any]"] = {}
"""Awaitable refreshers a library thread is waiting for, by ``id`` of their future."""


def _on_refresh(user_data: Optional[int], sink: Any) -> int:
    """The ``acs_token_refresher``: on the library's blocking pool thread (or, for the first
    token, the thread creating the client), holding the GIL. Never raises."""
    _refreshing.append(None)
    try:
        if _stopping:
            return _ACS_RESULT_TOKEN
        ref = _refreshers.get(user_data)  # type: ignore[arg-type]
        refresher = ref() if ref is not None else None
        if refresher is None:
            return _ACS_RESULT_TOKEN
        return refresher.invoke(sink)
    except BaseException:  # noqa: B902 - nothing may propagate into native code
        return _ACS_RESULT_TOKEN
    finally:
        _refreshing.pop()


REFRESHER_CALLBACK = _ffi.acs_token_refresher(_on_refresh)
"""The one token refresher callback; module-level, so alive as long as the library may call it."""


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


class LoopRefresher:
    """Gives the library a token refresher that may be a coroutine function (or return any
    awaitable): the awaitable runs on :attr:`loop`, the event loop of the client's latest call,
    while the library's thread waits for it, at most ``timeout`` seconds.

    The last failure is kept (not per thread: the library runs one refresh at a time per client
    and shares its outcome with every call waiting for it) until a refresh succeeds, and becomes
    the ``__cause__`` of the calls' :class:`TokenError`.
    """

    def __init__(self, refresher: AsyncTokenRefresher, timeout: float) -> None:
        self._refresher = refresher
        self.timeout = timeout
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.failure: Optional[BaseException] = None
        self.callback: Any = REFRESHER_CALLBACK
        key = next(_keys)
        self.user_data: Optional[int] = key
        _refreshers[key] = weakref.ref(self, lambda _ref: _refreshers.pop(key, None))

    def _produce(self) -> TokenLike:
        result = self._refresher()
        if not inspect.isawaitable(result):
            return result
        loop = self.loop
        try:
            on_a_loop = asyncio.get_running_loop() is not None
        except RuntimeError:
            on_a_loop = False
        if loop is None or loop.is_closed() or on_a_loop:
            if inspect.iscoroutine(result):
                result.close()
            raise RuntimeError(
                "an async token_refresher runs on the event loop of the client's calls, from the "
                "library's thread; it cannot supply the first token: pass an initial token"
            )
        future = asyncio.run_coroutine_threadsafe(_await(result), loop)
        _awaited[id(future)] = future
        try:
            if _stopping:
                future.cancel()
            return future.result(self.timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"the async token_refresher did not finish within {self.timeout:g} s") from None
        finally:
            _awaited.pop(id(future), None)

    def fetch(self) -> bytes:
        return _token_text(self._produce(), "the token_refresher's result")

    def invoke(self, sink: Any) -> int:
        try:
            _ffi.acs_token_sink_set(sink, self.fetch())
        except BaseException as exc:  # noqa: B902 - reported through the failing calls
            self.failure = exc
            return _ACS_RESULT_TOKEN
        self.failure = None
        return _ACS_RESULT_OK

    def forget(self) -> None:
        """Nothing to forget: failures are kept until a refresh succeeds."""

    def explain(self, err: TokenError) -> BaseException:
        """The exception to raise for ``err``: annotated with the refresher's failure, if any."""
        return explain_refresher_failure(err, self.failure)


def refresh_timeout(total_timeout: object) -> float:
    """How long the library's thread waits for an awaitable refresher: ``total_timeout`` when it
    is a shorter valid number of seconds, else :data:`DEFAULT_REFRESH_TIMEOUT`."""
    if isinstance(total_timeout, (int, float)) and not isinstance(total_timeout, bool):
        seconds = float(total_timeout)
        if 0 < seconds < DEFAULT_REFRESH_TIMEOUT and not math.isnan(seconds):
            return seconds
    return DEFAULT_REFRESH_TIMEOUT


# exit and fork


EXIT_GRACE = 2.0
"""Seconds interpreter exit waits for token refreshers running on the library's threads."""


def _at_exit() -> None:
    global _stopping
    _stopping = True
    # acs_shutdown stops completion callbacks only. A refresher still running on a library
    # thread when the interpreter finalizes would be killed there (CPython ends a foreign
    # thread that wants the GIL back after finalization): let running ones finish first; new
    # ones return at once now. time.sleep releases the GIL they need.
    import time

    for future in list(_awaited.values()):
        future.cancel()  # its loop may never run again
    deadline = time.monotonic() + EXIT_GRACE
    while _refreshing and time.monotonic() < deadline:
        time.sleep(0.001)
    # Releases the GIL: callbacks already waiting for it see _stopping and return.
    _ffi.acs_shutdown()


def _after_fork_in_child() -> None:
    # The parent's calls (and refreshes) go on in the parent; their futures, loops and library
    # threads are not the child's.
    global _batches_lock
    _pending.clear()
    _refreshing.clear()
    _awaited.clear()
    _batches.clear()
    _batches_lock = threading.Lock()  # a parent thread may have held it at fork


atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
