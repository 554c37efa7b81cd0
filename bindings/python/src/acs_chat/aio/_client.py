"""Awaitable clients on the library's asynchronous calls (see :mod:`._calls`)."""

from __future__ import annotations

import asyncio

from .. import _client, _compat, _constants, _ffi
from .._client import _text, message_options
from .._errors import ServiceResponseError, TokenError
from .._models import ChatMessageType, SendChatMessageResult
from . import _calls
from ._calls import LoopRefresher

TYPE_CHECKING = False
if TYPE_CHECKING:
    from concurrent.futures import Executor
    from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

    from .._client import TokenLike
    from ._calls import AsyncTokenRefresher

_ACS_RESULT_OK = _constants.ACS_RESULT_OK


class _NativeClient(_client.ChatClient):
    """The native client behind an awaitable one: the blocking client's options and handle
    lifetime, with a refresher adapter that can await."""

    def __init__(self, *args: Any, refresh_timeout: float, **kwargs: Any) -> None:
        self._refresh_timeout = refresh_timeout
        super().__init__(*args, **kwargs)

    def _make_refresher(self, token_refresher: Any) -> LoopRefresher:
        return LoopRefresher(token_refresher, self._refresh_timeout)


class ChatClient:
    """Awaitable counterpart of :class:`acs_chat.ChatClient`, with the same options.

    Calls run on the library's asynchronous API: each awaited call submits its request and
    waits for the library's completion, holding no thread (the library's fixed I/O threads do
    the work), so thousands of calls can be in flight at once. ``token_refresher`` may be a plain
    or a coroutine function; a coroutine runs on the event loop of the client's latest call.
    Cancelling the awaiting task cancels the request (see :class:`CallCancelledError`).

    :keyword total_timeout: seconds a whole call may take (every try, back-off, token refresh
        and wait for a connection); also bounds the wait for an async ``token_refresher``
        (default 60 s).
    :keyword max_connections: requests in flight at once to the endpoint over HTTP/1.1
        (default 100); further calls wait in line, holding no thread.
    :keyword executor: accepted for compatibility with earlier releases and ignored.
    """

    def __init__(
        self,
        endpoint: str,
        credential: Optional[Any] = None,
        *,
        token: Optional[TokenLike] = None,
        token_refresher: Optional[AsyncTokenRefresher] = None,
        total_timeout: Optional[float] = None,
        executor: Optional[Executor] = None,
        **options: Any,
    ) -> None:
        if executor is not None:
            import warnings

            warnings.warn(
                "acs_chat.aio.ChatClient ignores executor=: calls no longer run in an executor",
                DeprecationWarning,
                stacklevel=2,
            )
        if token is not None:
            if credential is not None:
                raise TypeError("pass the credential or token=, not both")
            credential = token
        if _is_async_credential(credential):
            if token_refresher is not None:
                raise TypeError("a credential with get_token() refreshes itself: do not also pass token_refresher")
            token_refresher = getattr(credential, "get_token")
            if options.get("proactive_refresh") is None:
                options["proactive_refresh"] = bool(getattr(credential, "_proactive_refresh", False))
            credential = _first_token(credential)
        self._client = _NativeClient(
            endpoint,
            credential,
            token_refresher=token_refresher,
            total_timeout=total_timeout,
            refresh_timeout=_calls.refresh_timeout(total_timeout),
            **options,
        )
        refresher = self._client._refresher
        assert refresher is None or isinstance(refresher, LoopRefresher)
        self._refresher: Optional[LoopRefresher] = refresher

    @classmethod
    def from_connection_string(cls, conn_str: str, user_id: Optional[str] = None, **options: Any) -> "ChatClient":
        """As :meth:`acs_chat.ChatClient.from_connection_string`: a client that gets and
        refreshes its own tokens with the resource's access key. Creating it blocks for the
        first token (and, without ``user_id``, for creating the user); refreshes run on the
        library's blocking pool, never on the event loop."""
        self = cls.__new__(cls)
        self._client = _NativeClient.from_connection_string(conn_str, user_id, **options)
        self._refresher = None
        return self

    @property
    def user_id(self) -> Optional[str]:
        """The ACS user of a client made by :meth:`from_connection_string`; else None."""
        return self._client.user_id

    @property
    def endpoint(self) -> str:
        return self._client.endpoint

    @property
    def closed(self) -> bool:
        return self._client.closed

    def __repr__(self) -> str:
        return f"<aio.ChatClient {self._client.endpoint!r}{' closed' if self.closed else ''}>"

    async def _call(
        self,
        submit: Callable[..., int],
        args: Tuple[Any, ...],
        operation: str,
        thread_id: str,
        options: Any = None,
        deadline: Optional[float] = None,
    ) -> Any:
        """Submit one call and await it; ``options`` (message options) are freed once submitted
        (the library copies them). Returns the message id bytes for a message, else None."""
        refresher = self._refresher
        try:
            if refresher is not None:
                refresher.loop = asyncio.get_running_loop()
            entry = _calls.start(self._client, submit, args, refresher, operation, thread_id)
        finally:
            if options is not None:
                _ffi.acs_message_options_free(options)
        if deadline is None:
            result, value = await _calls.finish(entry)
        else:
            result, value = await _finish_within(entry, deadline)
        if result == _ACS_RESULT_OK:
            if operation == "send_message":
                return value, entry.details
            return value
        raise self._completion_failure(result, value)

    def _completion_failure(self, result: int, fields: Any) -> BaseException:
        err = _ffi.completion_error(result, fields)
        refresher = self._refresher
        if refresher is not None and isinstance(err, TokenError):
            return refresher.explain(err)
        return err

    def get_chat_thread_client(self, thread_id: str) -> "ChatThreadClient":
        """A client for one chat thread, sharing this client's connections and token."""
        return ChatThreadClient(self, thread_id)

    async def set_token(self, token: TokenLike) -> None:
        """Replace the token used by every later call (atomic; safe while calls run)."""
        self._client.set_token(token)

    async def close(self) -> None:
        """Release the native client; later calls raise ``ValueError``. Calls in flight go on
        and complete (the library keeps what they need)."""
        self._client.close()

    async def __aenter__(self) -> "ChatClient":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()


async def _finish_within(entry: Any, seconds: float) -> Any:
    """:func:`_calls.finish` with a deadline (azure-core's per-call ``timeout``): when it passes,
    the call is cancelled and, if the cancellation took effect, ``ServiceResponseError``
    (``ACS_RESULT_TIMEOUT``) is raised with the library's delivery verdict; a call that had
    completed by then keeps its outcome."""

    async def guarded() -> Any:
        try:
            return await _calls.finish(entry)
        except asyncio.CancelledError as exc:
            if _calls.is_call_cancelled(exc):
                return exc
            raise

    task = asyncio.ensure_future(guarded())
    try:
        await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()  # the caller was cancelled: cancel the call as without a deadline
        outcome = await task
        if isinstance(outcome, BaseException) and _calls.is_call_cancelled(outcome):
            raise outcome from None
        raise
    if not task.done():
        task.cancel()
    outcome = await task
    if not (isinstance(outcome, BaseException) and _calls.is_call_cancelled(outcome)):
        return outcome
    if entry.outcome is None:
        raise outcome
    if entry.outcome[0] != _constants.ACS_RESULT_CANCELLED:
        return entry.outcome  # it finished (or failed) before the cancellation took effect
    delivered = bool(getattr(outcome, "may_have_been_delivered", True))
    raise ServiceResponseError(
        f"{entry.operation} on thread {entry.thread_id!r} did not finish within timeout={seconds:g} s "
        + ("and may have been delivered" if delivered else "and was not delivered"),
        result="ACS_RESULT_TIMEOUT",
        may_have_been_delivered=delivered,
    )


def _deadline(kwargs: Dict[str, Any]) -> Optional[float]:
    """Pop azure-core's per-call ``timeout`` (seconds, > 0) from ``kwargs``."""
    timeout = kwargs.pop("timeout", None)
    if timeout is None:
        return None
    import math

    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds, not {type(timeout).__name__}")
    if math.isnan(timeout) or timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, not {timeout!r}")
    return None if math.isinf(timeout) else float(timeout)


def _is_async_credential(credential: object) -> bool:
    import inspect

    get_token = getattr(credential, "get_token", None)
    return not isinstance(credential, str) and inspect.iscoroutinefunction(get_token)


def _first_token(credential: Any) -> Any:
    """The token an async credential holds now (the official one keeps it in ``_token``), else
    the result of awaiting its ``get_token()`` on a loop of its own in another thread (the
    client is built synchronously)."""
    current = getattr(credential, "_token", None)
    if isinstance(getattr(current, "token", None), str):
        return current
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, credential.get_token()).result()


class ChatThreadClient:
    """Awaitable counterpart of :class:`acs_chat.ChatThreadClient`: made by
    :meth:`ChatClient.get_chat_thread_client`, or the official way,
    ``ChatThreadClient(endpoint, credential, thread_id, **options)`` with a client of its own
    that ``await close()`` (or the end of ``async with``) releases."""

    def __init__(self, client: Union[ChatClient, str], *args: Any, **kwargs: Any) -> None:
        owner, thread_id, self._owns_client = _client.thread_client_arguments(
            ChatClient, "an acs_chat.aio.ChatClient", client, args, kwargs
        )
        if isinstance(thread_id, _client.ChatThreadClient):  # the signature of earlier releases
            thread_id = thread_id.thread_id
        self._thread_id_bytes = _text(thread_id, "thread_id")
        self._thread_id: str = thread_id
        self._client: ChatClient = owner

    async def close(self) -> None:
        """Release the client this thread client made (official construction); a thread client
        from :meth:`ChatClient.get_chat_thread_client` leaves that client open."""
        if self._owns_client:
            await self._client.close()

    async def __aenter__(self) -> "ChatThreadClient":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    @property
    def thread_id(self) -> str:
        return self._thread_id

    def __repr__(self) -> str:
        return f"<aio.ChatThreadClient {self._thread_id!r}>"

    async def send_message(
        self,
        content: str,
        *,
        chat_message_type: Union[ChatMessageType, str, None] = ChatMessageType.TEXT,
        sender_display_name: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
        **kwargs: Any,
    ) -> SendChatMessageResult:
        """Post a message to the thread and return its id.

        Not retried after a timeout or a broken connection (it could post twice): those raise
        :class:`acs_chat.ServiceResponseError` with ``may_have_been_delivered`` True. Cancelled
        after its request was sent, it raises :class:`CallCancelledError` with
        ``may_have_been_delivered`` True and logs a warning on the ``acs_chat`` logger.
        """
        deadline = _deadline(kwargs) if kwargs else None
        if kwargs:
            _compat.call_options(kwargs, "send_message")
        content_bytes = _text(content, "content")
        options = message_options(chat_message_type, sender_display_name, metadata)
        message_id, (status, request_id) = await self._client._call(
            _ffi.acs_send_message_async,
            (self._thread_id_bytes, content_bytes, options),
            "send_message",
            self._thread_id,
            options,
            deadline,
        )
        return SendChatMessageResult((message_id or b"").decode("utf-8"), status_code=status, request_id=request_id)

    async def send_typing_notification(self, *, sender_display_name: Optional[str] = None, **kwargs: Any) -> None:
        """Tell the thread's participants that this user is typing."""
        deadline = _deadline(kwargs) if kwargs else None
        if kwargs:
            _compat.call_options(kwargs, "send_typing_notification")
        name = (
            None if sender_display_name is None else _text(sender_display_name, "sender_display_name", allow_empty=True)
        )
        await self._client._call(
            _ffi.acs_send_typing_async,
            (self._thread_id_bytes, name),
            "send_typing_notification",
            self._thread_id,
            None,
            deadline,
        )

    async def send_read_receipt(self, message_id: str, **kwargs: Any) -> None:
        """Mark the message ``message_id`` (and those before it) as read by this user."""
        deadline = _deadline(kwargs) if kwargs else None
        if kwargs:
            _compat.call_options(kwargs, "send_read_receipt")
        await self._client._call(
            _ffi.acs_send_read_receipt_async,
            (self._thread_id_bytes, _text(message_id, "message_id")),
            "send_read_receipt",
            self._thread_id,
            None,
            deadline,
        )

