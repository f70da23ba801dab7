"""The period a manager asks for: `today`, `yesterday`, `week` (the last 7 days), `month` (the
last 30 days), one date or two (the first and last day, both included), as ISO (2026-11-01) or
as written in Russia and Uzbekistan (01.11.2026). The words also in Russian and Uzbek. Days are
days of the desk's zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.services.stats import Period
from bot.validation import fold_apostrophes

MAX_DAYS = 366
WORDS = {
    "today": 0,
    "сегодня": 0,
    "bugun": 0,
    "yesterday": -1,
    "вчера": -1,
    "kecha": -1,
    "week": 7,
    "неделя": 7,
    "hafta": 7,
    "month": 30,
    "месяц": 30,
    "oy": 30,
}


class PeriodError(ValueError):
    """The words do not name a period (the caller shows the usage)."""


@dataclass(frozen=True)
class DayRange:
    """Whole days of the desk's zone, `first` to `last` included."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def period(self, tz: ZoneInfo) -> Period:
        return Period(_midnight(self.first, tz), _midnight(self.last + timedelta(days=1), tz))


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=tz)


def _date(token: str) -> date:
    for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(token, pattern).date()
        except ValueError:
            continue
    raise PeriodError(f"not a date: {token!r}")


def parse_period(text: str | None, today: date, default: str = "today") -> DayRange:
    """The days `text` names, seen from `today`; PeriodError if it names none."""
    tokens = (text or default).split()
    word = fold_apostrophes(tokens[0]).casefold() if tokens else ""
    if len(tokens) == 1 and word in WORDS:
        span = WORDS[word]
        if span <= 0:
            day = today + timedelta(days=span)
            return DayRange(day, day)
        return DayRange(today - timedelta(days=span - 1), today)
    if not 1 <= len(tokens) <= 2:
        raise PeriodError("one word, or one or two dates")
    first, last = _date(tokens[0]), _date(tokens[-1])
    if last < first:
        raise PeriodError("the last day is before the first")
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError(f"more than {MAX_DAYS} days")
    return DayRange(first, last)
