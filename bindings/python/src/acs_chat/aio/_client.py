"""Awaitable clients: each call runs the blocking native call in an executor thread."""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import threading

from .. import _client
from .._models import ChatMessageType, SendChatMessageResult

TYPE_CHECKING = False
if TYPE_CHECKING:
    from concurrent.futures import Executor
    from typing import Any, Awaitable, Callable, Mapping, Optional, TypeVar, Union

    from .._client import TokenLike

    T = TypeVar("T")
    AsyncTokenRefresher = Callable[[], Union[TokenLike, Awaitable[TokenLike]]]

_worker = threading.local()


def _run_on_worker(loop: asyncio.AbstractEventLoop, call: Callable[[], T]) -> T:
    _worker.loop = loop
    try:
        return call()
    finally:
        _worker.loop = None


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


class _LoopRefresher:
    """A token refresher that may be a coroutine function: its awaitable runs on the event loop
    of the call that needs the token, while the worker thread waits for it."""

    def __init__(self, refresher: AsyncTokenRefresher) -> None:
        self._refresher = refresher

    def __call__(self) -> TokenLike:
        result = self._refresher()
        if not inspect.isawaitable(result):
            return result
        loop: Optional[asyncio.AbstractEventLoop] = getattr(_worker, "loop", None)
        if loop is None or loop.is_closed():
            if inspect.iscoroutine(result):
                result.close()
            raise RuntimeError("an async token_refresher can only run during an awaited call; pass an initial token")
        return asyncio.run_coroutine_threadsafe(_await(result), loop).result()


class ChatClient:
    """Awaitable counterpart of :class:`acs_chat.ChatClient`, with the same options.

    Each call runs in ``executor`` (default: the loop's default executor); the event loop is
    never blocked. ``token_refresher`` may be a plain or a coroutine function. Cancelling an
    awaiting task does not stop the request already in flight.
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
        executor: Optional[Executor] = None,
    ) -> None:
        if token_refresher is not None and not callable(token_refresher):
            raise TypeError(f"token_refresher must be callable, not {type(token_refresher).__name__}")
        self._executor = executor
        self._client = _client.ChatClient(
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
            token_refresher=_LoopRefresher(token_refresher) if token_refresher is not None else None,
            proactive_refresh=proactive_refresh,
        )

    @property
    def endpoint(self) -> str:
        return self._client.endpoint

    @property
    def closed(self) -> bool:
        return self._client.closed

    def __repr__(self) -> str:
        return f"<aio.ChatClient {self._client.endpoint!r}{' closed' if self.closed else ''}>"

    async def _run(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        call = functools.partial(func, *args, **kwargs)
        return await loop.run_in_executor(self._executor, _run_on_worker, loop, call)

    def get_chat_thread_client(self, thread_id: str) -> "ChatThreadClient":
        return ChatThreadClient(self, self._client.get_chat_thread_client(thread_id))

    async def set_token(self, token: TokenLike) -> None:
        self._client.set_token(token)

    async def close(self) -> None:
        """Release the native client; calls still running finish first."""
        self._client.close()

    async def __aenter__(self) -> "ChatClient":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()


class ChatThreadClient:
    """Awaitable counterpart of :class:`acs_chat.ChatThreadClient`."""

    def __init__(self, client: ChatClient, thread: _client.ChatThreadClient) -> None:
        self._client = client
        self._thread = thread

    @property
    def thread_id(self) -> str:
        return self._thread.thread_id

    def __repr__(self) -> str:
        return f"<aio.ChatThreadClient {self.thread_id!r}>"

    async def send_message(
        self,
        content: str,
        *,
        chat_message_type: Union[ChatMessageType, str, None] = ChatMessageType.TEXT,
        sender_display_name: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> SendChatMessageResult:
        return await self._client._run(
            self._thread.send_message,
            content,
            chat_message_type=chat_message_type,
            sender_display_name=sender_display_name,
            metadata=metadata,
        )

    async def send_typing_notification(self, *, sender_display_name: Optional[str] = None) -> None:
        await self._client._run(self._thread.send_typing_notification, sender_display_name=sender_display_name)

    async def send_read_receipt(self, message_id: str) -> None:
        await self._client._run(self._thread.send_read_receipt, message_id)
