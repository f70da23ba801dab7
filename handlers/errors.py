"""When a handler fails, the client still gets a polite answer, and the failure is logged."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent

from bot.i18n import DeskI18n, guess_language

router = Router(name=__name__)
log = logging.getLogger(__name__)


@router.error()
async def on_error(event: ErrorEvent, i18n: DeskI18n) -> None:
    update = event.update
    log.error("update %s failed: %r", update.update_id, event.exception)
    message = update.message or update.edited_message
    callback = update.callback_query
    user = message.from_user if message is not None else callback.from_user if callback else None
    lang = guess_language(user.language_code if user else None)
    if message is not None and message.chat.type == "private":
        await message.answer(i18n.t("error.internal", lang))
    elif callback is not None:
        await callback.answer(i18n.t("error.internal", lang), show_alert=True)
