"""Exceptions raised by acs_chat, and the mapping from ``acs_result`` values to them.

- UNAUTHORIZED (401): ClientAuthenticationError
- FORBIDDEN (403): ForbiddenError
- NOT_FOUND (404): ResourceNotFoundError
- THROTTLED (429): ThrottledError
- BAD_REQUEST (400, other 4xx), SERVICE_ERROR (5xx): HttpResponseError
- TOKEN: TokenError, a ClientAuthenticationError
- CONNECT: ServiceRequestError
- INSECURE_ENDPOINT: InsecureEndpointError, a ServiceRequestError
- TIMEOUT, IO, PROTOCOL: ServiceResponseError
- INVALID_ARGUMENT, NULL_PARAMETER: InvalidArgumentError, also a ValueError
- CANCELLED: OperationCancelledError
- PANIC, INTERNAL: InternalError

``may_have_been_delivered`` is the library's verdict for the failed call
(``acs_last_error_may_have_been_delivered``, or ``acs_completion_may_have_been_delivered`` for an
asynchronous call), not a guess from the result code: a 503 was answered and not applied (False),
a timeout after the request was written may have been (True).

``TokenError`` is a ``ClientAuthenticationError`` because the remedy is the same (get a new
token), as azure-identity raises ``ClientAuthenticationError`` when no token can be obtained;
its ``status_code`` is None since no request was answered. ``InsecureEndpointError`` is a
``ServiceRequestError``, as azure-core raises for a bearer token over plain ``http://``.

**azure-core.** When ``azure.core`` is installed (and ``ACS_CHAT_AZURE_CORE`` is not ``0``), the
classes also derive from the matching ``azure.core.exceptions`` classes (``HttpResponseError``,
``ClientAuthenticationError``, ``ResourceNotFoundError``, ``ServiceRequestError``,
``ServiceResponseError``), so ``except azure.core.exceptions.HttpResponseError`` catches ours.
The hierarchy is fixed when this module is imported, so that import pays for importing
``azure.core`` (some 70-100 ms); without azure-core nothing of ``azure`` is imported.
"""

from __future__ import annotations

import os

from ._constants import RESULT_NAMES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Dict, Optional, Tuple, Type


def _azure_exceptions() -> Any:
    """``azure.core.exceptions`` when it is installed and wanted, else None."""
    if os.environ.get("ACS_CHAT_AZURE_CORE", "1") == "0":
        return None
    try:
        from azure.core import exceptions
    except ImportError:
        return None
    return exceptions


_azure: Any = _azure_exceptions()
AZURE_CORE: bool = _azure is not None
"""Whether the exception classes derive from ``azure.core.exceptions``."""


def _azure_base(name: str) -> Any:
    return object if _azure is None else getattr(_azure, name)


_AzureHttpResponseError: Any = _azure_base("HttpResponseError")
_AzureClientAuthenticationError: Any = _azure_base("ClientAuthenticationError")
_AzureResourceNotFoundError: Any = _azure_base("ResourceNotFoundError")
_AzureServiceRequestError: Any = _azure_base("ServiceRequestError")
_AzureServiceResponseError: Any = _azure_base("ServiceResponseError")


class ErrorDetail:
    """The service's error, as azure-core's ``HttpResponseError.error`` (``ODataV4Format``):
    ``code`` (the service's error code, or None), ``message``, ``target`` (None), ``details``
    (empty) and ``innererror`` (empty)."""

    def __init__(self, code: Optional[str], message: str) -> None:
        self.code = code
        self.message = message
        self.target: Optional[str] = None
        self.details: list[ErrorDetail] = []
        self.innererror: Dict[str, Any] = {}

    def __str__(self) -> str:
        return f"({self.code}) {self.message}"

    def __repr__(self) -> str:
        return f"ErrorDetail(code={self.code!r}, message={self.message!r})"


def _reason(status_code: Optional[int]) -> Optional[str]:
    if not status_code:
        return None
    from http import HTTPStatus

    try:
        return HTTPStatus(status_code).phrase
    except ValueError:
        return None


RESULT_VALUES: Dict[str, int] = {name: value for value, name in RESULT_NAMES.items()}


def result_name(value: int) -> str:
    """``ACS_RESULT_*`` name of ``value``; unknown values read ``ACS_RESULT_<number>``."""
    return RESULT_NAMES.get(value, f"ACS_RESULT_{value}")


class AcsChatError(Exception):
    """Base of every failure reported by the native library.

    Attributes:
        result: the ``ACS_RESULT_*`` name, e.g. ``"ACS_RESULT_THROTTLED"``.
        result_code: the numeric ``acs_result`` value.
        status_code: the HTTP status of the last answer, or None when there was none.
        error_code: the service's error code (``"TooManyRequests"``), or None.
        message: one line describing the failure; never contains the token.
        request_id: the service's ``MS-CV`` / ``x-ms-request-id``, else the client request id,
            or None.
        retry_after: the delay the service asked for, in seconds, or None.
        may_have_been_delivered: the library's verdict: False when the operation certainly
            did not take effect (refused, rejected, answered with an error status, or never
            sent); True when it may have, so blindly sending a message again could post it twice.
    """

    def __init__(
        self,
        message: str,
        *,
        result: str = "ACS_RESULT_INTERNAL",
        status_code: Optional[int] = None,
        error_code: Optional[str] = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
        may_have_been_delivered: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.result = result
        self.status_code = status_code
        self.reason = _reason(status_code)
        """The HTTP reason phrase of ``status_code`` (``"Too Many Requests"``), or None."""
        self.error = ErrorDetail(error_code, message)
        """``.code`` (the service's error code, or None) and ``.message``, as azure-core's."""
        self.response: Any = None
        """Always None (azure-core's raw response object; there is none here)."""
        self.error_code = error_code
        self.request_id = request_id
        self.retry_after = retry_after
        self.may_have_been_delivered = may_have_been_delivered

    @property
    def result_code(self) -> int:
        if self.result in RESULT_VALUES:
            return RESULT_VALUES[self.result]
        suffix = self.result.rsplit("_", 1)[-1]
        return int(suffix) if suffix.isdigit() else -1

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        fields = [f"{self.message!r}", f"result={self.result!r}"]
        for name in ("status_code", "error_code", "request_id", "retry_after"):
            value = getattr(self, name)
            if value is not None:
                fields.append(f"{name}={value!r}")
        if self.may_have_been_delivered:
            fields.append("may_have_been_delivered=True")
        return f"{type(self).__name__}({', '.join(fields)})"

    def __reduce__(self) -> Tuple[Any, ...]:
        return (
            _rebuild,
            (
                type(self),
                self.message,
                {
                    "result": self.result,
                    "status_code": self.status_code,
                    "error_code": self.error_code,
                    "request_id": self.request_id,
                    "retry_after": self.retry_after,
                    "may_have_been_delivered": self.may_have_been_delivered,
                },
            ),
        )


def _rebuild(cls: Type[AcsChatError], message: str, fields: Dict[str, Any]) -> AcsChatError:
    return cls(message, **fields)


class HttpResponseError(AcsChatError, _AzureHttpResponseError):  # type: ignore[misc]
    """The service answered with an error status (retries, if any, are spent)."""


class ClientAuthenticationError(HttpResponseError, _AzureClientAuthenticationError):  # type: ignore[misc]
    """401: the token was refused."""


class TokenError(ClientAuthenticationError):
    """No usable token: not a JWT, expired, or the token refresher failed (its exception is the
    ``__cause__``). Nothing was sent."""


class ForbiddenError(HttpResponseError):
    """403: the user may not act on this thread."""


class ResourceNotFoundError(HttpResponseError, _AzureResourceNotFoundError):  # type: ignore[misc]
    """404: no such thread (or message)."""


class ThrottledError(HttpResponseError):
    """429: the service's rate limit; ``retry_after`` says when to try again, if it said."""


class ServiceRequestError(AcsChatError, _AzureServiceRequestError):  # type: ignore[misc]
    """The request never reached the service (DNS, refused connection, TLS handshake)."""


class InsecureEndpointError(ServiceRequestError):
    """A plain ``http://`` endpoint that is not loopback, without ``allow_insecure_http``."""


class ServiceResponseError(AcsChatError, _AzureServiceResponseError):  # type: ignore[misc]
    """The request was sent but no usable answer came back (timeout, broken connection, an
    answer the client cannot use): the operation may have taken effect."""


class InvalidArgumentError(AcsChatError, ValueError):
    """An argument the native library rejected (bad endpoint URL, option value, UTF-8)."""


class OperationCancelledError(AcsChatError):
    """The call was cancelled (``acs_call_cancel``) before it finished; ``may_have_been_delivered``
    says whether a message could still have arrived. :mod:`acs_chat.aio` raises
    :class:`acs_chat.aio.CallCancelledError` (an :class:`asyncio.CancelledError`) instead, with
    this error as its ``error``."""


class InternalError(AcsChatError):
    """A bug in the native library (including a caught panic)."""


_CLASSES: Dict[str, Type[AcsChatError]] = {
    "ACS_RESULT_NULL_PARAMETER": InvalidArgumentError,
    "ACS_RESULT_INVALID_ARGUMENT": InvalidArgumentError,
    "ACS_RESULT_INSECURE_ENDPOINT": InsecureEndpointError,
    "ACS_RESULT_UNAUTHORIZED": ClientAuthenticationError,
    "ACS_RESULT_FORBIDDEN": ForbiddenError,
    "ACS_RESULT_NOT_FOUND": ResourceNotFoundError,
    "ACS_RESULT_BAD_REQUEST": HttpResponseError,
    "ACS_RESULT_THROTTLED": ThrottledError,
    "ACS_RESULT_SERVICE_ERROR": HttpResponseError,
    "ACS_RESULT_CONNECT": ServiceRequestError,
    "ACS_RESULT_TIMEOUT": ServiceResponseError,
    "ACS_RESULT_IO": ServiceResponseError,
    "ACS_RESULT_PROTOCOL": ServiceResponseError,
    "ACS_RESULT_TOKEN": TokenError,
    "ACS_RESULT_CANCELLED": OperationCancelledError,
    "ACS_RESULT_PANIC": InternalError,
    "ACS_RESULT_INTERNAL": InternalError,
}


def error_class(result: str) -> Type[AcsChatError]:
    """The exception class raised for an ``ACS_RESULT_*`` name."""
    return _CLASSES.get(result, AcsChatError)


def make_error(
    value: int,
    message: str,
    status_code: int,
    error_code: str,
    request_id: str,
    retry_after_ms: int,
    may_have_been_delivered: bool,
) -> AcsChatError:
    """Build the exception for a failed call from the native last-error (or completion) fields."""
    result = result_name(value)
    cls = error_class(result)
    return cls(
        message or result,
        result=result,
        status_code=status_code or None,
        error_code=error_code or None,
        request_id=request_id or None,
        retry_after=retry_after_ms / 1000.0 if retry_after_ms else None,
        may_have_been_delivered=bool(may_have_been_delivered),
    )
