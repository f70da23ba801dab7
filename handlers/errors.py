"""When a handler fails, the client still gets a polite answer, and the failure is logged."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

router = Router(name=__name__)
log = logging.getLogger(__name__)


@router.error()
async def on_error(event: ErrorEvent) -> None:
    update = event.update
    log.error("update %s failed: %r", update.update_id, event.exception)
    message = update.message or update.edited_message
    if message is not None and message.chat.type == "private":
        await message.answer(_("error.internal"))
    elif update.callback_query is not None:
        await update.callback_query.answer(_("error.internal"), show_alert=True)
