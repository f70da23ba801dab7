"""The SLA policy of the SPEC: first response, resolution per priority and topic, pauses."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.sla import (
    AlertRules,
    BusinessCalendar,
    Deadlines,
    Priority,
    SlaPolicy,
    Target,
    TargetKind,
    default_policy,
)

TZ = ZoneInfo("Asia/Tashkent")
WEEKDAYS = {weekday: [(time(8), time(20))] for weekday in range(5)}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def policy_with(**calendar: object) -> SlaPolicy:
    options: dict[str, object] = {"tz": TZ, "weekly": WEEKDAYS, "country": "UZ"}
    options.update(calendar)
    return SlaPolicy(calendar=BusinessCalendar(**options))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def policy() -> SlaPolicy:
    return default_policy()


# -- first response --------------------------------------------------------------------------

FIRST_RESPONSE = [
    pytest.param("2026-04-06 19:55", "2026-04-07 08:05", id="19:55-working-day=08:05-next-day"),
    pytest.param("2026-04-06 12:00", "2026-04-06 12:10", id="working-time=10-working-minutes"),
    pytest.param("2026-04-11 14:00", "2026-04-13 10:00", id="saturday-14:00=monday-10:00"),
    pytest.param(
        "2026-03-21 14:00", "2026-03-24 10:00", id="saturday-and-monday-holiday=tuesday-10:00"
    ),
    pytest.param("2026-04-06 07:30", "2026-04-06 10:00", id="07:30=10:00-same-day"),
    pytest.param("2026-04-06 20:00", "2026-04-07 10:00", id="exactly-20:00:00=10:00-next-day"),
    pytest.param("2026-04-06 08:00", "2026-04-06 08:10", id="exactly-08:00:00=starts-at-once"),
    pytest.param("2026-04-06 23:59:59", "2026-04-07 10:00", id="just-before-midnight"),
    pytest.param("2026-12-30 21:00", "2027-01-04 10:00", id="over-the-new-year"),
]


@pytest.mark.parametrize(("registered", "expected"), FIRST_RESPONSE)
def test_first_response_due(policy: SlaPolicy, registered: str, expected: str) -> None:
    due = policy.first_response_due(at(registered))
    assert due == at(expected)
    assert due.tzinfo is TZ


def test_saturday_before_a_configured_day_off_monday() -> None:
    policy = policy_with(extra_days_off=[date(2026, 4, 13)])
    assert policy.first_response_due(at("2026-04-11 14:00")) == at("2026-04-14 10:00")


def test_a_day_that_opens_after_the_hour_gives_the_working_minutes_from_opening() -> None:
    policy = policy_with(weekly={d: [(time(11), time(20))] for d in range(5)})
    assert policy.first_response_due(at("2026-04-11 14:00")) == at("2026-04-13 11:10")
    exactly = policy_with(weekly={d: [(time(10), time(20))] for d in range(5)})
    assert exactly.first_response_due(at("2026-04-11 14:00")) == at("2026-04-13 10:10")


# -- resolution ------------------------------------------------------------------------------

RESOLUTION = [
    pytest.param(
        "2026-04-10 18:00",
        Priority.HIGH,
        None,
        "2026-04-13 14:00",
        id="high-friday-18:00=monday-14:00",
    ),
    pytest.param(
        "2026-04-11 23:00",
        Priority.CRITICAL,
        None,
        "2026-04-12 03:00",
        id="critical-round-the-clock-saturday-23:00=sunday-03:00",
    ),
    pytest.param(
        "2026-04-06 08:00",
        Priority.MEDIUM,
        None,
        "2026-04-07 20:00",
        id="medium-24-working-hours=2-days",
    ),
    pytest.param(
        "2026-04-06 15:00",
        Priority.LOW,
        None,
        "2026-04-08 20:00",
        id="low-monday-15:00=wednesday-20:00",
    ),
    pytest.param(
        "2026-04-10 19:00",
        Priority.LOW,
        None,
        "2026-04-14 20:00",
        id="low-friday-19:00=tuesday-20:00",
    ),
    pytest.param(
        "2026-04-11 14:00",
        Priority.LOW,
        None,
        "2026-04-14 20:00",
        id="low-saturday-14:00=tuesday-20:00",
    ),
    pytest.param(
        "2026-04-06 20:00",
        Priority.HIGH,
        None,
        "2026-04-07 16:00",
        id="high-at-20:00:00=next-opening",
    ),
    pytest.param(
        "2026-04-06 10:00",
        Priority.LOW,
        "catalog",
        "2026-04-11 10:00",
        id="catalog-topic-5-calendar-days",
    ),
    pytest.param(
        "2026-04-06 10:00",
        Priority.CRITICAL,
        "catalog",
        "2026-04-11 10:00",
        id="topic-target-wins-over-priority",
    ),
    pytest.param(
        "2026-04-06 10:00", Priority.HIGH, "other", "2026-04-06 18:00", id="unknown-topic=priority"
    ),
]


@pytest.mark.parametrize(("registered", "priority", "topic", "expected"), RESOLUTION)
def test_resolution_due(
    policy: SlaPolicy, registered: str, priority: Priority, topic: str | None, expected: str
) -> None:
    assert policy.resolution_due(at(registered), priority, topic) == at(expected)


def test_critical_and_catalog_count_calendar_time_over_holidays(policy: SlaPolicy) -> None:
    assert policy.resolution_due(at("2026-03-20 22:00"), Priority.CRITICAL) == at(
        "2026-03-21 02:00"
    )
    assert policy.resolution_due(at("2026-03-19 10:00"), Priority.HIGH, "catalog") == at(
        "2026-03-24 10:00"
    )


PAUSED = [
    pytest.param(
        Priority.HIGH,
        None,
        [("2026-04-06 11:00", "2026-04-06 12:30")],
        "2026-04-06 19:30",
        id="high-pause-in-working-time-extends",
    ),
    pytest.param(
        Priority.HIGH,
        None,
        [("2026-04-06 15:00", "2026-04-13 09:00")],
        "2026-04-13 12:00",
        id="high-pause-spanning-a-weekend-counts-working-time-only",
    ),
    pytest.param(
        Priority.CRITICAL,
        None,
        [("2026-04-06 11:00", "2026-04-06 12:00")],
        "2026-04-06 15:00",
        id="critical-pause-counts-round-the-clock",
    ),
    pytest.param(
        Priority.CRITICAL,
        None,
        [("2026-04-06 15:00", "2026-04-06 16:00")],
        "2026-04-06 14:00",
        id="critical-pause-after-the-deadline-changes-nothing",
    ),
    pytest.param(
        Priority.LOW,
        None,
        [("2026-04-07 10:00", "2026-04-07 12:00")],
        "2026-04-09 10:00",
        id="low-shifted-by-the-working-time-paused",
    ),
    pytest.param(
        Priority.MEDIUM,
        "catalog",
        [("2026-04-07 10:00", "2026-04-08 10:00")],
        "2026-04-12 10:00",
        id="catalog-shifted-by-the-paused-day",
    ),
    pytest.param(
        Priority.HIGH,
        None,
        [("2026-04-06 11:00", "2026-04-06 12:00"), ("2026-04-06 13:00", "2026-04-06 14:00")],
        "2026-04-06 20:00",
        id="several-pauses-add-up",
    ),
]


@pytest.mark.parametrize(("priority", "topic", "pauses", "expected"), PAUSED)
def test_resolution_with_pauses(
    policy: SlaPolicy,
    priority: Priority,
    topic: str | None,
    pauses: list[tuple[str, str]],
    expected: str,
) -> None:
    stretches = [(at(a), at(b)) for a, b in pauses]
    due = policy.resolution_due(at("2026-04-06 10:00"), priority, topic, stretches)
    assert due == at(expected)


def test_an_open_pause_has_no_resolution_deadline(policy: SlaPolicy) -> None:
    pauses = [(at("2026-04-06 11:00"), at("2026-04-06 12:00")), (at("2026-04-06 13:00"), None)]
    deadlines = policy.deadlines(at("2026-04-06 10:00"), Priority.HIGH, None, pauses)
    assert deadlines == Deadlines(first_response_due=at("2026-04-06 10:10"), resolution_due=None)


def test_pauses_are_ignored_when_the_policy_does_not_pause() -> None:
    policy = SlaPolicy(calendar=default_policy().calendar, pause_while_waiting=False)
    pauses = [(at("2026-04-06 11:00"), at("2026-04-06 12:00")), (at("2026-04-06 13:00"), None)]
    due = policy.resolution_due(at("2026-04-06 10:00"), Priority.HIGH, None, pauses)
    assert due == at("2026-04-06 18:00")


def test_priority_change_recomputes_from_registration_keeping_pauses(policy: SlaPolicy) -> None:
    registered = at("2026-04-06 10:00")
    pauses = [(at("2026-04-06 11:00"), at("2026-04-07 11:00"))]  # 12 working hours paused
    as_medium = policy.resolution_due(registered, Priority.MEDIUM, None, pauses)
    as_high = policy.resolution_due(registered, Priority.HIGH, None, pauses)
    assert as_medium == at("2026-04-09 10:00")
    assert as_high == at("2026-04-07 18:00")
    # Back to medium: the same answer as before, nothing accumulated in between.
    assert policy.resolution_due(registered, Priority.MEDIUM, None, pauses) == as_medium


def test_deadlines_are_given_in_the_desk_zone_for_utc_input(policy: SlaPolicy) -> None:
    registered = datetime.fromisoformat("2026-03-19T14:55:00+00:00")
    deadlines = policy.deadlines(registered, Priority.HIGH)
    assert deadlines.first_response_due.isoformat() == "2026-03-24T08:05:00+05:00"
    assert deadlines.resolution_due is not None
    assert deadlines.resolution_due.isoformat() == "2026-03-24T15:55:00+05:00"


# -- targets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "fraction", "expected"),
    [
        pytest.param(Priority.HIGH, 0.8, "2026-04-06 14:24", id="80%-of-8-working-hours"),
        pytest.param(Priority.HIGH, 0.0, "2026-04-06 08:00", id="0%=registration"),
        pytest.param(Priority.HIGH, 1.5, "2026-04-06 20:00", id="150%=12h=closing"),
        pytest.param(Priority.CRITICAL, 0.8, "2026-04-06 11:12", id="80%-of-4-calendar-hours"),
        pytest.param(Priority.LOW, 0.5, "2026-04-07 14:00", id="50%-of-2-working-days"),
    ],
)
def test_fraction_due(
    policy: SlaPolicy, priority: Priority, fraction: float, expected: str
) -> None:
    target = policy.resolution_target(priority, None)
    assert target.fraction_due(policy.calendar, at("2026-04-06 08:00"), fraction) == at(expected)


def test_target_lengths(policy: SlaPolicy) -> None:
    assert policy.resolution[Priority.HIGH].seconds == 8 * 3600
    assert policy.resolution[Priority.LOW].seconds is None
    low = policy.resolution[Priority.LOW]
    assert low.budget(policy.calendar, at("2026-04-06 15:00")) == timedelta(hours=29)


@pytest.mark.parametrize(
    "arguments",
    [
        pytest.param({"kind": TargetKind.WORKING}, id="working-without-amount"),
        pytest.param({"kind": TargetKind.CALENDAR, "amount": timedelta(-1)}, id="negative-amount"),
        pytest.param({"kind": TargetKind.WORKING_DAYS, "days": -1}, id="negative-days"),
        pytest.param(
            {"kind": TargetKind.WORKING_DAYS, "days": 1, "amount": timedelta(1)},
            id="days-and-amount",
        ),
    ],
)
def test_bad_targets_are_refused(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="target"):
        Target(**arguments)  # type: ignore[arg-type]


def test_a_policy_must_cover_every_priority() -> None:
    with pytest.raises(ValueError, match="low"):
        SlaPolicy(
            calendar=default_policy().calendar,
            resolution={Priority.CRITICAL: Target.working_time(timedelta(hours=1))},
        )


def test_default_policy_is_the_spec() -> None:
    policy = default_policy()
    assert policy.calendar.tz == TZ
    assert policy.first_response_working == timedelta(minutes=10)
    assert policy.first_response_outside_by == time(10)
    assert dict(policy.resolution) == {
        Priority.CRITICAL: Target(TargetKind.CALENDAR, amount=timedelta(hours=4)),
        Priority.HIGH: Target(TargetKind.WORKING, amount=timedelta(hours=8)),
        Priority.MEDIUM: Target(TargetKind.WORKING, amount=timedelta(hours=24)),
        Priority.LOW: Target(TargetKind.WORKING_DAYS, days=2),
    }
    assert dict(policy.topic_resolution) == {"catalog": Target.calendar_time(timedelta(days=5))}
    assert policy.pause_while_waiting is True


# -- fingerprint -----------------------------------------------------------------------------


def test_fingerprint_is_stable() -> None:
    first, second = default_policy(), default_policy()
    assert first.fingerprint() == second.fingerprint()
    assert len(first.fingerprint()) == 64


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param(lambda: policy_with(extra_days_off=[date(2026, 12, 30)]), id="a-day-off"),
        pytest.param(lambda: policy_with(decreed_working_days=True), id="decreed-days"),
        pytest.param(lambda: policy_with(country=None), id="no-holidays"),
        pytest.param(lambda: policy_with(tz=ZoneInfo("Asia/Samarkand")), id="zone"),
        pytest.param(
            lambda: policy_with(weekly={d: [(time(9), time(18))] for d in range(5)}), id="hours"
        ),
        pytest.param(
            lambda: SlaPolicy(calendar=default_policy().calendar, pause_while_waiting=False),
            id="pause-rule",
        ),
        pytest.param(
            lambda: SlaPolicy(
                calendar=default_policy().calendar, first_response_working=timedelta(minutes=15)
            ),
            id="first-response",
        ),
        pytest.param(
            lambda: SlaPolicy(calendar=default_policy().calendar, topic_resolution={}),
            id="topics",
        ),
        pytest.param(
            lambda: SlaPolicy(
                calendar=default_policy().calendar, alerts=AlertRules(warning_share=0.9)
            ),
            id="alert-rules",
        ),
    ],
)
def test_fingerprint_changes_with_the_policy(changed: object) -> None:
    assert changed().fingerprint() != default_policy().fingerprint()  # type: ignore[operator]
