"""The card's buttons: claim, release, wait for the client, priority, resolve, reopen. Each
button is the same use case as its `/command` (bot.services.actions)."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import keyboards as kb
from bot.callbacks import TicketCb
from bot.lifecycle import Actor
from bot.services.actions import Request, perform
from bot.services.tickets import TicketService
from bot.vocabulary import DeskAction

router = Router(name=__name__)
log = logging.getLogger(__name__)

# Buttons that only change which buttons the card shows.
VIEWS = (DeskAction.PRIORITY_MENU, DeskAction.CARD)


@router.callback_query(TicketCb.filter())
async def on_card(callback: CallbackQuery, callback_data: TicketCb, tickets: TicketService) -> None:
    ticket = await tickets.repo.get(callback_data.ticket)
    if ticket is None:
        await callback.answer(_("desk.not_found"), show_alert=True)
        return
    if callback_data.action in VIEWS:
        renderer = tickets.desk.renderer
        markup = (
            kb.priorities(renderer, ticket)
            if callback_data.action == DeskAction.PRIORITY_MENU
            else kb.card(renderer, ticket)
        )
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.edit_reply_markup(reply_markup=markup)
        return
    actor = Actor.operator(callback.from_user.id, callback.from_user.full_name)
    answer = await perform(
        tickets, ticket, Request(callback_data.action, actor, arg=callback_data.arg)
    )
    await callback.answer(answer.text, show_alert=answer.refused)


@router.callback_query()
async def unknown_button(callback: CallbackQuery) -> None:
    log.warning("unknown button data from user %s in the operator group", callback.from_user.id)
    await callback.answer(_("error.button_outdated"), show_alert=True)
