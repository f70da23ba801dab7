"""The alert plan of a request, kept in step with its state in one place: whatever changes its
deadlines, assignee, priority or status (the ticket service, registration, the start-up
recompute, a due-work pass) plans it anew here, in the same transaction. Pending rows that no
longer fit are cancelled, the rest are written as the planner (bot.sla.alerts) says; rows that
were sent are never touched, and they are the planner's memory of what went out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.deadlines import FIRST_RESPONSE, RESOLUTION
from bot.sla import Priority, SlaPolicy, Target
from bot.sla.alerts import PlannedAlert, Sent, Standing, TargetClock, plan_alerts, standings
from bot.vocabulary import OPEN_STATUSES, AlertKind, AlertStatus
from storage.alerts import AlertRepo
from storage.models import SlaAlert, Ticket


def clocks_of(ticket: Ticket, policy: SlaPolicy) -> list[TargetClock]:
    """The targets of an open request as the planner sees them (none once it is resolved)."""
    if ticket.status not in OPEN_STATUSES:
        return []
    calendar, start = policy.calendar, ticket.registered_at
    clocks = []
    for target in ticket.targets:
        met = target.met_at is not None
        if target.kind == FIRST_RESPONSE:
            # Its budget is the working time from registration to the promised moment (10
            # minutes, or up to 10:00 of the next working day).
            due = target.due_at
            budget = calendar.working_time_between(start, due) if due is not None else None
            measure = Target.working_time(budget) if budget is not None else None
            if measure is not None:
                clocks.append(TargetClock(FIRST_RESPONSE, measure, start, due, met))
        elif target.kind == RESOLUTION:
            measure = policy.resolution_target(Priority(ticket.priority), ticket.topic)
            pauses = tuple(
                (p.started_at, p.ended_at)
                for p in ticket.pauses
                if p.ended_at is not None and policy.pause_while_waiting
            )
            clocks.append(TargetClock(RESOLUTION, measure, start, target.due_at, met, pauses))
    return clocks


def is_critical(ticket: Ticket) -> bool:
    return Priority(ticket.priority) is Priority.CRITICAL


def sent_of(rows: Sequence[SlaAlert]) -> dict[str, Sent]:
    """What went out already, per target."""
    sent: dict[str, Sent] = {}
    for row in rows:
        if row.status != AlertStatus.SENT:
            continue
        known = sent.get(row.target, Sent())
        if row.kind == AlertKind.WARNING:
            sent[row.target] = Sent(True, known.last_round, known.last_at)
        elif known.last_round is None or row.round > known.last_round:
            sent[row.target] = Sent(known.warned, row.round, row.sent_at)
    return sent


def plan_of(
    ticket: Ticket, rows: Sequence[SlaAlert], policy: SlaPolicy, now: datetime
) -> list[PlannedAlert]:
    return plan_alerts(
        clocks_of(ticket, policy),
        calendar=policy.calendar,
        rules=policy.alerts,
        critical=is_critical(ticket),
        sent=sent_of(rows),
        now=now,
    )


async def write_plan(
    repo: AlertRepo,
    ticket_id: int,
    rows: Sequence[SlaAlert],
    plan: Sequence[PlannedAlert],
    now: datetime,
) -> None:
    """Make the pending rows of a request the plan: cancel what it no longer holds, replace
    what moved, insert what is new."""
    existing = {(row.target, row.kind, row.round): row for row in rows}
    wanted = {alert.key: alert for alert in plan}
    for key, old in existing.items():
        if old.status == AlertStatus.PENDING and key not in wanted:
            await repo.cancel(old.id)
    await repo.insert(
        ticket_id, [alert for key, alert in wanted.items() if key not in existing], now=now
    )
    for key, alert in wanted.items():
        row = existing.get(key)
        if row is None:
            continue
        if row.status == AlertStatus.SENT:
            continue  # the planner never plans a sent key again; a racing plan may
        elif (row.status, row.fire_at, row.due_at) != (
            AlertStatus.PENDING,
            alert.fire_at,
            alert.due_at,
        ):
            await repo.replace(row.id, fire_at=alert.fire_at, due_at=alert.due_at)


async def replan(
    session: AsyncSession, ticket: Ticket, policy: SlaPolicy, now: datetime
) -> datetime | None:
    """Plan a request's alerts anew; returns the earliest moment one is to go out."""
    repo = AlertRepo(session)
    rows = (await repo.of_tickets([ticket.id])).get(ticket.id, [])
    plan = plan_of(ticket, rows, policy, now)
    await write_plan(repo, ticket.id, rows, plan, now)
    return min((alert.fire_at for alert in plan), default=None)


def marks_of(ticket: Ticket, policy: SlaPolicy, now: datetime) -> dict[str, Standing]:
    """The targets of a request that are close to their deadline or past it, for its card."""
    return standings(
        clocks_of(ticket, policy), calendar=policy.calendar, rules=policy.alerts, now=now
    )
