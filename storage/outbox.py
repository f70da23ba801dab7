"""The durable outbox: every message the bot sends on its own initiative is a row here first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxItem


class OutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(
        self,
        chat_id: int,
        method: str,
        payload: dict[str, Any],
        *,
        now: datetime,
        purpose: str = "notice",
        ticket_id: int | None = None,
        ref_id: int | None = None,
    ) -> OutboxItem:
        item = OutboxItem(
            chat_id=chat_id,
            method=method,
            payload=payload,
            purpose=purpose,
            ticket_id=ticket_id,
            ref_id=ref_id,
            status="pending",
            attempts=0,
            not_before=now,
            created_at=now,
        )
        self.session.add(item)
        return item

    async def ready_chats(self, now: datetime, limit: int = 50) -> Sequence[int]:
        """Chats whose oldest pending item may be sent now and is not leased by a worker."""
        head = (
            select(OutboxItem.chat_id, func.min(OutboxItem.id).label("head"))
            .where(OutboxItem.status == "pending")
            .group_by(OutboxItem.chat_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(OutboxItem.chat_id)
            .join(head, OutboxItem.id == head.c.head)
            .where(
                OutboxItem.not_before <= now,
                or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now),
            )
            .order_by(OutboxItem.id)
            .limit(limit)
        )
        return [r[0] for r in rows]

    async def lease_head(
        self, chat_id: int, *, worker: str, now: datetime, lease: timedelta
    ) -> OutboxItem | None:
        """Take the oldest pending item of a chat for this worker, or None if someone has it."""
        head_id = await self.session.scalar(
            select(func.min(OutboxItem.id)).where(
                OutboxItem.chat_id == chat_id, OutboxItem.status == "pending"
            )
        )
        if head_id is None:
            return None
        taken = await self.session.execute(
            update(OutboxItem)
            .where(
                and_(
                    OutboxItem.id == head_id,
                    OutboxItem.status == "pending",
                    OutboxItem.not_before <= now,
                    or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now),
                )
            )
            .values(locked_until=now + lease, locked_by=worker)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return await self.session.get(OutboxItem, head_id, populate_existing=True)

    async def pending_count(self) -> int:
        return int(
            await self.session.scalar(
                select(func.count(OutboxItem.id)).where(OutboxItem.status == "pending")
            )
            or 0
        )

    async def next_due(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(OutboxItem.not_before)).where(OutboxItem.status == "pending")
        )


async def pending_group(session: AsyncSession, group_key: str) -> OutboxItem | None:
    """The still-unsent item that messages of one album join."""
    return await session.scalar(
        select(OutboxItem).where(OutboxItem.group_key == group_key, OutboxItem.status == "pending")
    )
