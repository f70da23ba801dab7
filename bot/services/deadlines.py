"""The SLA bookkeeping of a request, in one place: deadlines kept in step with its priority,
topic and pauses; a target met (and breached if late) or made due again."""

from __future__ import annotations

from datetime import datetime

from bot.sla import Priority, SlaPolicy
from storage.models import Ticket, TicketPause

FIRST_RESPONSE = "first_response"
RESOLUTION = "resolution"


def pauses_of(ticket: Ticket) -> list[tuple[datetime, datetime | None]]:
    return [(p.started_at, p.ended_at) for p in ticket.pauses]


def recompute(ticket: Ticket, policy: SlaPolicy) -> dict[str, datetime | None]:
    """Recompute from the registration time, keeping the paused stretches (SPEC). Targets that
    were already met keep their record. Returns the targets whose due moment changed."""
    deadlines = policy.deadlines(
        ticket.registered_at, Priority(ticket.priority), ticket.topic, pauses_of(ticket)
    )
    due = {FIRST_RESPONSE: deadlines.first_response_due, RESOLUTION: deadlines.resolution_due}
    changed: dict[str, datetime | None] = {}
    for target in ticket.targets:
        if target.met_at is None and target.kind in due and target.due_at != due[target.kind]:
            target.due_at = due[target.kind]
            changed[target.kind] = target.due_at
    return changed


def meet(ticket: Ticket, kind: str, now: datetime) -> bool | None:
    """The target is met now; returns whether it was breached (None if it was met before)."""
    target = ticket.target(kind)
    if target is None or target.met_at is not None:
        return None
    target.met_at = now
    if target.due_at is not None and now > target.due_at and target.breached_at is None:
        target.breached_at = target.due_at
    return target.breached_at is not None


def unmeet(ticket: Ticket, kind: str) -> None:
    """A reopened request owes its resolution again (a breach once recorded stays)."""
    target = ticket.target(kind)
    if target is not None:
        target.met_at = None


def pause(ticket: Ticket, now: datetime) -> None:
    if not any(p.ended_at is None for p in ticket.pauses):
        ticket.pauses.append(TicketPause(started_at=now))


def end_pause(ticket: Ticket, now: datetime) -> None:
    for stretch in ticket.pauses:
        if stretch.ended_at is None:
            stretch.ended_at = now
