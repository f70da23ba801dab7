"""Opening a request: number, SLA deadlines, stored messages, the client's acknowledgement and
the operator card, all in one transaction."""

from __future__ import annotations

from bot import keyboards as kb
from bot import lifecycle
from bot.lifecycle import Actor, EventKind
from bot.services.deadlines import FIRST_RESPONSE, RESOLUTION
from bot.services.desk import Desk
from bot.services.drafts import RequestDraft
from bot.services.outgoing import Outgoing
from bot.services.relay import stored
from bot.services.tickets import TicketService
from bot.sla import Priority
from bot.vocabulary import Direction, Feedback, Purpose
from storage.models import Client, SlaTarget, Ticket


class DraftIncomplete(ValueError):
    """The draft lacks an answer; the dialogue asks for it again."""


def client_author(client: Client) -> Actor:
    return Actor.client(client.telegram_id, client.name or client.telegram_name)


async def register_request(tickets: TicketService, client: Client, draft: RequestDraft) -> Ticket:
    if not client.identified:
        raise DraftIncomplete("profile")
    if draft.kind is None or draft.topic is None or not draft.parts or draft.feedback is None:
        raise DraftIncomplete("draft")
    desk, now, repo = tickets.desk, tickets.now, tickets.repo
    author = client_author(client)
    decision = lifecycle.register(Priority.MEDIUM, author, now)
    deadlines = desk.policy.deadlines(now, decision.state.priority, draft.topic)
    ticket = Ticket(
        number=await repo.next_number(),
        client_id=client.id,
        kind=draft.kind,
        topic=draft.topic,
        status=decision.state.status,
        priority=decision.state.priority,
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
        version=0,
        targets=[
            SlaTarget(kind=FIRST_RESPONSE, due_at=deadlines.first_response_due),
            SlaTarget(kind=RESOLUTION, due_at=deadlines.resolution_due),
        ],
        pauses=[],
    )
    repo.add(ticket)
    await tickets.session.flush()
    rows = [
        stored(ticket, p, direction=Direction.CLIENT, author=author, now=now) for p in draft.parts
    ]
    for row in rows:
        repo.add_message(row)
    await tickets.session.flush()
    for event in decision.events:
        tickets.record(ticket, event)
    for target in ticket.targets:
        tickets.note(
            ticket,
            EventKind.DEADLINE_CHANGED,
            author,
            target=target.kind,
            due_at=target.due_at.isoformat() if target.due_at else None,
        )
    client.current_ticket_id = ticket.id
    client.updated_at = now
    await tickets.replan(ticket)

    out = tickets.out
    out.to_chat(
        client.telegram_id,
        desk.renderer.registered(ticket, desk.policy),
        purpose=Purpose.REGISTERED,
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
        purpose=Purpose.CARD,
        html=True,
        reply_markup=kb.card(desk.renderer, ticket),
    )
    for part in card.continuation:
        out.to_desk(ticket, part, purpose=Purpose.CARD_MORE)
