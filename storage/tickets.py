"""Requests (tickets), their messages, SLA targets and audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.vocabulary import OPEN_STATUSES as OPEN_STATUSES_SET
from bot.vocabulary import ActorKind
from storage.models import Counter, Ticket, TicketEvent, TicketMessage

OPEN_STATUSES = sorted(OPEN_STATUSES_SET)


class TicketRepo:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_number(self) -> int:
        """The next request number; the row lock keeps numbers unique and gapless."""
        value = await self.session.scalar(
            update(Counter)
            .where(Counter.name == "ticket_number")
            .values(value=Counter.value + 1)
            .returning(Counter.value)
        )
        if value is None:
            raise RuntimeError("the ticket_number counter is missing; run the migrations")
        return int(value)

    async def take_version(self, ticket: Ticket) -> bool:
        """Compare and lock: move the request to its next version if nobody has since the
        state was read. The row stays locked (PostgreSQL) or the database written (SQLite)
        until the transaction ends, so the decision saved is the one taken on this state."""
        result = await self.session.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id, Ticket.version == ticket.version)
            .values(version=Ticket.version + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        set_committed_value(ticket, "version", ticket.version + 1)
        return True

    async def reload(self, ticket: Ticket) -> None:
        """The request as another transaction left it."""
        await self.session.refresh(ticket)

    def add(self, ticket: Ticket) -> None:
        self.session.add(ticket)

    async def get(self, ticket_id: int) -> Ticket | None:
        return await self.session.get(Ticket, ticket_id)

    async def by_number(self, number: int) -> Ticket | None:
        return await self.session.scalar(select(Ticket).where(Ticket.number == number))

    async def open_for_client(self, client_id: int) -> Sequence[Ticket]:
        rows = await self.session.scalars(
            select(Ticket)
            .where(Ticket.client_id == client_id, Ticket.status.in_(OPEN_STATUSES))
            .order_by(Ticket.last_activity_at.desc())
        )
        return rows.all()

    async def for_client(self, client_id: int, limit: int = 20) -> Sequence[Ticket]:
        rows = await self.session.scalars(
            select(Ticket)
            .where(Ticket.client_id == client_id)
            .order_by(Ticket.number.desc())
            .limit(limit)
        )
        return rows.all()

    async def all_open(self) -> Sequence[Ticket]:
        rows = await self.session.scalars(select(Ticket).where(Ticket.status.in_(OPEN_STATUSES)))
        return rows.all()

    def add_message(self, message: TicketMessage) -> None:
        self.session.add(message)

    async def messages(self, ticket_id: int) -> Sequence[TicketMessage]:
        rows = await self.session.scalars(
            select(TicketMessage)
            .where(TicketMessage.ticket_id == ticket_id)
            .order_by(TicketMessage.id)
        )
        return rows.all()

    def log(
        self,
        ticket: Ticket,
        kind: str,
        *,
        at: datetime,
        actor_kind: ActorKind,
        actor_id: int | None = None,
        **data: Any,
    ) -> None:
        self.session.add(
            TicketEvent(
                ticket_id=ticket.id,
                kind=kind,
                at=at,
                actor_kind=actor_kind,
                actor_id=actor_id,
                data=data,
            )
        )
