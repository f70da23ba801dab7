"""Who may act on requests: members of the operator group (asked of Telegram, cached for a
while) and the configured manager ids."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.services.desk import OperatorChat

log = logging.getLogger(__name__)

MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})


@dataclass
class Access:
    bot: Bot
    chat: OperatorChat  # the desk's group, as it is now (it moves with an upgrade)
    manager_ids: frozenset[int]
    ttl: float = 300.0
    _cache: dict[int, tuple[float, bool]] = field(default_factory=dict)

    async def is_operator(self, user_id: int) -> bool | None:
        """Whether the user may act; None when Telegram cannot say now and nothing was known
        of them before (an answer known earlier is used, however old, rather than refuse an
        operator because Telegram hiccuped)."""
        if user_id in self.manager_ids:
            return True
        chat_id = self.chat.id
        if chat_id is None:
            return False
        cached = self._cache.get(user_id)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except TelegramAPIError:
            log.warning("membership of user %s could not be checked", user_id)
            return cached[1] if cached is not None else None
        allowed = member.status in MEMBER_STATUSES
        if member.status == "restricted":
            allowed = bool(getattr(member, "is_member", False))
        self._cache[user_id] = (now, allowed)
        return allowed
