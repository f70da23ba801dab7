"""What every use case needs to know about the desk: its policy, texts and chats."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.guard import Guard
from bot.render import Renderer
from bot.sla import SlaPolicy


@dataclass(eq=False)
class OperatorChat:
    """The operators' group id. It is the one thing about the desk that changes while the bot
    runs: Telegram gives a group upgraded to a supergroup a new id (delivery moves it)."""

    id: int | None


@dataclass(frozen=True, init=False)
class Desk:
    policy: SlaPolicy
    renderer: Renderer
    operator_chat: OperatorChat
    topics: tuple[str, ...]
    reopen_window_hours: int = 72
    operator_names_visible: bool = False
    # The quality guard on operators' answers; None when QUALITY_GUARD is off.
    guard: Guard | None = None

    def __init__(
        self,
        policy: SlaPolicy,
        renderer: Renderer,
        operator_chat_id: int | None,
        topics: tuple[str, ...],
        reopen_window_hours: int = 72,
        operator_names_visible: bool = False,
        guard: Guard | None = None,
    ) -> None:
        values = {
            "policy": policy,
            "renderer": renderer,
            "operator_chat": OperatorChat(operator_chat_id),
            "topics": topics,
            "reopen_window_hours": reopen_window_hours,
            "operator_names_visible": operator_names_visible,
            "guard": guard,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def operator_chat_id(self) -> int | None:
        return self.operator_chat.id

    @property
    def tz(self) -> ZoneInfo:
        return self.renderer.tz
