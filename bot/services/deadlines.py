"""Keeping a request's SLA targets in step with its priority, topic and pauses."""

from __future__ import annotations

from datetime import datetime

from bot.sla import Priority, SlaPolicy
from storage.models import Ticket


def pauses_of(ticket: Ticket) -> list[tuple[datetime, datetime | None]]:
    return [(p.started_at, p.ended_at) for p in ticket.pauses]


def recompute(ticket: Ticket, policy: SlaPolicy) -> None:
    """Recompute from the registration time, keeping the paused stretches (SPEC). Targets that
    were already met keep their record."""
    deadlines = policy.deadlines(
        ticket.registered_at, Priority(ticket.priority), ticket.topic, pauses_of(ticket)
    )
    first = ticket.target("first_response")
    if first is not None and first.met_at is None:
        first.due_at = deadlines.first_response_due
    resolution = ticket.target("resolution")
    if resolution is not None and resolution.met_at is None:
        resolution.due_at = deadlines.resolution_due
