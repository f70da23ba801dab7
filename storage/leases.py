"""Named leases: which of several bot processes runs a scheduled job, or handles a chat's
updates, is decided by one row per name. Taking a lease is one statement (an insert that, on a
conflict, takes the row over only if it ran out or is already ours), so two processes racing
for it cannot both win, on SQLite or PostgreSQL. A process that dies holds nothing longer than
its lease; one that stops cleanly gives its leases back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Lease


class LeaseRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def take(self, name: str, *, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Take (or renew) the lease `name` until now + ttl; False if another holds it."""
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(Lease)
            .values(name=name, holder=holder, until=now + ttl)
            .on_conflict_do_update(
                index_elements=[Lease.name],
                set_={"holder": holder, "until": now + ttl},
                where=or_(Lease.until < now, Lease.holder == holder),
            )
            .returning(Lease.name)
        )
        return (await self.session.scalar(statement)) is not None

    async def release(self, name: str, *, holder: str) -> bool:
        done = await self.session.execute(
            delete(Lease).where(Lease.name == name, Lease.holder == holder)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    async def release_all(self, holder: str) -> int:
        done = await self.session.execute(delete(Lease).where(Lease.holder == holder))
        return int(done.rowcount or 0)  # type: ignore[attr-defined]

    async def release_dead(self, alive: Sequence[str]) -> int:
        """Free the leases of processes that are not alive (killed)."""
        done = await self.session.execute(delete(Lease).where(Lease.holder.not_in(list(alive))))
        return int(done.rowcount or 0)  # type: ignore[attr-defined]

    async def holder(self, name: str, *, now: datetime) -> str | None:
        return await self.session.scalar(
            select(Lease.holder).where(Lease.name == name, Lease.until >= now)
        )
