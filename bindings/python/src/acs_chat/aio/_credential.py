"""``CommunicationTokenCredential`` for asyncio, as ``azure.communication.chat.aio``'s."""

from __future__ import annotations

import asyncio

from .._credential import PROACTIVE_REFRESH_SECONDS, _now, access_token, checked_token
from .._credential import ON_DEMAND_REFRESH_SECONDS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Awaitable, Callable, Optional


class CommunicationTokenCredential:
    """A user access token refreshed by an async ``token_refresher``, as
    ``azure.communication.chat.aio.CommunicationTokenCredential``.

    :param str token: the user access token (a JWT).
    :keyword token_refresher: a coroutine function with no arguments returning a fresh
        ``AccessToken`` (or a str token), awaited when under 2 minutes remain (10 with
        ``proactive_refresh``), one refresh at a time; an expired result raises ``ValueError``.
    :keyword bool proactive_refresh: also refresh in the background (a task on the running
        loop) when under 10 minutes remain; then ``await close()`` (or ``async with``).
    """

    def __init__(
        self,
        token: str,
        *,
        token_refresher: Optional[Callable[[], Awaitable[Any]]] = None,
        proactive_refresh: bool = False,
    ) -> None:
        self._token: Any = checked_token(token, token_refresher, proactive_refresh)
        self._token_refresher = token_refresher
        self._proactive_refresh = bool(proactive_refresh)
        self._refreshing: Optional[asyncio.Future[Any]] = None
        self._timer: Optional[asyncio.TimerHandle] = None
        self._task: Optional[asyncio.Task[None]] = None
        self._closed = False

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """The current ``AccessToken``, refreshed first if it is about to expire."""
        if self._proactive_refresh and self._closed:
            raise RuntimeError("An instance of CommunicationTokenCredential cannot be reused once it has been closed.")
        if self._token_refresher is None or not self._expiring_soon(self._token):
            return self._token
        return await self._refresh()

    def _expiring_soon(self, token: Any) -> bool:
        window = PROACTIVE_REFRESH_SECONDS if self._proactive_refresh else ON_DEMAND_REFRESH_SECONDS
        return bool(token.expires_on - _now() < window)

    async def _refresh(self) -> Any:
        while self._refreshing is not None:
            if _now() < self._token.expires_on:
                return self._token  # still valid: use it while another task refreshes
            await asyncio.shield(self._refreshing)
        if not self._expiring_soon(self._token):
            return self._token
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._refreshing = done
        try:
            assert self._token_refresher is not None
            new_token = access_token(await self._token_refresher())
            if not _now() < new_token.expires_on:
                raise ValueError("The token returned from the token_refresher is expired.")
            self._token = new_token
        finally:
            self._refreshing = None
            done.set_result(None)
        if self._proactive_refresh:
            self._schedule()
        return self._token

    def _schedule(self) -> None:
        if self._closed:
            return
        if self._timer is not None:
            self._timer.cancel()
        ttl = self._token.expires_on - _now()
        delay = ttl // 2 if self._expiring_soon(self._token) else ttl - PROACTIVE_REFRESH_SECONDS
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(max(delay, 0), self._start_background_refresh, loop)

    def _start_background_refresh(self, loop: asyncio.AbstractEventLoop) -> None:
        self._task = loop.create_task(self._background_refresh())  # referenced while it runs

    async def _background_refresh(self) -> None:
        try:
            await self._refresh()
        except Exception:  # noqa: BLE001 - an on-demand refresh will raise it to a caller
            pass

    async def close(self) -> None:
        """Stop proactive refreshing; with ``proactive_refresh`` the credential is then unusable."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._closed = True

    async def __aenter__(self) -> "CommunicationTokenCredential":
        if self._proactive_refresh:
            if self._closed:
                raise RuntimeError(
                    "An instance of CommunicationTokenCredential cannot be reused once it has been closed."
                )
            self._schedule()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()
