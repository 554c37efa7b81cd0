"""Python client for Azure Communication Services Chat, on the native ``acs_chat`` library.

::

    from acs_chat import ChatClient, ChatMessageType

    with ChatClient(endpoint, token) as client:
        thread = client.get_chat_thread_client(thread_id)
        result = thread.send_message("hello", chat_message_type=ChatMessageType.TEXT)
        thread.send_typing_notification(sender_display_name="Ada")
        thread.send_read_receipt(result.id)

The asyncio face is :mod:`acs_chat.aio`.
"""

from . import _ffi
from ._client import ChatClient, ChatThreadClient
from ._credential import AccessToken, CommunicationTokenCredential
from ._errors import (
    AZURE_CORE,
    AcsChatError,
    ClientAuthenticationError,
    ErrorDetail,
    ForbiddenError,
    HttpResponseError,
    InsecureEndpointError,
    InternalError,
    InvalidArgumentError,
    OperationCancelledError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
    ThrottledError,
    TokenError,
)
from ._logging import TRACE, disable_logging, enable_logging
from ._models import ChatMessageType, SendChatMessageResult

__version__: str = _ffi.version()
"""Version of the loaded native library (``acs_version()``)."""

LIBRARY_PATH: str = _ffi.library_path
"""Path of the native library that was loaded."""

__all__ = [
    "AZURE_CORE",
    "AccessToken",
    "AcsChatError",
    "ChatClient",
    "ChatMessageType",
    "ChatThreadClient",
    "ClientAuthenticationError",
    "CommunicationTokenCredential",
    "ErrorDetail",
    "ForbiddenError",
    "HttpResponseError",
    "InsecureEndpointError",
    "InternalError",
    "InvalidArgumentError",
    "LIBRARY_PATH",
    "OperationCancelledError",
    "ResourceNotFoundError",
    "SendChatMessageResult",
    "ServiceRequestError",
    "ServiceResponseError",
    "TRACE",
    "ThrottledError",
    "TokenError",
    "disable_logging",
    "enable_logging",
]
