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
from bot.vocabulary import ActorKind, Purpose
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
    client = await ClientRepo(session).by_telegram_id(chat_id)
    if client is None:
        return []
    client.blocked_bot = True
    tickets = TicketRepo(session)
    out = Outgoing(OutboxRepo(session), desk.operator_chat_id, now)
    lang = desk.renderer.desk_language
    flagged = []
    for ticket in await tickets.open_for_client(client.id):
        if ticket.client_unreachable:
            continue
        ticket.client_unreachable = True
        tickets.log(ticket, EventKind.CLIENT_BLOCKED, at=now, actor_kind=ActorKind.SYSTEM)
        out.to_desk(
            ticket,
            desk.renderer.t("desk.client_blocked", lang, number=ticket.number),
            purpose=Purpose.NOTICE,
        )
        flagged.append(ticket.number)
    log.info("client %s cannot be reached; requests flagged: %s", client.id, flagged)
    return flagged


async def client_unblocked(
    session: AsyncSession, desk: Desk, chat_id: int, now: datetime
) -> list[int]:
    """The client unblocked the bot: reachable again, their flagged open requests too, and the
    operators are told for each of those. Returns the numbers of those requests. The caller
    commits."""
    client = await ClientRepo(session).by_telegram_id(chat_id)
    if client is None:
        return []
    client.blocked_bot = False
    tickets = TicketRepo(session)
    out = Outgoing(OutboxRepo(session), desk.operator_chat_id, now)
    lang = desk.renderer.desk_language
    cleared = []
    for ticket in await tickets.open_for_client(client.id):
        if not ticket.client_unreachable:
            continue
        ticket.client_unreachable = False
        tickets.log(ticket, EventKind.CLIENT_UNBLOCKED, at=now, actor_kind=ActorKind.SYSTEM)
        out.to_desk(
            ticket,
            desk.renderer.t("desk.client_unblocked", lang, number=ticket.number),
            purpose=Purpose.NOTICE,
        )
        cleared.append(ticket.number)
    log.info("client %s can be reached again; requests cleared: %s", client.id, cleared)
    return cleared
