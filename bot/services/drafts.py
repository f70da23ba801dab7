"""A request being written: the answers so far and the client's messages, kept in the FSM data
(so it survives a restart) until the client confirms."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Part:
    """One message the client sent, as a snapshot of what is needed to store and relay it."""

    chat_id: int
    message_id: int
    content_type: str
    text: str | None = None
    file_id: str | None = None
    file_name: str | None = None
    media_group_id: str | None = None

    @property
    def has_media(self) -> bool:
        return self.content_type != "text"


@dataclass
class RequestDraft:
    kind: str | None = None
    topic: str | None = None
    parts: list[Part] = field(default_factory=list)
    feedback: str | None = None
    contact: str | None = None

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_data(cls, data: dict[str, Any] | None) -> RequestDraft:
        if not data:
            return cls()
        parts = [Part(**p) for p in data.get("parts", [])]
        return cls(
            kind=data.get("kind"),
            topic=data.get("topic"),
            parts=parts,
            feedback=data.get("feedback"),
            contact=data.get("contact"),
        )

    @property
    def description(self) -> str:
        return "\n\n".join(p.text for p in self.parts if p.text)

    @property
    def media_count(self) -> int:
        return sum(1 for p in self.parts if p.has_media)
