"""Operator commands in the group: /queue, /mine, /t N, /priority N level, /resolve N,
/reopen N, /wait N, /release N, /assign N (in reply to the new assignee), /ban N, /unban N."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot.i18n import fmt_datetime, fmt_duration
from bot.lifecycle import Actor
from bot.numbers import request_number
from bot.services.actions import Request, perform
from bot.services.alert_plans import marks_of
from bot.services.desk import Desk
from bot.services.queries import QueuePage, nearest_due, queue
from bot.services.relay import ticket_in_desk
from bot.services.tickets import TicketService
from bot.textsplit import split_text
from bot.vocabulary import DeskAction, Priority, priority_label_id, status_label_id
from storage.models import Ticket
from storage.tickets import TicketRepo

router = Router(name=__name__)
TAPPED_NUMBER = re.compile(r"t_([0-9]{1,9})")


def actor_of(message: Message) -> Actor:
    assert message.from_user is not None
    return Actor.operator(message.from_user.id, message.from_user.full_name)


async def target(
    message: Message, number: str | None, session: AsyncSession, desk: Desk
) -> Ticket | None:
    """The request a command names by number, or the one whose topic/card it is written in."""
    if number:
        found = request_number(number)
        return await TicketRepo(session).by_number(found) if found is not None else None
    reply = message.reply_to_message.message_id if message.reply_to_message else None
    return await ticket_in_desk(session, desk, message.message_thread_id, reply)


def left(ticket: Ticket, now: datetime, desk: Desk) -> str:
    due = nearest_due(ticket)
    if due is None:
        return _("queue.no_deadline")
    seconds = int((due - now).total_seconds())
    lang = desk.renderer.desk_language
    span = fmt_duration(timedelta(seconds=abs(seconds)), lang, round_up=seconds > 0)
    due_text = fmt_datetime(due, lang, desk.tz)
    if seconds < 0:
        return _("queue.overdue").format(span=span, due=due_text)
    return _("queue.left").format(span=span, due=due_text)


def line(ticket: Ticket, now: datetime, desk: Desk) -> str:
    return _("queue.line").format(
        number=ticket.number,
        status=_(status_label_id(ticket.status)),
        priority=_(priority_label_id(ticket.priority)),
        company=escape(ticket.client_company),
        assignee=escape(ticket.assignee_name or "—"),
        left=left(ticket, now, desk),
    )


async def _send_list(
    message: Message, title: str, page: QueuePage, now: datetime, desk: Desk
) -> None:
    if not page.tickets:
        await message.reply(_("queue.empty"))
        return
    lines = [title] + [line(t, now, desk) for t in page.tickets]
    if page.total > len(page.tickets):
        more = page.total - len(page.tickets)
        lines.append(_("queue.more", "queue.more", more).format(n=more))
    for chunk in split_text("\n".join(lines)):
        await message.reply(chunk, parse_mode="HTML")


@router.message(Command("queue"))
async def show_queue(message: Message, session: AsyncSession, desk: Desk, now: datetime) -> None:
    await _send_list(message, _("queue.title"), await queue(session), now, desk)


@router.message(Command("mine"))
async def show_mine(message: Message, session: AsyncSession, desk: Desk, now: datetime) -> None:
    actor = actor_of(message)
    await _send_list(
        message, _("queue.mine_title"), await queue(session, assignee_id=actor.id), now, desk
    )


@router.message(Command("t"))
async def show_one(
    message: Message, command: CommandObject, session: AsyncSession, desk: Desk, now: datetime
) -> None:
    await _show(message, await target(message, command.args, session, desk), desk, now)


# `/t_1234`: one tap in an announcement of new requests opens the card (scheduler.announce).
@router.message(Command(TAPPED_NUMBER))
async def show_tapped(
    message: Message, command: CommandObject, session: AsyncSession, desk: Desk, now: datetime
) -> None:
    assert command.regexp_match is not None
    ticket = await target(message, command.regexp_match.group(1), session, desk)
    await _show(message, ticket, desk, now)


async def _show(message: Message, ticket: Ticket | None, desk: Desk, now: datetime) -> None:
    if ticket is None:
        await message.reply(_("desk.not_found"))
        return
    card = desk.renderer.card(ticket, marks_of(ticket, desk.policy, now))
    await message.reply(card.html, parse_mode="HTML", reply_markup=kb.card(desk.renderer, ticket))


@router.message(Command("priority"))
async def priority(
    message: Message, command: CommandObject, tickets: TicketService, desk: Desk
) -> None:
    args = (command.args or "").split()
    level = args[-1].lower() if args else ""
    if level not in {p.value for p in Priority}:
        await message.reply(_("desk.priority_usage"))
        return
    number = args[0] if len(args) > 1 else None
    await _act(message, number, tickets, desk, DeskAction.SET_PRIORITY, arg=level)


# The commands that name a request and act on it, each the same use case as its button.
SIMPLE = {
    "claim": DeskAction.CLAIM,
    "release": DeskAction.RELEASE,
    "wait": DeskAction.WAIT,
    "resolve": DeskAction.RESOLVE,
    "reopen": DeskAction.REOPEN,
    "ban": DeskAction.BAN,
    "unban": DeskAction.UNBAN,
}


async def _act(
    message: Message,
    number: str | None,
    tickets: TicketService,
    desk: Desk,
    action: DeskAction,
    *,
    arg: str = "",
    to: Actor | None = None,
) -> None:
    ticket = await target(message, number, tickets.session, desk)
    if ticket is None:
        await message.reply(_("desk.not_found"))
        return
    answer = await perform(tickets, ticket, Request(action, actor_of(message), arg=arg, to=to))
    await message.reply(answer.text)


@router.message(Command(*SIMPLE))
async def simple_command(
    message: Message, command: CommandObject, tickets: TicketService, desk: Desk
) -> None:
    action = SIMPLE[command.command.lower()]
    await _act(message, (command.args or "").strip() or None, tickets, desk, action)


@router.message(Command("assign"))
async def assign(
    message: Message, command: CommandObject, tickets: TicketService, desk: Desk
) -> None:
    """/assign N in reply to a message of the operator who takes the request over."""
    reply = message.reply_to_message
    if reply is None or reply.from_user is None or reply.from_user.is_bot:
        await message.reply(_("desk.assign_usage"))
        return
    to = Actor.operator(reply.from_user.id, reply.from_user.full_name)
    number = (command.args or "").strip() or None
    await _act(message, number, tickets, desk, DeskAction.ASSIGN, to=to)
