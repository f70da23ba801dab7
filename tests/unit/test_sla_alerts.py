"""The SLA alert planner as tables: warnings, breaches and repeats, in and outside working time,
critical requests round the clock, pauses, what was sent already; and how a card's target stands.

The week of 6 April 2026 (Monday to Friday) has no holiday; working time is 08:00-20:00."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.sla import AlertRules, Priority, SlaPolicy, Target, default_policy
from bot.sla.alerts import (
    Sent,
    Standing,
    TargetClock,
    most_urgent,
    plan_alerts,
    standings,
)
from bot.vocabulary import AlertKind

TZ = ZoneInfo("Asia/Tashkent")
POLICY = default_policy(TZ)
CAL = POLICY.calendar
W, B, R = AlertKind.WARNING, AlertKind.BREACH, AlertKind.REPEAT


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def first_response(registered: str, policy: SlaPolicy = POLICY) -> TargetClock:
    start = at(registered)
    due = policy.first_response_due(start)
    budget = policy.calendar.working_time_between(start, due)
    return TargetClock("first_response", Target.working_time(budget), start, due)


def resolution(
    registered: str, priority: Priority = Priority.MEDIUM, topic: str | None = None
) -> TargetClock:
    start = at(registered)
    due = POLICY.resolution_due(start, priority, topic)
    return TargetClock("resolution", POLICY.resolution_target(priority, topic), start, due)


def plan(
    clock: TargetClock,
    *,
    now: str | None = None,
    critical: bool = False,
    sent: Sent | None = None,
    rules: AlertRules = POLICY.alerts,
) -> list[tuple[AlertKind, int, str]]:
    alerts = plan_alerts(
        [clock],
        calendar=CAL,
        rules=rules,
        critical=critical,
        sent={clock.name: sent} if sent else {},
        now=at(now) if now else clock.start,
    )
    for alert in alerts:
        assert alert.fire_at.tzinfo is UTC
        assert alert.due_at == clock.due
    return [(a.kind, a.round, a.fire_at.astimezone(TZ).strftime("%a %H:%M")) for a in alerts]


# ---------------------------------------------------------------- at registration

PLANS = [
    pytest.param(
        first_response("2026-04-06 12:00"),
        False,
        [(W, 0, "Mon 12:08"), (B, 0, "Mon 12:10")],
        id="first-response-in-working-time:80%-of-10-minutes",
    ),
    pytest.param(
        first_response("2026-04-06 19:55"),
        False,
        [(W, 0, "Tue 08:03"), (B, 0, "Tue 08:05")],
        id="first-response-across-the-closing:working-minutes-only",
    ),
    pytest.param(
        first_response("2026-04-11 14:00"),
        False,
        [(W, 0, "Mon 09:36"), (B, 0, "Mon 10:00")],
        id="saturday:80%-of-the-2-working-hours-before-10:00",
    ),
    pytest.param(
        resolution("2026-04-06 12:00"),
        False,
        [(W, 0, "Tue 19:12"), (B, 0, "Wed 12:00")],
        id="medium:19.2-of-24-working-hours",
    ),
    pytest.param(
        resolution("2026-04-10 18:00", Priority.HIGH),
        False,
        [(W, 0, "Mon 12:24"), (B, 0, "Mon 14:00")],
        id="high-friday-18:00:over-the-weekend",
    ),
    pytest.param(
        resolution("2026-04-06 15:00", Priority.LOW),
        False,
        [(W, 0, "Wed 14:12"), (B, 0, "Thu 08:00")],
        id="low:breach-at-closing-time-waits-for-the-opening",
    ),
    pytest.param(
        resolution("2026-04-11 23:00", Priority.CRITICAL),
        True,
        [(W, 0, "Sun 02:12"), (B, 0, "Sun 03:00")],
        id="critical-saturday-night:round-the-clock",
    ),
    pytest.param(
        resolution("2026-04-07 14:00", topic="catalog"),
        False,
        [(B, 0, "Mon 08:00")],
        id="catalog-5-days:warning-and-breach-held-for-one-opening:breach-only",
    ),
    pytest.param(
        resolution("2026-04-08 10:00", topic="catalog"),
        False,
        [(W, 0, "Mon 08:00"), (B, 0, "Mon 10:00")],
        id="catalog-5-days:sunday-warning-waits-for-monday",
    ),
    pytest.param(
        resolution("2026-04-07 14:00", topic="catalog"),
        True,
        [(W, 0, "Sat 14:00"), (B, 0, "Sun 14:00")],
        id="critical-catalog:nothing-held",
    ),
]


@pytest.mark.parametrize(("clock", "critical", "expected"), PLANS)
def test_plan_at_registration(
    clock: TargetClock, critical: bool, expected: list[tuple[AlertKind, int, str]]
) -> None:
    assert plan(clock, critical=critical) == expected


# ---------------------------------------------------------------- what was sent, and later

LATER = [
    pytest.param(
        first_response("2026-04-06 12:00"),
        "2026-04-06 12:08",
        Sent(warned=True),
        False,
        [(B, 0, "Mon 12:10")],
        id="warned:the-breach-is-left",
    ),
    pytest.param(
        first_response("2026-04-06 12:00"),
        "2026-04-06 12:30",
        Sent(),
        False,
        [(B, 0, "Mon 12:10")],
        id="both-due-after-a-restart:breach-only",
    ),
    pytest.param(
        first_response("2026-04-06 12:00"),
        "2026-04-06 12:10",
        Sent(warned=True, last_round=0, last_at=at("2026-04-06 12:10")),
        False,
        [(R, 1, "Mon 14:10")],
        id="breached:first-repeat-2-working-hours-later",
    ),
    pytest.param(
        first_response("2026-04-06 12:00"),
        "2026-04-06 14:10",
        Sent(warned=True, last_round=1, last_at=at("2026-04-06 14:10")),
        False,
        [(R, 2, "Mon 16:10")],
        id="repeats-count-on",
    ),
    pytest.param(
        first_response("2026-04-06 12:00"),
        "2026-04-06 19:30",
        Sent(warned=True, last_round=2, last_at=at("2026-04-06 19:30")),
        False,
        [(R, 3, "Tue 09:30")],
        id="a-late-repeat:the-next-one-interval-after-it,-over-the-night",
    ),
    pytest.param(
        first_response("2026-04-06 12:00"),
        "2026-04-08 09:00",
        Sent(warned=True, last_round=0, last_at=at("2026-04-08 09:00")),
        False,
        [(R, 1, "Wed 11:00")],
        id="breach-sent-after-a-long-outage:one-repeat,-not-a-flood",
    ),
    pytest.param(
        resolution("2026-04-06 12:00"),
        "2026-04-08 12:00",
        Sent(warned=True, last_round=0, last_at=at("2026-04-08 12:00")),
        False,
        [(R, 1, "Wed 14:00")],
        id="resolution-repeat",
    ),
    pytest.param(
        resolution("2026-04-06 15:00", Priority.LOW),
        "2026-04-09 08:00",
        Sent(warned=True, last_round=0, last_at=at("2026-04-09 08:00")),
        False,
        [(R, 1, "Thu 10:00")],
        id="repeat-after-a-breach-held-for-the-opening",
    ),
    pytest.param(
        resolution("2026-04-11 23:00", Priority.CRITICAL),
        "2026-04-12 03:00",
        Sent(warned=True, last_round=0, last_at=at("2026-04-12 03:00")),
        True,
        [(R, 1, "Sun 05:00")],
        id="critical-repeat-at-night",
    ),
]


@pytest.mark.parametrize(("clock", "now", "sent", "critical", "expected"), LATER)
def test_plan_later(
    clock: TargetClock,
    now: str,
    sent: Sent,
    critical: bool,
    expected: list[tuple[AlertKind, int, str]],
) -> None:
    assert plan(clock, now=now, sent=sent, critical=critical) == expected


def test_a_repeat_that_lands_on_the_closing_waits_for_the_opening() -> None:
    clock = first_response("2026-04-06 17:50")  # due 18:00; 2 working hours later is 20:00
    sent = Sent(warned=True, last_round=0, last_at=at("2026-04-06 18:00"))
    assert plan(clock, now="2026-04-06 18:00", sent=sent) == [(R, 1, "Tue 08:00")]


def test_met_and_paused_targets_get_nothing() -> None:
    clock = first_response("2026-04-06 12:00")
    assert (
        plan_alerts(
            [
                TargetClock(clock.name, clock.target, clock.start, clock.due, met=True),
                TargetClock(
                    "resolution", Target.working_time(timedelta(hours=8)), clock.start, None
                ),
            ],
            calendar=CAL,
            rules=POLICY.alerts,
            critical=False,
            sent={},
            now=clock.start,
        )
        == []
    )


def test_a_pause_moves_the_warning_with_the_deadline() -> None:
    start = at("2026-04-06 12:00")
    pauses = [(at("2026-04-06 13:00"), at("2026-04-07 13:00"))]  # 12 working hours waiting
    due = POLICY.resolution_due(start, Priority.HIGH, pauses=pauses)
    assert due == at("2026-04-07 20:00")  # at the closing: the breach waits for Wednesday
    clock = TargetClock(
        "resolution", POLICY.resolution_target(Priority.HIGH), start, due, pauses=tuple(pauses)
    )
    assert plan(clock) == [(W, 0, "Tue 18:24"), (B, 0, "Wed 08:00")]


def test_the_share_and_the_interval_are_the_policy_s() -> None:
    rules = AlertRules(warning_share=0.5, repeat_every=timedelta(minutes=30))
    clock = first_response("2026-04-06 12:00")
    assert plan(clock, rules=rules) == [(W, 0, "Mon 12:05"), (B, 0, "Mon 12:10")]
    sent = Sent(warned=True, last_round=0, last_at=at("2026-04-06 12:10"))
    assert plan(clock, rules=rules, now="2026-04-06 12:10", sent=sent) == [(R, 1, "Mon 12:40")]


@pytest.mark.parametrize(
    "bad", [{"warning_share": 0}, {"warning_share": 1}, {"repeat_every": timedelta(0)}]
)
def test_alert_rules_are_checked(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be"):
        AlertRules(**bad)  # type: ignore[arg-type]


def test_two_targets_in_time_order() -> None:
    registered = "2026-04-06 12:00"
    alerts = plan_alerts(
        [resolution(registered), first_response(registered)],
        calendar=CAL,
        rules=POLICY.alerts,
        critical=False,
        sent={},
        now=at(registered),
    )
    assert [(a.target, a.kind) for a in alerts] == [
        ("first_response", W),
        ("first_response", B),
        ("resolution", W),
        ("resolution", B),
    ]


# ---------------------------------------------------------------- how a target stands

STANDINGS = [
    pytest.param(first_response("2026-04-06 12:00"), "2026-04-06 12:05", None, id="early"),
    pytest.param(
        first_response("2026-04-06 12:00"),
        "2026-04-06 12:08",
        (W, timedelta(minutes=2)),
        id="warning-zone",
    ),
    pytest.param(
        first_response("2026-04-06 12:00"),
        "2026-04-06 13:20",
        (B, timedelta(hours=1, minutes=10)),
        id="overdue",
    ),
    pytest.param(
        resolution("2026-04-06 12:00"),
        "2026-04-07 19:30",
        (W, timedelta(hours=4, minutes=30)),
        id="time-left-is-working-time",
    ),
    pytest.param(
        resolution("2026-04-06 15:00", Priority.LOW),
        "2026-04-09 08:00",
        (B, timedelta(hours=12)),
        id="overdue-is-calendar-time",
    ),
    pytest.param(
        resolution("2026-04-11 23:00", Priority.CRITICAL),
        "2026-04-12 02:30",
        (W, timedelta(minutes=30)),
        id="critical-calendar-time-left",
    ),
]


@pytest.mark.parametrize(("clock", "now", "expected"), STANDINGS)
def test_standing(
    clock: TargetClock, now: str, expected: tuple[AlertKind, timedelta] | None
) -> None:
    found = standings([clock], calendar=CAL, rules=POLICY.alerts, now=at(now))
    if expected is None:
        assert found == {}
    else:
        assert (found[clock.name].kind, found[clock.name].amount) == expected


def test_most_urgent_prefers_a_breach_then_the_earlier_deadline() -> None:
    due = at("2026-04-06 12:00")
    warn = Standing("first_response", W, timedelta(minutes=1), due)
    late = Standing("resolution", B, timedelta(minutes=5), due + timedelta(hours=1))
    assert most_urgent({"first_response": warn, "resolution": late}) == late
    assert most_urgent({"first_response": warn}) == warn
    assert most_urgent({}) is None
