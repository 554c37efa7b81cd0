"""asyncio face of acs_chat, mirroring ``azure.communication.chat.aio``."""

from ._client import ChatClient, ChatThreadClient

__all__ = ["ChatClient", "ChatThreadClient"]
