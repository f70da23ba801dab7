"""Loading the SLA policy from TOML: defaults, overrides, and errors that name the key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.sla import PolicyFileError, Priority, SlaPolicy, Target, default_policy, load_policy

TZ = ZoneInfo("Asia/Tashkent")
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "sla-policy.example.toml"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "sla.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


def test_no_file_gives_the_default_policy() -> None:
    assert load_policy(None, TZ).fingerprint() == default_policy(TZ).fingerprint()


def test_an_empty_file_gives_the_default_policy(write: Callable[[str], Path]) -> None:
    assert load_policy(write(""), TZ).fingerprint() == default_policy(TZ).fingerprint()


def test_the_example_file_describes_the_defaults() -> None:
    assert load_policy(EXAMPLE, TZ).fingerprint() == default_policy(TZ).fingerprint()


def test_the_zone_comes_from_the_caller(write: Callable[[str], Path]) -> None:
    samarkand = ZoneInfo("Asia/Samarkand")
    assert load_policy(write(""), samarkand).calendar.tz == samarkand


OVERRIDES: list[object] = [
    pytest.param(
        '[calendar]\ncountry = ""',
        lambda p: p.calendar.is_working_day(date(2026, 3, 23)),
        id="country-empty-disables-holidays",
    ),
    pytest.param(
        "[calendar]\ndecreed_working_days = true",
        lambda p: p.calendar.is_working_day(date(2026, 12, 12)),
        id="decreed-working-days",
    ),
    pytest.param(
        '[calendar]\ndays_off = ["2026-12-30", 2026-12-29]',
        lambda p: p.calendar.extra_days_off == {date(2026, 12, 29), date(2026, 12, 30)},
        id="days-off-as-strings-or-toml-dates",
    ),
    pytest.param(
        '[calendar]\nworking_days = ["2026-04-11"]',
        lambda p: p.calendar.next_opening(at("2026-04-10 20:00")) == at("2026-04-11 08:00"),
        id="working-days",
    ),
    pytest.param(
        '[calendar.hours]\nmon = ["09:00-13:00", "14:00-18:00"]\nsat = ["10:00-24:00"]',
        lambda p: (
            p.calendar.weekly[0] == ((time(9), time(13)), (time(14), time(18)))
            and p.calendar.weekly[5] == ((time(10), time(0)),)
            and not p.calendar.is_working_day(date(2026, 4, 7))
        ),
        id="hours-replace-the-week",
    ),
    pytest.param(
        "[first_response]\nworking_minutes = 15",
        lambda p: p.first_response_working == timedelta(minutes=15),
        id="first-response-working-minutes",
    ),
    pytest.param(
        '[first_response]\noutside_hours_by = "09:30"',
        lambda p: p.first_response_due(at("2026-04-11 14:00")) == at("2026-04-13 09:30"),
        id="first-response-outside-hours-by",
    ),
    pytest.param(
        "[resolution]\nhigh = { working_minutes = 90 }",
        lambda p: (
            p.resolution[Priority.HIGH] == Target.working_time(timedelta(minutes=90))
            and p.resolution[Priority.CRITICAL] == default_policy().resolution[Priority.CRITICAL]
        ),
        id="resolution-one-priority-others-kept",
    ),
    pytest.param(
        "[resolution]\ncritical = { calendar_hours = 2.5 }",
        lambda p: p.resolution[Priority.CRITICAL] == Target.calendar_time(timedelta(hours=2.5)),
        id="resolution-calendar-hours-fractional",
    ),
    pytest.param(
        "[resolution]\nlow = { working_days = 3 }\nmedium = { calendar_days = 1 }",
        lambda p: (
            p.resolution[Priority.LOW] == Target.working_days(3)
            and p.resolution[Priority.MEDIUM] == Target.calendar_time(timedelta(days=1))
        ),
        id="resolution-working-days-and-calendar-days",
    ),
    pytest.param(
        "[topics.catalog]\nworking_hours = 40\n[topics.marking]\ncalendar_hours = 2",
        lambda p: (
            dict(p.topic_resolution)
            == {
                "catalog": Target.working_time(timedelta(hours=40)),
                "marking": Target.calendar_time(timedelta(hours=2)),
            }
        ),
        id="topics-override-and-add",
    ),
    pytest.param(
        "[topics]\ncatalog = {}",
        lambda p: dict(p.topic_resolution) == {},
        id="topics-empty-table-removes",
    ),
    pytest.param(
        "[pause]\nwhile_waiting_for_client = false",
        lambda p: p.pause_while_waiting is False,
        id="pause-while-waiting",
    ),
    pytest.param(
        "[alerts]\nwarning_share = 0.75",
        lambda p: p.alerts.warning_share == 0.75,
        id="alerts-warning-share",
    ),
    pytest.param(
        "[alerts]\nrepeat_every_hours = 1.5",
        lambda p: p.alerts.repeat_every == timedelta(minutes=90),
        id="alerts-repeat-every",
    ),
]


@pytest.mark.parametrize(("text", "check"), OVERRIDES)
def test_each_key_overrides_its_default(
    write: Callable[[str], Path], text: str, check: Callable[[SlaPolicy], bool]
) -> None:
    policy = load_policy(write(text), TZ)
    assert check(policy)
    assert policy.fingerprint() != default_policy(TZ).fingerprint()


BAD_FILES = [
    pytest.param("[reminders]\nevery = 5", "reminders", id="unknown-section"),
    pytest.param("[calendar]\nholidays = true", "calendar.holidays", id="unknown-calendar-key"),
    pytest.param("[calendar]\ncountry = 5", "calendar.country", id="country-not-a-string"),
    pytest.param('[calendar]\ncountry = "XX"', "calendar.country", id="unknown-country"),
    pytest.param(
        "[calendar]\ndecreed_working_days = 1", "calendar.decreed_working_days", id="flag-not-bool"
    ),
    pytest.param('[calendar]\ndays_off = ["2026-02-30"]', "calendar.days_off[0]", id="bad-date"),
    pytest.param('[calendar]\ndays_off = "2026-02-03"', "calendar.days_off", id="dates-not-a-list"),
    pytest.param(
        '[calendar]\ndays_off = ["2026-12-12"]\nworking_days = ["2026-12-12"]',
        "calendar.working_days",
        id="date-both-off-and-working",
    ),
    pytest.param(
        '[calendar.hours]\nmonday = ["08:00-20:00"]', "calendar.hours.monday", id="bad-day"
    ),
    pytest.param('[calendar.hours]\nmon = ["25:00-26:00"]', "calendar.hours.mon[0]", id="bad-time"),
    pytest.param('[calendar.hours]\nmon = ["8-20"]', "calendar.hours.mon[0]", id="bad-span"),
    pytest.param(
        '[calendar.hours]\nmon = ["20:00-08:00"]',
        "calendar.hours.mon[0]",
        id="closes-before-opening",
    ),
    pytest.param(
        '[calendar.hours]\nmon = ["08:00-13:00", "12:00-20:00"]',
        "calendar.hours.mon",
        id="overlapping-spans",
    ),
    pytest.param('[calendar.hours]\nmon = "08:00-20:00"', "calendar.hours.mon", id="not-a-list"),
    pytest.param("[calendar.hours]\nmon = []", "calendar.hours", id="no-working-time-at-all"),
    pytest.param(
        "[first_response]\nworking_minutes = -5",
        "first_response.working_minutes",
        id="negative-minutes",
    ),
    pytest.param(
        '[first_response]\nworking_minutes = "10"',
        "first_response.working_minutes",
        id="minutes-not-a-number",
    ),
    pytest.param(
        '[first_response]\noutside_hours_by = "10:60"',
        "first_response.outside_hours_by",
        id="bad-outside-hour",
    ),
    pytest.param(
        "[resolution]\nurgent = { working_hours = 1 }", "resolution.urgent", id="unknown-priority"
    ),
    pytest.param(
        "[resolution]\nhigh = { working_hours = -8 }",
        "resolution.high.working_hours",
        id="negative-amount",
    ),
    pytest.param(
        "[resolution]\nhigh = { working_weeks = 1 }",
        "resolution.high.working_weeks",
        id="unknown-unit",
    ),
    pytest.param(
        "[resolution]\nhigh = { working_hours = 8, calendar_hours = 8 }",
        "resolution.high",
        id="two-units",
    ),
    pytest.param("[resolution]\nhigh = {}", "resolution.high", id="no-unit"),
    pytest.param("[resolution]\nhigh = 8", "resolution.high", id="target-not-a-table"),
    pytest.param(
        "[resolution]\nlow = { working_days = 1.5 }",
        "resolution.low.working_days",
        id="fractional-working-days",
    ),
    pytest.param(
        "[topics.catalog]\ncalendar_days = -1", "topics.catalog.calendar_days", id="negative-topic"
    ),
    pytest.param(
        "[pause]\nwhile_waiting_for_client = 'yes'",
        "pause.while_waiting_for_client",
        id="pause-not-bool",
    ),
    pytest.param("[pause]\nwhile_waiting = true", "pause.while_waiting", id="unknown-pause-key"),
    pytest.param("[alerts]\nwarning_share = 1", "alerts.warning_share", id="share-not-below-1"),
    pytest.param(
        "[alerts]\nwarning_share = '80%'", "alerts.warning_share", id="share-not-a-number"
    ),
    pytest.param(
        "[alerts]\nrepeat_every_hours = 0", "alerts.repeat_every_hours", id="repeat-every-zero"
    ),
    pytest.param("[alerts]\nrepeat = 2", "alerts.repeat", id="unknown-alerts-key"),
]


@pytest.mark.parametrize(("text", "key"), BAD_FILES)
def test_bad_files_name_the_key(write: Callable[[str], Path], text: str, key: str) -> None:
    path = write(text)
    with pytest.raises(PolicyFileError) as caught:
        load_policy(path, TZ)
    assert str(caught.value).startswith(f"{path}: {key}: ")
    assert caught.value.key == key


def test_invalid_toml_names_the_file(write: Callable[[str], Path]) -> None:
    path = write("[calendar\ncountry = 'UZ'")
    with pytest.raises(PolicyFileError, match="not valid TOML") as caught:
        load_policy(path, TZ)
    assert str(path) in str(caught.value)


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(PolicyFileError, match="cannot read") as caught:
        load_policy(path, TZ)
    assert str(path) in str(caught.value)


def test_policy_file_error_is_a_value_error() -> None:
    assert issubclass(PolicyFileError, ValueError)
