"""Only members of the operator group and the managers may act; anyone else is refused and
logged (without personal data)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, TelegramObject, User
from aiogram.utils.i18n import gettext as _

from bot.access import Access

log = logging.getLogger(__name__)


class OperatorAccessMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        access: Access = data["access"]
        if user is not None and not user.is_bot and await access.is_operator(user.id):
            return await handler(event, data)
        log.warning(
            "refused %s from user %s: not an operator", type(event).__name__, user and user.id
        )
        if isinstance(event, CallbackQuery):
            await event.answer(_("desk.not_operator"), show_alert=True)
        return None
