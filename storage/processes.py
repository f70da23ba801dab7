"""The running bot processes and their heartbeats."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DeskProcess


class ProcessRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def beat(self, process_id: str, *, now: datetime) -> None:
        """Say this process is alive (registering it on its first beat)."""
        done = await self.session.execute(
            update(DeskProcess).where(DeskProcess.id == process_id).values(beat_at=now)
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            self.session.add(DeskProcess(id=process_id, started_at=now, beat_at=now))

    async def alive(self, *, now: datetime, stale: timedelta) -> Sequence[str]:
        rows = await self.session.scalars(
            select(DeskProcess.id).where(DeskProcess.beat_at >= now - stale)
        )
        return rows.all()

    async def forget_dead(self, *, now: datetime, stale: timedelta) -> int:
        gone = await self.session.execute(
            delete(DeskProcess).where(DeskProcess.beat_at < now - stale)
        )
        return int(gone.rowcount or 0)  # type: ignore[attr-defined]

    async def forget(self, process_id: str) -> None:
        await self.session.execute(delete(DeskProcess).where(DeskProcess.id == process_id))
