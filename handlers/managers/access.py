"""Only the configured managers (MANAGER_IDS) may ask for figures; anyone else is refused
politely, in their own language, and logged (without personal data)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject, User
from aiogram.utils.i18n import gettext as _

from bot.settings import Settings

log = logging.getLogger(__name__)


def is_manager(user: User | None, settings: Settings) -> bool:
    return user is not None and not user.is_bot and user.id in settings.manager_ids


class ManagerAccessMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if is_manager(user, data["settings"]):
            return await handler(event, data)
        log.warning("refused a manager command from user %s: not a manager", user and user.id)
        if isinstance(event, Message):
            await event.answer(_("managers.refused"))
        return None
