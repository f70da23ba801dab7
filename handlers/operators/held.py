"""The buttons under the quality guard's warning: send the held answer as it is, or cancel it.
Only operators reach this router (the access check on the operators' router)."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, Message

from bot.callbacks import HeldCb
from bot.lifecycle import Actor
from bot.services import guarding
from bot.services.tickets import TicketService

router = Router(name=__name__)


@router.callback_query(HeldCb.filter())
async def on_held(callback: CallbackQuery, callback_data: HeldCb, tickets: TicketService) -> None:
    operator = Actor.operator(callback.from_user.id, callback.from_user.full_name)
    verdict = await guarding.decide(tickets, callback_data.held, callback_data.action, operator)
    await callback.answer(verdict.popup, show_alert=verdict.refused)
    if verdict.warning is not None and isinstance(callback.message, Message):
        await callback.message.edit_text(verdict.warning, reply_markup=None)
