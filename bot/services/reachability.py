"""Whether the bot can reach a client. A client who blocks the bot is known at once from the
`my_chat_member` update Telegram sends (handlers/client/reachability.py), and again from a 403
in their private chat (they blocked the bot, or deleted their account): an event for the desk,
not a delivery rule. A client who unblocks the bot, or writes again, is reachable again."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.lifecycle import EventKind
from bot.services.desk import Desk
from bot.services.outgoing import Outgoing
from bot.vocabulary import N_, ActorKind, Purpose
from storage.clients import ClientRepo
from storage.outbox import OutboxRepo
from storage.tickets import TicketRepo

log = logging.getLogger(__name__)


async def client_blocked(
    session: AsyncSession, desk: Desk, chat_id: int, now: datetime
) -> list[int]:
    """Mark the client as having blocked the bot, flag their open requests and tell the
    operators once per request (a request already flagged is not told again). Returns the
    numbers of the requests newly flagged. The caller commits."""
    return await _set_reachable(session, desk, chat_id, now, reachable=False)


async def client_unblocked(
    session: AsyncSession, desk: Desk, chat_id: int, now: datetime
) -> list[int]:
    """The client unblocked the bot: reachable again, their flagged open requests too, and the
    operators are told for each of those. Returns the numbers of those requests. The caller
    commits."""
    return await _set_reachable(session, desk, chat_id, now, reachable=True)


async def _set_reachable(
    session: AsyncSession, desk: Desk, chat_id: int, now: datetime, *, reachable: bool
) -> list[int]:
    """The client's flag and their open requests' flags set; each request whose flag changed
    is logged and the operators told. Returns the numbers of those requests."""
    client = await ClientRepo(session).by_telegram_id(chat_id)
    if client is None:
        return []
    client.blocked_bot = not reachable
    tickets = TicketRepo(session)
    out = Outgoing(OutboxRepo(session), desk.operator_chat_id, now)
    lang = desk.renderer.desk_language
    if reachable:
        event, text_id = EventKind.CLIENT_UNBLOCKED, N_("desk.client_unblocked")
    else:
        event, text_id = EventKind.CLIENT_BLOCKED, N_("desk.client_blocked")
    changed = []
    for ticket in await tickets.open_for_client(client.id):
        if ticket.client_unreachable == (not reachable):
            continue
        ticket.client_unreachable = not reachable
        tickets.log(ticket, event, at=now, actor_kind=ActorKind.SYSTEM)
        out.to_desk(
            ticket, desk.renderer.t(text_id, lang, number=ticket.number), purpose=Purpose.NOTICE
        )
        changed.append(ticket.number)
    if reachable:
        log.info("client %s can be reached again; requests cleared: %s", client.id, changed)
    else:
        log.info("client %s cannot be reached; requests flagged: %s", client.id, changed)
    return changed
