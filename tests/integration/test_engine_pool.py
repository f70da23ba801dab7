"""The engine's pool keeps the connections a burst of work opened: the next burst reuses them
instead of opening (on PostgreSQL: connecting, authenticating, preparing statements) anew."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from storage.db import MAX_OVERFLOW, POOL_SIZE

# What one process uses at once under load: the inbox's slots (10), the delivery worker's
# chats (4) and one each for intake, sent marks, the heartbeat and the scheduler.
BUSY = 18


async def burst(engine: AsyncEngine, size: int) -> None:
    both = asyncio.Barrier(size)

    async def hold() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            await both.wait()  # all `size` are checked out at once

    await asyncio.gather(*(hold() for _ in range(size)))


def kept(engine: AsyncEngine) -> int:
    pool = engine.sync_engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedin()


async def test_a_busy_process_keeps_its_connections(engine: AsyncEngine) -> None:
    opened: list[object] = []
    event.listen(engine.sync_engine, "connect", lambda conn, _record: opened.append(conn))
    await burst(engine, BUSY)
    assert len(opened) == BUSY
    assert kept(engine) == BUSY  # returned, not closed
    await burst(engine, BUSY)
    assert len(opened) == BUSY  # the second burst opened none


async def test_a_spike_past_the_pool_gets_a_connection_for_a_moment(engine: AsyncEngine) -> None:
    await burst(engine, POOL_SIZE + MAX_OVERFLOW)
    assert kept(engine) == POOL_SIZE  # the overflow was closed
