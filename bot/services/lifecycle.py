"""The request life cycle as use cases: each change is checked against the rules, stored with
who and when in the audit log, reflected on the card and topic title, and told to the client
where it concerns them. Repositories flush; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot.lifecycle import active_status, check_transition
from bot.services.deadlines import recompute
from bot.services.desk import Desk
from bot.services.outgoing import Outgoing
from bot.sla import Priority
from bot.textsplit import shorten
from bot.vocabulary import OPEN_STATUSES, Status
from storage.models import Ticket, TicketPause
from storage.outbox import OutboxRepo
from storage.tickets import TicketRepo


@dataclass(frozen=True)
class Actor:
    id: int
    name: str
    kind: str = "operator"


class AlreadyClaimed(Exception):
    def __init__(self, assignee_id: int | None, assignee_name: str | None) -> None:
        super().__init__("claimed")
        self.assignee_id = assignee_id
        self.assignee_name = assignee_name


def _out(session: AsyncSession, desk: Desk, now: datetime) -> Outgoing:
    return Outgoing(OutboxRepo(session), desk.operator_chat_id, now)


def show_changes(session: AsyncSession, desk: Desk, ticket: Ticket, now: datetime) -> None:
    """The card and the topic title always show the current status."""
    out = _out(session, desk, now)
    out.refresh_card(ticket, desk.renderer.card(ticket).html, kb.card(desk.renderer, ticket))
    title = desk.renderer.topic_title(ticket)
    if ticket.topic_title != title:
        out.retitle_topic(ticket, title)


def _notify_client(
    session: AsyncSession,
    desk: Desk,
    ticket: Ticket,
    now: datetime,
    message_id: str,
    **params: object,
) -> None:
    text = desk.renderer.t(message_id, ticket.language, number=ticket.number, **params)
    _out(session, desk, now).to_chat(
        ticket.client.telegram_id, text, purpose="notice", ticket_id=ticket.id
    )


async def claim(
    session: AsyncSession, desk: Desk, ticket: Ticket, actor: Actor, now: datetime
) -> None:
    """The database decides: of two presses at the same moment exactly one sets the assignee."""
    result = await session.execute(
        update(Ticket)
        .where(
            Ticket.id == ticket.id,
            Ticket.assignee_id.is_(None),
            Ticket.status.in_(list(OPEN_STATUSES)),
        )
        .values(
            assignee_id=actor.id,
            assignee_name=actor.name,
            # Claiming assigns; a request waiting for the client keeps waiting (and its clock
            # paused) until the client answers or an operator resumes it.
            status=case(
                (Ticket.status == Status.WAITING, Status.WAITING.value),
                else_=Status.IN_PROGRESS.value,
            ),
            last_activity_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    await session.refresh(ticket)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyClaimed(ticket.assignee_id, ticket.assignee_name)
    TicketRepo(session).log(ticket, "claimed", at=now, actor_kind=actor.kind, actor_id=actor.id)
    show_changes(session, desk, ticket, now)


async def assign(
    session: AsyncSession, desk: Desk, ticket: Ticket, actor: Actor, to: Actor, now: datetime
) -> None:
    """Hand a request over to another operator (or release it when `to` is None)."""
    previous = ticket.assignee_id
    ticket.assignee_id, ticket.assignee_name = to.id, to.name
    if ticket.status == Status.NEW:
        ticket.status = Status.IN_PROGRESS
    TicketRepo(session).log(
        ticket,
        "assigned",
        at=now,
        actor_kind=actor.kind,
        actor_id=actor.id,
        previous=previous,
        to=to.id,
    )
    show_changes(session, desk, ticket, now)


async def release(
    session: AsyncSession, desk: Desk, ticket: Ticket, actor: Actor, now: datetime
) -> None:
    ticket.assignee_id = None
    ticket.assignee_name = None
    if ticket.status == Status.IN_PROGRESS:
        ticket.status = Status.NEW
    TicketRepo(session).log(ticket, "released", at=now, actor_kind=actor.kind, actor_id=actor.id)
    show_changes(session, desk, ticket, now)


async def set_priority(
    session: AsyncSession,
    desk: Desk,
    ticket: Ticket,
    priority: Priority,
    actor: Actor,
    now: datetime,
) -> None:
    previous = ticket.priority
    ticket.priority = priority
    recompute(ticket, desk.policy)
    TicketRepo(session).log(
        ticket,
        "priority",
        at=now,
        actor_kind=actor.kind,
        actor_id=actor.id,
        previous=previous,
        priority=priority,
    )
    show_changes(session, desk, ticket, now)


async def wait_for_client(
    session: AsyncSession, desk: Desk, ticket: Ticket, actor: Actor, now: datetime
) -> None:
    check_transition(ticket.status, Status.WAITING)
    ticket.status = Status.WAITING
    if desk.policy.pause_while_waiting:
        ticket.pauses.append(TicketPause(started_at=now))
        recompute(ticket, desk.policy)
    TicketRepo(session).log(ticket, "waiting", at=now, actor_kind=actor.kind, actor_id=actor.id)
    show_changes(session, desk, ticket, now)


def _end_pause(ticket: Ticket, now: datetime) -> None:
    for pause in ticket.pauses:
        if pause.ended_at is None:
            pause.ended_at = now


async def resume_from_waiting(
    session: AsyncSession,
    desk: Desk,
    ticket: Ticket,
    now: datetime,
    *,
    actor_id: int,
    actor_kind: str = "client",
) -> None:
    check_transition(ticket.status, active_status(ticket.assignee_id))
    ticket.status = active_status(ticket.assignee_id)
    _end_pause(ticket, now)
    recompute(ticket, desk.policy)
    TicketRepo(session).log(ticket, "resumed", at=now, actor_kind=actor_kind, actor_id=actor_id)
    show_changes(session, desk, ticket, now)


async def resolve(
    session: AsyncSession, desk: Desk, ticket: Ticket, actor: Actor, now: datetime
) -> None:
    check_transition(ticket.status, Status.RESOLVED)
    _end_pause(ticket, now)
    ticket.status = Status.RESOLVED
    ticket.resolved_at = now
    ticket.last_activity_at = now
    target = ticket.target("resolution")
    if target is not None and target.met_at is None:
        target.met_at = now
        if target.due_at is not None and now > target.due_at and target.breached_at is None:
            target.breached_at = target.due_at
    TicketRepo(session).log(ticket, "resolved", at=now, actor_kind=actor.kind, actor_id=actor.id)
    show_changes(session, desk, ticket, now)
    renderer = desk.renderer
    _out(session, desk, now).to_chat(
        ticket.client.telegram_id,
        renderer.t("client.resolved_ask", ticket.language, number=ticket.number),
        purpose="notice",
        ticket_id=ticket.id,
        reply_markup=kb.solved(desk.renderer, ticket),
    )


async def reopen(
    session: AsyncSession,
    desk: Desk,
    ticket: Ticket,
    now: datetime,
    *,
    actor_kind: str,
    actor_id: int | None,
) -> None:
    status = active_status(ticket.assignee_id)
    check_transition(ticket.status, status)
    ticket.status = status
    ticket.resolved_at = None
    ticket.last_activity_at = now
    target = ticket.target("resolution")
    if target is not None:
        target.met_at = None
    recompute(ticket, desk.policy)
    TicketRepo(session).log(ticket, "reopened", at=now, actor_kind=actor_kind, actor_id=actor_id)
    show_changes(session, desk, ticket, now)
    if actor_kind != "client":
        _notify_client(session, desk, ticket, now, "client.reopened")


async def close(
    session: AsyncSession,
    desk: Desk,
    ticket: Ticket,
    now: datetime,
    *,
    actor_kind: str,
    actor_id: int | None,
) -> None:
    check_transition(ticket.status, Status.CLOSED)
    ticket.status = Status.CLOSED
    ticket.closed_at = now
    TicketRepo(session).log(ticket, "closed", at=now, actor_kind=actor_kind, actor_id=actor_id)
    show_changes(session, desk, ticket, now)


async def ask_rating(session: AsyncSession, desk: Desk, ticket: Ticket, now: datetime) -> None:
    _out(session, desk, now).to_chat(
        ticket.client.telegram_id,
        desk.renderer.t("client.rate_ask", ticket.language, number=ticket.number),
        purpose="notice",
        ticket_id=ticket.id,
        reply_markup=kb.rating(ticket),
    )


async def rate(
    session: AsyncSession, desk: Desk, ticket: Ticket, stars: int, now: datetime
) -> None:
    ticket.rating = stars
    TicketRepo(session).log(
        ticket,
        "rated",
        at=now,
        actor_kind="client",
        actor_id=ticket.client.telegram_id,
        rating=stars,
    )
    lang = desk.renderer.desk_language
    _out(session, desk, now).to_desk(
        ticket,
        desk.renderer.t("desk.rated", lang, number=ticket.number, rating=stars),
        purpose="notice",
    )


async def comment_rating(
    session: AsyncSession, desk: Desk, ticket: Ticket, comment: str, now: datetime
) -> None:
    ticket.rating_comment = comment
    TicketRepo(session).log(
        ticket, "rating_comment", at=now, actor_kind="client", actor_id=ticket.client.telegram_id
    )
    lang = desk.renderer.desk_language
    _out(session, desk, now).to_desk(
        ticket,
        desk.renderer.t(
            "desk.rating_comment", lang, number=ticket.number, comment=shorten(comment, 3500)
        ),
        purpose="notice",
    )
