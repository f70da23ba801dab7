"""SLA alerts: the planned rows of each request, the due-work query and the once-only claim.

Every write is conditional on the row's status, so a plan written while a due-work pass claims
the same row never turns a sent alert back into a pending one: the claim
(`pending -> sent`, decided by the row count) is the one place an alert becomes sent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.vocabulary import AlertKind, AlertStatus
from storage.models import SlaAlert, table_of

PENDING, SENT, CANCELLED = AlertStatus.PENDING, AlertStatus.SENT, AlertStatus.CANCELLED

_ALERTS = table_of(SlaAlert)
# Built once per dialect: plain SQL on the table, run with every new row of a plan at once.
_INSERT = {
    name: insert(_ALERTS).on_conflict_do_nothing(
        index_elements=["ticket_id", "target", "kind", "round"]
    )
    for name, insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}


class NewAlert(Protocol):
    """What a new row is made of (a planned alert)."""

    @property
    def target(self) -> str: ...
    @property
    def kind(self) -> AlertKind: ...
    @property
    def round(self) -> int: ...
    @property
    def fire_at(self) -> datetime: ...
    @property
    def due_at(self) -> datetime: ...


def due_query(now: datetime, limit: int) -> Select[SlaAlert]:
    """Pending alerts whose moment has come, oldest first: the index on (status, fire_at)
    answers it, so the cost follows what is due, not how many requests are open."""
    return (
        select(SlaAlert)
        .where(SlaAlert.status == PENDING, SlaAlert.fire_at <= now)
        .order_by(SlaAlert.fire_at, SlaAlert.id)
        .limit(limit)
    )


class AlertRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_tickets(self, ticket_ids: Iterable[int]) -> dict[int, list[SlaAlert]]:
        """Every row of these requests (pending, sent, cancelled), as the database has them."""
        ids = sorted(set(ticket_ids))
        found: dict[int, list[SlaAlert]] = defaultdict(list)
        if not ids:
            return found
        rows = await self.session.scalars(
            select(SlaAlert)
            .where(SlaAlert.ticket_id.in_(ids))
            .order_by(SlaAlert.id)
            .execution_options(populate_existing=True)
        )
        for row in rows:
            found[row.ticket_id].append(row)
        return found

    async def due(self, now: datetime, limit: int) -> Sequence[SlaAlert]:
        rows = await self.session.scalars(
            due_query(now, limit).execution_options(populate_existing=True)
        )
        return rows.all()

    async def earliest_pending(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(SlaAlert.fire_at)).where(SlaAlert.status == PENDING)
        )

    async def claim(self, alert_id: int, now: datetime, *, due_at: datetime) -> bool:
        """Once only: True for the one transaction that moves the row from pending to sent
        (another process, or a retry, finds it sent and gets False). `due_at`: the deadline
        it was sent for."""
        result = await self.session.execute(
            update(SlaAlert)
            .where(SlaAlert.id == alert_id, SlaAlert.status == PENDING)
            .values(status=SENT, sent_at=now, due_at=due_at)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    async def cancel(self, alert_id: int) -> None:
        await self.session.execute(
            update(SlaAlert)
            .where(SlaAlert.id == alert_id, SlaAlert.status == PENDING)
            .values(status=CANCELLED)
            .execution_options(synchronize_session=False)
        )

    async def replace(self, alert_id: int, *, fire_at: datetime, due_at: datetime) -> None:
        """A pending or cancelled row planned anew (a sent one is never touched)."""
        await self.session.execute(
            update(SlaAlert)
            .where(SlaAlert.id == alert_id, SlaAlert.status != SENT)
            .values(status=PENDING, fire_at=fire_at, due_at=due_at)
            .execution_options(synchronize_session=False)
        )

    async def insert(self, ticket_id: int, alerts: Sequence[NewAlert], *, now: datetime) -> None:
        """New pending rows, in one statement; a row whose key exists already (planned
        meanwhile by another transaction, which then owns it) is left as it is."""
        if not alerts:
            return
        rows = [
            {
                "ticket_id": ticket_id,
                "target": alert.target,
                "kind": alert.kind,
                "round": alert.round,
                "fire_at": alert.fire_at,
                "due_at": alert.due_at,
                "status": PENDING,
                "created_at": now,
            }
            for alert in alerts
        ]
        await self.session.execute(_INSERT[self.session.get_bind().dialect.name], rows)
