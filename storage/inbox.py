"""The durable inbox: every update Telegram hands over is a row here before Telegram is told it
was received (the next getUpdates offset, or a webhook's 200).

A row is stored in a short transaction of its own and marked handled in the transaction of its
effects, so a crash between the two leaves it pending and it is handled at the next start. An
update id seen twice (Telegram redelivers what it thinks was lost) is stored once, and of two
transactions that handle one update only the first to commit keeps its effects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary import InboxStatus
from storage import direct
from storage.models import InboxUpdate, table_of

PENDING = InboxStatus.PENDING

# Built once (its cache key too): it runs for every update. On the table, not the mapped class:
# plain SQL, without the ORM's bulk-update machinery (and its autoflush) around it.
_INBOX = table_of(InboxUpdate)
_MARK_HANDLED = direct.Prepared(
    update(_INBOX)
    .where(_INBOX.c.update_id == bindparam("handled_id"), _INBOX.c.status == PENDING)
    .values(status=InboxStatus.HANDLED, handled_at=bindparam("handled_now"))
)


@dataclass(frozen=True)
class Received:
    """One update as it arrived: its id, the chat whose order it keeps, its JSON body."""

    update_id: int
    chat_key: int
    body: dict[str, Any]


class InboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def store(self, updates: Sequence[Received], *, now: datetime) -> set[int]:
        """Store what is new; returns the ids stored now (not those already here)."""
        if not updates:
            return set()
        rows = [
            {
                "update_id": u.update_id,
                "chat_key": u.chat_key,
                "body": u.body,
                "status": PENDING,
                "attempts": 0,
                "received_at": now,
            }
            for u in updates
        ]
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = (
            insert(_INBOX)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["update_id"])
            .returning(_INBOX.c.update_id)
        )
        return set((await self.session.scalars(statement)).all())

    async def pending(self, limit: int = 10_000) -> Sequence[InboxUpdate]:
        """The updates not handled yet, oldest first."""
        rows = await self.session.scalars(
            select(InboxUpdate)
            .where(InboxUpdate.status == PENDING)
            .order_by(InboxUpdate.update_id)
            .limit(limit)
        )
        return rows.all()

    async def pending_rows(self, chat_key: int, limit: int) -> list[tuple[int, Any, int]]:
        """One chat's pending updates as (update id, body, attempts), oldest first
        (ix_inbox_chat_pending)."""
        rows = await self.session.execute(
            select(_INBOX.c.update_id, _INBOX.c.body, _INBOX.c.attempts)
            .where(_INBOX.c.chat_key == chat_key, _INBOX.c.status == PENDING)
            .order_by(_INBOX.c.update_id)
            .limit(limit)
        )
        return [(int(row[0]), row[1], int(row[2])) for row in rows]

    async def pending_chats(self, *, before: datetime, limit: int = 1000) -> Sequence[int]:
        """Chats with updates pending since before `before`."""
        rows = await self.session.scalars(
            select(InboxUpdate.chat_key)
            .where(InboxUpdate.status == PENDING, InboxUpdate.received_at <= before)
            .group_by(InboxUpdate.chat_key)
            .order_by(func.min(InboxUpdate.update_id))
            .limit(limit)
        )
        return rows.all()

    async def is_pending(self, update_id: int) -> bool:
        status = await self.session.scalar(
            select(InboxUpdate.status).where(InboxUpdate.update_id == update_id)
        )
        return status == PENDING

    async def mark_handled(self, update_id: int, *, now: datetime) -> bool:
        """In the transaction of the update's effects: False if it was handled already (by
        another transaction, another process), and then those effects must not be kept."""
        values = {"handled_id": update_id, "handled_now": now}
        return await direct.rowcount(self.session, _MARK_HANDLED, values) == 1

    async def mark_failed(self, update_id: int, *, now: datetime, error: str, final: bool) -> None:
        """One failed attempt; `final` ends the update's tries (it is kept, as failed)."""
        values: dict[str, Any] = {
            "attempts": InboxUpdate.attempts + 1,
            "last_error": error[:500],
        }
        if final:
            values.update(status=InboxStatus.FAILED, handled_at=now)
        await self.session.execute(
            update(InboxUpdate)
            .where(InboxUpdate.update_id == update_id, InboxUpdate.status == PENDING)
            .values(**values)
        )

    async def depth(self) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).select_from(InboxUpdate).where(InboxUpdate.status == PENDING)
            )
            or 0
        )

    async def prune(self, before: datetime, batch: int = 5000) -> int:
        """Delete up to `batch` rows handled (or given up) before `before`."""
        old = (
            select(InboxUpdate.update_id)
            .where(InboxUpdate.status != PENDING, InboxUpdate.handled_at < before)
            .limit(batch)
        )
        ids = list((await self.session.scalars(old)).all())
        if ids:
            await self.session.execute(delete(InboxUpdate).where(InboxUpdate.update_id.in_(ids)))
        return len(ids)
