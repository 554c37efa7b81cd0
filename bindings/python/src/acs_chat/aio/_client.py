"""Awaitable clients on the library's asynchronous calls (see :mod:`._calls`)."""

from __future__ import annotations

import asyncio
import os
from ctypes import byref

from .. import _client, _ffi
from .._client import _metadata, _text
from .._errors import TokenError
from .._models import ChatMessageType, SendChatMessageResult, parse_message_type
from . import _calls
from ._calls import LoopRefresher

TYPE_CHECKING = False
if TYPE_CHECKING:
    from concurrent.futures import Executor
    from typing import Any, Callable, Mapping, Optional, Tuple, Union

    from .._client import TokenLike
    from ._calls import AsyncTokenRefresher

_TEXT = ChatMessageType.TEXT
_ACS_RESULT_OK = _ffi.ACS_RESULT_OK
_raw_send_message_async = _ffi.raw_send_message_async
_raw_send_typing_async = _ffi.raw_send_typing_async
_raw_send_read_receipt_async = _ffi.raw_send_read_receipt_async


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
        token: Optional[TokenLike],
        *,
        api_version: Optional[str] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        retry_total: Optional[int] = None,
        retry_backoff: Optional[float] = None,
        retry_backoff_max: Optional[float] = None,
        ca_file: Optional[Union[str, "os.PathLike[str]"]] = None,
        application_id: Optional[str] = None,
        allow_insecure_http: bool = False,
        token_refresher: Optional[AsyncTokenRefresher] = None,
        proactive_refresh: bool = False,
        total_timeout: Optional[float] = None,
        max_connections: Optional[int] = None,
        executor: Optional[Executor] = None,
    ) -> None:
        if executor is not None:
            import warnings

            warnings.warn(
                "acs_chat.aio.ChatClient ignores executor=: calls no longer run in an executor",
                DeprecationWarning,
                stacklevel=2,
            )
        self._client = _NativeClient(
            endpoint,
            token,
            api_version=api_version,
            timeout=timeout,
            connect_timeout=connect_timeout,
            retry_total=retry_total,
            retry_backoff=retry_backoff,
            retry_backoff_max=retry_backoff_max,
            ca_file=ca_file,
            application_id=application_id,
            allow_insecure_http=allow_insecure_http,
            token_refresher=token_refresher,
            proactive_refresh=proactive_refresh,
            total_timeout=total_timeout,
            max_connections=max_connections,
            refresh_timeout=_calls.refresh_timeout(total_timeout),
        )
        refresher = self._client._refresher
        assert refresher is None or isinstance(refresher, LoopRefresher)
        self._refresher: Optional[LoopRefresher] = refresher

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
        result, value = await _calls.finish(entry)
        if result == _ACS_RESULT_OK:
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


class ChatThreadClient:
    """Awaitable counterpart of :class:`acs_chat.ChatThreadClient`; obtained from
    :meth:`ChatClient.get_chat_thread_client`."""

    def __init__(self, client: ChatClient, thread_id: Union[str, _client.ChatThreadClient]) -> None:
        if not isinstance(client, ChatClient):
            raise TypeError(f"client must be an acs_chat.aio.ChatClient, not {type(client).__name__}")
        if isinstance(thread_id, _client.ChatThreadClient):  # the signature of earlier releases
            thread_id = thread_id.thread_id
        self._thread_id_bytes = _text(thread_id, "thread_id")
        self._thread_id = thread_id
        self._client = client

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
    ) -> SendChatMessageResult:
        """Post a message to the thread and return its id.

        Not retried after a timeout or a broken connection (it could post twice): those raise
        :class:`acs_chat.ServiceResponseError` with ``may_have_been_delivered`` True. Cancelled
        after its request was sent, it raises :class:`CallCancelledError` with
        ``may_have_been_delivered`` True and logs a warning on the ``acs_chat`` logger.
        """
        content_bytes = _text(content, "content")
        options = None
        if not (chat_message_type is _TEXT and sender_display_name is None and metadata is None):
            message_type = parse_message_type(chat_message_type)
            name = (
                None
                if sender_display_name is None
                else _text(sender_display_name, "sender_display_name", allow_empty=True)
            )
            pairs = _metadata(metadata)
            if message_type is not _TEXT or name is not None or pairs:
                options = _message_options(message_type, name, pairs)
        message_id: Optional[bytes] = await self._client._call(
            _raw_send_message_async,
            (self._thread_id_bytes, content_bytes, options),
            "send_message",
            self._thread_id,
            options,
        )
        return SendChatMessageResult((message_id or b"").decode("utf-8"))

    async def send_typing_notification(self, *, sender_display_name: Optional[str] = None) -> None:
        """Tell the thread's participants that this user is typing."""
        name = (
            None if sender_display_name is None else _text(sender_display_name, "sender_display_name", allow_empty=True)
        )
        await self._client._call(
            _raw_send_typing_async, (self._thread_id_bytes, name), "send_typing_notification", self._thread_id
        )

    async def send_read_receipt(self, message_id: str) -> None:
        """Mark the message ``message_id`` (and those before it) as read by this user."""
        await self._client._call(
            _raw_send_read_receipt_async,
            (self._thread_id_bytes, _text(message_id, "message_id")),
            "send_read_receipt",
            self._thread_id,
        )


def _message_options(message_type: ChatMessageType, name: Optional[bytes], pairs: Any) -> Any:
    """New native message options (freed by the caller once the call is submitted)."""
    options = _ffi.acs_message_options_p()
    _ffi.acs_message_options_new(byref(options))
    try:
        if message_type is ChatMessageType.HTML:
            _ffi.acs_message_options_set_type(options, _ffi.ACS_MESSAGE_TYPE_HTML)
        if name is not None:
            _ffi.acs_message_options_set_sender_display_name(options, name)
        for key, value in pairs:
            _ffi.acs_message_options_add_metadata(options, key, value)
    except BaseException:
        _ffi.acs_message_options_free(options)
        raise
    return options
