"""Value types of the public API."""

from __future__ import annotations

from enum import Enum

TYPE_CHECKING = False
if TYPE_CHECKING:
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


class SendChatMessageResult:
    """Result of :meth:`ChatThreadClient.send_message`: the id the service gave the message.

    Read-only (assigning raises ``AttributeError``), compared and hashed by ``id``.
    """

    __slots__ = ("_id", "_status_code", "_request_id")
    __match_args__ = ("id",)

    def __init__(self, id: str, *, status_code: Optional[int] = None, request_id: Optional[str] = None) -> None:
        self._id = id
        self._status_code = status_code
        self._request_id = request_id

    @property
    def id(self) -> str:
        return self._id

    @property
    def status_code(self) -> Optional[int]:
        """The HTTP status of the service's answer (201), when the library reports it, else None."""
        return self._status_code

    @property
    def request_id(self) -> Optional[str]:
        """The answer's ``MS-CV`` / ``x-ms-request-id``, when the library reports it, else None."""
        return self._request_id

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}(id={self._id!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SendChatMessageResult) and type(other) is type(self):
            return self._id == other._id
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._id)
