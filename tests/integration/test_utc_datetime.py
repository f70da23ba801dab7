"""UTCDateTime: aware datetimes in, aware UTC datetimes out, on every engine; naive ones refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import Client, OutboxItem
from storage.outbox import OutboxRepo

PLUS_FIVE = timezone(timedelta(hours=5))  # Tashkent's offset
MOMENT = datetime(2026, 3, 17, 11, 30, 15, 123456, tzinfo=PLUS_FIVE)


async def test_aware_datetime_comes_back_equal_and_in_utc(
    sessions: async_sessionmaker[AsyncSession], dialect: str
) -> None:
    async with sessions() as session:
        client = Client(telegram_id=42, created_at=MOMENT, updated_at=MOMENT)
        session.add(client)
        await session.commit()
        client_id = client.id

    async with sessions() as session:
        stored = await session.get(Client, client_id)
        assert stored is not None
        assert stored.created_at == MOMENT
        assert stored.created_at.utcoffset() == timedelta(0)
        assert stored.created_at.tzinfo is UTC
        assert stored.created_at == datetime(2026, 3, 17, 6, 30, 15, 123456, tzinfo=UTC)

        # What the column physically holds: UTC wall time (SQLite keeps no zone).
        raw = await session.scalar(
            text("SELECT created_at FROM clients WHERE id = :id"), {"id": client_id}
        )
        if dialect == "sqlite":
            assert str(raw).startswith("2026-03-17 06:30:15.123456")
        else:
            assert raw == MOMENT


async def test_comparisons_work_across_offsets(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A bound parameter in +05:00 compares against stored UTC values by the instant."""
    async with sessions() as session:
        OutboxRepo(session).add(1, "sendMessage", {}, now=MOMENT)
        await session.commit()

    async with sessions() as session:
        same_instant_utc = MOMENT.astimezone(UTC)
        for bound in (MOMENT, same_instant_utc):
            found = await session.scalar(
                select(OutboxItem.id).where(OutboxItem.not_before == bound)
            )
            assert found is not None
        a_second_before = MOMENT - timedelta(seconds=1)
        assert (
            await session.scalar(
                select(OutboxItem.id).where(OutboxItem.not_before <= a_second_before)
            )
            is None
        )
        # 06:30 in UTC is before 11:00 at +05:00 as instants, though not as wall time.
        eleven_tashkent = datetime(2026, 3, 17, 11, 0, tzinfo=PLUS_FIVE)
        assert (
            await session.scalar(
                select(OutboxItem.id).where(OutboxItem.not_before <= eleven_tashkent)
            )
            is None
        )


async def test_naive_datetime_is_rejected(sessions: async_sessionmaker[AsyncSession]) -> None:
    naive = datetime(2026, 3, 17, 11, 30)
    async with sessions() as session:
        session.add(Client(telegram_id=43, created_at=naive, updated_at=MOMENT))
        with pytest.raises(StatementError, match="naive datetime") as caught:
            await session.flush()
        assert isinstance(caught.value.orig, ValueError)
        await session.rollback()

    async with sessions() as session:
        with pytest.raises(StatementError, match="naive datetime"):
            await session.scalar(select(Client.id).where(Client.created_at < naive))

    async with sessions() as session:
        assert await session.scalar(select(Client.id)) is None
