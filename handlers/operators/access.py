"""Only members of the operator group and the managers may act; anyone else is refused and
logged (without personal data). When Telegram cannot say whether someone is a member (and it
was not known before), they are asked to try again rather than ignored."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, User
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
        allowed = False if user is None or user.is_bot else await access.is_operator(user.id)
        if allowed:
            return await handler(event, data)
        if allowed is None:
            # Telegram could not say who this is: whoever it is learns to try again, so an
            # operator's answer or command is not lost without a word.
            await _retry_later(event)
            return None
        log.warning(
            "refused %s from user %s: not an operator", type(event).__name__, user and user.id
        )
        if isinstance(event, CallbackQuery):
            await event.answer(_("desk.not_operator"), show_alert=True)
        return None


async def _retry_later(event: TelegramObject) -> None:
    text = _("error.internal")
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    elif isinstance(event, Message):
        await event.reply(text)
