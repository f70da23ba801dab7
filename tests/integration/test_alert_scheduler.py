"""The scheduler in the event loop (APScheduler 3): it wakes at the moment an alert is planned
for, not on a scan; a jump of the clock wakes it; at start it sends what fell due while the bot
was down, once; a restart sends nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ShiftedClock
from bot.services.desk import Desk
from scheduler.jobs import NEXT_JOB, DeskScheduler
from tests.integration.alert_kit import AlertDesk, at
from tests.integration.conftest import OPERATOR_CHAT_ID


@pytest.fixture
def kit(sessions: async_sessionmaker[AsyncSession], desk: Desk) -> AlertDesk:
    return AlertDesk(sessions, desk)


async def until(condition: Callable[[], object], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "the condition was not met in time"
        await asyncio.sleep(0.02)


async def count_alerts(kit: AlertDesk) -> int:
    return len(await kit.alerts_to(OPERATOR_CHAT_ID))


async def test_it_wakes_at_the_planned_moment(kit: AlertDesk) -> None:
    # The warning of a request registered 7 min 59.5 s ago is half a second away.
    clock = ShiftedClock(at("2026-04-06 12:07:59.5"))
    await kit.open(at("2026-04-06 12:00"))
    woken: list[bool] = []
    jobs = DeskScheduler(kit.sessions, kit.desk, clock, on_queued=lambda: woken.append(True))
    jobs.start()
    try:
        await until(jobs.idle)  # the sweep at start found nothing due yet
        assert await count_alerts(kit) == 0
        jobs.planned(at("2026-04-06 12:08"))
        job = jobs.apscheduler.get_job(NEXT_JOB)
        assert job is not None
        await until(lambda: woken, timeout=3)
        assert await count_alerts(kit) == 1
        # ... and it is armed again for the next one (the breach, two minutes on).
        await until(jobs.idle)
        assert jobs.armed == at("2026-04-06 12:10")
    finally:
        await jobs.stop()


async def test_a_jump_of_the_clock_wakes_it(kit: AlertDesk) -> None:
    clock = ShiftedClock(at("2026-04-06 12:00"))
    await kit.open(at("2026-04-06 12:00"))
    jobs = DeskScheduler(kit.sessions, kit.desk, clock)
    jobs.start()
    try:
        await until(jobs.idle)
        clock.advance(timedelta(minutes=10))
        assert not jobs.idle()
        await until(jobs.idle)
        [message] = await kit.alerts_to(OPERATOR_CHAT_ID)
        assert "Срок пропущен" in message  # the breach alone: the warning is moot by now
    finally:
        await jobs.stop()


async def test_at_start_what_fell_due_while_down_goes_at_once_and_once(kit: AlertDesk) -> None:
    for _ in range(3):
        await kit.open(at("2026-04-06 12:00"))
    clock = ShiftedClock(at("2026-04-06 12:30"))  # the bot was down from 12:00 to 12:30
    for _restart in range(3):
        jobs = DeskScheduler(kit.sessions, kit.desk, clock)
        jobs.start()
        try:
            await until(jobs.idle)
        finally:
            await jobs.stop()
    [message] = await kit.alerts_to(OPERATOR_CHAT_ID)
    assert message.count("№") == 3


async def test_a_stopped_scheduler_ignores_wakes(kit: AlertDesk) -> None:
    clock = ShiftedClock(at("2026-04-06 12:00"))
    jobs = DeskScheduler(kit.sessions, kit.desk, clock)
    jobs.planned(at("2026-04-06 12:08"))  # before start: nothing to arm
    jobs.start()
    await until(jobs.idle)
    await jobs.stop()
    clock.advance(timedelta(hours=1))  # no listener any more
    jobs.planned(at("2026-04-06 13:00"))
    assert await jobs.run() == 0
