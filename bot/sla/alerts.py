"""SLA alerts as plain functions: which alerts a request's targets call for, and when.

For each target not yet met and not paused:
- a **warning** when `warning_share` of the target is used (`Target.fraction_due`: working time
  for working-time targets, calendar time for calendar ones, pauses not counted);
- a **breach** at the due moment;
- after the breach went out, the next **repeat** (round 1, 2, ...), `repeat_every` after the due
  moment per round and never sooner than `repeat_every` after the previous one went out (a desk
  that was down for a day sends one repeat, not twelve).

An alert whose moment falls outside working time waits for the next opening, except for a
critical request (round the clock: its repeats are counted in calendar time too); alerts held for
one opening share that moment, so they go out together. A warning is dropped once the breach of
its target is due as well (or both wait for the same opening): only the breach is worth saying.

What was sent already (`Sent`) is the planner's memory: a warning or a breach goes once per
target, whatever happens to its deadline afterwards; repeats count on from the last one sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.sla.calendar import BusinessCalendar, Interval, as_utc
from bot.sla.policy import AlertRules, Target, TargetKind
from bot.vocabulary import AlertKind


@dataclass(frozen=True)
class TargetClock:
    """One target of a request as the planner sees it."""

    name: str  # first_response | resolution
    target: Target  # how it is measured: its budget from `start`
    start: datetime  # the registration
    due: datetime | None  # None while paused
    met: bool = False
    pauses: tuple[Interval, ...] = ()  # closed waiting stretches, not counted

    @property
    def running(self) -> bool:
        return not self.met and self.due is not None

    @property
    def working(self) -> bool:
        return self.target.kind is not TargetKind.CALENDAR


@dataclass(frozen=True)
class Sent:
    """What already went out for one target."""

    warned: bool = False
    last_round: int | None = None  # 0: the breach; n: the n-th repeat; None: no breach yet
    last_at: datetime | None = None  # when that breach or repeat went out


@dataclass(frozen=True)
class PlannedAlert:
    target: str
    kind: AlertKind
    round: int
    fire_at: datetime  # UTC
    due_at: datetime  # UTC: the deadline it is planned for

    @property
    def key(self) -> tuple[str, AlertKind, int]:
        return self.target, self.kind, self.round


@dataclass(frozen=True)
class Standing:
    """How a target stands now, as a card shows it: close to its deadline (WARNING, with the
    time left in the target's own time) or past it (BREACH, overdue in calendar time)."""

    target: str
    kind: AlertKind
    amount: timedelta
    due: datetime


def hold(moment: datetime, calendar: BusinessCalendar, *, critical: bool) -> datetime:
    """When an alert planned for `moment` goes out: at once for a critical request, else at
    the next opening when `moment` is outside working time."""
    return as_utc(moment if critical else calendar.next_opening(moment))


def warning_moment(clock: TargetClock, calendar: BusinessCalendar, share: float) -> datetime:
    assert clock.due is not None
    moment = as_utc(clock.target.fraction_due(calendar, clock.start, share, clock.pauses))
    return min(moment, as_utc(clock.due))


def _after(
    moment: datetime, amount: timedelta, calendar: BusinessCalendar, *, critical: bool
) -> datetime:
    if critical:
        return as_utc(moment) + amount
    return as_utc(calendar.add_working_time(moment, amount))


def plan_target(
    clock: TargetClock,
    *,
    calendar: BusinessCalendar,
    rules: AlertRules,
    critical: bool,
    sent: Sent,
    now: datetime,
) -> list[PlannedAlert]:
    """The alerts still to go out for one target, as of `now`."""
    if not clock.running:
        return []
    assert clock.due is not None
    due = as_utc(clock.due)
    name = clock.name
    if sent.last_round is not None:
        rnd = sent.last_round + 1
        moment = _after(due, rules.repeat_every * rnd, calendar, critical=critical)
        if sent.last_at is not None:
            moment = max(
                moment, _after(sent.last_at, rules.repeat_every, calendar, critical=critical)
            )
        fire = hold(moment, calendar, critical=critical)
        return [PlannedAlert(name, AlertKind.REPEAT, rnd, fire, due)]
    breach = hold(due, calendar, critical=critical)
    planned = []
    if not sent.warned and as_utc(now) < breach:
        warning = hold(
            warning_moment(clock, calendar, rules.warning_share), calendar, critical=critical
        )
        if warning < breach:
            planned.append(PlannedAlert(name, AlertKind.WARNING, 0, warning, due))
    planned.append(PlannedAlert(name, AlertKind.BREACH, 0, breach, due))
    return planned


def plan_alerts(
    clocks: Iterable[TargetClock],
    *,
    calendar: BusinessCalendar,
    rules: AlertRules,
    critical: bool,
    sent: Mapping[str, Sent],
    now: datetime,
) -> list[PlannedAlert]:
    """Every alert still to go out for a request's targets, as of `now`, in time order."""
    planned = [
        alert
        for clock in clocks
        for alert in plan_target(
            clock,
            calendar=calendar,
            rules=rules,
            critical=critical,
            sent=sent.get(clock.name, Sent()),
            now=now,
        )
    ]
    return sorted(planned, key=lambda a: (a.fire_at, a.target, a.kind))


def time_left(clock: TargetClock, calendar: BusinessCalendar, now: datetime) -> timedelta:
    """Until the deadline, in the target's own time (working time for working targets)."""
    assert clock.due is not None
    if clock.working:
        return calendar.working_time_between(now, clock.due)
    return max(timedelta(0), as_utc(clock.due) - as_utc(now))


def overdue(clock: TargetClock, now: datetime) -> timedelta:
    """Since the deadline, in calendar time: how long the client has been kept waiting."""
    assert clock.due is not None
    return max(timedelta(0), as_utc(now) - as_utc(clock.due))


def standings(
    clocks: Sequence[TargetClock], *, calendar: BusinessCalendar, rules: AlertRules, now: datetime
) -> dict[str, Standing]:
    """The targets that are close to their deadline or past it, by name."""
    found: dict[str, Standing] = {}
    instant = as_utc(now)
    for clock in clocks:
        if not clock.running:
            continue
        assert clock.due is not None
        due = as_utc(clock.due)
        if instant >= due:
            found[clock.name] = Standing(clock.name, AlertKind.BREACH, overdue(clock, now), due)
        elif instant >= warning_moment(clock, calendar, rules.warning_share):
            left = time_left(clock, calendar, now)
            found[clock.name] = Standing(clock.name, AlertKind.WARNING, left, due)
    return found


def most_urgent(found: Mapping[str, Standing]) -> Standing | None:
    """A missed target before a close one; of two alike, the earlier deadline."""
    if not found:
        return None
    return min(found.values(), key=lambda s: (s.kind is not AlertKind.BREACH, s.due))
