"""The ticket service: every use case on a request goes load -> decide -> save -> say.

The pure machine (`bot.lifecycle`) decides; this service saves the decision (compare-and-lock
on the request's version, so of two decisions taken on the same state only one is saved and
the other is decided again), applies what follows from its events (timestamps, the SLA
bookkeeping, the client's ban), writes the audit log and queues in the outbox what is to be
said, all in the update's transaction. Nothing here talks to Telegram: the caller commits, and
only then does the bot speak.

One service is bound per update (session, desk, moment), so use cases take only what is
particular to them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot.lifecycle import (
    SYSTEM,
    Actor,
    Command,
    Comment,
    Decision,
    Event,
    EventKind,
    Outcome,
    Refusal,
    TicketState,
    decide,
)
from bot.services import alert_plans, deadlines
from bot.services.desk import Desk
from bot.services.outgoing import Outgoing
from bot.services.queries import running_due
from bot.sla.alerts import most_urgent
from bot.textsplit import shorten
from bot.vocabulary import ActorKind, Purpose
from storage.models import Ticket
from storage.outbox import OutboxRepo
from storage.tickets import TicketRepo

log = logging.getLogger(__name__)

# How often a decision is taken again when another one was saved first on the same request.
DECISION_ATTEMPTS = 8


class Contended(RuntimeError):
    """The request kept changing under this decision; the update fails and is retried."""


def state_of(ticket: Ticket) -> TicketState:
    return TicketState(
        status=ticket.status,
        priority=ticket.priority,
        assignee_id=ticket.assignee_id,
        assignee_name=ticket.assignee_name,
        answered=ticket.first_response_at is not None,
        rating=ticket.rating,
        client_banned=ticket.client.banned,
    )


def _shown(ticket: Ticket) -> tuple[object, ...]:
    """What the card and the topic title show of a request's state."""
    targets = tuple((t.kind, t.due_at, t.met_at) for t in ticket.targets)
    return ticket.status, ticket.priority, ticket.assignee_id, targets


@dataclass
class TicketService:
    session: AsyncSession
    desk: Desk
    now: datetime
    # The earliest moment an alert planned in this transaction is to go out: the caller tells
    # the alert scheduler after the commit.
    planned: datetime | None = field(default=None, init=False)

    @property
    def repo(self) -> TicketRepo:
        return TicketRepo(self.session)

    @property
    def out(self) -> Outgoing:
        return Outgoing(OutboxRepo(self.session), self.desk.operator_chat_id, self.now)

    # ---- deciding

    async def execute(self, ticket: Ticket, command: Command) -> Outcome:
        """Decide on the request's current state and save the decision with what follows."""
        repo = self.repo
        for _attempt in range(DECISION_ATTEMPTS):
            outcome = decide(state_of(ticket), command, self.now)
            if isinstance(outcome, Refusal) or not outcome.changed:
                return outcome
            if await repo.take_version(ticket):
                before = _shown(ticket)
                self.apply(ticket, outcome)
                if _shown(ticket) != before:
                    await self.replan(ticket)
                return outcome
            # Another decision was saved first: decide again on the state it left.
            await repo.reload(ticket)
        raise Contended(f"request {ticket.number}")

    def apply(self, ticket: Ticket, decision: Decision) -> None:
        shown = _shown(ticket)
        state = decision.state
        ticket.status = state.status
        ticket.priority = state.priority
        ticket.assignee_id = state.assignee_id
        ticket.assignee_name = state.assignee_name
        ticket.rating = state.rating
        for event in decision.events:
            self.record(ticket, event)
            # At once, so that a later event of the same decision (a resolve right after the
            # resume) meets a target whose due moment is already back.
            if self._follow(ticket, event):
                self.recompute(ticket)
        if _shown(ticket) != shown:
            self.show(ticket)

    def record(self, ticket: Ticket, event: Event) -> None:
        self.repo.log(
            ticket,
            event.kind,
            at=event.at,
            actor_kind=event.actor.kind,
            actor_id=event.actor.id,
            **event.data,
        )

    def note(self, ticket: Ticket, kind: EventKind, actor: Actor, **data: object) -> None:
        """An audit entry the machine does not produce (a note, an edit, a deadline moved)."""
        self.record(ticket, Event(kind, self.now, actor, dict(data)))

    def _follow(self, ticket: Ticket, event: Event) -> bool:
        """What an event changes besides the state; True when the deadlines must be recomputed."""
        now, kind = self.now, event.kind
        if kind in (EventKind.CLIENT_WROTE, EventKind.ANSWERED, EventKind.CLAIMED):
            ticket.last_activity_at = now
        if kind == EventKind.ANSWERED and event.data.get("first"):
            ticket.first_response_at = now
            self._met(ticket, deadlines.FIRST_RESPONSE, event.actor)
        elif kind == EventKind.WAITING:
            if self.desk.policy.pause_while_waiting:
                deadlines.pause(ticket, now)
                return True
        elif kind == EventKind.RESUMED:
            deadlines.end_pause(ticket, now)
            return True
        elif kind == EventKind.PRIORITY_CHANGED:
            return True
        elif kind == EventKind.RESOLVED:
            deadlines.end_pause(ticket, now)
            ticket.resolved_at = ticket.last_activity_at = now
            self._met(ticket, deadlines.RESOLUTION, event.actor)
            self._ask_client_solved(ticket)
        elif kind == EventKind.REOPENED:
            ticket.resolved_at = None
            ticket.last_activity_at = now
            deadlines.unmeet(ticket, deadlines.RESOLUTION)
            if event.actor.kind != ActorKind.CLIENT:
                self.tell_client(ticket, "client.reopened")
            return True
        elif kind == EventKind.CLOSED:
            ticket.closed_at = now
        elif kind == EventKind.WITHDRAWN:
            deadlines.end_pause(ticket, now)
            ticket.closed_at = ticket.last_activity_at = now
        elif kind in (EventKind.BANNED, EventKind.UNBANNED):
            self._ban(ticket, kind == EventKind.BANNED)
        elif kind == EventKind.RATED:
            self.tell_desk(ticket, "desk.rated", rating=event.data["rating"])
        return False

    def _met(self, ticket: Ticket, target: str, actor: Actor) -> None:
        breached = deadlines.meet(ticket, target, self.now)
        if breached is not None:
            self.note(ticket, EventKind.TARGET_MET, actor, target=target, breached=breached)

    def recompute(self, ticket: Ticket) -> None:
        for target, due in deadlines.recompute(ticket, self.desk.policy).items():
            self.note(
                ticket,
                EventKind.DEADLINE_CHANGED,
                SYSTEM,
                target=target,
                due_at=due.isoformat() if due is not None else None,
            )

    async def replan(self, ticket: Ticket) -> None:
        """The request's alerts planned anew for its state (deadlines, assignee, priority and
        status), in this transaction."""
        ticket.next_due_at = running_due(ticket)
        earliest = await alert_plans.replan(self.session, ticket, self.desk.policy, self.now)
        if earliest is not None and (self.planned is None or earliest < self.planned):
            self.planned = earliest

    def _ban(self, ticket: Ticket, banned: bool) -> None:
        client = ticket.client
        client.banned = banned
        client.updated_at = self.now
        renderer = self.desk.renderer
        if banned:
            text = renderer.t("client.banned", client.language)
        else:
            text = renderer.t("client.unbanned", client.language)
        self.out.to_chat(client.telegram_id, text, purpose=Purpose.NOTICE, ticket_id=ticket.id)

    # ---- saying

    def show(self, ticket: Ticket) -> None:
        """The card and the topic title always show the current state, and how its deadlines
        stand now (close to or past)."""
        out, renderer = self.out, self.desk.renderer
        marks = alert_plans.marks_of(ticket, self.desk.policy, self.now)
        out.refresh_card(ticket, renderer.card(ticket, marks).html, kb.card(renderer, ticket))
        title = renderer.topic_title(ticket, most_urgent(marks))
        if ticket.topic_title != title:
            out.retitle_topic(ticket, title)

    def tell_client(self, ticket: Ticket, message_id: str, **params: object) -> None:
        text = self.desk.renderer.t(message_id, ticket.language, number=ticket.number, **params)
        self.out.to_chat(
            ticket.client.telegram_id, text, purpose=Purpose.NOTICE, ticket_id=ticket.id
        )

    def tell_desk(self, ticket: Ticket, message_id: str, **params: object) -> None:
        renderer = self.desk.renderer
        text = renderer.t(message_id, renderer.desk_language, number=ticket.number, **params)
        self.out.to_desk(ticket, text, purpose=Purpose.NOTICE)

    def _ask_client_solved(self, ticket: Ticket) -> None:
        renderer = self.desk.renderer
        self.out.to_chat(
            ticket.client.telegram_id,
            renderer.t("client.resolved_ask", ticket.language, number=ticket.number),
            purpose=Purpose.NOTICE,
            ticket_id=ticket.id,
            reply_markup=kb.solved(renderer, ticket),
        )

    def ask_rating(self, ticket: Ticket) -> None:
        renderer = self.desk.renderer
        self.out.to_chat(
            ticket.client.telegram_id,
            renderer.t("client.rate_ask", ticket.language, number=ticket.number),
            purpose=Purpose.NOTICE,
            ticket_id=ticket.id,
            reply_markup=kb.rating(ticket),
        )


async def comment_rating(tickets: TicketService, ticket: Ticket, actor: Actor, text: str) -> None:
    """The client's comment to their rating is stored whole; the desk sees its beginning."""
    if isinstance(await tickets.execute(ticket, Comment(actor)), Refusal):
        return
    ticket.rating_comment = text
    tickets.tell_desk(ticket, "desk.rating_comment", comment=shorten(text, 3500))
