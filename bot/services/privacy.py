"""The client's own data: what the desk keeps about them (/mydata), erasing it (/forget), and
removing the personal data of requests closed long ago (DATA_RETENTION_DAYS).

Erasing keeps the requests for statistics (numbers, kinds, topics, statuses, priorities, SLA
targets, timestamps, the audit log's kinds) and removes what identifies or was written by the
client: the profile (name, company, INN/STIR or PINFL, phone, e-mail, Telegram name), the
identity snapshot on each request, every message text and file of the request in both
directions (an answer quotes the client as often as not) and of answers the quality guard held,
the contact and the rating comment,
the raw updates of that chat kept in the inbox, and what the outbox still holds for the chat.
Open requests are closed first, through the life cycle (`Withdraw`), and the operators are
told which requests were erased. Messages already delivered in Telegram cannot be taken back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.lifecycle import SYSTEM, Actor, EventKind, Withdraw
from bot.services.desk import Desk
from bot.services.tickets import TicketService
from bot.vocabulary import OPEN_STATUSES, Direction, InboxStatus, OutboxStatus, Purpose, Status
from storage.models import (
    Client,
    HeldAnswer,
    InboxUpdate,
    OutboxItem,
    Ticket,
    TicketMessage,
)

REQUESTS_SHOWN = 20


@dataclass(frozen=True)
class RequestData:
    number: int
    status: Status
    topic: str
    registered_at: datetime
    from_client: int
    to_client: int


@dataclass
class MyData:
    client: Client
    requests: list[RequestData] = field(default_factory=list)
    total: int = 0


async def my_data(session: AsyncSession, client: Client) -> MyData:
    data = MyData(client)
    data.total = int(
        await session.scalar(
            select(func.count()).select_from(Ticket).where(Ticket.client_id == client.id)
        )
        or 0
    )
    tickets = (
        await session.scalars(
            select(Ticket)
            .where(Ticket.client_id == client.id)
            .order_by(Ticket.number.desc())
            .limit(REQUESTS_SHOWN)
        )
    ).all()
    if not tickets:
        return data
    counts = await session.execute(
        select(TicketMessage.ticket_id, TicketMessage.direction, func.count())
        .where(TicketMessage.ticket_id.in_([t.id for t in tickets]))
        .group_by(TicketMessage.ticket_id, TicketMessage.direction)
    )
    by: dict[tuple[int, str], int] = {(t, str(d)): int(n) for t, d, n in counts.all()}
    for t in tickets:
        data.requests.append(
            RequestData(
                t.number,
                t.status,
                t.topic,
                t.registered_at,
                by.get((t.id, Direction.CLIENT), 0),
                by.get((t.id, Direction.OPERATOR), 0),
            )
        )
    return data


async def forget_client(
    session: AsyncSession, desk: Desk, client: Client, now: datetime, *, keep_update: int | None
) -> list[int]:
    """Erase the client's personal data and anonymise their requests; returns the numbers of
    the requests. `keep_update`: the update being handled (marked handled in this transaction),
    whose raw body is scrubbed rather than deleted."""
    service = TicketService(session, desk, now)
    actor = Actor.client(client.telegram_id)
    tickets = (await session.scalars(select(Ticket).where(Ticket.client_id == client.id))).all()
    # Erased first, so the cards the closing refreshes show nothing of the client.
    await anonymise(session, service, tickets, EventKind.CLIENT_FORGOTTEN, actor)
    for ticket in tickets:
        if ticket.status in OPEN_STATUSES or ticket.status == Status.RESOLVED:
            await service.execute(ticket, Withdraw(actor))
    chat = client.telegram_id
    await session.execute(
        delete(OutboxItem).where(
            OutboxItem.chat_id == chat, OutboxItem.status == OutboxStatus.PENDING
        )
    )
    await session.execute(
        update(OutboxItem)
        .where(OutboxItem.chat_id == chat, OutboxItem.status != OutboxStatus.PENDING)
        .values(payload={})
    )
    # The raw updates: the client's own, and the group's (an operator's reply quotes the card).
    # Their ids stay (a redelivered update is still known), their bodies go.
    chats = [chat] if desk.operator_chat_id is None else [chat, desk.operator_chat_id]
    await session.execute(
        update(InboxUpdate)
        .where(
            InboxUpdate.chat_key.in_(chats),
            (InboxUpdate.status != InboxStatus.PENDING)
            | (InboxUpdate.update_id == (keep_update or -1)),
        )
        .values(body={})
    )
    client.name = client.company = client.tax_id = client.tax_id_kind = None
    client.phone = client.email = None
    client.telegram_name = ""
    client.current_ticket_id = None
    client.updated_at = now
    numbers = sorted(t.number for t in tickets)
    if numbers and desk.operator_chat_id is not None:
        text = desk.renderer.t(
            "privacy.desk_forgotten",
            desk.renderer.desk_language,
            numbers=", ".join(f"№\u00a0{n}" for n in numbers),
        )
        service.out.to_desk(tickets[0], text, purpose=Purpose.NOTICE)
    return numbers


async def anonymise(
    session: AsyncSession,
    service: TicketService,
    tickets: Sequence[Ticket],
    kind: EventKind,
    actor: Actor,
) -> None:
    """The requests' personal data removed; what statistics need is kept."""
    if not tickets:
        return
    ids = [t.id for t in tickets]
    await session.execute(
        update(TicketMessage)
        .where(TicketMessage.ticket_id.in_(ids))
        .values(text=None, file_id=None, file_name=None, author_name="")
    )
    await session.execute(
        update(HeldAnswer)
        .where(HeldAnswer.ticket_id.in_(ids))
        .values(text=None, file_id=None, file_name=None)
    )
    for ticket in tickets:
        ticket.client_name = ticket.client_company = ticket.client_tax_id = ""
        ticket.contact = None
        ticket.description = ""
        ticket.rating_comment = None
        ticket.topic_title = None
        service.note(ticket, kind, actor)
    await session.execute(
        update(OutboxItem)
        .where(OutboxItem.ticket_id.in_(ids), OutboxItem.status != OutboxStatus.PENDING)
        .values(payload={})
    )


async def expire_closed(
    session: AsyncSession, desk: Desk, now: datetime, keep: timedelta, batch: int = 500
) -> int:
    """DATA_RETENTION_DAYS: the personal data of requests closed more than `keep` ago is
    removed (each once: the identity snapshot is the mark); returns how many requests."""
    service = TicketService(session, desk, now)
    tickets = (
        await session.scalars(
            select(Ticket)
            .where(
                Ticket.status == Status.CLOSED,
                Ticket.closed_at < now - keep,
                Ticket.client_tax_id != "",
            )
            .limit(batch)
        )
    ).all()
    await anonymise(session, service, tickets, EventKind.DATA_EXPIRED, SYSTEM)
    return len(tickets)
