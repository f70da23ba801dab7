"""The durable outbox: every message the bot sends on its own initiative is a row here first.

Rows are leased one chat head at a time: a worker takes the oldest pending item of a chat for a
short lease, calls Telegram, then records the outcome and releases it. A worker that dies
mid-item holds nothing longer than its lease; the next worker takes the item then."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary import OutboxStatus, Place, Purpose
from storage import direct
from storage.fitting import fit_values
from storage.models import OutboxItem, table_of

PENDING = OutboxStatus.PENDING
# session.info key: the rows this session added, in order (whoever commits it knows to wake
# the delivery worker, or says them at once: bot.middlewares).
ADDED = "outbox_added"

# Built once (its cache key too): it runs for the replies the bot sends at once. On the table,
# not the mapped class: plain SQL, without the ORM's bulk-update machinery around it.
_OUTBOX = table_of(OutboxItem)
_SENT_BY = (
    update(_OUTBOX)
    .where(
        _OUTBOX.c.id.in_(bindparam("sent_ids", expanding=True)),
        _OUTBOX.c.status == PENDING,
        _OUTBOX.c.locked_by == bindparam("sent_by"),
    )
    .values(
        status=OutboxStatus.SENT,
        sent_at=bindparam("sent_now"),
        attempts=_OUTBOX.c.attempts + 1,
        locked_until=None,
        locked_by=None,
    )
)
_INSERT = insert(_OUTBOX).returning(_OUTBOX.c.id)
# The replies' insert, by the columns given (its SQL depends on them): on SQLite on the driver
# itself (storage.direct).
_INSERTS: dict[tuple[str, ...], direct.Prepared] = {}


def _insert(keys: tuple[str, ...]) -> direct.Prepared:
    prepared = _INSERTS.get(keys)
    if prepared is None:
        prepared = _INSERTS[keys] = direct.Prepared(_INSERT, keys)
    return prepared


class OutboxRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def values(
        chat_id: int,
        method: str,
        payload: dict[str, Any],
        *,
        now: datetime,
        purpose: Purpose | str = Purpose.NOTICE,
        place: Place = Place.CHAT,
        ticket_id: int | None = None,
        ref_id: int | None = None,
        group_key: str | None = None,
        not_before: datetime | None = None,
    ) -> dict[str, Any]:
        """A pending row's columns."""
        return {
            "chat_id": chat_id,
            "method": method,
            "payload": payload,
            "purpose": Purpose(purpose),
            "place": Place(place),
            "ticket_id": ticket_id,
            "ref_id": ref_id,
            "group_key": group_key,
            "status": PENDING,
            "attempts": 0,
            "not_before": not_before or now,
            "created_at": now,
        }

    def add(
        self,
        chat_id: int,
        method: str,
        payload: dict[str, Any],
        *,
        now: datetime,
        purpose: Purpose | str = Purpose.NOTICE,
        place: Place = Place.CHAT,
        ticket_id: int | None = None,
        ref_id: int | None = None,
        group_key: str | None = None,
        not_before: datetime | None = None,
    ) -> OutboxItem:
        """A raw row; use cases queue typed method objects through bot.services.outgoing."""
        return self.add_row(
            self.values(
                chat_id,
                method,
                payload,
                now=now,
                purpose=purpose,
                place=place,
                ticket_id=ticket_id,
                ref_id=ref_id,
                group_key=group_key,
                not_before=not_before,
            )
        )

    def add_row(self, values: dict[str, Any]) -> OutboxItem:
        """A row from its columns (OutboxRepo.values), written when the session flushes."""
        item = OutboxItem(**values)
        self.session.add(item)
        self.session.info.setdefault(ADDED, []).append(item)
        return item

    async def insert_leased(
        self, rows: Sequence[dict[str, Any]], *, worker: str, until: datetime
    ) -> list[int]:
        """Rows (OutboxRepo.values) written at once and leased to `worker` until `until`: the
        replies an update says itself right after its commit. Plain SQL, one statement a row,
        not the ORM's unit of work (every update has one or two). Returns their ids, in order."""
        lease = {"locked_by": worker, "locked_until": until}
        ids: list[int] = []
        for row in rows:
            values = fit_values(_OUTBOX, {**row, **lease})
            inserted = await direct.first(self.session, _insert(tuple(values)), values)
            assert inserted is not None  # RETURNING gives the new row's id
            ids.append(int(inserted[0]))
        return ids

    async def ready_chats(self, now: datetime, limit: int = 50) -> Sequence[int]:
        """Chats whose oldest pending item may be sent now and is not leased by a worker."""
        head = (
            select(OutboxItem.chat_id, func.min(OutboxItem.id).label("head"))
            .where(OutboxItem.status == PENDING)
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
                OutboxItem.chat_id == chat_id, OutboxItem.status == PENDING
            )
        )
        if head_id is None:
            return None
        taken = await self.session.execute(
            update(OutboxItem)
            .where(
                and_(
                    OutboxItem.id == head_id,
                    OutboxItem.status == PENDING,
                    OutboxItem.not_before <= now,
                    or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now),
                )
            )
            .values(locked_until=now + lease, locked_by=worker)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return await self.session.get(OutboxItem, head_id, populate_existing=True)

    async def renew_lease(
        self, item_id: int, *, worker: str, now: datetime, lease: timedelta
    ) -> bool:
        """Keep an item while one attempt makes several calls; False if the lease was lost."""
        renewed = await self.session.execute(
            update(OutboxItem)
            .where(
                OutboxItem.id == item_id,
                OutboxItem.status == PENDING,
                OutboxItem.locked_by == worker,
            )
            .values(locked_until=now + lease)
        )
        return bool(renewed.rowcount == 1)  # type: ignore[attr-defined]

    async def mark_sent_by(self, item_ids: Sequence[int], *, worker: str, now: datetime) -> int:
        """Replies the updates' own process sent at once: sent, unless a lease was lost (the
        delivery worker took the item, and records the outcome itself). Returns how many."""
        if not item_ids:
            return 0
        done = await self.session.execute(
            _SENT_BY, {"sent_ids": list(item_ids), "sent_by": worker, "sent_now": now}
        )
        return int(done.rowcount)  # type: ignore[attr-defined]

    async def release(self, item_ids: Sequence[int], *, worker: str) -> None:
        """Give leased items back to the queue (the delivery worker sends them)."""
        if item_ids:
            await self.session.execute(
                update(OutboxItem)
                .where(OutboxItem.id.in_(list(item_ids)), OutboxItem.locked_by == worker)
                .values(locked_until=None, locked_by=None)
            )

    async def release_dead(self, alive: Sequence[str]) -> int:
        """Free the leases of workers that are not alive (a process killed mid-item), so the
        living take their items at once instead of when the lease runs out."""
        freed = await self.session.execute(
            update(OutboxItem)
            .where(
                OutboxItem.status == PENDING,
                OutboxItem.locked_by.is_not(None),
                OutboxItem.locked_by.not_in(list(alive)),
            )
            .values(locked_until=None, locked_by=None)
        )
        return int(freed.rowcount or 0)  # type: ignore[attr-defined]

    def mark_sent(self, item: OutboxItem, *, now: datetime, result: dict[str, Any] | None) -> None:
        item.status = OutboxStatus.SENT
        item.sent_at = now
        item.attempts += 1
        item.result = result
        item.locked_until = item.locked_by = None

    def retry_at(self, item: OutboxItem, *, when: datetime, error: str) -> None:
        item.attempts += 1
        item.not_before = when
        item.last_error = error[:500]
        item.locked_until = item.locked_by = None

    def mark_dead(self, item: OutboxItem, *, error: str) -> None:
        """A dead letter: out of its chat's queue for good, the reason kept."""
        item.status = OutboxStatus.DEAD
        item.attempts += 1
        item.last_error = error[:500]
        item.locked_until = item.locked_by = None

    async def move_chat(self, old_chat_id: int, new_chat_id: int) -> int:
        """Pending items of a chat that became another (a group upgraded to a supergroup)."""
        moved = await self.session.execute(
            update(OutboxItem)
            .where(OutboxItem.chat_id == old_chat_id, OutboxItem.status == PENDING)
            .values(chat_id=new_chat_id)
        )
        return int(moved.rowcount or 0)  # type: ignore[attr-defined]

    async def prune_sent(self, before: datetime, batch: int = 5000) -> int:
        """Delete up to `batch` rows sent before `before` (a delivered message's row is only a
        record); returns how many went."""
        old = (
            select(OutboxItem.id)
            .where(OutboxItem.status == OutboxStatus.SENT, OutboxItem.sent_at < before)
            .limit(batch)
        )
        ids = list((await self.session.scalars(old)).all())
        if ids:
            await self.session.execute(delete(OutboxItem).where(OutboxItem.id.in_(ids)))
        return len(ids)

    async def pending_count(self) -> int:
        return int(
            await self.session.scalar(
                select(func.count(OutboxItem.id)).where(OutboxItem.status == PENDING)
            )
            or 0
        )

    async def next_due(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(OutboxItem.not_before)).where(OutboxItem.status == PENDING)
        )


async def pending_group(
    session: AsyncSession, group_key: str, *, now: datetime | None = None
) -> OutboxItem | None:
    """The still-unsent item that messages of one album join; given `now`, not one that a
    worker is sending at this moment (a message joining it then would be lost)."""
    query = select(OutboxItem).where(
        OutboxItem.group_key == group_key, OutboxItem.status == PENDING
    )
    if now is not None:
        query = query.where(or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now))
    return await session.scalar(query)
