"""Replies sent at once are marked sent together (bot.sent_marks), on both engines: many marks
in one transaction under load, each caller back only once its own mark is committed, a row the
delivery worker took over left to it, and a failed write raised to every caller of its batch."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ShiftedClock
from bot.sent_marks import SentMarks
from bot.vocabulary import OutboxStatus
from storage.models import OutboxItem
from tests.integration.test_outbox import LEASE, enqueue

OWNER = "bot-1"


async def kept(
    sessions: async_sessionmaker[AsyncSession], count: int, now: datetime, owner: str = OWNER
) -> list[int]:
    """Replies kept in the outbox as an update keeps them: leased to their process."""
    ids = [(await enqueue(sessions, 1000 + n, 1, now))[0] for n in range(count)]
    async with sessions() as session:
        for row in await session.scalars(select(OutboxItem).where(OutboxItem.id.in_(ids))):
            row.locked_by, row.locked_until = owner, now + LEASE
        await session.commit()
    return ids


async def statuses(sessions: async_sessionmaker[AsyncSession], ids: list[int]) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(OutboxItem).where(OutboxItem.id.in_(ids)).order_by(OutboxItem.id)
        )
        return [row.status for row in rows]


async def test_many_sent_at_once_are_marked_in_few_transactions(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    ids = await kept(sessions, 40, now)
    marks = SentMarks(sessions, ShiftedClock(now), OWNER)

    async def reply(row: int) -> list[str]:
        await marks(row)
        # Back only when the mark is committed: another session sees it.
        return await statuses(sessions, [row])

    seen = await asyncio.gather(*(reply(row) for row in ids))
    assert seen == [[OutboxStatus.SENT]] * 40
    assert marks.marked == 40
    # Sent at the same moment, they are written together (one transaction; two at most if the
    # writer started before the last ones were sent).
    assert marks.batches <= 2, marks.batches
    async with sessions() as session:
        rows = (await session.scalars(select(OutboxItem).where(OutboxItem.id.in_(ids)))).all()
    assert {(r.attempts, r.locked_by, r.locked_until) for r in rows} == {(1, None, None)}
    assert all(r.sent_at is not None for r in rows)


async def test_one_at_a_time_each_is_its_own_transaction(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    ids = await kept(sessions, 3, now)
    marks = SentMarks(sessions, ShiftedClock(now), OWNER)
    for row in ids:
        await marks(row)
        assert await statuses(sessions, [row]) == [OutboxStatus.SENT]
    assert (marks.batches, marks.marked) == (3, 3)


async def test_a_row_taken_over_by_the_delivery_worker_is_left_to_it(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    ours = await kept(sessions, 2, now)
    theirs = await kept(sessions, 1, now, owner="worker-2")
    marks = SentMarks(sessions, ShiftedClock(now), OWNER)
    await asyncio.gather(*(marks(row) for row in [*ours, *theirs]))
    assert await statuses(sessions, ours) == [OutboxStatus.SENT] * 2
    assert await statuses(sessions, theirs) == [OutboxStatus.PENDING]


async def test_a_failed_write_reaches_every_caller_of_its_batch_and_the_next_goes_on(
    sessions: async_sessionmaker[AsyncSession], now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await kept(sessions, 4, now)
    marks = SentMarks(sessions, ShiftedClock(now), OWNER)
    failing = {"left": 1}
    real = marks.sessions

    def flaky() -> AsyncSession:
        if failing["left"]:
            failing["left"] -= 1
            raise ConnectionError("database gone")
        return real()

    monkeypatch.setattr(marks, "sessions", flaky)
    outcomes = await asyncio.gather(*(marks(row) for row in ids[:3]), return_exceptions=True)
    # One batch: each of its callers gets the failure (the replies stay pending and leased:
    # the delivery worker's business once the lease runs out).
    assert [type(o).__name__ for o in outcomes] == ["ConnectionError"] * 3
    assert await statuses(sessions, ids[:3]) == [OutboxStatus.PENDING] * 3
    assert marks.batches == 0
    # The writer is not left stuck: the next mark is written.
    await marks(ids[3])
    assert await statuses(sessions, ids[3:]) == [OutboxStatus.SENT]
    assert (marks.batches, marks.marked) == (1, 1)
