"""Shared pieces of the delivery tests: a clock that moves only when told, a worker on a fake
Bot, and short ways to queue and inspect outbox rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.desk import Desk
from bot.services.outgoing import Outgoing
from scheduler.delivery import DeliveryWorker
from scheduler.pacing import Limits
from storage.models import OutboxItem, Ticket, TicketEvent
from storage.outbox import OutboxRepo
from tests.fake_bot import FakeBot

Sessions = async_sessionmaker[AsyncSession]


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def worker(
    bot: FakeBot,
    sessions: Sessions,
    clock: FakeClock,
    desk: Desk,
    limits: Limits | None = None,
    **options: Any,
) -> DeliveryWorker:
    """A delivery worker against the fake Bot (unpaced unless `limits` are given)."""
    return DeliveryWorker(
        bot.as_bot(), sessions, clock, desk, limits or Limits.unlimited(), **options
    )


async def queue(
    sessions: Sessions, desk: Desk, clock: FakeClock, write: Callable[[Outgoing], object]
) -> None:
    """Queue in one committed transaction, as a use case does."""
    async with sessions() as session:
        write(Outgoing(OutboxRepo(session), desk.operator_chat_id, clock.now()))
        await session.commit()


async def rows(sessions: Sessions) -> list[OutboxItem]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxItem).order_by(OutboxItem.id))).all())


async def ticket_row(sessions: Sessions, ticket_id: int) -> Ticket:
    async with sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


async def events(sessions: Sessions, kind: str) -> list[TicketEvent]:
    async with sessions() as session:
        found = await session.scalars(select(TicketEvent).where(TicketEvent.kind == kind))
        return list(found.all())


async def set_ticket(sessions: Sessions, ticket_id: int, **values: Any) -> None:
    async with sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        for name, value in values.items():
            setattr(ticket, name, value)
        await session.commit()
