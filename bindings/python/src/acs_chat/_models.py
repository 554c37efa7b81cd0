"""Value types of the public API."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Optional, Union


class ChatMessageType(str, Enum):
    """Type of a sent message. Lookup by value ignores case: ``ChatMessageType("HTML")``."""

    TEXT = "text"
    HTML = "html"

    @classmethod
    def _missing_(cls, value: object) -> Optional["ChatMessageType"]:
        if isinstance(value, str):
            for member in cls:
                if member.value == value.lower():
                    return member
        return None

    def __str__(self) -> str:
        return self.value


def parse_message_type(value: Union[ChatMessageType, str, None]) -> ChatMessageType:
    if value is None:
        return ChatMessageType.TEXT
    if isinstance(value, ChatMessageType):
        return value
    if isinstance(value, str):
        try:
            return ChatMessageType(value)
        except ValueError:
            raise ValueError(f"chat_message_type must be 'text' or 'html', not {value!r}") from None
    raise TypeError(f"chat_message_type must be a ChatMessageType or str, not {type(value).__name__}")


@dataclass(frozen=True)
class SendChatMessageResult:
    """Result of :meth:`ChatThreadClient.send_message`: the id the service gave the message."""

    id: str
