"""The business calendar: working hours, holidays of Uzbekistan, exact working-time arithmetic."""

from __future__ import annotations

import random
import time as systime
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest

from bot.sla import BusinessCalendar, CalendarError, Interval, merge_intervals

TZ = ZoneInfo("Asia/Tashkent")
OPEN, CLOSE = time(8, 0), time(20, 0)
WEEKDAYS = {weekday: [(OPEN, CLOSE)] for weekday in range(5)}


def make_calendar(**overrides: object) -> BusinessCalendar:
    options: dict[str, object] = {"tz": TZ, "weekly": WEEKDAYS, "country": "UZ"}
    options.update(overrides)
    return BusinessCalendar(**options)  # type: ignore[arg-type]


def at(text: str) -> datetime:
    """A local Tashkent moment, e.g. at("2026-03-19 19:55")."""
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


@pytest.fixture(scope="module")
def cal() -> BusinessCalendar:
    return make_calendar()


@pytest.fixture
def server_in_new_york(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process runs in a zone 10 hours behind the desk (and with daylight saving)."""
    monkeypatch.setenv("TZ", "America/New_York")
    systime.tzset()
    yield
    monkeypatch.undo()
    systime.tzset()


# -- the naive reference: minute by minute, straight from the holidays package ---------------

_UZ_DAYS_OFF = set(holidays.country_holidays("UZ", years=range(2025, 2031)))


def uz_open_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _UZ_DAYS_OFF


def naive_is_open(moment: datetime, open_day: Callable[[date], bool] = uz_open_day) -> bool:
    local = moment.astimezone(TZ)
    return open_day(local.date()) and 8 <= local.hour < 20


def _minute_index(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


def naive_add(
    start: datetime,
    amount: timedelta,
    pauses: Sequence[Interval] = (),
    open_day: Callable[[date], bool] = uz_open_day,
) -> datetime:
    """Minute stepping over whole minutes; pauses at whole minutes."""
    paused = {m for s, e in pauses for m in range(_minute_index(s), _minute_index(e))}
    left = int(amount.total_seconds()) // 60
    minute = _minute_index(start)
    # Days are looked up once each: the reference stays naive but runs in a second.
    open_days: dict[int, bool] = {}
    while left:
        day, of_day = divmod(minute + 5 * 60, 1440)  # Asia/Tashkent is UTC+5 all year
        if day not in open_days:
            open_days[day] = open_day(date(1970, 1, 1) + timedelta(days=day))
        if open_days[day] and 480 <= of_day < 1200 and minute not in paused:
            left -= 1
        minute += 1
    return datetime.fromtimestamp(minute * 60, UTC)


def naive_between(start: datetime, end: datetime, pauses: Sequence[Interval] = ()) -> timedelta:
    paused = {m for s, e in pauses for m in range(_minute_index(s), _minute_index(e))}
    count = 0
    for minute in range(_minute_index(start), _minute_index(end)):
        moment = datetime.fromtimestamp(minute * 60, UTC)
        if minute not in paused and naive_is_open(moment):
            count += 1
    return minutes(count)


def random_moment(rng: random.Random, year: int = 2026) -> datetime:
    start = datetime(year, 1, 1, tzinfo=TZ)
    return start + timedelta(minutes=rng.randrange(365 * 24 * 60))


# -- adding working time ---------------------------------------------------------------------

ADD_CASES = [
    pytest.param(
        "2026-04-06 19:55", minutes(10), "2026-04-07 08:05", id="19:55+10min=08:05-next-day"
    ),
    pytest.param(
        "2026-03-19 19:55",
        minutes(10),
        "2026-03-24 08:05",
        id="19:55-thursday-before-eid-weekend-and-nowruz-observed=tuesday-08:05",
    ),
    pytest.param(
        "2026-04-06 19:50", minutes(10), "2026-04-06 20:00", id="ending-at-closing=closing"
    ),
    pytest.param(
        "2026-04-06 20:00", minutes(10), "2026-04-07 08:10", id="at-20:00:00-starts-next-opening"
    ),
    pytest.param(
        "2026-04-06 08:00", minutes(10), "2026-04-06 08:10", id="at-08:00:00-starts-at-once"
    ),
    pytest.param(
        "2026-04-06 07:30", minutes(10), "2026-04-06 08:10", id="before-opening-starts-at-opening"
    ),
    pytest.param(
        "2026-04-10 18:00", hours(8), "2026-04-13 14:00", id="friday-18:00+8h=monday-14:00"
    ),
    pytest.param("2026-04-07 23:30", hours(1), "2026-04-08 09:00", id="midnight-crossing"),
    pytest.param(
        "2026-05-26 19:00",
        hours(2),
        "2026-06-01 09:00",
        id="holiday-chain-eid-al-adha-27-29-may-then-weekend",
    ),
    pytest.param(
        "2026-12-30 19:00",
        hours(2),
        "2027-01-04 09:00",
        id="new-year-31-dec-substituted-day-off-1-jan-holiday-then-weekend",
    ),
    pytest.param(
        "2026-03-06 19:00", hours(2), "2026-03-10 09:00", id="womens-day-sunday-observed-monday"
    ),
    pytest.param(
        "2026-04-06 19:59:59.500000",
        timedelta(seconds=1),
        "2026-04-07 08:00:00.500000",
        id="exact-to-the-microsecond",
    ),
    pytest.param(
        "2026-04-11 14:00", timedelta(0), "2026-04-11 14:00", id="zero-amount=start-itself"
    ),
    pytest.param("2026-04-06 08:00", hours(12), "2026-04-06 20:00", id="a-whole-day=its-closing"),
    pytest.param(
        "2026-04-06 08:00", hours(60), "2026-04-10 20:00", id="a-whole-week=friday-closing"
    ),
    pytest.param("2026-04-06 08:00", hours(60.5), "2026-04-13 08:30", id="a-week-and-a-bit"),
]


@pytest.mark.parametrize(("start", "amount", "expected"), ADD_CASES)
def test_add_working_time(
    cal: BusinessCalendar, start: str, amount: timedelta, expected: str
) -> None:
    result = cal.add_working_time(at(start), amount)
    assert result == at(expected)
    assert result.tzinfo is TZ


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(datetime(2026, 4, 6, 14, 55, tzinfo=UTC), id="given-in-utc"),
        pytest.param(
            datetime(2026, 4, 6, 17, 55, tzinfo=timezone(timedelta(hours=3))), id="given-in-+03:00"
        ),
        pytest.param(datetime(2026, 4, 6, 19, 55, tzinfo=TZ), id="given-in-tashkent"),
        pytest.param(
            datetime(2026, 4, 6, 10, 55, tzinfo=ZoneInfo("America/New_York")),
            id="given-in-new-york",
        ),
    ],
)
def test_clock_runs_in_tashkent_whatever_the_input_offset(
    cal: BusinessCalendar, start: datetime
) -> None:
    result = cal.add_working_time(start, minutes(10))
    assert result == at("2026-04-07 08:05")
    assert result.utcoffset() == hours(5)
    assert result.isoformat() == "2026-04-07T08:05:00+05:00"


# -- working hours, openings, intervals ------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param("2026-04-06 08:00", True, id="08:00:00-is-in"),
        pytest.param("2026-04-06 19:59:59.999999", True, id="last-microsecond-is-in"),
        pytest.param("2026-04-06 20:00", False, id="20:00:00-is-out"),
        pytest.param("2026-04-06 07:59:59", False, id="before-opening-is-out"),
        pytest.param("2026-04-11 12:00", False, id="saturday-is-out"),
        pytest.param("2026-03-23 12:00", False, id="nowruz-observed-monday-is-out"),
        pytest.param("2026-12-31 12:00", False, id="substituted-day-off-is-out"),
    ],
)
def test_is_working_time(cal: BusinessCalendar, moment: str, expected: bool) -> None:
    assert cal.is_working_time(at(moment)) is expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        pytest.param("2026-04-06 10:00", "2026-04-06 10:00", id="working-time=itself"),
        pytest.param("2026-04-06 08:00", "2026-04-06 08:00", id="08:00:00=itself"),
        pytest.param("2026-04-06 20:00", "2026-04-07 08:00", id="20:00:00=next-morning"),
        pytest.param("2026-04-11 14:00", "2026-04-13 08:00", id="saturday=monday"),
        pytest.param("2026-03-19 20:00", "2026-03-24 08:00", id="over-eid-weekend-and-nowruz"),
    ],
)
def test_next_opening(cal: BusinessCalendar, moment: str, expected: str) -> None:
    assert cal.next_opening(at(moment)) == at(expected)


def test_working_intervals_are_clipped_and_skip_days_off(cal: BusinessCalendar) -> None:
    intervals = cal.working_intervals(at("2026-03-19 15:00"))
    assert [next(intervals) for _ in range(3)] == [
        (at("2026-03-19 15:00"), at("2026-03-19 20:00")),
        (at("2026-03-24 08:00"), at("2026-03-24 20:00")),
        (at("2026-03-25 08:00"), at("2026-03-25 20:00")),
    ]


def test_lunch_break_and_night_shift_spans() -> None:
    cal = make_calendar(
        weekly={
            0: [(time(9), time(13)), (time(14), time(18)), (time(22), time(0))],
            1: [(time(0), time(2))],
        },
        country=None,
    )
    assert cal.add_working_time(at("2026-04-06 12:30"), hours(1)) == at("2026-04-06 14:30")
    assert cal.add_working_time(at("2026-04-06 23:30"), hours(1)) == at("2026-04-07 00:30")
    assert cal.add_working_time(at("2026-04-07 01:30"), hours(1)) == at("2026-04-13 09:30")
    assert cal.is_working_time(at("2026-04-06 23:59:59"))
    assert not cal.is_working_time(at("2026-04-06 13:00"))


# -- days off, holidays, decrees -------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "decreed", "expected"),
    [
        pytest.param(date(2026, 12, 12), False, False, id="decreed-saturday-not-worked-by-default"),
        pytest.param(date(2026, 12, 12), True, True, id="decreed-saturday-worked-when-configured"),
        pytest.param(date(2026, 12, 31), False, False, id="its-substitute-31-dec-is-off"),
        pytest.param(date(2026, 12, 31), True, False, id="its-substitute-31-dec-is-off-either-way"),
        pytest.param(date(2026, 12, 19), True, False, id="an-ordinary-saturday-stays-off"),
        pytest.param(date(2025, 1, 4), True, True, id="decreed-saturday-2025-01-04"),
        pytest.param(date(2026, 3, 20), False, False, id="eid-al-fitr"),
        pytest.param(date(2026, 5, 28), False, False, id="additional-day-off-by-decree"),
        pytest.param(date(2026, 3, 19), False, True, id="ordinary-thursday"),
    ],
)
def test_working_days_of_uzbekistan(day: date, decreed: bool, expected: bool) -> None:
    assert make_calendar(decreed_working_days=decreed).is_working_day(day) is expected


def test_decreed_saturday_uses_monday_hours_only_when_configured() -> None:
    start = at("2026-12-11 19:00")  # Friday before the decreed Saturday 2026-12-12
    plain, decreed = make_calendar(), make_calendar(decreed_working_days=True)
    assert plain.add_working_time(start, hours(2)) == at("2026-12-14 09:00")
    assert decreed.add_working_time(start, hours(2)) == at("2026-12-12 09:00")


def test_extra_days_off_and_working_days() -> None:
    cal = make_calendar(
        extra_days_off=[date(2026, 4, 13)],  # a Monday
        extra_working_days=[date(2026, 4, 19)],  # a Sunday
        weekly={0: [(time(9), time(18))], 1: [(OPEN, CLOSE)], 2: [(OPEN, CLOSE)]},
    )
    assert not cal.is_working_day(date(2026, 4, 13))
    assert cal.is_working_day(date(2026, 4, 19))
    # Sunday the 19th works the Monday hours, 09:00-18:00.
    assert cal.next_opening(at("2026-04-16 00:00")) == at("2026-04-19 09:00")
    assert cal.add_working_time(at("2026-04-08 19:00"), hours(2)) == at("2026-04-14 09:00")


def test_extra_working_day_wins_over_a_public_holiday() -> None:
    cal = make_calendar(extra_working_days=[date(2026, 3, 23)])
    assert cal.add_working_time(at("2026-03-19 19:55"), minutes(10)) == at("2026-03-23 08:05")


def test_a_date_cannot_be_both_off_and_working() -> None:
    with pytest.raises(ValueError, match="both off and working"):
        make_calendar(extra_days_off=[date(2026, 1, 5)], extra_working_days=[date(2026, 1, 5)])


@pytest.mark.usefixtures("server_in_new_york")
@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # 19:30 UTC on the 19th is 00:30 on the 20th in Tashkent: Eid al-Fitr.
        pytest.param(
            datetime(2026, 3, 19, 19, 30, tzinfo=UTC), False, id="utc-evening=eid-in-tashkent"
        ),
        # 18:30 UTC on the 19th is 23:30 on the 19th in Tashkent: an ordinary Thursday.
        pytest.param(datetime(2026, 3, 19, 18, 30, tzinfo=UTC), True, id="utc-evening=thursday"),
        # 22:00 in New York on the 23rd is 08:00 on the 24th in Tashkent.
        pytest.param(
            datetime(2026, 3, 23, 22, 0, tzinfo=ZoneInfo("America/New_York")),
            True,
            id="new-york-evening=tuesday-in-tashkent",
        ),
    ],
)
def test_holidays_are_read_in_the_desk_zone(
    cal: BusinessCalendar, moment: datetime, expected: bool
) -> None:
    assert systime.strftime("%Z", systime.localtime()) in {"EST", "EDT"}
    assert cal.is_working_day(moment) is expected


@pytest.mark.usefixtures("server_in_new_york")
def test_arithmetic_ignores_the_server_zone() -> None:
    cal = make_calendar()  # built while the process zone is New York
    start = datetime(2026, 3, 23, 19, 30, tzinfo=UTC)  # 00:30 Tuesday in Tashkent
    assert cal.next_opening(start) == datetime(2026, 3, 24, 3, 0, tzinfo=UTC)
    assert cal.next_opening(start).isoformat() == "2026-03-24T08:00:00+05:00"
    evening = datetime(2026, 3, 19, 14, 55, tzinfo=UTC)  # 19:55 Thursday in Tashkent
    assert cal.add_working_time(evening, minutes(10)) == at("2026-03-24 08:05")


# -- pauses ----------------------------------------------------------------------------------

PAUSE_CASES = [
    pytest.param(
        "2026-04-06 10:00",
        hours(2),
        [("2026-04-06 10:30", "2026-04-06 11:00")],
        "2026-04-06 12:30",
        id="pause-inside-working-time-extends",
    ),
    pytest.param(
        "2026-04-10 18:00",
        hours(2),
        [("2026-04-10 19:00", "2026-04-13 09:00")],
        "2026-04-13 10:00",
        id="pause-over-the-weekend-counts-only-its-working-time",
    ),
    pytest.param(
        "2026-04-10 18:00",
        hours(3),
        [("2026-04-11 10:00", "2026-04-12 18:00")],
        "2026-04-13 09:00",
        id="pause-inside-the-weekend-changes-nothing",
    ),
    pytest.param(
        "2026-04-06 10:00",
        hours(2),
        [("2026-04-06 09:00", "2026-04-06 10:30")],
        "2026-04-06 12:30",
        id="pause-begun-before-start-counts-from-start",
    ),
    pytest.param(
        "2026-04-06 10:00",
        hours(2),
        [("2026-04-06 12:00", "2026-04-06 15:00")],
        "2026-04-06 12:00",
        id="pause-starting-at-the-deadline-changes-nothing",
    ),
    pytest.param(
        "2026-04-06 10:00",
        hours(2),
        [("2026-04-06 10:30", "2026-04-06 11:00"), ("2026-04-06 10:45", "2026-04-06 11:30")],
        "2026-04-06 13:00",
        id="overlapping-pauses-count-once",
    ),
    pytest.param(
        "2026-04-06 10:00",
        hours(2),
        [("2026-04-06 11:00", "2026-05-06 11:00")],
        "2026-05-06 12:00",
        id="a-month-long-pause",
    ),
]


@pytest.mark.parametrize(("start", "amount", "pauses", "expected"), PAUSE_CASES)
def test_pauses(
    cal: BusinessCalendar,
    start: str,
    amount: timedelta,
    pauses: list[tuple[str, str]],
    expected: str,
) -> None:
    stretches = [(at(a), at(b)) for a, b in pauses]
    due = cal.add_working_time(at(start), amount, stretches)
    assert due == at(expected)
    assert cal.working_time_between(at(start), due, stretches) == amount


def test_merge_intervals() -> None:
    a, b, c, d = (
        at("2026-04-06 10:00"),
        at("2026-04-06 11:00"),
        at("2026-04-06 12:00"),
        at("2026-04-06 13:00"),
    )
    assert merge_intervals([(c, d), (a, b), (b, c)], after=a + minutes(30)) == [
        ((a + minutes(30)).astimezone(UTC), d.astimezone(UTC))
    ]
    with pytest.raises(ValueError, match="ends before it starts"):
        merge_intervals([(b, a)])


# -- working days ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        pytest.param(
            "2026-04-06 15:00", 2, "2026-04-08 20:00", id="monday-15:00+2=wednesday-20:00"
        ),
        pytest.param("2026-04-10 19:00", 2, "2026-04-14 20:00", id="friday-19:00+2=tuesday-20:00"),
        pytest.param(
            "2026-04-11 14:00", 2, "2026-04-14 20:00", id="saturday-14:00+2=tuesday-20:00"
        ),
        pytest.param("2026-04-06 07:00", 1, "2026-04-07 20:00", id="registration-day-never-counts"),
        pytest.param("2026-05-26 10:00", 1, "2026-06-01 20:00", id="over-the-eid-al-adha-chain"),
        pytest.param("2026-12-30 12:00", 1, "2027-01-04 20:00", id="over-the-new-year"),
        pytest.param("2026-04-06 15:00", 0, "2026-04-06 15:00", id="zero-days=start"),
    ],
)
def test_add_working_days(cal: BusinessCalendar, start: str, days: int, expected: str) -> None:
    assert cal.add_working_days(at(start), days) == at(expected)


def test_add_working_days_a_year_away_matches_counting_days(cal: BusinessCalendar) -> None:
    start = at("2026-02-17 13:00")
    day, left = start.date(), 250
    while left:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in _UZ_DAYS_OFF:
            left -= 1
    assert cal.add_working_days(start, 250) == datetime.combine(day, CLOSE, tzinfo=TZ)


# -- exactness far away, against the naive reference -----------------------------------------


def test_a_target_a_year_away_is_exact(cal: BusinessCalendar) -> None:
    rng = random.Random(20260320)
    for _ in range(4):
        start = random_moment(rng)
        pauses = []
        for _ in range(3):
            pause_start = start + minutes(rng.randrange(400 * 24 * 60))
            pauses.append((pause_start, pause_start + minutes(rng.randrange(1, 3 * 24 * 60))))
        assert cal.add_working_time(start, hours(3000)) == naive_add(start, hours(3000)), start
        due = cal.add_working_time(start, hours(3000), pauses)
        assert due == naive_add(start, hours(3000), pauses), (start, pauses)


def test_overrides_and_decrees_match_the_naive_reference() -> None:
    """Days added to the week (decreed Saturdays, a working Sunday) as well as days taken away."""
    days_off = {date(2026, 6, 3), date(2026, 9, 14), date(2027, 2, 1)}
    working = {date(2026, 6, 7), date(2026, 11, 1), date(2027, 1, 1)}  # Sun, Sun, New Year
    decreed = {date(2026, 12, 12)}
    cal = make_calendar(
        extra_days_off=days_off, extra_working_days=working, decreed_working_days=True
    )

    def open_day(day: date) -> bool:
        if day in days_off:
            return False
        return day in working or day in decreed or uz_open_day(day)

    rng = random.Random(3)
    for _ in range(6):
        start = random_moment(rng)
        amount = minutes(rng.randrange(1, 2000 * 60))
        assert cal.add_working_time(start, amount) == naive_add(start, amount, (), open_day)
        day, left = start.date(), rng.randrange(1, 300)
        due = cal.add_working_days(start, left)
        while left:
            day += timedelta(days=1)
            left -= open_day(day)
        assert due == datetime.combine(day, CLOSE, tzinfo=TZ), start


def test_random_targets_with_pauses_match_the_naive_reference(cal: BusinessCalendar) -> None:
    rng = random.Random(7)
    for _ in range(60):
        start = random_moment(rng)
        amount = minutes(rng.randrange(1, 40 * 60))
        pauses = []
        for _ in range(rng.randrange(4)):
            pause_start = start + minutes(rng.randrange(-600, 5 * 24 * 60))
            pauses.append((pause_start, pause_start + minutes(rng.randrange(1, 3 * 24 * 60))))
        due = cal.add_working_time(start, amount, pauses)
        assert due == naive_add(start, amount, pauses), (start, amount, pauses)
        end = start + minutes(rng.randrange(0, 6 * 24 * 60))
        assert cal.working_time_between(start, end, pauses) == naive_between(start, end, pauses)


def test_working_time_between_is_the_inverse_of_add_working_time(cal: BusinessCalendar) -> None:
    rng = random.Random(42)
    for _ in range(200):
        start = random_moment(rng) + timedelta(microseconds=rng.randrange(60_000_000))
        amount = timedelta(microseconds=rng.randrange(1, 400 * 3600 * 10**6))
        due = cal.add_working_time(start, amount)
        assert cal.working_time_between(start, due) == amount
        end = start + timedelta(microseconds=rng.randrange(30 * 24 * 3600 * 10**6))
        used = cal.working_time_between(start, end)
        back = cal.add_working_time(start, used)
        assert back <= end
        assert cal.working_time_between(back, end) == timedelta(0)
        if used and cal.is_working_time(end):
            assert back == end


@pytest.mark.parametrize(
    "amount",
    [
        pytest.param(minutes(10), id="10-minutes"),
        pytest.param(hours(60), id="a-week"),
        pytest.param(hours(3000), id="a-year"),
        pytest.param(hours(30000), id="ten-years"),
    ],
)
def test_a_year_away_examines_as_few_days_as_ten_minutes(
    monkeypatch: pytest.MonkeyPatch, amount: timedelta
) -> None:
    """Only the first and the last day are walked span by span; the days between are counted
    from the weekly pattern and the year's table of special days."""
    cal = make_calendar()
    examined: list[date] = []
    day_spans = cal._day_spans

    def counting(day: date) -> tuple[Interval, ...]:
        examined.append(day)
        return day_spans(day)

    monkeypatch.setattr(cal, "_day_spans", counting)
    cal.add_working_time(at("2026-04-06 19:55"), amount)
    assert len(examined) == 2


# -- refusals and errors ---------------------------------------------------------------------


def test_a_calendar_without_working_time_is_refused() -> None:
    with pytest.raises(CalendarError):
        make_calendar(weekly={})
    with pytest.raises(CalendarError):
        make_calendar(weekly={0: [], 6: []})


@pytest.mark.parametrize(
    ("weekly", "message"),
    [
        pytest.param({0: [(time(10), time(9))]}, "open before", id="closes-before-opening"),
        pytest.param({0: [(time(8), time(13)), (time(12), time(20))]}, "overlap", id="overlap"),
        pytest.param({7: [(OPEN, CLOSE)]}, "weekday", id="weekday-7"),
    ],
)
def test_bad_weekly_hours(weekly: dict[int, list[tuple[time, time]]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_calendar(weekly=weekly)


def test_unknown_country_is_refused() -> None:
    with pytest.raises(ValueError, match="XX"):
        make_calendar(country="XX")


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c, n: c.add_working_time(n, minutes(1)), id="add_working_time"),
        pytest.param(lambda c, n: c.working_time_between(n, at("2026-04-07 00:00")), id="between"),
        pytest.param(lambda c, n: c.add_working_days(n, 1), id="add_working_days"),
        pytest.param(lambda c, n: c.is_working_time(n), id="is_working_time"),
        pytest.param(lambda c, n: c.next_opening(n), id="next_opening"),
        pytest.param(lambda c, n: c.working_intervals(n), id="working_intervals"),
        pytest.param(
            lambda c, n: c.add_working_time(at("2026-04-06 10:00"), minutes(1), [(n, n)]),
            id="pause",
        ),
    ],
)
def test_naive_datetimes_are_refused(cal: BusinessCalendar, call: object) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(cal, datetime(2026, 4, 6, 10, 0))  # type: ignore[operator]


def test_long_stretch_of_configured_days_off_is_crossed() -> None:
    closed = [date(2026, 1, 1) + timedelta(days=n) for n in range(4000)]
    cal = make_calendar(extra_days_off=closed)
    assert cal.next_opening(at("2026-01-01 00:00")) == at("2036-12-15 08:00")


def test_no_working_time_left_raises_instead_of_looping(monkeypatch: pytest.MonkeyPatch) -> None:
    """A country table that closes every day forever: the search gives up after the horizon."""

    def every_day(country: str, years: int) -> dict[date, str]:
        first = date(years, 1, 1)
        return {
            first + timedelta(days=n): "closed"
            for n in range(366)
            if (first + timedelta(days=n)).year == years
        }

    monkeypatch.setattr(holidays, "country_holidays", every_day)
    cal = make_calendar()
    with pytest.raises(CalendarError):
        cal.add_working_time(at("2026-04-06 10:00"), minutes(10))
    with pytest.raises(CalendarError):
        cal.next_opening(at("2026-04-06 10:00"))
    with pytest.raises(CalendarError):
        cal.add_working_days(at("2026-04-06 10:00"), 1)


def test_a_target_beyond_the_year_9999_raises(cal: BusinessCalendar) -> None:
    with pytest.raises(CalendarError):
        cal.add_working_time(at("2026-04-06 10:00"), timedelta(days=10**7))
    with pytest.raises(CalendarError):
        cal.add_working_days(at("2026-04-06 10:00"), 10**7)


def test_negative_amounts_are_refused(cal: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_time(at("2026-04-06 10:00"), -minutes(1))
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_days(at("2026-04-06 10:00"), -1)


def test_between_is_zero_when_end_is_not_after_start(cal: BusinessCalendar) -> None:
    assert cal.working_time_between(at("2026-04-06 12:00"), at("2026-04-06 11:00")) == timedelta(0)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2026, 3, 29), hours(2), id="spring-forward-loses-an-hour"),
        pytest.param(date(2026, 10, 25), hours(4), id="fall-back-gains-an-hour"),
        pytest.param(date(2026, 3, 30), hours(3), id="an-ordinary-day"),
    ],
)
def test_daylight_saving_zones_count_real_time(day: date, expected: timedelta) -> None:
    """The desk's zone has no DST, but the calendar does not rely on it."""
    berlin = ZoneInfo("Europe/Berlin")
    cal = make_calendar(tz=berlin, weekly={d: [(time(1), time(4))] for d in range(7)}, country=None)
    start = datetime.combine(day, time(0), tzinfo=berlin)
    assert cal.working_time_between(start, start + timedelta(days=1)) == expected
    year = datetime(2026, 1, 1, tzinfo=berlin)
    assert cal.working_time_between(year, year.replace(year=2027)) == hours(3 * 365)


def test_round_the_clock_calendar_across_daylight_saving_is_absolute_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    cal = make_calendar(tz=berlin, weekly={d: [(time(0), time(0))] for d in range(7)}, country=None)
    start = datetime(2026, 3, 28, 12, 0, tzinfo=berlin)
    for amount in (hours(48), timedelta(days=30), timedelta(days=3650)):
        assert cal.add_working_time(start, amount) == start.astimezone(UTC) + amount
        assert cal.working_time_between(start, cal.add_working_time(start, amount)) == amount
