"""Daily upkeep on the scheduler: a resolved request the client never came back to closes
itself after some working days (the client is told), and delivered outbox rows are pruned.

Both are idempotent passes at a given moment (the clock is a parameter): running one twice, or
in two processes, changes nothing more (a close goes through the life cycle, which refuses a
request that is no longer resolved)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.lifecycle import SYSTEM, Close, Decision
from bot.services.desk import Desk
from bot.services.privacy import expire_closed
from bot.services.tickets import TicketService
from bot.vocabulary import Status
from storage.inbox import InboxRepo
from storage.models import Ticket
from storage.outbox import OutboxRepo

log = logging.getLogger(__name__)


async def close_quiet_requests(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, days: int
) -> int:
    """Close the requests resolved `days` working days ago (or more) with no word from the
    client since; returns how many were closed."""
    calendar = desk.policy.calendar
    # `days` working days always span more than `days` calendar days: an index-friendly bound.
    bound = now - timedelta(days=days)
    closed = 0
    async with sessions() as session:
        candidates = await session.scalars(
            select(Ticket)
            .where(Ticket.status == Status.RESOLVED, Ticket.resolved_at <= bound)
            .order_by(Ticket.resolved_at)
        )
        tickets = TicketService(session, desk, now)
        for ticket in candidates.all():
            assert ticket.resolved_at is not None
            if calendar.add_working_days(ticket.resolved_at, days) > now:
                continue
            outcome = await tickets.execute(ticket, Close(SYSTEM))
            if isinstance(outcome, Decision) and outcome.changed:
                renderer = desk.renderer
                text = renderer.tn(
                    "client.auto_closed", days, ticket.language, number=ticket.number
                )
                tickets.out.to_chat(
                    ticket.client.telegram_id, text, purpose="notice", ticket_id=ticket.id
                )
                closed += 1
        await session.commit()
    if closed:
        log.info("%d resolved requests closed after %d quiet working days", closed, days)
    return closed


async def prune_outbox(
    sessions: async_sessionmaker[AsyncSession], now: datetime, keep: timedelta
) -> int:
    """Delete the outbox rows delivered longer than `keep` ago; returns how many."""
    total = await _in_batches(sessions, lambda s: OutboxRepo(s).prune_sent(now - keep))
    if total:
        log.info("%d delivered outbox rows older than %s pruned", total, keep)
    return total


async def prune_inbox(
    sessions: async_sessionmaker[AsyncSession], now: datetime, keep: timedelta
) -> int:
    """Delete the inbox rows handled (or given up) longer than `keep` ago; returns how many."""
    total = await _in_batches(sessions, lambda s: InboxRepo(s).prune(now - keep))
    if total:
        log.info("%d handled updates older than %s pruned from the inbox", total, keep)
    return total


async def expire_personal_data(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, keep: timedelta
) -> int:
    """DATA_RETENTION_DAYS: remove the personal data of requests closed more than `keep` ago
    (bot.services.privacy); returns how many requests. Counts only are logged."""
    total = await _in_batches(sessions, lambda s: expire_closed(s, desk, now, keep))
    if total:
        log.info("personal data of %d requests closed over %s ago removed", total, keep)
    return total


async def _in_batches(
    sessions: async_sessionmaker[AsyncSession],
    prune: Callable[[AsyncSession], Awaitable[int]],
) -> int:
    """Run a pruning step, each batch in its own short transaction, until it finds nothing."""
    total = 0
    while True:
        async with sessions() as session:
            pruned = await prune(session)
            await session.commit()
        total += pruned
        if not pruned:
            return total
