"""New requests announced together when the operator group's queue backs up.

The group takes about 20 messages a minute. When hundreds of clients write at once (an outage
of the marking system), cards queue up for many minutes, and a request whose card is far back
in the line would reach the operators after its first-response deadline. So when the group's
queue is longer than it can send within a minute, the requests whose cards still wait are named
together in one message (or a few), critical first; the cards and topics follow as pacing
allows. Each request is named once: `tickets.announced_at` is claimed before it is sent (and
given back if the message fails), so two workers never announce one request twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiogram.methods import SendMessage
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.announce_text import NewRequest, announcement, in_order
from bot.services.desk import Desk
from bot.vocabulary import OutboxStatus, Purpose
from scheduler.leases import ANNOUNCE, PASS_LEASE, JobLeases
from storage.models import OutboxItem, Ticket

# A message's worth: this many waiting requests are announced without waiting for the batch.
MANY = 40


@dataclass
class Announced:
    sessions: async_sessionmaker[AsyncSession]
    ticket_ids: Sequence[int]
    at: datetime
    messages: list[SendMessage]
    leases: JobLeases | None = None

    async def done(self) -> None:
        """Sent (or undone): another process may announce what comes next."""
        if self.leases is not None:
            await self.leases.release(ANNOUNCE)

    async def undo(self) -> None:
        """The announcement did not go out: the requests may be announced again."""
        async with self.sessions() as session:
            await session.execute(
                update(Ticket)
                .where(Ticket.id.in_(list(self.ticket_ids)), Ticket.announced_at == self.at)
                .values(announced_at=None)
            )
            await session.commit()


async def announce_waiting(
    sessions: async_sessionmaker[AsyncSession],
    desk: Desk,
    chat_id: int,
    now: datetime,
    *,
    backlog_limit: int,
    every: timedelta,
    leases: JobLeases | None = None,
) -> Announced | None:
    """Claim the requests to announce now and build the messages, or None when the queue
    moves fast enough or the waiting requests can wait for the next batch. With `leases`, one
    process announces at a time (`job:announce`, held until `Announced.done`)."""
    async with sessions() as session:
        backlog = await session.scalar(
            select(func.count(OutboxItem.id)).where(
                OutboxItem.chat_id == chat_id, OutboxItem.status == OutboxStatus.PENDING
            )
        )
        if (backlog or 0) <= backlog_limit:
            return None
        waiting = await _waiting(session, chat_id)
        if not waiting:
            return None
        oldest = min(t.registered_at for t in waiting)
        if len(waiting) < MANY and now - oldest < every:
            return None
        chosen = in_order([_new_request(t) for t in waiting])[:MANY]
        numbers = {r.number for r in chosen}
        ids = [t.id for t in waiting if t.number in numbers]
        if leases is not None and not await leases.take(ANNOUNCE, PASS_LEASE, session=session):
            return None  # another process is announcing; what it leaves is named next round
        claimed = await session.scalars(
            update(Ticket)
            .where(Ticket.id.in_(ids), Ticket.announced_at.is_(None))
            .values(announced_at=now)
            .returning(Ticket.number)
        )
        taken = set(claimed.all())
        await session.commit()
    if not taken:
        if leases is not None:
            await leases.release(ANNOUNCE)
        return None
    lang = desk.renderer.desk_language
    texts = announcement(desk.renderer, lang, [r for r in chosen if r.number in taken])
    messages = [SendMessage(chat_id=chat_id, text=text, parse_mode="HTML") for text in texts]
    return Announced(sessions, ids, now, messages, leases)


async def _waiting(session: AsyncSession, chat_id: int) -> list[Ticket]:
    """Requests whose card is still queued for the group and that nobody has named yet."""
    has_card_queued = (
        select(OutboxItem.ticket_id)
        .where(
            OutboxItem.chat_id == chat_id,
            OutboxItem.status == OutboxStatus.PENDING,
            OutboxItem.purpose == Purpose.CARD,
        )
        .scalar_subquery()
    )
    rows = await session.scalars(
        select(Ticket).where(
            Ticket.id.in_(has_card_queued),
            Ticket.announced_at.is_(None),
            Ticket.card_message_id.is_(None),
        )
    )
    return list(rows.unique().all())


def _new_request(ticket: Ticket) -> NewRequest:
    return NewRequest(ticket.number, ticket.client_company, ticket.topic, ticket.priority)
