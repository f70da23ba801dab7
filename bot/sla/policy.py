"""SLA policy: which targets apply to a request and when they fall due."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from bot.sla.calendar import ZERO, BusinessCalendar, Interval, as_utc, merge_intervals
from bot.vocabulary import Priority

DESK_ZONE = "Asia/Tashkent"

Pause = tuple[datetime, datetime | None]
"""A stretch of waiting for the client; the end is None while it lasts."""


class TargetKind(StrEnum):
    WORKING = "working"  # working time of the calendar
    CALENDAR = "calendar"  # round the clock
    WORKING_DAYS = "working_days"  # closing time of the n-th working day after registration


@dataclass(frozen=True)
class Target:
    """One SLA target: an amount of working or calendar time, or a number of working days."""

    kind: TargetKind
    amount: timedelta | None = None  # WORKING and CALENDAR
    days: int | None = None  # WORKING_DAYS

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", TargetKind(self.kind))
        if self.kind is TargetKind.WORKING_DAYS:
            if self.amount is not None or not isinstance(self.days, int) or self.days < 0:
                raise ValueError("a working_days target needs days >= 0 and no amount")
        elif self.days is not None or self.amount is None or self.amount < ZERO:
            raise ValueError(f"a {self.kind} target needs an amount >= 0 and no days")

    @classmethod
    def working_time(cls, amount: timedelta) -> Target:
        return cls(TargetKind.WORKING, amount=amount)

    @classmethod
    def calendar_time(cls, amount: timedelta) -> Target:
        return cls(TargetKind.CALENDAR, amount=amount)

    @classmethod
    def working_days(cls, days: int) -> Target:
        return cls(TargetKind.WORKING_DAYS, days=days)

    @property
    def seconds(self) -> float | None:
        """The target's length in seconds of its own kind of time; None for working days, whose
        length depends on the registration moment (see `budget`)."""
        return None if self.amount is None else self.amount.total_seconds()

    def budget(self, calendar: BusinessCalendar, start: datetime) -> timedelta:
        """The time the target grants from `start`: working time for WORKING and WORKING_DAYS
        targets, calendar time for CALENDAR ones."""
        if self.amount is not None:
            return self.amount
        assert self.days is not None
        return calendar.working_time_between(start, calendar.add_working_days(start, self.days))

    def due(
        self, calendar: BusinessCalendar, start: datetime, pauses: Sequence[Interval] = ()
    ) -> datetime:
        """When the target falls due; time inside `pauses` is not counted.

        CALENDAR: start + amount, moved on by each pause that begins before the moment reached.
        WORKING: `calendar.add_working_time`. WORKING_DAYS: `calendar.add_working_days`, moved on
        by the working time inside the pauses (the days are turned into the working time they
        grant from `start`, and that is counted outside the pauses)."""
        return self.fraction_due(calendar, start, 1.0, pauses)

    def fraction_due(
        self,
        calendar: BusinessCalendar,
        start: datetime,
        fraction: float,
        pauses: Sequence[Interval] = (),
    ) -> datetime:
        """The moment at which `fraction` of the target is used (0.8 -> the 80 % warning)."""
        if not math.isfinite(fraction) or fraction < 0:
            raise ValueError(f"fraction must be a finite number >= 0, got {fraction}")
        amount = self.budget(calendar, start) * fraction
        if self.kind is TargetKind.CALENDAR:
            return _add_calendar_time(start, amount, pauses).astimezone(calendar.tz)
        return calendar.add_working_time(start, amount, pauses)

    def as_dict(self) -> dict[str, object]:
        if self.amount is not None:
            return {"kind": self.kind.value, "seconds": self.amount.total_seconds()}
        return {"kind": self.kind.value, "days": self.days}


def _add_calendar_time(start: datetime, amount: timedelta, pauses: Sequence[Interval]) -> datetime:
    origin = as_utc(start, "start")
    moment = origin + amount
    for pause_start, pause_end in merge_intervals(pauses, after=origin):
        if pause_start >= moment:
            break
        moment += pause_end - pause_start
    return moment


@dataclass(frozen=True)
class Deadlines:
    first_response_due: datetime
    resolution_due: datetime | None  # None while a pause is open


@dataclass(frozen=True)
class AlertRules:
    """When the desk is told of a target: a warning once `warning_share` of it is used, the
    breach at its due moment, then a repeat every `repeat_every` while it stays missed (working
    time; round the clock for critical requests, whose alerts are never held for the opening)."""

    warning_share: float = 0.8
    repeat_every: timedelta = timedelta(hours=2)

    def __post_init__(self) -> None:
        if not math.isfinite(self.warning_share) or not 0 < self.warning_share < 1:
            raise ValueError("warning_share must be between 0 and 1 (exclusive)")
        if self.repeat_every <= ZERO:
            raise ValueError("repeat_every must be positive")

    def as_dict(self) -> dict[str, object]:
        return {
            "warning_share": self.warning_share,
            "repeat_every_seconds": self.repeat_every.total_seconds(),
        }


def _default_resolution() -> Mapping[Priority, Target]:
    return {
        Priority.CRITICAL: Target.calendar_time(timedelta(hours=4)),
        Priority.HIGH: Target.working_time(timedelta(hours=8)),
        Priority.MEDIUM: Target.working_time(timedelta(hours=24)),
        Priority.LOW: Target.working_days(2),
    }


def _default_topics() -> Mapping[str, Target]:
    return {"catalog": Target.calendar_time(timedelta(days=5))}


@dataclass(frozen=True)
class SlaPolicy:
    """The SLA targets of the desk over its business calendar."""

    calendar: BusinessCalendar
    first_response_working: timedelta = timedelta(minutes=10)
    first_response_outside_by: time = time(10, 0)
    resolution: Mapping[Priority, Target] = field(default_factory=_default_resolution)
    topic_resolution: Mapping[str, Target] = field(default_factory=_default_topics)
    pause_while_waiting: bool = True
    alerts: AlertRules = field(default_factory=AlertRules)

    def __post_init__(self) -> None:
        resolution = {Priority(key): target for key, target in self.resolution.items()}
        if missing := [p.value for p in Priority if p not in resolution]:
            raise ValueError(f"no resolution target for priority {', '.join(missing)}")
        if self.first_response_working < ZERO:
            raise ValueError("first_response_working must not be negative")
        if self.first_response_outside_by.tzinfo is not None:
            raise ValueError("first_response_outside_by is a local wall-clock time")
        object.__setattr__(self, "resolution", MappingProxyType(resolution))
        object.__setattr__(self, "topic_resolution", MappingProxyType(dict(self.topic_resolution)))

    def first_response_due(self, registered_at: datetime) -> datetime:
        """In working time: `first_response_working` of working time later. Outside it: at
        `first_response_outside_by` on the day of the next opening, or, when that day opens at or
        after that hour, `first_response_working` after the opening."""
        calendar = self.calendar
        if calendar.is_working_time(registered_at):
            return calendar.add_working_time(registered_at, self.first_response_working)
        opening = calendar.next_opening(registered_at)
        by = datetime.combine(opening.date(), self.first_response_outside_by, tzinfo=calendar.tz)
        if as_utc(by) > as_utc(opening):
            return as_utc(by).astimezone(calendar.tz)
        return calendar.add_working_time(opening, self.first_response_working)

    def resolution_target(self, priority: Priority, topic: str | None = None) -> Target:
        """The topic's target when the topic has one, else the priority's."""
        if topic is not None and topic in self.topic_resolution:
            return self.topic_resolution[topic]
        return self.resolution[Priority(priority)]

    def resolution_due(
        self,
        registered_at: datetime,
        priority: Priority,
        topic: str | None = None,
        pauses: Sequence[Pause] = (),
    ) -> datetime | None:
        """The resolution deadline, counted from registration with the waiting stretches not
        counted (when the policy pauses); None while a pause is open. Recomputing after a change
        of priority or policy is calling this again with the same registration and pauses."""
        closed: list[Interval] = []
        if self.pause_while_waiting:
            for start, end in pauses:
                if end is None:
                    return None
                closed.append((start, end))
        return self.resolution_target(priority, topic).due(self.calendar, registered_at, closed)

    def deadlines(
        self,
        registered_at: datetime,
        priority: Priority,
        topic: str | None = None,
        pauses: Sequence[Pause] = (),
    ) -> Deadlines:
        return Deadlines(
            first_response_due=self.first_response_due(registered_at),
            resolution_due=self.resolution_due(registered_at, priority, topic, pauses),
        )

    def as_dict(self) -> dict[str, object]:
        """Everything that defines the policy, JSON-ready."""
        return {
            "calendar": self.calendar.as_dict(),
            "first_response_working_seconds": self.first_response_working.total_seconds(),
            "first_response_outside_by": self.first_response_outside_by.isoformat(),
            "resolution": {p.value: t.as_dict() for p, t in self.resolution.items()},
            "topic_resolution": {k: t.as_dict() for k, t in self.topic_resolution.items()},
            "pause_while_waiting": self.pause_while_waiting,
            "alerts": self.alerts.as_dict(),
        }

    def fingerprint(self) -> str:
        """A stable hash of the policy and its calendar (including the holidays package version):
        when it changes, the deadlines of open requests are to be recomputed."""
        text = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


WEEKDAY_HOURS = (time(8, 0), time(20, 0))


def default_policy(tz: ZoneInfo | None = None) -> SlaPolicy:
    """The CRPT-Turon rules: Monday to Friday 08:00-20:00 in Asia/Tashkent (or `tz`) minus the
    public holidays of Uzbekistan, and the SPEC's targets."""
    calendar = BusinessCalendar(
        tz=tz or ZoneInfo(DESK_ZONE),
        weekly={weekday: [WEEKDAY_HOURS] for weekday in range(5)},
        country="UZ",
    )
    return SlaPolicy(calendar=calendar)
