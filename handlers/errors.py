"""When a handler fails, whoever acted still gets a polite answer (a client in their chat, an
operator in the group or on the button), and the failure is logged. The update's transaction
was rolled back before this runs, so nothing here holds the database."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent

from bot.i18n import DeskI18n, guess_language
from bot.services.desk import Desk

router = Router(name=__name__)
log = logging.getLogger(__name__)


@router.error()
async def on_error(event: ErrorEvent, i18n: DeskI18n, desk: Desk) -> None:
    update = event.update
    log.error("update %s failed: %r", update.update_id, event.exception)
    message = update.message or update.edited_message
    callback = update.callback_query
    user = message.from_user if message is not None else callback.from_user if callback else None
    where = message or (callback.message if callback is not None else None)
    private = where is None or where.chat.type == "private"
    if private:
        lang = guess_language(user.language_code if user else None)
    else:
        lang = desk.renderer.desk_language
    text = i18n.t("error.internal", lang)
    try:
        if callback is not None:
            await callback.answer(text, show_alert=True)
        elif message is not None:
            await (message.answer(text) if private else message.reply(text))
    except Exception as exc:  # the apology itself may meet a failing Telegram
        log.warning("could not tell about the failure of update %s: %r", update.update_id, exc)
