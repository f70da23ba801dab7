"""Business calendar: working hours, public holidays and exact working-time arithmetic.

Every computation runs on UTC instants; working hours are wall-clock spans of the desk's zone and
holidays are looked up by the local date in that zone, so the server's own zone never matters.
Results are returned in the desk's zone.

Cost. A day is *plain* when it has the weekly hours and the zone's UTC offset does not change
during it, and *special* otherwise (a holiday or substituted day off, a configured day off or
working day, a decreed working Saturday, a daylight-saving change). Each year keeps its special
days with running totals of how much they add or take away, so the working time (or the number of
working days) over any run of whole days is a few table look-ups: whole years are crossed in one
step each and the day on which a target runs out is found by bisection. Only the first (partial)
day, days cut by a pause and the last day are walked span by span. A target ten years away costs
about as much as one ten minutes away; nothing steps minute by minute or day by day.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeAlias
from zoneinfo import ZoneInfo

import holidays

Interval: TypeAlias = tuple[datetime, datetime]
"""A half-open interval [start, end) of aware datetimes."""

_LocalSpan: TypeAlias = tuple[timedelta, timedelta]
"""A working span as offsets from local midnight; the end may be 24:00 (one day)."""

ZERO = timedelta(0)
_DAY = timedelta(days=1)
_US = timedelta(microseconds=1)
_MIDNIGHT = time(0)
_LONGEST_DAY = timedelta(hours=25)  # a day that falls back from daylight saving time
# A search that meets no working time for this long after the last configured override gives up.
HORIZON = timedelta(days=3653)
_CACHE_LIMIT = 8192
# What is counted over a run of days: working time in microseconds, or working days.
_TIME, _DAYS = 0, 1


class CalendarError(Exception):
    """The calendar cannot answer: it has no working time, or none is left within the horizon."""


def as_utc(moment: datetime, name: str = "moment") -> datetime:
    """`moment` as a UTC datetime; a naive datetime is refused (ValueError)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def merge_intervals(
    intervals: Iterable[Interval], *, after: datetime | None = None
) -> list[Interval]:
    """Sorted, merged UTC intervals; parts before `after` are cut off and empty ones dropped."""
    floor = as_utc(after, "after") if after is not None else None
    cleaned: list[Interval] = []
    for raw_start, raw_end in intervals:
        start, end = as_utc(raw_start, "pause start"), as_utc(raw_end, "pause end")
        if end < start:
            raise ValueError(f"interval ends before it starts: {raw_start} .. {raw_end}")
        if floor is not None:
            start = max(start, floor)
        if start < end:
            cleaned.append((start, end))
    cleaned.sort()
    merged: list[Interval] = []
    for start, end in cleaned:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _offset(moment: time) -> timedelta:
    if moment.tzinfo is not None:
        raise ValueError(f"working hours are local wall-clock times, got {moment!r}")
    return timedelta(
        hours=moment.hour,
        minutes=moment.minute,
        seconds=moment.second,
        microseconds=moment.microsecond,
    )


def _parse_weekly(
    weekly: Mapping[int, Sequence[tuple[time, time]]],
) -> tuple[tuple[_LocalSpan, ...], ...]:
    """Seven tuples of sorted, disjoint spans; an end of 00:00 means midnight at the day's end."""
    week: list[tuple[_LocalSpan, ...]] = [()] * 7
    for weekday, spans in weekly.items():
        if weekday not in range(7):
            raise ValueError(f"weekday must be 0 (Monday) .. 6 (Sunday), got {weekday!r}")
        parsed: list[_LocalSpan] = []
        for opens, closes in sorted((_offset(a), _offset(b) or _DAY) for a, b in spans):
            if opens >= closes:
                raise ValueError(f"weekday {weekday}: a span must open before it closes")
            if parsed and opens < parsed[-1][1]:
                raise ValueError(f"weekday {weekday}: working spans overlap")
            if parsed and opens == parsed[-1][1]:
                parsed[-1] = (parsed[-1][0], closes)
            else:
                parsed.append((opens, closes))
        week[weekday] = tuple(parsed)
    return tuple(week)


def _dates(values: Iterable[date], name: str) -> frozenset[date]:
    out = frozenset(values)
    for value in out:
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ValueError(f"{name} must hold dates, got {value!r}")
    return out


@dataclass(frozen=True, slots=True)
class _Year:
    """The special days of one year, with running totals per measure (_TIME, _DAYS)."""

    first: date  # 1 January
    length: int  # days in the year
    offsets: tuple[int, ...]  # sorted: day-of-year offsets of the special days
    hours: Mapping[date, tuple[_LocalSpan, ...]]  # the hours of days that differ from the week
    deltas: tuple[tuple[int, ...], ...]  # [measure][i]: what specials[:i] add to the plain total
    through: tuple[tuple[int, ...], ...]  # [measure][i]: total from 1 Jan to the end of special i
    total: tuple[int, ...]  # [measure]: the whole year


class BusinessCalendar:
    """Working hours of the desk in its zone, minus public holidays, with configured overrides."""

    def __init__(
        self,
        *,
        tz: ZoneInfo,
        weekly: Mapping[int, Sequence[tuple[time, time]]],
        country: str | None = "UZ",
        extra_days_off: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        decreed_working_days: bool = False,
    ) -> None:
        self.tz = tz
        self.country = country or None
        self.decreed_working_days = decreed_working_days
        if self.country is not None and self.country not in holidays.list_supported_countries():
            raise ValueError(f"the holidays package does not know the country {country!r}")
        self._week = _parse_weekly(weekly)
        self.extra_days_off = _dates(extra_days_off, "extra_days_off")
        self.extra_working_days = _dates(extra_working_days, "extra_working_days")
        if both := self.extra_days_off & self.extra_working_days:
            raise ValueError(f"dates both off and working: {sorted(both)}")
        if not any(self._week):
            raise CalendarError("the calendar has no working hours on any weekday")
        self._fallback_hours = self._week[0] or next(spans for spans in self._week if spans)
        self._last_override = max(self.extra_days_off | self.extra_working_days, default=date.min)

        # [measure][weekday]: what one plain day counts; [measure][weekday][k]: k plain days.
        self._per_day = (
            tuple(sum((b - a) // _US for a, b in spans) for spans in self._week),
            tuple(int(bool(spans)) for spans in self._week),
        )
        self._per_week = tuple(sum(per_day) for per_day in self._per_day)
        self._prefix = tuple(
            tuple(
                tuple(sum(per_day[(w + i) % 7] for i in range(k)) for k in range(7))
                for w in range(7)
            )
            for per_day in self._per_day
        )
        self._years: dict[int, _Year] = {}
        self._country_years: dict[int, holidays.HolidayBase] = {}
        self._spans_cache: dict[date, tuple[Interval, ...]] = {}

    def __repr__(self) -> str:
        return (
            f"BusinessCalendar(tz={self.tz}, country={self.country!r}, "
            f"decreed_working_days={self.decreed_working_days})"
        )

    @property
    def weekly(self) -> tuple[tuple[tuple[time, time], ...], ...]:
        """The weekly hours as (opens, closes) local times per weekday; closes 00:00 = midnight."""
        return tuple(
            tuple(((datetime.min + a).time(), (datetime.min + b).time()) for a, b in spans)
            for spans in self._week
        )

    def as_dict(self) -> dict[str, object]:
        """Everything that defines the calendar, JSON-ready (for fingerprints and logs)."""
        return {
            "tz": str(self.tz),
            "weekly": [
                [f"{a.isoformat()}-{'24:00:00' if b == _MIDNIGHT else b.isoformat()}" for a, b in d]
                for d in self.weekly
            ],
            "country": self.country,
            "holidays_version": holidays.__version__ if self.country else None,
            "days_off": sorted(d.isoformat() for d in self.extra_days_off),
            "working_days": sorted(d.isoformat() for d in self.extra_working_days),
            "decreed_working_days": self.decreed_working_days,
        }

    # -- days -------------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Whether `day` (a date in the desk's zone, or an aware datetime) has working hours."""
        if isinstance(day, datetime):
            day = as_utc(day, "day").astimezone(self.tz).date()
        return bool(self._hours(day))

    def is_working_time(self, moment: datetime) -> bool:
        """Whether `moment` is in a working span; spans are half-open (opening in, closing out)."""
        instant = as_utc(moment)
        day = instant.astimezone(self.tz).date()
        return any(start <= instant < end for start, end in self._day_spans(day))

    def next_opening(self, moment: datetime) -> datetime:
        """`moment` itself when it is working time, else the start of the next working span."""
        return next(self.working_intervals(moment))[0]

    def working_intervals(self, start: datetime) -> Iterator[Interval]:
        """Working spans from `start` on, the first clipped to start; endless unless the calendar
        runs out of working time (then CalendarError)."""
        return self._intervals(as_utc(start, "start"))

    def _intervals(self, start: datetime) -> Iterator[Interval]:
        day = last_active = start.astimezone(self.tz).date()
        while True:
            spans = self._day_spans(day)
            if spans:
                last_active = day
            else:
                self._check_horizon(day, last_active)
            for opens, closes in spans:
                if closes > start:
                    yield max(opens, start).astimezone(self.tz), closes.astimezone(self.tz)
            day += _DAY

    # -- arithmetic -------------------------------------------------------------------------

    def add_working_time(
        self, start: datetime, amount: timedelta, pauses: Sequence[Interval] = ()
    ) -> datetime:
        """The earliest moment at which `amount` of working time has elapsed since `start`, time
        inside `pauses` not counted. Zero -> start itself; a target used up exactly at closing
        time -> that closing time (19:50 + 10 min = 20:00:00)."""
        origin = as_utc(start, "start")
        if amount < ZERO:
            raise ValueError(f"amount must not be negative, got {amount}")
        if not amount:
            return origin.astimezone(self.tz)
        if amount > (date.max - origin.date()).days * _LONGEST_DAY:
            raise CalendarError(f"{amount} of working time from {start} is out of range")
        cuts = merge_intervals(pauses, after=origin)
        try:
            _, moment = self._walk(origin, cuts, amount // _US, None)
        except OverflowError as exc:
            raise CalendarError(f"{amount} of working time from {start} is out of range") from exc
        assert moment is not None
        return moment.astimezone(self.tz)

    def working_time_between(
        self, start: datetime, end: datetime, pauses: Sequence[Interval] = ()
    ) -> timedelta:
        """Working time in [start, end) outside `pauses`; zero when end is not after start."""
        origin, stop = as_utc(start, "start"), as_utc(end, "end")
        if stop <= origin:
            return ZERO
        elapsed, _ = self._walk(origin, merge_intervals(pauses, after=origin), None, stop)
        return elapsed * _US

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The deadline of a period of `days` working days registered at `start`.

        As in Russian and Uzbek business practice, a period counted in days begins on the day
        after the registration day, whatever the hour of registration; the deadline is the closing
        time of the `days`-th working day after the local date of `start`:
        Mon 15:00 + 2 -> Wed 20:00; Fri 19:00 + 2 -> Tue 20:00; Sat 14:00 + 2 -> Tue 20:00.
        Zero days -> `start` itself.
        """
        origin = as_utc(start, "start")
        if days < 0:
            raise ValueError(f"days must not be negative, got {days}")
        if not days:
            return origin.astimezone(self.tz)
        if days > (date.max - origin.date()).days:
            raise CalendarError(f"{days} working days from {start} are out of range")
        try:
            return self._add_days(origin.astimezone(self.tz).date() + _DAY, days)
        except OverflowError as exc:
            raise CalendarError(f"{days} working days from {start} are out of range") from exc

    def _add_days(self, day: date, remaining: int) -> datetime:
        skip, counted = self._advance(day, remaining, (date.max - day).days, _DAYS, day)
        day += timedelta(days=skip)
        remaining -= counted
        last_active = day
        while True:  # the day after the crossed ones is the last; the loop is a safety net
            spans = self._day_spans(day)
            if spans:
                last_active = day
                remaining -= 1
                if not remaining:
                    return spans[-1][1].astimezone(self.tz)
            else:
                self._check_horizon(day, last_active)
            day += _DAY

    def _walk(
        self, start: datetime, cuts: list[Interval], budget: int | None, stop: datetime | None
    ) -> tuple[int, datetime | None]:
        """Walk working time forward from `start` (UTC), skipping `cuts`, until `budget`
        microseconds are used (returns them and the moment) or `stop` is reached (returns the
        microseconds elapsed and None)."""
        elapsed = 0
        day = last_active = start.astimezone(self.tz).date()
        cut = 0
        advanced = False
        while True:
            day_start = self._midnight(day)
            if stop is not None and day_start >= stop:
                return elapsed, None
            while cut < len(cuts) and cuts[cut][1] <= day_start:
                cut += 1
            next_cut = cuts[cut][0] if cut < len(cuts) else None
            if next_cut is not None and next_cut <= day_start:
                resume = cuts[cut][1].astimezone(self.tz).date()
                if resume > day:  # the whole day is paused: go to the day the pause ends
                    day = last_active = resume
                    advanced = False
                    continue
            elif day_start >= start and not advanced:
                bound = (date.max - day).days
                for limit in (stop, next_cut):
                    if limit is not None:
                        bound = min(bound, (limit.astimezone(self.tz).date() - day).days)
                left = None if budget is None else budget - elapsed
                skip, gained = self._advance(day, left, bound, _TIME, last_active)
                if skip:
                    day += timedelta(days=skip)
                    elapsed += gained
                    last_active = day if gained else last_active
                    advanced = True  # the next day is where the budget or the bound ends
                    continue
            advanced = False
            spans = self._day_spans(day)
            for opens, closes in spans:
                lo, hi = max(opens, start), closes if stop is None else min(closes, stop)
                if lo >= hi:
                    continue
                pieces, cut = _subtract(lo, hi, cuts, cut)
                for piece_start, piece_end in pieces:
                    length = (piece_end - piece_start) // _US
                    if budget is not None and elapsed + length >= budget:
                        return budget, piece_start + (budget - elapsed) * _US
                    elapsed += length
            if spans:
                last_active = day
            else:
                self._check_horizon(day, last_active)
            day += _DAY

    def _advance(
        self, day: date, left: int | None, bound: int, measure: int, idle_since: date
    ) -> tuple[int, int]:
        """Cross whole days from `day` on, at most `bound` of them, while what they count
        (`measure`) stays below `left` (None: no limit). Returns the days crossed and their count:
        the day after them is the one on which `left` runs out, or the bound."""
        crossed = gained = 0
        while crossed < bound:
            year = self._year(day.year)
            offset = (day - year.first).days
            before = self._cumulative(year, measure, offset)
            span = min(bound - crossed, year.length - offset)
            if span == year.length - offset:
                rest = year.total[measure] - before
                if left is None or gained + rest < left:  # the rest of the year, in one step
                    crossed += span
                    gained += rest
                    if gained == 0 and crossed > HORIZON.days:
                        self._check_horizon(day + timedelta(days=span), idle_since)
                    if crossed < bound:
                        day = date(day.year + 1, 1, 1)
                    continue
            if left is None:
                end = offset + span
            else:
                end = self._last_day(year, measure, before + left - gained)
            span = min(span, end - offset)
            return crossed + span, gained + self._cumulative(year, measure, offset + span) - before
        return crossed, gained

    def _cumulative(self, year: _Year, measure: int, offset: int) -> int:
        """What the days from 1 January up to (not including) day `offset` count."""
        weeks, days = divmod(offset, 7)
        plain = weeks * self._per_week[measure] + self._prefix[measure][year.first.weekday()][days]
        return plain + year.deltas[measure][bisect.bisect_left(year.offsets, offset)]

    def _last_day(self, year: _Year, measure: int, target: int) -> int:
        """The offset of the day in `year` (or after it) during which the count from 1 January
        reaches `target`."""
        through = year.through[measure]
        index = bisect.bisect_left(through, target)
        first_plain = year.offsets[index - 1] + 1 if index else 0
        counted = through[index - 1] if index else 0
        plain = self._plain_days_below(
            measure, (year.first.weekday() + first_plain) % 7, target - counted
        )
        last = first_plain + plain
        return min(last, year.offsets[index]) if index < len(year.offsets) else last

    def _plain_days_below(self, measure: int, weekday: int, left: int) -> int:
        """The most plain days from `weekday` on that count less than `left` (> 0)."""
        weeks = (left - 1) // self._per_week[measure]
        rest = left - weeks * self._per_week[measure]
        prefix = self._prefix[measure][weekday]
        extra = 0
        while extra < 6 and prefix[extra + 1] < rest:
            extra += 1
        return weeks * 7 + extra

    def _check_horizon(self, day: date, last_active: date) -> None:
        if day - max(last_active, self._last_override) > HORIZON:
            raise CalendarError(
                f"no working time between {last_active} and {day}: the calendar has run out"
            )

    # -- days and years ---------------------------------------------------------------------

    def _midnight(self, day: date) -> datetime:
        return datetime.combine(day, _MIDNIGHT, tzinfo=self.tz).astimezone(UTC)

    def _hours(self, day: date) -> tuple[_LocalSpan, ...]:
        return self._year(day.year).hours.get(day, self._week[day.weekday()])

    def _day_spans(self, day: date) -> tuple[Interval, ...]:
        """The working spans of a local date as UTC intervals."""
        cached = self._spans_cache.get(day)
        if cached is None:
            if len(self._spans_cache) >= _CACHE_LIMIT:
                self._spans_cache.clear()
            cached = self._spans_cache[day] = self._spans(day, self._hours(day))
        return cached

    def _spans(self, day: date, hours: tuple[_LocalSpan, ...]) -> tuple[Interval, ...]:
        base = datetime.combine(day, _MIDNIGHT)
        spans: list[Interval] = []
        for opens, closes in hours:
            start = (base + opens).replace(tzinfo=self.tz).astimezone(UTC)
            end = (base + closes).replace(tzinfo=self.tz).astimezone(UTC)
            if start < end:
                spans.append((start, end))
        return tuple(spans)

    def _year(self, year: int) -> _Year:
        found = self._years.get(year)
        if found is None:
            found = self._years[year] = self._build_year(year)
        return found

    def _build_year(self, year: int) -> _Year:
        hours = self._special_hours(year)
        special = sorted(set(hours) | set(self._offset_changes(year)))
        first = date(year, 1, 1)
        length = (date(year, 12, 31) - first).days + 1
        offsets = tuple((day - first).days for day in special)
        deltas: list[tuple[int, ...]] = []
        through: list[tuple[int, ...]] = []
        total: list[int] = []
        for measure in (_TIME, _DAYS):
            running = [0]
            ends: list[int] = []
            for day, offset in zip(special, offsets, strict=True):
                spans = self._spans(day, hours.get(day, self._week[day.weekday()]))
                actual = (
                    sum((b - a) // _US for a, b in spans) if measure == _TIME else int(bool(spans))
                )
                running.append(running[-1] + actual - self._per_day[measure][day.weekday()])
                ends.append(self._plain_total(measure, first, offset + 1) + running[-1])
            deltas.append(tuple(running))
            through.append(tuple(ends))
            total.append(self._plain_total(measure, first, length) + running[-1])
        return _Year(first, length, offsets, hours, tuple(deltas), tuple(through), tuple(total))

    def _plain_total(self, measure: int, first: date, days: int) -> int:
        weeks, rest = divmod(days, 7)
        return weeks * self._per_week[measure] + self._prefix[measure][first.weekday()][rest]

    def _special_hours(self, year: int) -> dict[date, tuple[_LocalSpan, ...]]:
        """The days of `year` whose hours differ from the weekly ones, with their hours."""
        days_off, decreed = self._country_days(year)
        candidates = {d for d in self.extra_days_off | self.extra_working_days if d.year == year}
        hours: dict[date, tuple[_LocalSpan, ...]] = {}
        for day in candidates | days_off | decreed:
            weekly = self._week[day.weekday()]
            if day in self.extra_days_off:
                actual: tuple[_LocalSpan, ...] = ()
            elif day in self.extra_working_days or day in decreed:
                actual = weekly or self._fallback_hours
            elif day in days_off:
                actual = ()
            else:
                actual = weekly
            if actual != weekly:
                hours[day] = actual
        return hours

    def _country_days(self, year: int) -> tuple[set[date], set[date]]:
        """Public holidays (with substituted days off) and decreed working days in `year`.

        The neighbouring years are read too: a substitution may cross the new year."""
        days_off: set[date] = set()
        decreed: set[date] = set()
        if self.country is None:
            return days_off, decreed
        for source_year in (year - 1, year, year + 1):
            if not date.min.year <= source_year <= date.max.year:
                continue
            table = self._country_year(source_year)
            days_off.update(d for d in table if d.year == year)
            if self.decreed_working_days:
                workdays: Iterable[date] = getattr(table, "weekend_workdays", ())
                decreed.update(d for d in workdays if d.year == year)
        return days_off, decreed

    def _country_year(self, year: int) -> holidays.HolidayBase:
        table = self._country_years.get(year)
        if table is None:
            assert self.country is not None
            table = holidays.country_holidays(self.country, years=year)
            self._country_years[year] = table
        return table

    def _offset_changes(self, year: int) -> list[date]:
        """Local dates in `year` during which the zone's UTC offset changes (DST)."""
        changes: list[date] = []
        day = date(year, 1, 1)
        previous = datetime.combine(day, _MIDNIGHT, tzinfo=self.tz).utcoffset()
        while day.year == year and day < date.max:
            following = day + _DAY
            offset = datetime.combine(following, _MIDNIGHT, tzinfo=self.tz).utcoffset()
            if offset != previous:
                changes.append(day)
            previous, day = offset, following
        return changes


def _subtract(
    start: datetime, end: datetime, cuts: Sequence[Interval], index: int
) -> tuple[list[Interval], int]:
    """[start, end) minus the sorted, merged `cuts` from `index` on; returns the pieces and the
    index of the first cut that may still matter for later spans."""
    pieces: list[Interval] = []
    while index < len(cuts):
        cut_start, cut_end = cuts[index]
        if cut_start >= end:
            break
        if cut_end <= start:
            index += 1
            continue
        if cut_start > start:
            pieces.append((start, cut_start))
        if cut_end >= end:
            return pieces, index
        start = cut_end
        index += 1
    pieces.append((start, end))
    return pieces, index
