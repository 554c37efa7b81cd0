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

    Immutable (assigning raises ``dataclasses.FrozenInstanceError``, an ``AttributeError``),
    compared and hashed by ``id``.
    """

    __match_args__ = ("id",)

    id: str
    status_code: Optional[int]
    """The HTTP status of the service's answer (201), when the library reports it, else None."""
    request_id: Optional[str]
    """The answer's ``MS-CV`` / ``x-ms-request-id``, when the library reports it, else None."""

    def __init__(self, id: str, *, status_code: Optional[int] = None, request_id: Optional[str] = None) -> None:
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "status_code", status_code)
        object.__setattr__(self, "request_id", request_id)

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}(id={self.id!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SendChatMessageResult) and other.__class__ is self.__class__:
            return (self.id,) == (other.id,)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.id,))

    def __setattr__(self, name: str, value: object) -> None:
        if type(self) is SendChatMessageResult or name in ("id", "status_code", "request_id"):
            raise _frozen(f"cannot assign to field {name!r}")
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if type(self) is SendChatMessageResult or name == "id":
            raise _frozen(f"cannot delete field {name!r}")
        super().__delattr__(name)


def _frozen(message: str) -> AttributeError:
    from dataclasses import FrozenInstanceError

    return FrozenInstanceError(message)
