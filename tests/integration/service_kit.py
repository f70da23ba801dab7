"""Helpers shared by the service tests: who acts, and what a transaction left in the database
(the request, its audit log, its stored messages and the outbox rows it queued)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.lifecycle import Actor
from bot.render import Renderer
from bot.services.desk import Desk
from bot.vocabulary import Place, priority_label_id, status_label_id
from storage.models import Client, OutboxItem, Ticket, TicketEvent, TicketMessage, TicketPause

DILNOZA = Actor.operator(9001, "Dilnoza")
SARDOR = Actor.operator(9002, "Sardor")
# The client the `new_ticket` fixture creates by default.
CLIENT_TG = 700_000_001


async def load(session: AsyncSession, ticket_id: int) -> Ticket:
    ticket = await session.get(Ticket, ticket_id)
    assert ticket is not None
    return ticket


async def client_of(session: AsyncSession, ticket: Ticket) -> Client:
    client = await session.get(Client, ticket.client_id)
    assert client is not None
    return client


async def outbox(session: AsyncSession, *, after: int = 0) -> list[OutboxItem]:
    """Every outbox row with an id above `after`, in the order they were queued."""
    rows = await session.scalars(
        select(OutboxItem).where(OutboxItem.id > after).order_by(OutboxItem.id)
    )
    return list(rows.all())


async def last_outbox_id(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.max(OutboxItem.id))) or 0)


async def events(session: AsyncSession, ticket_id: int) -> list[TicketEvent]:
    rows = await session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    )
    return list(rows.all())


async def event_kinds(session: AsyncSession, ticket_id: int) -> list[str]:
    return [e.kind for e in await events(session, ticket_id)]


async def messages(session: AsyncSession, ticket_id: int) -> list[TicketMessage]:
    rows = await session.scalars(
        select(TicketMessage).where(TicketMessage.ticket_id == ticket_id).order_by(TicketMessage.id)
    )
    return list(rows.all())


@dataclass(frozen=True)
class Footprint:
    """How many rows of each kind the database holds: a refusal must leave it as it was."""

    outbox: int
    events: int
    messages: int
    pauses: int


async def footprint(session: AsyncSession) -> Footprint:
    async def count(model: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)

    return Footprint(
        await count(OutboxItem),
        await count(TicketEvent),
        await count(TicketMessage),
        await count(TicketPause),
    )


def snapshot(ticket: Ticket) -> dict[str, Any]:
    """The columns a decision may change."""
    return {
        "status": ticket.status,
        "priority": ticket.priority,
        "assignee_id": ticket.assignee_id,
        "assignee_name": ticket.assignee_name,
        "rating": ticket.rating,
        "version": ticket.version,
        "resolved_at": ticket.resolved_at,
        "closed_at": ticket.closed_at,
        "first_response_at": ticket.first_response_at,
        "targets": [(t.kind, t.due_at, t.met_at, t.breached_at) for t in ticket.targets],
    }


def place_is(item: OutboxItem, place: Place) -> bool:
    """Where the row belongs (checked where the outbox has its typed `place` column)."""
    return not hasattr(OutboxItem, "place") or item.place == place


def due(ticket: Ticket, kind: str) -> datetime | None:
    target = ticket.target(kind)
    assert target is not None
    return target.due_at


def action_result(
    renderer: Renderer, number: int, status: str, priority: str, assignee: str | None
) -> str:
    """The operator's answer to an action that was done, as `perform` words it."""
    lang = renderer.desk_language
    return renderer.t(
        "desk.action_result",
        lang,
        number=number,
        status=renderer.label(status_label_id(status), lang),
        priority=renderer.label(priority_label_id(priority), lang),
        assignee=assignee or renderer.label("card.unassigned", lang),
    )


def desk_like(desk: Desk, **changes: Any) -> Desk:
    """The fixture's desk with some settings changed (Desk takes its chat id, not the holder)."""
    values: dict[str, Any] = {
        "policy": desk.policy,
        "renderer": desk.renderer,
        "operator_chat_id": desk.operator_chat_id,
        "topics": desk.topics,
        "reopen_window_hours": desk.reopen_window_hours,
        "operator_names_visible": desk.operator_names_visible,
    }
    values.update(changes)
    return Desk(**values)
