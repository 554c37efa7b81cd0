"""asyncio face of acs_chat, mirroring ``azure.communication.chat.aio``.

Calls run on the library's asynchronous C API: no executor, no thread per call. Cancelling an
awaiting task cancels the request and raises :class:`CallCancelledError` (an
:class:`asyncio.CancelledError`) saying whether it may have been delivered.
"""

from ._calls import CallCancelledError
from ._client import ChatClient, ChatThreadClient
from ._credential import CommunicationTokenCredential

__all__ = ["CallCancelledError", "ChatClient", "ChatThreadClient", "CommunicationTokenCredential"]
