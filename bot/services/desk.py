"""What every use case needs to know about the desk: its policy, texts and chats."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.render import Renderer
from bot.sla import SlaPolicy


@dataclass(frozen=True)
class Desk:
    policy: SlaPolicy
    renderer: Renderer
    operator_chat_id: int | None
    topics: tuple[str, ...]
    reopen_window_hours: int = 72
    operator_names_visible: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return self.renderer.tz

    @property
    def first_response_minutes(self) -> int:
        return int(self.policy.first_response_working.total_seconds() // 60)
