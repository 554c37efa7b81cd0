"""``CommunicationTokenCredential``, as ``azure.communication.chat``'s, and the adapters that
turn any credential (ours, the official SDK's, or anything with its ``get_token()``) into the
library's initial token and token refresher."""

from __future__ import annotations

from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Optional

AccessToken = namedtuple("AccessToken", ["token", "expires_on"])
"""``(token, expires_on)``: the token string and its expiry in Unix seconds, as
``azure.core.credentials.AccessToken``."""

ON_DEMAND_REFRESH_SECONDS = 2 * 60
PROACTIVE_REFRESH_SECONDS = 10 * 60


def _now() -> int:
    import time

    return int(time.time())


def token_expiry(token: str) -> int:
    """The ``exp`` claim of a JWT (Unix seconds); ``ValueError`` if ``token`` is not a JWT with one."""
    import base64
    import json

    parts = token.split(".")
    if len(parts) < 3:
        raise ValueError("Token is not formatted correctly")
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        return int(payload["exp"])
    except Exception:
        raise ValueError("Token is not formatted correctly") from None


def access_token(value: object) -> Any:
    """An ``AccessToken`` from a refresher's result: an ``AccessToken``-like object (``.token``
    and ``.expires_on``) as it is, a str token with its ``exp``."""
    if isinstance(value, str):
        return AccessToken(value, token_expiry(value))
    token = getattr(value, "token", None)
    expires_on = getattr(value, "expires_on", None)
    if not isinstance(token, str) or not isinstance(expires_on, (int, float)) or isinstance(expires_on, bool):
        raise TypeError(
            f"a token must be a str or an AccessToken (.token, .expires_on), not {type(value).__name__}"
        )
    return value


def checked_token(token: object, token_refresher: object, proactive_refresh: bool) -> Any:
    """The ``AccessToken`` of a credential's arguments, checked as the official credential checks them."""
    if not isinstance(token, str):
        raise TypeError("Token must be a string.")
    if token_refresher is not None and not callable(token_refresher):
        raise TypeError(f"token_refresher must be callable, not {type(token_refresher).__name__}")
    if proactive_refresh and token_refresher is None:
        raise ValueError("When 'proactive_refresh' is True, 'token_refresher' must not be None.")
    return access_token(token)


class CommunicationTokenCredential:
    """A user access token, refreshed by ``token_refresher`` when it nears expiry, as
    ``azure.communication.chat.CommunicationTokenCredential``.

    :param str token: the user access token (a JWT).
    :keyword token_refresher: a callable with no arguments returning a fresh ``AccessToken`` (or
        a str token); called when under 2 minutes remain (10 with ``proactive_refresh``), one
        refresh at a time. A token it returns already expired raises ``ValueError``.
    :keyword bool proactive_refresh: also refresh in the background (a timer thread) when under
        10 minutes remain; then call :meth:`close` (or use ``with``) when done.
    :raises TypeError: ``token`` is not a str. :raises ValueError: ``token`` is not a JWT, or
        ``proactive_refresh`` without ``token_refresher``.
    """

    def __init__(
        self,
        token: str,
        *,
        token_refresher: Optional[Callable[[], Any]] = None,
        proactive_refresh: bool = False,
    ) -> None:
        import threading

        self._token: Any = checked_token(token, token_refresher, proactive_refresh)
        self._token_refresher = token_refresher
        self._proactive_refresh = bool(proactive_refresh)
        self._lock = threading.Condition(threading.Lock())
        self._refreshing = False
        self._timer: Any = None
        self._closed = threading.Event()

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """The current ``AccessToken``, refreshed first if it is about to expire (scopes and
        keywords are accepted and ignored, as by the official credential)."""
        if self._proactive_refresh and self._closed.is_set():
            raise RuntimeError("An instance of CommunicationTokenCredential cannot be reused once it has been closed.")
        if self._token_refresher is None or not self._expiring_soon(self._token):
            return self._token
        return self._refresh()

    def _expiring_soon(self, token: Any) -> bool:
        window = PROACTIVE_REFRESH_SECONDS if self._proactive_refresh else ON_DEMAND_REFRESH_SECONDS
        return bool(token.expires_on - _now() < window)

    def _refresh(self) -> Any:
        with self._lock:
            while self._expiring_soon(self._token):
                if not self._refreshing:
                    self._refreshing = True
                    break
                if _now() < self._token.expires_on:
                    return self._token  # still valid: use it while another thread refreshes
                self._lock.wait()
            else:
                return self._token
        try:
            assert self._token_refresher is not None
            new_token = access_token(self._token_refresher())
            if not _now() < new_token.expires_on:
                raise ValueError("The token returned from the token_refresher is expired.")
            with self._lock:
                self._token = new_token
        finally:
            with self._lock:
                self._refreshing = False
                self._lock.notify_all()
        if self._proactive_refresh:
            self._schedule()
        return self._token

    def _schedule(self) -> None:
        import threading

        if self._closed.is_set():
            return
        if self._timer is not None:
            self._timer.cancel()
        ttl = self._token.expires_on - _now()
        delay = ttl // 2 if self._expiring_soon(self._token) else ttl - PROACTIVE_REFRESH_SECONDS
        if delay <= threading.TIMEOUT_MAX:
            self._timer = threading.Timer(max(delay, 0), self._background_refresh)
            self._timer.daemon = True
            self._timer.start()

    def _background_refresh(self) -> None:
        try:
            self._refresh()
        except Exception:  # noqa: BLE001 - an on-demand refresh will raise it to a caller
            pass

    def close(self) -> None:
        """Stop proactive refreshing; with ``proactive_refresh`` the credential is then unusable."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._closed.set()

    def __enter__(self) -> "CommunicationTokenCredential":
        if self._proactive_refresh:
            if self._closed.is_set():
                raise RuntimeError(
                    "An instance of CommunicationTokenCredential cannot be reused once it has been closed."
                )
            self._schedule()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def is_credential(value: object) -> bool:
    """Whether ``value`` has the official credential's shape (a callable ``get_token``)."""
    return not isinstance(value, str) and callable(getattr(value, "get_token", None))


def wants_proactive(credential: object) -> bool:
    """Whether the library should refresh in the 10-minute window for this credential."""
    return bool(getattr(credential, "_proactive_refresh", False))
