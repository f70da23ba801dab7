"""Read-only views of requests for the desk: the queue, one request, a client's requests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary import OPEN_STATUSES
from storage.models import Ticket


def nearest_due(ticket: Ticket) -> datetime | None:
    dues = [t.due_at for t in ticket.targets if t.met_at is None and t.due_at is not None]
    return min(dues) if dues else None


async def queue(session: AsyncSession, *, assignee_id: int | None = None) -> list[Ticket]:
    """Open requests, nearest deadline first (paused ones last)."""
    query = select(Ticket).where(Ticket.status.in_(list(OPEN_STATUSES)))
    if assignee_id is not None:
        query = query.where(Ticket.assignee_id == assignee_id)
    tickets: Sequence[Ticket] = (await session.scalars(query)).all()
    far = datetime.max.replace(tzinfo=None)

    def key(t: Ticket) -> tuple[int, datetime, int]:
        due = nearest_due(t)
        return (0, due.replace(tzinfo=None), t.number) if due else (1, far, t.number)

    return sorted(tickets, key=key)
