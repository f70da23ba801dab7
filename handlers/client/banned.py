"""A client the desk has banned gets a polite answer and nothing else."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from storage.models import Client

router = Router(name=__name__)


def is_banned(_event: object, client: Client | None = None) -> bool:
    return bool(client is not None and client.banned)


router.message.filter(is_banned)
router.callback_query.filter(is_banned)


@router.message()
async def banned_message(message: Message) -> None:
    await message.answer(_("client.banned_notice"))


@router.callback_query()
async def banned_button(callback: CallbackQuery) -> None:
    await callback.answer(_("client.banned_notice"), show_alert=True)
