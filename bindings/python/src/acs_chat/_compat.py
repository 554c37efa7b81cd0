"""The keyword arguments of ``azure.communication.chat`` (azure-core's pipeline keywords), mapped
onto acs_chat's options, and the credential and endpoint forms the official clients take."""

from __future__ import annotations

from . import _credential

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Mapping, Optional, Tuple

OFFICIAL_CLIENT_KEYWORDS = (
    "user_agent",
    "logging_enable",
    "retry_backoff_factor",
    "retry_mode",
    "connection_timeout",
    "read_timeout",
    "enforce_https",
    "headers",
    "connection_verify",
)
"""Official keywords a client constructor takes besides acs_chat's own (``retry_total``,
``retry_backoff_max`` and ``api_version`` are the same in both)."""

_ALIASES = {
    "user_agent": "application_id",
    "retry_backoff_factor": "retry_backoff",
    "connection_timeout": "connect_timeout",
    "read_timeout": "timeout",
}


def https_endpoint(endpoint: object) -> object:
    """``endpoint`` with ``https://`` prepended when it has no scheme, as the official clients do
    (anything not starting with ``http``); other values are returned for validation as they are."""
    if isinstance(endpoint, str) and endpoint and not endpoint.lower().startswith("http"):
        return "https://" + endpoint
    return endpoint


def _no_headers(headers: object, where: str) -> None:
    if headers is None:
        return
    from collections.abc import Mapping

    if not isinstance(headers, Mapping):
        raise TypeError(f"headers must be a mapping, not {type(headers).__name__}")
    if headers:
        raise ValueError(
            f"acs_chat cannot send custom headers ({where}): the native library sets every header "
            f"itself; got {sorted(str(k) for k in headers)}"
        )


def _bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be bool, not {type(value).__name__}")
    return value


def _enable_logging() -> None:
    from ._logging import enable_logging

    enable_logging()


def client_options(options: Dict[str, Any], official: Dict[str, Any]) -> Dict[str, Any]:
    """acs_chat's constructor options (``options``, changed in place and returned) with the
    official keywords (``official``, those not None) mapped onto them."""
    for name, ours in _ALIASES.items():
        value = official.get(name)
        if value is None:
            continue
        if options.get(ours) is not None:
            raise TypeError(f"pass {name}= or {ours}=, not both")
        options[ours] = value
    mode = official.get("retry_mode")
    if mode is not None:
        text = str(getattr(mode, "value", mode)).lower()
        if text not in ("exponential", "fixed"):
            raise ValueError(f"retry_mode must be 'exponential' or 'fixed', not {mode!r}")
        if text == "fixed":
            # A fixed delay (azure-core: min(backoff_factor, backoff_max)): growth capped at the base.
            from ._client import DEFAULT_RETRY_BACKOFF

            base = options.get("retry_backoff")
            base = DEFAULT_RETRY_BACKOFF if base is None else base
            cap = options.get("retry_backoff_max")
            if isinstance(cap, (int, float)) and isinstance(base, (int, float)) and cap < base:
                base = cap
            options["retry_backoff"] = options["retry_backoff_max"] = base
    enforce_https = official.get("enforce_https")
    if enforce_https is not None and not _bool(enforce_https, "enforce_https"):
        options["allow_insecure_http"] = True
    verify = official.get("connection_verify")
    if verify is not None:
        if verify is False:
            raise ValueError("acs_chat always verifies certificates: connection_verify=False is not supported")
        if verify is not True:
            if options.get("ca_file") is not None:
                raise TypeError("pass connection_verify= or ca_file=, not both")
            options["ca_file"] = verify
    _no_headers(official.get("headers"), "headers= of the client")
    logging_enable = official.get("logging_enable")
    if logging_enable is not None and _bool(logging_enable, "logging_enable"):
        _enable_logging()
    return options


def call_options(kwargs: Mapping[str, Any], operation: str) -> None:
    """Check the official per-call keywords of ``operation``; refuse any other."""
    for name, value in kwargs.items():
        if name == "headers":
            _no_headers(value, f"headers= of {operation}")
        elif name == "logging_enable":
            if _bool(value, name):
                _enable_logging()
        elif name == "enforce_https":
            _bool(value, name)  # the client's setting decides (see the README)
        elif name == "timeout":
            raise TypeError(
                f"the blocking {operation}() does not take a per-call timeout (acs_chat.aio does): pass "
                "total_timeout= (a whole-call deadline) or timeout= (per try) to the ChatClient"
            )
        else:
            raise TypeError(f"{operation}() got an unexpected keyword argument {name!r}")


def credential_token(
    credential: object, token_refresher: Optional[Callable[[], Any]], proactive_refresh: Optional[bool]
) -> Tuple[object, Optional[Callable[[], Any]], bool]:
    """``(token, token_refresher, proactive_refresh)`` for the native client from what the
    caller gave: a credential with ``get_token()`` supplies the first token and is the
    refresher; a str or ``AccessToken`` is the token as before."""
    if not _credential.is_credential(credential):
        return credential, token_refresher, bool(proactive_refresh)
    if token_refresher is not None:
        raise TypeError("a credential with get_token() refreshes itself: do not also pass token_refresher")
    get_token: Callable[[], Any] = getattr(credential, "get_token")
    import inspect

    if inspect.iscoroutinefunction(get_token):
        raise TypeError(
            f"{type(credential).__name__}.get_token is a coroutine function: use an async credential "
            "with acs_chat.aio.ChatClient, or a blocking one (acs_chat.CommunicationTokenCredential) here"
        )
    if proactive_refresh is None:
        proactive_refresh = _credential.wants_proactive(credential)
    return get_token(), get_token, proactive_refresh
