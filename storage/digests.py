"""The managers' daily digests: one row per day of the desk's zone, claimed once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Digest


class DigestRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sent_on(self, day: date) -> bool:
        return (await self.session.scalar(select(Digest.id).where(Digest.day == day))) is not None

    async def last_end(self) -> datetime | None:
        """Where the latest digest's period ended (the next one starts there)."""
        return await self.session.scalar(select(func.max(Digest.period_end)))

    async def claim(self, day: date, start: datetime, end: datetime, now: datetime) -> None:
        """Record the day's digest; a second claim of the day fails at the flush (the unique
        day) once the first is committed, so the caller's transaction queues nothing."""
        self.session.add(Digest(day=day, period_start=start, period_end=end, created_at=now))
        await self.session.flush()
