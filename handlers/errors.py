"""When a handler fails, whoever acted still gets a polite answer (a client in their chat, in
the language they chose; an operator in the group, in reply to the command; whoever pressed a
button on it, or beside it when that pop-up cannot be shown), and the failure is logged. The
update's transaction was rolled back before this runs, so nothing here holds the database."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.types import CallbackQuery, ErrorEvent, Message, ReplyParameters

from bot.i18n import DeskI18n, guess_language
from bot.services.desk import Desk

router = Router(name=__name__)
log = logging.getLogger(__name__)


@router.error()
async def on_error(
    event: ErrorEvent, i18n: DeskI18n, desk: Desk, bot: Bot, locale: str | None = None
) -> None:
    update = event.update
    log.error("update %s failed: %r", update.update_id, event.exception)
    message = update.message or update.edited_message
    callback = update.callback_query
    user = message.from_user if message is not None else callback.from_user if callback else None
    where = message or (callback.message if callback is not None else None)
    private = where is None or where.chat.type == "private"
    # The language the update was handled in (the client's own, set before the handler ran);
    # else a guess, as for anyone the bot does not know.
    if locale is None:
        locale = guess_language(user.language_code if user else None) if private else None
    text = i18n.t("error.internal", locale or desk.renderer.desk_language)
    try:
        if callback is not None:
            await _tell_button(bot, callback, text)
        elif message is not None:
            await (message.answer(text) if private else message.reply(text))
    except Exception as exc:  # the apology itself may meet a failing Telegram
        log.warning("could not tell about the failure of update %s: %r", update.update_id, exc)


async def _tell_button(bot: Bot, callback: CallbackQuery, text: str) -> None:
    """A pop-up on the button; a message beside it when the pop-up cannot be shown (the press
    is too old, Telegram failed), so whoever pressed learns that nothing was done."""
    try:
        await callback.answer(text, show_alert=True)
    except Exception:
        pressed = callback.message
        if not isinstance(pressed, Message):
            raise
        await bot.send_message(
            pressed.chat.id,
            text,
            message_thread_id=pressed.message_thread_id if pressed.is_topic_message else None,
            reply_parameters=ReplyParameters(
                message_id=pressed.message_id, allow_sending_without_reply=True
            ),
        )
