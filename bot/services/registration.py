"""Opening a request: number, SLA deadlines, stored messages, the client's acknowledgement and
the operator card, all in one transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot.services.desk import Desk
from bot.services.drafts import RequestDraft
from bot.services.lifecycle import Actor
from bot.services.outgoing import Outgoing
from bot.services.relay import stored
from bot.sla import Priority
from bot.vocabulary import Feedback, Status
from storage.models import Client, SlaTarget, Ticket
from storage.outbox import OutboxRepo
from storage.tickets import TicketRepo


class DraftIncomplete(ValueError):
    """The draft lacks an answer; the dialogue asks for it again."""


def client_author(client: Client) -> Actor:
    return Actor(id=client.telegram_id, name=client.name or client.telegram_name, kind="client")


async def register_request(
    session: AsyncSession, desk: Desk, client: Client, draft: RequestDraft, now: datetime
) -> Ticket:
    if not client.identified:
        raise DraftIncomplete("profile")
    if draft.kind is None or draft.topic is None or not draft.parts or draft.feedback is None:
        raise DraftIncomplete("draft")
    tickets = TicketRepo(session)
    priority = Priority.MEDIUM
    deadlines = desk.policy.deadlines(now, priority, draft.topic)
    ticket = Ticket(
        number=await tickets.next_number(),
        client_id=client.id,
        kind=draft.kind,
        topic=draft.topic,
        status=Status.NEW,
        priority=priority,
        channel="telegram",
        feedback=draft.feedback,
        contact=draft.contact if draft.feedback != Feedback.TELEGRAM else None,
        description=draft.description,
        language=client.language,
        client_name=client.name or "",
        client_company=client.company or "",
        client_tax_id=client.tax_id or "",
        registered_at=now,
        last_activity_at=now,
        client_unreachable=False,
        targets=[
            SlaTarget(kind="first_response", due_at=deadlines.first_response_due),
            SlaTarget(kind="resolution", due_at=deadlines.resolution_due),
        ],
    )
    tickets.add(ticket)
    await session.flush()
    author = client_author(client)
    rows = [stored(ticket, p, direction="client", author=author, now=now) for p in draft.parts]
    for row in rows:
        tickets.add_message(row)
    await session.flush()
    tickets.log(
        ticket,
        "registered",
        at=now,
        actor_kind="client",
        actor_id=client.telegram_id,
        priority=priority,
        topic=ticket.topic,
        first_response_due=deadlines.first_response_due.isoformat(),
    )
    client.current_ticket_id = ticket.id
    client.updated_at = now

    out = Outgoing(OutboxRepo(session), desk.operator_chat_id, now)
    out.to_chat(
        client.telegram_id,
        desk.renderer.registered(ticket, desk.first_response_minutes),
        purpose="registered",
        ticket_id=ticket.id,
    )
    post_card(out, desk, ticket)
    out.copy_to_desk(ticket, [row for row in rows if row.content_type != "text"])
    return ticket


def post_card(out: Outgoing, desk: Desk, ticket: Ticket) -> None:
    card = desk.renderer.card(ticket)
    out.to_desk(
        ticket,
        card.html,
        purpose="card",
        html=True,
        reply_markup=kb.card(desk.renderer, ticket),
    )
    for part in card.continuation:
        out.to_desk(ticket, part, purpose="card_more")
