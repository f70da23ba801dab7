"""A client's messages on an open request: stored against it and relayed to the desk; a
message within the reopen window brings a resolved request back."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.desk import Desk
from bot.services.drafts import Part
from bot.services.lifecycle import reopen, resume_from_waiting
from bot.services.registration import client_author
from bot.services.relay import counterpart_id, relay, stored
from bot.vocabulary import OPEN_STATUSES, Status
from storage.models import Client, Ticket
from storage.tickets import TicketRepo


async def find_conversation(
    session: AsyncSession, desk: Desk, client: Client, now: datetime
) -> Ticket | None:
    """The request a free message belongs to: the client's current one while it is open or
    resolved within the reopen window, else their most recently active open one."""
    tickets = TicketRepo(session)
    if client.current_ticket_id is not None:
        ticket = await tickets.get(client.current_ticket_id)
        if ticket is not None and ticket.client_id == client.id:
            if ticket.status in OPEN_STATUSES:
                return ticket
            window = timedelta(hours=desk.reopen_window_hours)
            if (
                ticket.status == Status.RESOLVED
                and ticket.resolved_at is not None
                and now - ticket.resolved_at <= window
            ):
                return ticket
    open_ones = await tickets.open_for_client(client.id)
    return open_ones[0] if open_ones else None


async def add_client_message(
    session: AsyncSession,
    desk: Desk,
    client: Client,
    ticket: Ticket,
    part: Part,
    now: datetime,
    reply_to: int | None = None,
) -> None:
    tickets = TicketRepo(session)
    row = stored(ticket, part, direction="client", author=client_author(client), now=now)
    tickets.add_message(row)
    await session.flush()
    ticket.last_activity_at = now
    ticket.client_unreachable = False
    client.current_ticket_id = ticket.id
    if ticket.status == Status.RESOLVED:
        await reopen(session, desk, ticket, now, actor_kind="client", actor_id=client.telegram_id)
    elif ticket.status == Status.WAITING:
        await resume_from_waiting(session, desk, ticket, now, actor_id=client.telegram_id)
    if desk.operator_chat_id is None:
        return
    desk_reply = await counterpart_id(session, client.telegram_id, reply_to) if reply_to else None
    await relay(
        session,
        desk,
        ticket,
        row,
        to_chat=desk.operator_chat_id,
        purpose="relay_to_desk",
        now=now,
        reply_to=desk_reply,
    )
