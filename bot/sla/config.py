"""Loading the SLA policy from a TOML file (format: docs/sla-policy.example.toml).

Every key is optional and a missing key keeps the default of `default_policy`; unknown keys,
malformed values, overlapping hours and negative amounts are refused with a PolicyFileError that
names the file and the key.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import date, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from bot.sla.calendar import BusinessCalendar, CalendarError
from bot.sla.policy import AlertRules, Priority, SlaPolicy, Target, TargetKind, default_policy

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"(\d{1,2}:\d{2})-(\d{1,2}:\d{2})")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_UNITS: Mapping[str, tuple[TargetKind, Callable[[float], timedelta] | None]] = {
    "working_minutes": (TargetKind.WORKING, lambda v: timedelta(minutes=v)),
    "working_hours": (TargetKind.WORKING, lambda v: timedelta(hours=v)),
    "calendar_hours": (TargetKind.CALENDAR, lambda v: timedelta(hours=v)),
    "calendar_days": (TargetKind.CALENDAR, lambda v: timedelta(days=v)),
    "working_days": (TargetKind.WORKING_DAYS, None),
}


class PolicyFileError(ValueError):
    """The policy file cannot be used; the message names the file and the key at fault."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        super().__init__(f"{path}: {key}: {problem}" if key else f"{path}: {problem}")
        self.path = path
        self.key = key


def load_policy(path: Path | None, tz: ZoneInfo) -> SlaPolicy:
    """The policy described by the TOML file at `path`; None -> `default_policy(tz)`."""
    if path is None:
        return default_policy(tz)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyFileError(path, "", f"cannot read the file ({exc.strerror or exc})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyFileError(path, "", f"not valid TOML: {exc}") from exc
    return _Reader(path).policy(data, tz)


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, problem: str) -> PolicyFileError:
        return PolicyFileError(self.path, key, problem)

    def table(self, value: Any, key: str, allowed: set[str] | None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, "must be a table")
        if allowed is not None:
            for name in value:
                if name not in allowed:
                    raise self.fail(_join(key, name), f"unknown key (expected: {_list(allowed)})")
        return value

    def policy(self, data: dict[str, Any], tz: ZoneInfo) -> SlaPolicy:
        top = self.table(
            data, "", {"calendar", "first_response", "resolution", "topics", "pause", "alerts"}
        )
        default = default_policy(tz)
        first = self.table(
            top.get("first_response", {}), "first_response", {"working_minutes", "outside_hours_by"}
        )
        pause = self.table(top.get("pause", {}), "pause", {"while_waiting_for_client"})
        return SlaPolicy(
            calendar=self.calendar(top.get("calendar", {}), default.calendar, tz),
            first_response_working=self.minutes(
                first, "first_response.working_minutes", default.first_response_working
            ),
            first_response_outside_by=self.clock(
                first, "first_response.outside_hours_by", default.first_response_outside_by
            ),
            resolution=self.resolution(top.get("resolution", {}), default.resolution),
            topic_resolution=self.topics(top.get("topics", {}), default.topic_resolution),
            pause_while_waiting=self.flag(
                pause, "pause.while_waiting_for_client", default.pause_while_waiting
            ),
            alerts=self.alerts(top.get("alerts", {}), default.alerts),
        )

    def alerts(self, value: Any, default: AlertRules) -> AlertRules:
        section = self.table(value, "alerts", {"warning_share", "repeat_every_hours"})
        share = default.warning_share
        if "warning_share" in section:
            share = self.number(section["warning_share"], "alerts.warning_share")
            if not 0 < share < 1:
                raise self.fail("alerts.warning_share", f"must be between 0 and 1, got {share!r}")
        repeat = default.repeat_every
        if "repeat_every_hours" in section:
            hours = self.number(section["repeat_every_hours"], "alerts.repeat_every_hours")
            if not hours:
                raise self.fail("alerts.repeat_every_hours", "must be more than 0")
            repeat = timedelta(hours=hours)
        return AlertRules(warning_share=share, repeat_every=repeat)

    # -- calendar ---------------------------------------------------------------------------

    def calendar(self, value: Any, default: BusinessCalendar, tz: ZoneInfo) -> BusinessCalendar:
        allowed = {"country", "decreed_working_days", "days_off", "working_days", "hours"}
        section = self.table(value, "calendar", allowed)
        country = section.get("country", default.country or "")
        if not isinstance(country, str):
            raise self.fail("calendar.country", 'must be a country code string ("" for none)')
        if country and country not in holidays.list_supported_countries():
            raise self.fail("calendar.country", f"unknown country code {country!r}")
        days_off = self.dates(section, "days_off")
        working_days = self.dates(section, "working_days")
        if both := days_off & working_days:
            raise self.fail(
                "calendar.working_days", f"{min(both)} is also listed in calendar.days_off"
            )
        weekly = default.weekly
        if "hours" in section:
            weekly = self.hours(section["hours"])
        try:
            return BusinessCalendar(
                tz=tz,
                weekly=dict(enumerate(weekly)),
                country=country or None,
                extra_days_off=days_off,
                extra_working_days=working_days,
                decreed_working_days=self.flag(
                    section, "calendar.decreed_working_days", default.decreed_working_days
                ),
            )
        except CalendarError as exc:
            raise self.fail("calendar.hours", str(exc)) from exc

    def dates(self, section: dict[str, Any], name: str) -> set[date]:
        key = f"calendar.{name}"
        values = section.get(name, [])
        if not isinstance(values, list):
            raise self.fail(key, 'must be a list of dates ("YYYY-MM-DD")')
        out: set[date] = set()
        for index, value in enumerate(values):
            if isinstance(value, date) and not hasattr(value, "hour"):
                out.add(value)
                continue
            try:
                out.add(date.fromisoformat(value))
            except (TypeError, ValueError):
                raise self.fail(f"{key}[{index}]", f"not a date (YYYY-MM-DD): {value!r}") from None
        return out

    def hours(self, value: Any) -> tuple[tuple[tuple[time, time], ...], ...]:
        section = self.table(value, "calendar.hours", set(WEEKDAYS))
        week: list[tuple[tuple[time, time], ...]] = [()] * 7
        for weekday, name in enumerate(WEEKDAYS):
            key = f"calendar.hours.{name}"
            spans = section.get(name, [])
            if not isinstance(spans, list):
                raise self.fail(key, 'must be a list of "HH:MM-HH:MM" spans')
            parsed = sorted(self.span(span, f"{key}[{i}]") for i, span in enumerate(spans))
            for (_, closes), (opens, _) in pairwise(parsed):
                if opens < closes or closes == time(0):
                    raise self.fail(key, "working spans overlap")
            week[weekday] = tuple(parsed)
        return tuple(week)

    def span(self, value: Any, key: str) -> tuple[time, time]:
        match = _SPAN.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise self.fail(key, f'expected "HH:MM-HH:MM", got {value!r}')
        opens = self.parse_clock(match[1], key, allow_24=False)
        closes = self.parse_clock(match[2], key, allow_24=True)
        if closes != time(0) and closes <= opens:
            raise self.fail(key, f"the span {value!r} closes before it opens")
        return opens, closes

    def parse_clock(self, text: str, key: str, *, allow_24: bool) -> time:
        match = _CLOCK.fullmatch(text)
        if match is not None:
            hour, minute = int(match[1]), int(match[2])
            if allow_24 and (hour, minute) == (24, 0):
                return time(0)  # midnight at the end of the day
            if hour < 24 and minute < 60:
                return time(hour, minute)
        raise self.fail(key, f'expected a time "HH:MM", got {text!r}')

    # -- targets ----------------------------------------------------------------------------

    def resolution(self, value: Any, default: Mapping[Priority, Target]) -> dict[Priority, Target]:
        section = self.table(value, "resolution", {p.value for p in Priority})
        targets = dict(default)
        for name, spec in section.items():
            key = f"resolution.{name}"
            target = self.target(spec, key)
            if target is None:
                raise self.fail(key, f"needs one of {_list(set(_UNITS))}")
            targets[Priority(name)] = target
        return targets

    def topics(self, value: Any, default: Mapping[str, Target]) -> dict[str, Target]:
        """Topic targets, merged into the defaults; an empty table removes a topic's target."""
        section = self.table(value, "topics", None)
        targets = dict(default)
        for name, spec in section.items():
            target = self.target(spec, f"topics.{name}")
            if target is None:
                targets.pop(name, None)
            else:
                targets[name] = target
        return targets

    def target(self, value: Any, key: str) -> Target | None:
        spec = self.table(value, key, set(_UNITS))
        if not spec:
            return None
        if len(spec) > 1:
            raise self.fail(key, f"give only one of {_list(set(spec))}")
        [(unit, amount)] = spec.items()
        kind, to_delta = _UNITS[unit]
        key = f"{key}.{unit}"
        if to_delta is None:
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
                raise self.fail(key, f"must be a whole number >= 0, got {amount!r}")
            return Target(kind, days=amount)
        return Target(kind, amount=to_delta(self.number(amount, key)))

    def number(self, value: Any, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"must be a number, got {value!r}")
        if not math.isfinite(value) or value < 0:
            raise self.fail(key, f"must be a number >= 0, got {value!r}")
        return value

    # -- scalars ----------------------------------------------------------------------------

    def minutes(self, section: dict[str, Any], key: str, default: timedelta) -> timedelta:
        name = key.rpartition(".")[2]
        if name not in section:
            return default
        return timedelta(minutes=self.number(section[name], key))

    def clock(self, section: dict[str, Any], key: str, default: time) -> time:
        name = key.rpartition(".")[2]
        if name not in section:
            return default
        value = section[name]
        if isinstance(value, time):
            return value
        if not isinstance(value, str):
            raise self.fail(key, f'expected a time "HH:MM", got {value!r}')
        return self.parse_clock(value, key, allow_24=False)

    def flag(self, section: dict[str, Any], key: str, default: bool) -> bool:
        name = key.rpartition(".")[2]
        value = section.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _list(names: set[str]) -> str:
    return ", ".join(sorted(names))
