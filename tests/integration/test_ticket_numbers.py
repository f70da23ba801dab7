"""Request numbers come from one counter row: sequential, unique and gapless, also under load."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Counter
from storage.tickets import TicketRepo


async def counter_value(sessions: async_sessionmaker[AsyncSession]) -> int | None:
    async with sessions() as session:
        return await session.scalar(select(Counter.value).where(Counter.name == "ticket_number"))


async def test_numbers_are_sequential_from_1001(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        repo = TicketRepo(session)
        assert [await repo.next_number() for _ in range(3)] == [1001, 1002, 1003]
        await session.commit()
    async with sessions() as session:
        assert await TicketRepo(session).next_number() == 1004
        await session.commit()
    assert await counter_value(sessions) == 1004


async def test_a_rolled_back_number_is_given_again(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        assert await TicketRepo(session).next_number() == 1001
        await session.rollback()
    async with sessions() as session:
        assert await TicketRepo(session).next_number() == 1001
        await session.commit()


async def test_concurrent_sessions_get_distinct_consecutive_numbers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """20 sessions, each taking a number in its own transaction at the same moment. On
    PostgreSQL the row lock orders them; on SQLite the write lock does."""
    started = asyncio.Event()

    async def take() -> int:
        async with sessions() as session:
            await started.wait()
            number = await TicketRepo(session).next_number()
            await asyncio.sleep(0.01)  # hold the row lock while others queue behind it
            await session.commit()
            return number

    tasks = [asyncio.create_task(take()) for _ in range(20)]
    await asyncio.sleep(0)
    started.set()
    numbers = await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)

    assert sorted(numbers) == list(range(1001, 1021))
    assert await counter_value(sessions) == 1020


async def test_missing_counter_is_reported(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        await session.delete(await session.get(Counter, "ticket_number"))
        await session.flush()
        with pytest.raises(RuntimeError, match="ticket_number counter is missing"):
            await TicketRepo(session).next_number()
