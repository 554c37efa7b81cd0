"""The blocking client: :class:`ChatClient` and :class:`ChatThreadClient`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from ctypes import byref, c_char_p

from . import _compat, _constants, _ffi
from ._ffi import acs_client_set_token, acs_send_message, acs_send_read_receipt, acs_send_typing
from ._errors import TokenError
from ._managed import Managed
from ._models import ChatMessageType, SendChatMessageResult, parse_message_type

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, List, Optional, Tuple, Type, TypeVar, Union

    from typing import Protocol

    _Client = TypeVar("_Client", bound="ChatClient")

    TokenLike = Any  # a str, or an object with a str ``.token`` attribute (``AccessToken``)
    TokenRefresher = Callable[[], TokenLike]

    class RefresherAdapter(Protocol):
        """What gives the library a Python token refresher (:class:`_Refresher`, or the
        asyncio client's)."""

        callback: Any
        user_data: Optional[int]

        def fetch(self) -> bytes: ...

        def forget(self) -> None: ...

        def explain(self, err: TokenError) -> BaseException: ...

_TEXT = ChatMessageType.TEXT
_U32_MAX = 2**32 - 1
DEFAULT_RETRY_BACKOFF = _constants.ACS_DEFAULT_RETRY_DELAY_MS / 1000
DEFAULT_RETRY_BACKOFF_MAX = _constants.ACS_DEFAULT_MAX_RETRY_DELAY_MS / 1000


def _text(value: object, name: str, *, allow_empty: bool = False) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be str, not {type(value).__name__}")
    if not value and not allow_empty:
        raise ValueError(f"{name} must not be empty")
    if "\x00" in value:
        raise ValueError(f"{name} must not contain NUL characters")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"{name} is not valid Unicode text: {exc.reason}") from None


# The keywords from_connection_string() takes.
_CONNECTION_STRING_OPTIONS = frozenset(
    {
        "api_version",
        "timeout",
        "connect_timeout",
        "retry_total",
        "retry_backoff",
        "retry_backoff_max",
        "ca_file",
        "application_id",
        "allow_insecure_http",
        "proactive_refresh",
        "total_timeout",
        "max_connections",
    }
)


def _with_native_options(
    settings: List[Tuple[Callable[..., Any], Tuple[Any, ...]]], create: Callable[[Any], None]
) -> None:
    """``create(options)`` with native options made from ``settings`` (None when there are
    none), freed afterwards: the library copies them."""
    if not settings:
        create(None)
        return
    options = _ffi.acs_client_options_p()
    _ffi.acs_client_options_new(byref(options))
    try:
        for setter, args in settings:
            setter(options, *args)
        create(options)
    finally:
        _ffi.acs_client_options_free(options)


def _connection_string_endpoint(conn_str: str) -> str:
    """The endpoint a (valid) connection string names, without a trailing slash."""
    for part in conn_str.split(";"):
        name, _, value = part.partition("=")
        if name.strip().lower() == "endpoint":
            return value.strip().rstrip("/")
    return ""


def _token_text(value: object, name: str) -> bytes:
    token = value if isinstance(value, str) else getattr(value, "token", None)
    if not isinstance(token, str):
        raise TypeError(f"{name} must be a str or an object with a str .token attribute, not {type(value).__name__}")
    return _text(token, name)


def _seconds_to_ms(value: object, name: str, *, allow_zero: bool, allow_infinite: bool = False) -> int:
    import math

    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    seconds = float(value)
    if math.isnan(seconds):
        raise ValueError(f"{name} must not be NaN")
    if math.isinf(seconds) and seconds > 0:
        if allow_infinite:
            return 0
        raise ValueError(f"{name} must be finite")
    if seconds < 0 or (seconds == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} seconds, not {value!r}")
    millis = math.ceil(seconds * 1000)
    if millis > _U32_MAX:
        raise ValueError(f"{name} must be at most {_U32_MAX // 1000} seconds, not {value!r}")
    return millis


def _count(value: object, name: str) -> int:
    """A whole number for a ``uint32_t`` argument; the library checks its own limits."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be int, not {type(value).__name__}")
    if not 0 <= value <= _U32_MAX:
        raise ValueError(f"{name} must be between 0 and {_U32_MAX}, not {value}")
    return value


def _path(value: object, name: str) -> bytes:
    if isinstance(value, (str, os.PathLike)):
        path = os.fsdecode(value)
        return _text(path, name)
    raise TypeError(f"{name} must be a str or os.PathLike, not {type(value).__name__}")


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be bool, not {type(value).__name__}")
    return value


class _Refresher:
    """Adapts a Python token refresher to ``acs_token_refresher``.

    An exception raised by the refresher is remembered on the calling thread and the callback
    reports failure; the failing call then raises :class:`TokenError` with that exception as its
    ``__cause__`` (``KeyboardInterrupt`` and ``SystemExit`` are re-raised as they are).
    """

    user_data: Optional[int] = None
    """The ``user_data`` given to the library with :attr:`callback`."""

    def __init__(self, refresher: TokenRefresher) -> None:
        import threading

        self._refresher = refresher
        self._local = threading.local()
        self.callback = _ffi.acs_token_refresher(self._invoke)

    def fetch(self) -> bytes:
        return _token_text(self._refresher(), "the token_refresher's result")

    def _invoke(self, user_data: Any, sink: Any) -> int:
        try:
            _ffi.acs_token_sink_set(sink, self.fetch())
            return _constants.ACS_RESULT_OK
        except BaseException as exc:  # noqa: B902 - nothing may propagate into native code
            self._local.error = exc
            return _constants.ACS_RESULT_TOKEN

    def forget(self) -> None:
        self._local.error = None

    def explain(self, err: TokenError) -> BaseException:
        """The exception to raise for ``err``: annotated with the refresher's failure, if any."""
        exc: Optional[BaseException] = getattr(self._local, "error", None)
        self._local.error = None
        return explain_refresher_failure(err, exc)


def explain_refresher_failure(err: TokenError, exc: Optional[BaseException]) -> BaseException:
    """The exception to raise for ``err`` when the refresher failed with ``exc`` (the library only
    knows the callback reported failure; the exception says why): ``err`` with ``exc`` as its
    cause, or ``exc`` itself when it is not an ``Exception`` (``KeyboardInterrupt``)."""
    if exc is None:
        return err
    if not isinstance(exc, Exception):
        exc.__context__ = err
        exc.__suppress_context__ = True
        return exc
    err.message = f"the token refresher raised {type(exc).__name__}: {exc}"
    err.args = (err.message,)
    err.__cause__ = exc
    return err


class ChatClient(Managed):
    """A client for one Azure Communication Services endpoint, as one user (the token's).

    Thread-safe: share one client across threads; each call blocks its thread only, with the
    GIL released while it waits on the network. Use as a context manager, or call
    :meth:`close`; an unclosed client is freed when collected.

    :param endpoint: ``https://<resource>.communication.azure.com`` (without a scheme,
        ``https://`` is prepended, as by the official SDK).
    :param credential: a :class:`CommunicationTokenCredential` (ours or the official SDK's, or
        any object with its ``get_token()``: it supplies the first token and is called as the
        token refresher), or the user access token (a JWT) as a str or an object with
        ``.token``. May be None when ``token_refresher`` is given: the refresher supplies the
        first token. ``token=`` is accepted as the keyword form.
    :keyword api_version: REST api-version (default ``"2025-03-15"``).
    :keyword timeout: seconds to wait for each try's answer (default 30); ``math.inf`` for none.
    :keyword connect_timeout: seconds to wait for a connection (default 10).
    :keyword retry_total: retries after the first try, 0 to 10 (default 3).
    :keyword retry_backoff: base delay between retries in seconds, doubled per retry with
        jitter (default 0.8).
    :keyword retry_backoff_max: upper bound of that delay in seconds (default 60).
    :keyword ca_file: PEM file of extra trusted certificates.
    :keyword application_id: added to the ``User-Agent`` header.
    :keyword allow_insecure_http: allow plain ``http://`` to hosts that are not loopback.
    :keyword token_refresher: a callable with no arguments returning a fresh token (a str or an
        object with ``.token``), called when the token nears expiry and after a 401.
    :keyword proactive_refresh: refresh up to 10 minutes before expiry instead of 2.
    :keyword total_timeout: seconds a whole call may take, across every try, back-off wait,
        token refresh and wait for a connection (default: no limit but the per-try ``timeout``).
    :keyword max_connections: requests in flight at once to the endpoint over HTTP/1.1, each on
        a connection of its own, 1 to 65536 (default 100); further calls wait in line.

    The official SDK's keywords are accepted too and mapped onto these: ``user_agent``
    (``application_id``), ``retry_backoff_factor`` (``retry_backoff``), ``retry_mode``
    (``"fixed"``: a constant delay), ``connection_timeout`` (``connect_timeout``),
    ``read_timeout`` (``timeout``), ``enforce_https=False`` (``allow_insecure_http``),
    ``connection_verify`` (a path: ``ca_file``), ``logging_enable`` (:func:`enable_logging`),
    ``headers`` (empty only). See the README's table.
    """

    _closed_message = "operation on a closed ChatClient"
    _user_id: Optional[str] = None

    @classmethod
    def from_connection_string(
        cls: "Type[_Client]", conn_str: str, user_id: Optional[str] = None, **options: Any
    ) -> "_Client":
        """A client from an ACS resource's connection string
        (``endpoint=https://NAME.communication.azure.com/;accesskey=BASE64``) that gets and
        refreshes its own chat tokens from the resource's identity service, signing those
        requests with the access key.

        :param user_id: the ACS user (``8:acs:...``) to act as; None creates a new user, once,
            now: read :attr:`user_id` to store and reuse it.
        :keyword options: those of :class:`ChatClient` but the credential and
            ``token_refresher`` (the client has its own): ``api_version``, ``timeout``,
            ``connect_timeout``, ``retry_total``, ``retry_backoff``, ``retry_backoff_max``,
            ``ca_file``, ``application_id``, ``allow_insecure_http``, ``proactive_refresh``,
            ``total_timeout``, ``max_connections``.

        Blocks for the first token. A malformed string raises ``ValueError``; a refused
        signature (a wrong key) :class:`ClientAuthenticationError`; an unknown user
        :class:`ResourceNotFoundError`.
        """
        self = cls.__new__(cls)
        self._connect(conn_str, user_id, options)
        return self

    def _connect(self, conn_str: str, user_id: Optional[str], options: Mapping[str, Any]) -> None:
        unknown = sorted(set(options) - _CONNECTION_STRING_OPTIONS)
        if unknown:
            raise TypeError(f"from_connection_string() got unexpected keyword arguments: {', '.join(unknown)}")
        conn_bytes = _text(conn_str, "conn_str")
        user_bytes = None if user_id is None else _text(user_id, "user_id")
        settings = self._settings(
            **{name: options.get(name) for name in _CONNECTION_STRING_OPTIONS - {"allow_insecure_http", "proactive_refresh"}},
            allow_insecure_http=_flag(options.get("allow_insecure_http", False), "allow_insecure_http"),
            proactive_refresh=_flag(options.get("proactive_refresh", False), "proactive_refresh"),
        )
        handle = _ffi.acs_client_p()
        _with_native_options(
            settings,
            lambda native: _ffi.acs_client_new_from_connection_string(conn_bytes, user_bytes, native, byref(handle)),
        )
        self._credential: Optional[TokenLike] = None
        self._refresher: Optional[RefresherAdapter] = None
        self._endpoint = _connection_string_endpoint(conn_str)
        super().__init__(handle, _ffi.acs_client_free)
        out = c_char_p()
        _ffi.acs_client_user_id(self._handle, byref(out))
        try:
            self._user_id = (out.value or b"").decode("utf-8")
        finally:
            _ffi.acs_string_free(out)

    @property
    def user_id(self) -> Optional[str]:
        """The ACS user this client gets its tokens for, when made by
        :meth:`from_connection_string` (the one given, or the one it created); else None."""
        return self._user_id

    def _make_refresher(self, token_refresher: Any) -> RefresherAdapter:
        """The adapter giving the library ``token_refresher`` (see :class:`_Refresher`)."""
        return _Refresher(token_refresher)

    def __init__(
        self,
        endpoint: str,
        credential: Optional[TokenLike] = None,
        *,
        token: Optional[TokenLike] = None,
        api_version: Optional[str] = None,
        timeout: Optional[float] = None,
        connect_timeout: Optional[float] = None,
        retry_total: Optional[int] = None,
        retry_backoff: Optional[float] = None,
        retry_backoff_max: Optional[float] = None,
        ca_file: Optional[Union[str, "os.PathLike[str]"]] = None,
        application_id: Optional[str] = None,
        allow_insecure_http: bool = False,
        token_refresher: Optional[TokenRefresher] = None,
        proactive_refresh: Optional[bool] = None,
        total_timeout: Optional[float] = None,
        max_connections: Optional[int] = None,
        user_agent: Optional[str] = None,
        logging_enable: Optional[bool] = None,
        retry_backoff_factor: Optional[float] = None,
        retry_mode: Optional[str] = None,
        connection_timeout: Optional[float] = None,
        read_timeout: Optional[float] = None,
        enforce_https: Optional[bool] = None,
        headers: Optional[Mapping[str, str]] = None,
        connection_verify: Union[bool, str, None] = None,
    ) -> None:
        if token is not None:
            if credential is not None:
                raise TypeError("pass the credential or token=, not both")
            credential = token
        endpoint = _compat.https_endpoint(endpoint)  # type: ignore[assignment]
        endpoint_bytes = _text(endpoint, "endpoint")
        mapped = _compat.client_options(
            {
                "application_id": application_id,
                "retry_backoff": retry_backoff,
                "retry_backoff_max": retry_backoff_max,
                "connect_timeout": connect_timeout,
                "timeout": timeout,
                "allow_insecure_http": allow_insecure_http,
                "ca_file": ca_file,
            },
            {
                "user_agent": user_agent,
                "logging_enable": logging_enable,
                "retry_backoff_factor": retry_backoff_factor,
                "retry_mode": retry_mode,
                "connection_timeout": connection_timeout,
                "read_timeout": read_timeout,
                "enforce_https": enforce_https,
                "headers": headers,
                "connection_verify": connection_verify,
            },
        )
        application_id = mapped["application_id"]
        retry_backoff = mapped["retry_backoff"]
        retry_backoff_max = mapped["retry_backoff_max"]
        connect_timeout = mapped["connect_timeout"]
        timeout = mapped["timeout"]
        allow_insecure_http = mapped["allow_insecure_http"]
        ca_file = mapped["ca_file"]
        if proactive_refresh is not None:
            _flag(proactive_refresh, "proactive_refresh")
        token, token_refresher, proactive_refresh = _compat.credential_token(
            credential, token_refresher, proactive_refresh
        )
        self._credential = credential
        if token_refresher is not None and not callable(token_refresher):
            raise TypeError(f"token_refresher must be callable, not {type(token_refresher).__name__}")
        refresher = self._make_refresher(token_refresher) if token_refresher is not None else None
        settings = self._settings(
            api_version=api_version,
            timeout=timeout,
            connect_timeout=connect_timeout,
            retry_total=retry_total,
            retry_backoff=retry_backoff,
            retry_backoff_max=retry_backoff_max,
            ca_file=ca_file,
            application_id=application_id,
            allow_insecure_http=_flag(allow_insecure_http, "allow_insecure_http"),
            proactive_refresh=_flag(proactive_refresh, "proactive_refresh"),
            total_timeout=total_timeout,
            max_connections=max_connections,
        )
        if refresher is not None:
            settings.append(
                (
                    _ffi.acs_client_options_set_token_refresher,
                    (refresher.callback, refresher.user_data, _ffi.NO_USER_DATA_FREE),
                )
            )
        if token is None:
            if refresher is None:
                raise TypeError("token is required unless a token_refresher is given")
            token_bytes = refresher.fetch()
        else:
            token_bytes = _token_text(token, "token")

        handle = _ffi.acs_client_p()

        def create(options: Any) -> None:
            if refresher is not None:
                refresher.forget()
            _ffi.acs_client_new(endpoint_bytes, token_bytes, options, byref(handle))

        try:
            _with_native_options(settings, create)
        except TokenError as err:
            if refresher is None:
                raise
            raise refresher.explain(err)
        self._endpoint = endpoint
        self._refresher = refresher
        super().__init__(handle, _ffi.acs_client_free, keep_alive=refresher)
        if refresher is not None:
            self._before_call = refresher.forget

    @staticmethod
    def _settings(
        *,
        api_version: Optional[str],
        timeout: Optional[float],
        connect_timeout: Optional[float],
        retry_total: Optional[int],
        retry_backoff: Optional[float],
        retry_backoff_max: Optional[float],
        ca_file: Optional[Union[str, "os.PathLike[str]"]],
        application_id: Optional[str],
        allow_insecure_http: bool,
        proactive_refresh: bool,
        total_timeout: Optional[float] = None,
        max_connections: Optional[int] = None,
    ) -> List[Tuple[Callable[..., Any], Tuple[Any, ...]]]:
        """Validate every option and list the native setter calls it needs."""
        settings: List[Tuple[Callable[..., Any], Tuple[Any, ...]]] = []
        if api_version is not None:
            settings.append((_ffi.acs_client_options_set_api_version, (_text(api_version, "api_version"),)))
        if timeout is not None:
            ms = _seconds_to_ms(timeout, "timeout", allow_zero=False, allow_infinite=True)
            settings.append((_ffi.acs_client_options_set_timeout_ms, (ms,)))
        if connect_timeout is not None:
            ms = _seconds_to_ms(connect_timeout, "connect_timeout", allow_zero=False)
            settings.append((_ffi.acs_client_options_set_connect_timeout_ms, (ms,)))
        if retry_total is not None:
            settings.append((_ffi.acs_client_options_set_max_retries, (_count(retry_total, "retry_total"),)))
        if retry_backoff is not None or retry_backoff_max is not None:
            base = _seconds_to_ms(
                DEFAULT_RETRY_BACKOFF if retry_backoff is None else retry_backoff, "retry_backoff", allow_zero=True
            )
            cap = _seconds_to_ms(
                DEFAULT_RETRY_BACKOFF_MAX if retry_backoff_max is None else retry_backoff_max,
                "retry_backoff_max",
                allow_zero=True,
            )
            settings.append((_ffi.acs_client_options_set_retry_delay_ms, (base, cap)))
        if ca_file is not None:
            settings.append((_ffi.acs_client_options_set_ca_file, (_path(ca_file, "ca_file"),)))
        if application_id is not None:
            settings.append((_ffi.acs_client_options_set_application_id, (_text(application_id, "application_id"),)))
        if allow_insecure_http:
            settings.append((_ffi.acs_client_options_set_allow_insecure_http, (True,)))
        if proactive_refresh:
            settings.append((_ffi.acs_client_options_set_proactive_refresh, (True,)))
        if total_timeout is not None:
            ms = _seconds_to_ms(total_timeout, "total_timeout", allow_zero=False, allow_infinite=True)
            settings.append((_ffi.acs_client_options_set_total_timeout_ms, (ms,)))
        if max_connections is not None:
            count = _count(max_connections, "max_connections")
            settings.append((_ffi.acs_client_options_set_max_connections_per_origin, (count,)))
        return settings

    @property
    def endpoint(self) -> str:
        return self._endpoint

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<ChatClient {self._endpoint!r}{state}>"

    def get_chat_thread_client(self, thread_id: str) -> "ChatThreadClient":
        """A client for one chat thread, sharing this client's connections and token."""
        return ChatThreadClient(self, thread_id)

    def set_token(self, token: TokenLike) -> None:
        """Replace the token used by every later call (atomic; safe while calls run)."""
        self._invoke(acs_client_set_token, _token_text(token, "token"))

    def _failure(self, result: int) -> BaseException:
        err = _ffi.last_error(result)
        refresher = self._refresher
        if refresher is not None and isinstance(err, TokenError):
            return refresher.explain(err)
        return err


def message_options(
    chat_message_type: Union[ChatMessageType, str, None],
    sender_display_name: Optional[str],
    metadata: Optional[Mapping[str, str]],
) -> Any:
    """Native message options for a send, freed by the caller with ``acs_message_options_free``
    once the call is made (or submitted); None, and nothing to free, when every option is the
    default."""
    message_type = _TEXT if chat_message_type is _TEXT else parse_message_type(chat_message_type)
    name = None if sender_display_name is None else _text(sender_display_name, "sender_display_name", allow_empty=True)
    pairs = () if metadata is None else _metadata(metadata)
    if message_type is _TEXT and name is None and not pairs:
        return None
    options = _ffi.acs_message_options_p()
    _ffi.acs_message_options_new(byref(options))
    try:
        if message_type is ChatMessageType.HTML:
            _ffi.acs_message_options_set_type(options, _constants.ACS_MESSAGE_TYPE_HTML)
        if name is not None:
            _ffi.acs_message_options_set_sender_display_name(options, name)
        for key, value in pairs:
            _ffi.acs_message_options_add_metadata(options, key, value)
    except BaseException:
        _ffi.acs_message_options_free(options)
        raise
    return options


def _metadata(metadata: Mapping[str, str]) -> List[Tuple[bytes, bytes]]:
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a mapping of str to str, not {type(metadata).__name__}")
    return [(_text(key, "metadata key"), _text(value, "metadata value", allow_empty=True)) for key, value in metadata.items()]


def thread_client_arguments(
    client_class: Type[Any], what: str, client: Any, args: Tuple[Any, ...], kwargs: Dict[str, Any]
) -> Tuple[Any, Any, bool]:
    """``(client, thread_id, owns_client)`` of a thread client made as ``ChatThreadClient(client,
    thread_id)``, or the official way, ``ChatThreadClient(endpoint, credential, thread_id,
    **options)``, with a ``client_class`` of its own (``what`` names that class in errors)."""
    if isinstance(client, client_class):
        if len(args) + len(kwargs) != 1 or (kwargs and "thread_id" not in kwargs):
            raise TypeError("ChatThreadClient(client, thread_id) takes the thread id only")
        return client, args[0] if args else kwargs["thread_id"], False
    if not isinstance(client, str):
        raise TypeError(f"client must be {what} or an endpoint str, not {type(client).__name__}")
    args_list = list(args)
    credential = args_list.pop(0) if args_list else kwargs.pop("credential", None)
    thread_id = args_list.pop(0) if args_list else kwargs.pop("thread_id", None)
    if args_list:
        raise TypeError("ChatThreadClient(endpoint, credential, thread_id, **options): too many arguments")
    if thread_id is None:
        raise TypeError("ChatThreadClient(endpoint, credential, thread_id) requires thread_id")
    _text(thread_id, "thread_id")
    return client_class(client, credential, **kwargs), thread_id, True


class ChatThreadClient:
    """Operations on one chat thread.

    Made by :meth:`ChatClient.get_chat_thread_client` (sharing that client), or the official
    way, ``ChatThreadClient(endpoint, credential, thread_id, **options)``, with a
    :class:`ChatClient` of its own built from the same arguments and options, which
    :meth:`close` (or the end of a ``with`` block) releases. As thread-safe as its client.
    """

    def __init__(self, client: Union[ChatClient, str], *args: Any, **kwargs: Any) -> None:
        owner, thread_id, self._owns_client = thread_client_arguments(ChatClient, "a ChatClient", client, args, kwargs)
        self._thread_id_bytes = _text(thread_id, "thread_id")
        self._thread_id: str = thread_id
        self._client: ChatClient = owner

    def close(self) -> None:
        """Release the client this thread client made (official construction); a thread client
        from :meth:`ChatClient.get_chat_thread_client` leaves that client open."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> "ChatThreadClient":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def thread_id(self) -> str:
        return self._thread_id

    def __repr__(self) -> str:
        return f"<ChatThreadClient {self._thread_id!r}>"

    def send_message(
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
        :class:`ServiceResponseError` with ``may_have_been_delivered`` True. Takes the official
        per-call keywords ``headers`` (empty only), ``logging_enable`` and ``enforce_https``.
        """
        if kwargs:
            _compat.call_options(kwargs, "send_message")
        content_bytes = _text(content, "content")
        options = message_options(chat_message_type, sender_display_name, metadata)
        out = c_char_p()
        try:
            self._client._invoke(acs_send_message, self._thread_id_bytes, content_bytes, options, byref(out))
        finally:
            if options is not None:
                _ffi.acs_message_options_free(options)
        try:
            message_id = (out.value or b"").decode("utf-8")
        finally:
            _ffi.acs_string_free(out)
        status_code, request_id = _ffi.last_call_details()
        return SendChatMessageResult(message_id, status_code=status_code, request_id=request_id)

    def send_typing_notification(self, *, sender_display_name: Optional[str] = None, **kwargs: Any) -> None:
        """Tell the thread's participants that this user is typing."""
        if kwargs:
            _compat.call_options(kwargs, "send_typing_notification")
        name = None if sender_display_name is None else _text(sender_display_name, "sender_display_name", allow_empty=True)
        self._client._invoke(acs_send_typing, self._thread_id_bytes, name)

    def send_read_receipt(self, message_id: str, **kwargs: Any) -> None:
        """Mark the message ``message_id`` (and those before it) as read by this user."""
        if kwargs:
            _compat.call_options(kwargs, "send_read_receipt")
        self._client._invoke(acs_send_read_receipt, self._thread_id_bytes, _text(message_id, "message_id"))
