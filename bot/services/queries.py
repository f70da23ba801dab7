"""Read-only views of requests for the desk: the queue, one request, a client's requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary import OPEN_STATUSES, Status
from storage.models import Ticket


def nearest_due(ticket: Ticket) -> datetime | None:
    dues = [t.due_at for t in ticket.targets if t.met_at is None and t.due_at is not None]
    return min(dues) if dues else None


def running_due(ticket: Ticket) -> datetime | None:
    """What the queue orders by: the nearest deadline of an open request (None otherwise)."""
    return nearest_due(ticket) if Status(ticket.status) in OPEN_STATUSES else None


@dataclass(frozen=True)
class QueuePage:
    """The first requests of the queue, nearest deadline first, and how many there are."""

    tickets: list[Ticket]
    total: int


async def queue(
    session: AsyncSession, *, assignee_id: int | None = None, limit: int = 50
) -> QueuePage:
    """Open requests, nearest deadline first (paused ones last), at most `limit` of them: two
    bounded reads through the queue indexes and a count, whatever the number of requests."""
    scope: list[ColumnElement[bool]] = [Ticket.status.in_(list(OPEN_STATUSES))]
    mine: list[ColumnElement[bool]] = []
    if assignee_id is not None:
        mine.append(Ticket.assignee_id == assignee_id)
    # Only an open request has a running deadline (TicketService.replan): no status filter
    # here, so the queue index is read in order and the read stops after `limit` rows.
    dated = await session.scalars(
        select(Ticket)
        .where(*mine, Ticket.next_due_at.is_not(None))
        .order_by(Ticket.next_due_at, Ticket.number)
        .limit(limit)
    )
    tickets = list(dated.all())
    if len(tickets) < limit:
        undated = await session.scalars(
            select(Ticket)
            .where(*scope, *mine, Ticket.next_due_at.is_(None))
            .order_by(Ticket.number)
            .limit(limit - len(tickets))
        )
        tickets.extend(undated.all())
    total = await session.scalar(select(func.count()).select_from(Ticket).where(*scope, *mine))
    return QueuePage(tickets, int(total or 0))
