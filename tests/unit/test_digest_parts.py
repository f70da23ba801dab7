"""The digest's pure parts: when it is due next (09:00 on working days of the desk's
calendar), the period a manager names, the chart (a valid PNG), the texts in Uzbek."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.chart import ChartLabels, daily_chart
from bot.i18n import DeskI18n
from bot.periods import DayRange, PeriodError, parse_period
from bot.render import Renderer
from bot.reports import Words, digest_text
from bot.services.desk import Desk
from bot.services.stats import (
    NOBODY,
    Breach,
    DayFigures,
    OperatorFigures,
    Period,
    Person,
    PriorityFigures,
    Stats,
)
from bot.settings import load_settings
from bot.sla import default_policy
from bot.textsplit import TEXT_LIMIT
from bot.vocabulary import DEFAULT_TOPICS, Priority
from scheduler.digest import DigestParams, due_day, next_digest_at

TZ = ZoneInfo("Asia/Tashkent")


def desk(lang: str = "ru") -> Desk:
    return Desk(
        policy=default_policy(TZ),
        renderer=Renderer(i18n=DeskI18n(), tz=TZ, desk_language=lang),
        operator_chat_id=-100123,
        topics=DEFAULT_TOPICS,
    )


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (local(2026, 3, 17, 8), local(2026, 3, 17, 9)),  # Tuesday before nine
        (local(2026, 3, 17, 9), local(2026, 3, 18, 9)),  # at nine: the next one
        (local(2026, 3, 17, 9, 1), local(2026, 3, 18, 9)),
        (local(2026, 3, 13, 10), local(2026, 3, 16, 9)),  # Friday -> Monday
        (local(2026, 3, 14, 12), local(2026, 3, 16, 9)),  # Saturday -> Monday
        (local(2026, 3, 19, 10), local(2026, 3, 24, 9)),  # Ramadan Hayit, Navruz, day off
        (local(2026, 8, 28, 10), local(2026, 9, 2, 9)),  # Independence Day and its bridge
        (local(2026, 12, 30, 10), local(2027, 1, 4, 9)),  # New Year
    ],
)
def test_next_digest_at_nine_on_working_days(now: datetime, expected: datetime) -> None:
    moment = next_digest_at(now.astimezone(UTC), desk())
    assert moment == expected
    assert moment.tzinfo is not None


def test_next_digest_at_a_configured_time() -> None:
    settings = load_settings(_env_file=None, digest_time="07:45")
    assert next_digest_at(local(2026, 3, 17, 7), desk(), settings) == local(2026, 3, 17, 7, 45)
    params = DigestParams(at=time(18, 0))
    assert next_digest_at(local(2026, 3, 17, 19), desk(), params) == local(2026, 3, 18, 18)


def test_the_day_due() -> None:
    at = time(9, 0)
    assert due_day(local(2026, 3, 17, 8, 59), desk(), at) is None
    assert due_day(local(2026, 3, 17, 9), desk(), at) == date(2026, 3, 17)
    assert due_day(local(2026, 3, 17, 23, 59), desk(), at) == date(2026, 3, 17)
    assert due_day(local(2026, 3, 15, 10), desk(), at) is None  # Sunday
    assert due_day(local(2026, 3, 20, 10), desk(), at) is None  # a holiday


def test_the_digest_time_setting() -> None:
    assert load_settings(_env_file=None).digest_time == time(9, 0)
    with pytest.raises(Exception, match="DIGEST_TIME"):
        load_settings(_env_file=None, digest_time="25:00")
    with pytest.raises(Exception, match="DIGEST_TIME"):
        load_settings(_env_file=None, digest_time="09:00+05:00")


TODAY = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        (None, TODAY, TODAY),
        ("today", TODAY, TODAY),
        ("Сегодня", TODAY, TODAY),
        ("yesterday", date(2026, 11, 19), date(2026, 11, 19)),
        ("week", date(2026, 11, 14), TODAY),
        ("hafta", date(2026, 11, 14), TODAY),
        ("month", date(2026, 10, 22), TODAY),
        ("2026-11-01 2026-11-20", date(2026, 11, 1), TODAY),
        ("01.11.2026   20.11.2026", date(2026, 11, 1), TODAY),
        ("2026-11-05", date(2026, 11, 5), date(2026, 11, 5)),
    ],
)
def test_periods(text: str | None, first: date, last: date) -> None:
    assert parse_period(text, TODAY) == DayRange(first, last)


@pytest.mark.parametrize(
    "text",
    ["fortnight", "2026-11-20 2026-11-01", "2026-13-01", "1 2 3", "2024-01-01 2026-01-01", "x y"],
)
def test_bad_periods(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text, TODAY)


def test_a_day_range_is_whole_days_of_the_zone() -> None:
    period = DayRange(date(2026, 11, 1), date(2026, 11, 2)).period(TZ)
    assert period.start == local(2026, 11, 1)
    assert period.end == local(2026, 11, 3)


LABELS = ChartLabels("Обращения по дням", "Открыто", "Решено", "Нарушено сроков")


def test_the_chart_is_a_png() -> None:
    days = [
        DayFigures(date(2026, 3, 3) + timedelta(days=i), i % 5, i % 3, i % 2) for i in range(14)
    ]
    png = daily_chart(days, LABELS)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.verify()
    assert image.size == (990, 462)


def test_a_chart_of_quiet_days() -> None:
    days = [DayFigures(date(2026, 3, 3) + timedelta(days=i)) for i in range(14)]
    assert len(daily_chart(days, LABELS)) > 5000


def stats(breaches: int) -> Stats:
    now = datetime(2026, 3, 17, 4, tzinfo=UTC)
    late = [
        Breach(
            ticket_id=n,
            number=1000 + n,
            company=f"MChJ «Savdo {n}»",
            priority=Priority.HIGH,
            target="first_response",
            missed=now - timedelta(hours=3),
            met_at=None,
            by=timedelta(hours=3),
            holder=NOBODY if n % 2 else Person(9001, "Dilnoza"),
        )
        for n in range(breaches)
    ]
    return Stats(
        period=Period(now - timedelta(days=1), now),
        now=now,
        opened=1,
        resolved=0,
        breaches=late,
        overdue=[],
        operators=[OperatorFigures(Person(9001, "Dilnoza"), resolved=0, breached=1)],
        priorities=[PriorityFigures(p) for p in Priority],
        first_responses=1,
        first_response_median=timedelta(minutes=7),
        first_response_p90=timedelta(minutes=7),
        targets_met=0,
        ratings=0,
        rating_average=None,
    )


def test_the_digest_in_uzbek() -> None:
    words = Words(desk("uz").renderer, "uz")
    (text,) = digest_text(words, stats(2), date(2026, 3, 17))
    assert text.startswith("📊 17.03.2026 uchun kundalik hisobot")
    assert "Ochilgan: 1\u00a0ta murojaat" in text
    assert "❗ 2\u00a0ta muddat buzilishi:" in text
    assert "ijrochi: tayinlanmagan" in text
    assert "Muddatlarga rioya qilingan: 0% (2\u00a0tadan 0\u00a0tasi)" in text
    assert "Oʻrtacha baho: davr mobaynida baholar yoʻq." in text


def test_a_long_digest_is_cut_cleanly_and_lists_are_capped() -> None:
    words = Words(desk().renderer, "ru")
    parts = digest_text(words, stats(400), date(2026, 3, 17))
    assert all(0 < len(p) <= TEXT_LIMIT for p in parts)
    text = "\n".join(parts)
    assert text.count("• №") == 30
    assert "… и ещё 370 — полный список в /export" in text
    assert all(not p.startswith(("\n", " ")) for p in parts)
