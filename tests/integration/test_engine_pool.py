"""The engine's pool keeps the connections a burst of work opened: the next burst reuses them
instead of opening (on PostgreSQL: connecting, authenticating, preparing statements) anew. On
PostgreSQL a pooled connection is checked before use only when it sat idle a while."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool, QueuePool

from storage.db import IDLE_CHECK, MAX_OVERFLOW, POOL_SIZE, check_the_idle, create_engine

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


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def pings(engine: AsyncEngine) -> list[object]:
    """The pings the engine's dialect makes from now on."""
    made: list[object] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        made.append(dbapi_connection)
        return ping(dbapi_connection)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    return made


async def backend_of(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def kill(url: str, pid: int) -> None:
    """The server ends one connection, as a restart or a dropped link would."""
    admin = create_async_engine(url, poolclass=NullPool)
    try:
        async with admin.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await admin.dispose()


@pytest.mark.postgres
async def test_a_connection_back_from_work_is_used_without_a_ping(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        assert not engine.sync_engine.pool._pre_ping  # not at every checkout
        made = pings(engine)
        first = await backend_of(engine)
        for _ in range(5):
            assert await backend_of(engine) == first
        assert made == []  # five checkouts, each a moment after the last: no round trip more
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_a_connection_idle_past_the_limit_is_pinged_and_replaced_if_gone(
    postgres_url: str,
) -> None:
    clock = Clock()
    engine = create_async_engine(postgres_url, pool_size=1, max_overflow=0)
    check_the_idle(engine, idle=IDLE_CHECK, clock=clock)
    try:
        made = pings(engine)
        first = await backend_of(engine)
        clock.now += IDLE_CHECK - 0.1
        assert await backend_of(engine) == first
        assert made == []  # idle, but not long enough to be checked
        clock.now += IDLE_CHECK
        assert await backend_of(engine) == first
        assert len(made) == 1  # idle long enough: checked, and alive

        await kill(postgres_url, first)
        clock.now += IDLE_CHECK
        second = await backend_of(engine)  # no error: the ping found it gone
        assert second != first
        assert len(made) == 2
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_the_desks_engine_checks_a_connection_that_was_idle(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.db.IDLE_CHECK", 0.0)  # every checkout counts as idle
    engine = create_engine(postgres_url)
    try:
        first = await backend_of(engine)
        await kill(postgres_url, first)
        assert await backend_of(engine) != first  # replaced, not an error
    finally:
        await engine.dispose()
