"""The desk's figures for a period [start, end): requests opened and resolved, every target
breached (which request, which target, by how much, who had it), what is overdue now, per
operator and per priority, first-response times, the share of targets met, the average rating,
and the opened/resolved/breached count of each day for the chart.

Every query reads a period through an index on its time column (tickets.registered_at,
first_response_at, resolved_at; sla_targets.due_at, met_at, breached_at) and what is open now
through the index on tickets.status: the cost follows the rows of the period and the open
requests, not the size of the tables.

A target is breached at the moment it was missed: `breached_at` where it is recorded (when it
was met late, or by the alerts), else its due moment, for a target still unmet past it."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.lifecycle import EventKind
from bot.sla import BusinessCalendar
from bot.vocabulary import OPEN_STATUSES, Priority
from storage.models import SlaTarget, Ticket, TicketEvent

# Values bound in one IN (...) at most (SQLite allows 32766, PostgreSQL 32767 parameters).
CHUNK = 500
HOLDER_EVENTS = (EventKind.CLAIMED, EventKind.ASSIGNED, EventKind.RELEASED)
PRIORITY_ORDER = tuple(Priority)


@dataclass(frozen=True)
class Period:
    """[start, end), aware moments."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a period needs aware moments")
        if self.end <= self.start:
            raise ValueError("a period must end after it starts")


@dataclass(frozen=True)
class Person:
    """An operator as the requests name them; id None: nobody (not assigned)."""

    id: int | None
    name: str | None


NOBODY = Person(None, None)


@dataclass(frozen=True)
class Breach:
    """A target missed in the period: `missed` is its due moment; `by` how late it was met,
    or how late it is now if it is still unmet (`met_at` None)."""

    ticket_id: int
    number: int
    company: str
    priority: Priority
    target: str
    missed: datetime
    met_at: datetime | None
    by: timedelta
    holder: Person


@dataclass(frozen=True)
class Overdue:
    """An open request's unmet target past its due moment, now."""

    ticket_id: int
    number: int
    company: str
    priority: Priority
    target: str
    due: datetime
    by: timedelta
    assignee: Person


@dataclass(frozen=True)
class OperatorFigures:
    operator: Person
    resolved: int = 0
    breached: int = 0  # targets missed while the request was theirs
    open_now: int = 0


@dataclass(frozen=True)
class PriorityFigures:
    priority: Priority
    opened: int = 0
    resolved: int = 0
    breached: int = 0


@dataclass(frozen=True)
class DayFigures:
    day: date
    opened: int = 0
    resolved: int = 0
    breached: int = 0


@dataclass(frozen=True)
class Stats:
    period: Period
    now: datetime
    opened: int
    resolved: int
    breaches: list[Breach]
    overdue: list[Overdue]
    operators: list[OperatorFigures]
    priorities: list[PriorityFigures]
    # First response in working time of the desk's calendar, over the responses of the period.
    first_responses: int
    first_response_median: timedelta | None
    first_response_p90: timedelta | None
    targets_met: int  # met on time in the period
    ratings: int
    rating_average: float | None
    days: list[DayFigures] = field(default_factory=list)

    @property
    def targets_decided(self) -> int:
        """Met on time or missed in the period."""
        return self.targets_met + len(self.breaches)

    @property
    def met_share(self) -> float | None:
        decided = self.targets_decided
        return self.targets_met / decided if decided else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation between the closest ranks (as
    numpy's default); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _seconds(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=round(value))


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for index in range(0, len(ids), CHUNK):
        yield ids[index : index + CHUNK]


# ---- the queries


async def count_opened(session: AsyncSession, period: Period) -> Counter[Priority]:
    rows = await session.execute(
        select(Ticket.priority, func.count())
        .where(Ticket.registered_at >= period.start, Ticket.registered_at < period.end)
        .group_by(Ticket.priority)
    )
    return Counter({Priority(priority): int(n) for priority, n in rows})


async def resolved_rows(session: AsyncSession, period: Period) -> list[Any]:
    """(priority, assignee id, assignee name, rating) of the requests resolved in the period."""
    rows = await session.execute(
        select(Ticket.priority, Ticket.assignee_id, Ticket.assignee_name, Ticket.rating).where(
            Ticket.resolved_at >= period.start, Ticket.resolved_at < period.end
        )
    )
    return list(rows)


async def first_response_times(
    session: AsyncSession, period: Period, calendar: BusinessCalendar
) -> list[timedelta]:
    """Working time from registration to the first response, of the responses in the period."""
    rows = await session.execute(
        select(Ticket.registered_at, Ticket.first_response_at).where(
            Ticket.first_response_at >= period.start, Ticket.first_response_at < period.end
        )
    )
    return [
        calendar.working_time_between(registered, answered)
        for registered, answered in rows
        if answered is not None  # in the period
    ]


async def count_met_on_time(session: AsyncSession, period: Period) -> int:
    # "breached_at IS NULL" is left to Python: in SQL it would tempt a planner without
    # statistics (SQLite) to read every unbreached target through that column's index.
    breached = await session.scalars(
        select(SlaTarget.breached_at).where(
            SlaTarget.met_at >= period.start, SlaTarget.met_at < period.end
        )
    )
    return sum(1 for moment in breached if moment is None)


_BREACH_COLUMNS = (
    SlaTarget.ticket_id,
    SlaTarget.kind,
    SlaTarget.due_at,
    SlaTarget.met_at,
    SlaTarget.breached_at,
    Ticket.number,
    Ticket.client_company,
    Ticket.priority,
    Ticket.assignee_id,
    Ticket.assignee_name,
)


async def breaches(
    session: AsyncSession, period: Period, now: datetime, *, holders: bool = True
) -> list[Breach]:
    """Targets missed in the period, earliest first: those whose breach is recorded in it, and
    those still unmet whose due moment passed in it (before now). With `holders`, who had each
    request when it was missed (else its assignee now)."""
    recorded = await session.execute(
        select(*_BREACH_COLUMNS)
        .join(Ticket, Ticket.id == SlaTarget.ticket_id)
        .where(SlaTarget.breached_at >= period.start, SlaTarget.breached_at < period.end)
    )
    came_due = await session.execute(
        select(*_BREACH_COLUMNS)
        .join(Ticket, Ticket.id == SlaTarget.ticket_id)
        .where(SlaTarget.due_at >= period.start, SlaTarget.due_at < min(period.end, now))
    )
    # Unmet and unrecorded, filtered here (see count_met_on_time).
    unrecorded = [row for row in came_due if row.met_at is None and row.breached_at is None]
    rows = [*recorded, *unrecorded]
    who: dict[tuple[int, datetime], int | None] = {}
    if holders:
        who = await _holders(
            session, {(row.ticket_id, row.breached_at or row.due_at) for row in rows}
        )
    names = {row.assignee_id: row.assignee_name for row in rows if row.assignee_id is not None}
    found = []
    for row in rows:
        missed = row.breached_at or row.due_at
        holder_id = who.get((row.ticket_id, missed), row.assignee_id)
        found.append(
            Breach(
                ticket_id=row.ticket_id,
                number=row.number,
                company=row.client_company,
                priority=Priority(row.priority),
                target=row.kind,
                missed=missed,
                met_at=row.met_at,
                by=max((row.met_at or now) - missed, timedelta(0)),
                holder=Person(holder_id, names.get(holder_id)) if holder_id else NOBODY,
            )
        )
    found.sort(key=lambda b: (b.missed, b.number, b.target))
    return found


def _with_names(found: Sequence[Breach], names: dict[int, str | None]) -> list[Breach]:
    """Holders the breached requests' rows did not name (a request that changed hands since),
    named from the other rows read."""
    return [
        replace(b, holder=Person(b.holder.id, names.get(b.holder.id)))
        if b.holder.id is not None and not b.holder.name and names.get(b.holder.id)
        else b
        for b in found
    ]


async def _holders(
    session: AsyncSession, moments: set[tuple[int, datetime]]
) -> dict[tuple[int, datetime], int | None]:
    """Who had each request at each moment, from the audit log (claimed, assigned, released).
    A request with no such event before the moment had nobody."""
    ticket_ids = sorted({ticket_id for ticket_id, _ in moments})
    history: dict[int, list[tuple[datetime, int | None]]] = defaultdict(list)
    for chunk in _chunks(ticket_ids):
        events = await session.execute(
            select(
                TicketEvent.ticket_id,
                TicketEvent.id,
                TicketEvent.kind,
                TicketEvent.at,
                TicketEvent.data,
            ).where(
                TicketEvent.ticket_id.in_(chunk),
                TicketEvent.kind.in_([str(kind) for kind in HOLDER_EVENTS]),
            )
        )
        # Ordered here, not by the query: ORDER BY id would tempt SQLite to walk the table.
        for ticket_id, _id, kind, at, data in sorted(events, key=lambda e: (e[3], e[1])):
            holder = None if kind == EventKind.RELEASED else (data or {}).get("assignee_id")
            history[ticket_id].append((at, holder))
    found: dict[tuple[int, datetime], int | None] = {}
    for ticket_id, moment in moments:
        holder = None
        for at, who in history.get(ticket_id, []):
            if at > moment:
                break
            holder = who
        found[(ticket_id, moment)] = holder
    return found


async def overdue_now(session: AsyncSession, now: datetime) -> tuple[list[Overdue], list[Any]]:
    """Open requests' unmet targets past due, most overdue first; and the open requests'
    (id, assignee id, assignee name) rows, for the operators' workload."""
    open_rows = list(
        await session.execute(
            select(
                Ticket.id,
                Ticket.number,
                Ticket.client_company,
                Ticket.priority,
                Ticket.assignee_id,
                Ticket.assignee_name,
            ).where(Ticket.status.in_(sorted(OPEN_STATUSES)))
        )
    )
    by_id = {row.id: row for row in open_rows}
    found: list[Overdue] = []
    for chunk in _chunks(sorted(by_id)):
        targets = await session.execute(
            select(SlaTarget.ticket_id, SlaTarget.kind, SlaTarget.due_at, SlaTarget.met_at).where(
                SlaTarget.ticket_id.in_(chunk)
            )
        )
        for ticket_id, kind, due, met in targets:
            if met is not None or due is None or due >= now:
                continue
            row = by_id[ticket_id]
            found.append(
                Overdue(
                    ticket_id=ticket_id,
                    number=row.number,
                    company=row.client_company,
                    priority=Priority(row.priority),
                    target=kind,
                    due=due,
                    by=now - due,
                    assignee=Person(row.assignee_id, row.assignee_name)
                    if row.assignee_id is not None
                    else NOBODY,
                )
            )
    found.sort(key=lambda o: (-o.by, o.number, o.target))
    return found, open_rows


async def daily(
    session: AsyncSession, first: date, days: int, tz: ZoneInfo, now: datetime
) -> list[DayFigures]:
    """Opened, resolved and breached per day of the desk's zone, for `days` days from `first`."""
    start = datetime.combine(first, datetime.min.time(), tzinfo=tz)
    end = datetime.combine(first + timedelta(days=days), datetime.min.time(), tzinfo=tz)
    period = Period(start, end)
    opened = await session.scalars(
        select(Ticket.registered_at).where(
            Ticket.registered_at >= period.start, Ticket.registered_at < period.end
        )
    )
    resolved = await session.scalars(
        select(Ticket.resolved_at).where(
            Ticket.resolved_at >= period.start, Ticket.resolved_at < period.end
        )
    )
    missed = [b.missed for b in await breaches(session, period, now, holders=False)]

    def per_day(moments: Iterable[datetime | None]) -> Counter[date]:
        return Counter(m.astimezone(tz).date() for m in moments if m is not None)

    o, r, b = per_day(opened), per_day(resolved), per_day(missed)
    return [
        DayFigures(day, o[day], r[day], b[day])
        for day in (first + timedelta(days=i) for i in range(days))
    ]


# ---- the figures


async def collect(
    session: AsyncSession,
    period: Period,
    now: datetime,
    calendar: BusinessCalendar,
    *,
    chart_days: int = 0,
) -> Stats:
    """Every figure of the period; with `chart_days`, the per-day counts of that many whole
    days before the day of `now` (in the calendar's zone)."""
    opened = await count_opened(session, period)
    resolved = await resolved_rows(session, period)
    missed = await breaches(session, period, now)
    overdue, open_rows = await overdue_now(session, now)
    responses = [t.total_seconds() for t in await first_response_times(session, period, calendar)]
    ratings = [row.rating for row in resolved if row.rating is not None]
    names = {
        row.assignee_id: row.assignee_name
        for row in [*resolved, *open_rows]
        if row.assignee_id is not None
    }
    missed = _with_names(missed, names)
    days: list[DayFigures] = []
    if chart_days:
        today = now.astimezone(calendar.tz).date()
        days = await daily(
            session, today - timedelta(days=chart_days), chart_days, calendar.tz, now
        )
    return Stats(
        period=period,
        now=now,
        opened=sum(opened.values()),
        resolved=len(resolved),
        breaches=missed,
        overdue=overdue,
        operators=_per_operator(resolved, missed, open_rows),
        priorities=_per_priority(opened, resolved, missed),
        first_responses=len(responses),
        first_response_median=_seconds(percentile(responses, 50)),
        first_response_p90=_seconds(percentile(responses, 90)),
        targets_met=await count_met_on_time(session, period),
        ratings=len(ratings),
        rating_average=sum(ratings) / len(ratings) if ratings else None,
        days=days,
    )


def _per_operator(
    resolved: Sequence[Any], missed: Sequence[Breach], open_rows: Sequence[Any]
) -> list[OperatorFigures]:
    """Operators with anything to show, most resolved first; 'nobody' (breaches of requests
    nobody had) last."""
    names: dict[int | None, str | None] = {}
    counts: dict[int | None, Counter[str]] = defaultdict(Counter)
    for row in resolved:
        if row.assignee_id is not None:
            names.setdefault(row.assignee_id, row.assignee_name)
            counts[row.assignee_id]["resolved"] += 1
    for row in open_rows:
        if row.assignee_id is not None:
            names.setdefault(row.assignee_id, row.assignee_name)
            counts[row.assignee_id]["open_now"] += 1
    for breach in missed:
        if breach.holder.id is not None and breach.holder.name:
            names.setdefault(breach.holder.id, breach.holder.name)
        counts[breach.holder.id]["breached"] += 1
    figures = [
        OperatorFigures(
            Person(operator_id, names.get(operator_id)),
            resolved=c["resolved"],
            breached=c["breached"],
            open_now=c["open_now"],
        )
        for operator_id, c in counts.items()
    ]
    figures.sort(
        key=lambda f: (
            f.operator.id is None,
            -f.resolved,
            -f.open_now,
            (f.operator.name or "").casefold(),
            f.operator.id or 0,
        )
    )
    return figures


def _per_priority(
    opened: Counter[Priority], resolved: Sequence[Any], missed: Sequence[Breach]
) -> list[PriorityFigures]:
    done = Counter(Priority(row.priority) for row in resolved)
    late = Counter(b.priority for b in missed)
    return [
        PriorityFigures(p, opened=opened[p], resolved=done[p], breached=late[p])
        for p in PRIORITY_ORDER
    ]
