"""The card's buttons: claim, release, wait for the client, priority, resolve, reopen."""

from __future__ import annotations

import logging
from datetime import datetime

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot.callbacks import TicketCb
from bot.lifecycle import TransitionError
from bot.services import lifecycle
from bot.services.desk import Desk
from bot.sla import Priority
from storage.tickets import TicketRepo

router = Router(name=__name__)
log = logging.getLogger(__name__)

ACTIONS = ("claim", "release", "wait", "unwait", "prio", "setprio", "card", "resolve", "reopen")


def actor_of(callback: CallbackQuery) -> lifecycle.Actor:
    return lifecycle.Actor(id=callback.from_user.id, name=callback.from_user.full_name)


@router.callback_query(TicketCb.filter(F.action.in_(ACTIONS)))
async def on_card(
    callback: CallbackQuery,
    callback_data: TicketCb,
    session: AsyncSession,
    desk: Desk,
    now: datetime,
) -> None:
    ticket = await TicketRepo(session).get(callback_data.ticket)
    if ticket is None:
        await callback.answer(_("desk.not_found"), show_alert=True)
        return
    actor = actor_of(callback)
    action = callback_data.action
    try:
        if action == "claim":
            await lifecycle.claim(session, desk, ticket, actor, now)
            await callback.answer(_("desk.claimed_by_you").format(number=ticket.number))
            return
        if action == "release":
            await lifecycle.release(session, desk, ticket, actor, now)
        elif action == "wait":
            await lifecycle.wait_for_client(session, desk, ticket, actor, now)
        elif action == "unwait":
            await lifecycle.resume_from_waiting(
                session, desk, ticket, now, actor_id=actor.id, actor_kind="operator"
            )
        elif action == "prio":
            await callback.answer()
            await _show_keyboard(callback, kb.priorities(desk.renderer, ticket))
            return
        elif action == "setprio":
            if callback_data.arg not in list(Priority):
                await callback.answer(_("error.button_outdated"), show_alert=True)
                return
            await lifecycle.set_priority(
                session, desk, ticket, Priority(callback_data.arg), actor, now
            )
        elif action == "card":
            await callback.answer()
            await _show_keyboard(callback, kb.card(desk.renderer, ticket))
            return
        elif action == "resolve":
            await lifecycle.resolve(session, desk, ticket, actor, now)
        elif action == "reopen":
            await lifecycle.reopen(
                session, desk, ticket, now, actor_kind="operator", actor_id=actor.id
            )
    except lifecycle.AlreadyClaimed as exc:
        await callback.answer(
            _("desk.already_claimed").format(
                number=ticket.number, name=exc.assignee_name or exc.assignee_id
            ),
            show_alert=True,
        )
        return
    except TransitionError:
        await callback.answer(
            _("desk.not_allowed").format(status=_(f"status.{ticket.status}")), show_alert=True
        )
        return
    await callback.answer(_("desk.done"))


async def _show_keyboard(callback: CallbackQuery, markup: InlineKeyboardMarkup) -> None:
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=markup)


@router.callback_query()
async def unknown_button(callback: CallbackQuery) -> None:
    log.warning("unknown button data from user %s in the operator group", callback.from_user.id)
    await callback.answer(_("error.button_outdated"), show_alert=True)
