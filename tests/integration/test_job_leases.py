"""Scheduled jobs with several processes on one database (scheduler.leases): the SLA alert pass
and the digest run in one process at a time, the housekeeping in one process an hour, a backed-up
group's requests are announced by one process at a time; a killed process's leases are freed by
the living's heartbeat, a stopped one gives its own back. Two schedulers with their own process
ids stand for two processes; each job's work is watched for running twice at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import scheduler.daily
import scheduler.jobs
from bot.clock import ShiftedClock
from bot.services.desk import Desk
from scheduler.announce import announce_waiting
from scheduler.daily import HOUSEKEEPING_EVERY, DailyJobs
from scheduler.digest import DigestParams
from scheduler.jobs import AGAIN_AFTER, DeskScheduler
from scheduler.leases import ANNOUNCE, HOUSEKEEPING, SLA_ALERTS, JobLeases
from scheduler.liveness import Liveness
from storage.db import create_session_factory
from storage.leases import LeaseRepo
from storage.models import Digest, Lease, OutboxItem
from tests.integration.alert_kit import AlertDesk, at, numbers_in
from tests.integration.conftest import OPERATOR_CHAT_ID
from tests.integration.stats_kit import DIGEST_NOW, build_desk
from tests.integration.test_alert_scheduler import until

Sessions = async_sessionmaker[AsyncSession]
PARAMS = DigestParams(manager_chat_id=-100777, manager_ids=frozenset({501}))


class Time:
    """The processes' real time, moved by the test (leases and heartbeats count it)."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


class Watched:
    """A job's work wrapped: counts the runs and how many were under way at once."""

    def __init__(self, work: Callable[..., Awaitable[Any]]) -> None:
        self.work = work
        self.runs = 0
        self.running = 0
        self.most_at_once = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.runs += 1
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(0.02)  # long enough for the other process to try too
            return await self.work(*args, **kwargs)
        finally:
            self.running -= 1


async def leases_held(sessions: Sessions) -> dict[str, str]:
    async with sessions() as session:
        return {r.name: r.holder for r in (await session.scalars(select(Lease))).all()}


async def test_one_alert_pass_at_a_time_and_each_alert_once(
    db: AsyncEngine, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = create_session_factory(db)
    kit = AlertDesk(sessions, desk)
    for minute in range(6):
        await kit.open(at(f"2026-04-06 12:0{minute}"))
    watched = Watched(scheduler.jobs.run_alerts_once)
    monkeypatch.setattr(scheduler.jobs, "run_alerts_once", watched)
    clock = ShiftedClock(at("2026-04-06 11:59"))
    time = Time()
    # Each process has its own engine's sessions, as two processes would.
    processes = [
        DeskScheduler(
            create_session_factory(db),
            desk,
            clock,
            leases=JobLeases(create_session_factory(db), holder=name, clock=time),
        )
        for name in ("p1", "p2")
    ]
    for jobs in processes:
        jobs.start()
    try:
        await asyncio.gather(*(jobs.run() for jobs in processes))  # the start's passes too
        for _minute in range(16):
            clock.advance(timedelta(minutes=1))
            results = await asyncio.gather(*(jobs.run() for jobs in processes))
            assert 0 in results  # one of the two skipped, or had nothing left to send
        await asyncio.gather(*(jobs.run() for jobs in processes))
    finally:
        for jobs in processes:
            await jobs.stop()
    assert watched.most_at_once == 1
    assert watched.runs >= 18  # every minute someone ran the pass
    # Six requests: each warned once and breached once, in the group.
    texts = await kit.alerts_to(OPERATOR_CHAT_ID)
    numbers = Counter(n for text in texts for n in numbers_in(text))
    assert len(numbers) == 6
    assert set(numbers.values()) == {2}
    assert await leases_held(sessions) == {}  # a pass gives its lease back


async def test_a_process_that_skips_the_pass_looks_again_a_second_later(
    sessions: Sessions, desk: Desk
) -> None:
    clock = ShiftedClock(at("2026-04-06 12:00"))
    other = JobLeases(sessions, holder="p1")
    assert await other.take(SLA_ALERTS, timedelta(minutes=5))  # p1 is in a pass
    jobs = DeskScheduler(sessions, desk, clock, leases=JobLeases(sessions, holder="p2"))
    jobs.start()
    try:
        await asyncio.sleep(0)
        assert await jobs.run() == 0
        armed = jobs.armed
        assert armed is not None
        assert timedelta(0) < armed - clock.now() <= AGAIN_AFTER
        # p1's pass ends; a request whose breach is due now was missed by it. Nothing plans
        # or jumps: p2's look a second later finds it.
        kit = AlertDesk(sessions, desk)
        await kit.open(at("2026-04-06 11:50"))
        await other.release(SLA_ALERTS)
        for _tick in range(150):
            if await kit.alerts_to(OPERATOR_CHAT_ID):
                break
            await asyncio.sleep(0.02)
        await until(jobs.idle)
        assert len(await kit.alerts_to(OPERATOR_CHAT_ID)) == 1
    finally:
        await jobs.stop()


def daily(db: AsyncEngine, desk: Desk, name: str, time: Time) -> DailyJobs:
    return DailyJobs(
        AsyncIOScheduler(timezone=UTC),  # not started: the test calls the jobs itself
        create_session_factory(db),
        desk,
        ShiftedClock(DIGEST_NOW),
        PARAMS,
        leases=JobLeases(create_session_factory(db), holder=name, clock=time),
    )


async def test_the_digest_is_run_by_one_process_and_sent_once(
    db: AsyncEngine, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = create_session_factory(db)
    await build_desk(sessions, digest=False)
    watched = Watched(scheduler.daily.run_digest)
    monkeypatch.setattr(scheduler.daily, "run_digest", watched)
    time = Time()
    processes = [daily(db, desk, name, time) for name in ("p1", "p2", "p3")]
    results = await asyncio.gather(*(jobs.digest() for jobs in processes))
    assert results.count(True) == 1
    assert watched.runs == 1  # the others skipped: the pass was under way
    assert watched.most_at_once == 1
    # A minute on, the sweeps of all three look again: one pass at a time, nothing sent.
    for _sweep in range(3):
        results = await asyncio.gather(*(jobs.digest() for jobs in processes))
        assert results == [False, False, False]
    assert watched.most_at_once == 1
    async with sessions() as session:
        assert len((await session.scalars(select(Digest))).all()) == 1
        photos = await session.scalars(select(OutboxItem).where(OutboxItem.method == "sendPhoto"))
        assert sorted(p.chat_id for p in photos) == [-100777, 501]
    assert await leases_held(sessions) == {}


async def test_the_housekeeping_runs_in_one_process_an_hour(
    db: AsyncEngine, desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    watched = Watched(scheduler.daily.close_quiet_requests)
    monkeypatch.setattr(scheduler.daily, "close_quiet_requests", watched)
    time = Time()
    p1, p2 = daily(db, desk, "p1", time), daily(db, desk, "p2", time)
    first = await asyncio.gather(p1.housekeeping(), p2.housekeeping())
    assert sorted(first) == [False, True]
    assert watched.runs == 1
    runner, other = (p1, p2) if first[0] else (p2, p1)
    sessions = create_session_factory(db)
    # Each process runs it every hour, at its own minute: the other's hour is always taken.
    for _hour in range(3):
        time.advance(HOUSEKEEPING_EVERY / 2)
        assert not await other.housekeeping()
        time.advance(HOUSEKEEPING_EVERY / 2)
        assert await runner.housekeeping()
    assert watched.runs == 4
    assert watched.most_at_once == 1
    assert (await leases_held(sessions))[HOUSEKEEPING] == runner.leases.holder
    # The runner stops running it (its process hangs, say): its lease runs out, the other runs.
    time.advance(HOUSEKEEPING_EVERY + timedelta(minutes=6))
    assert await other.housekeeping()
    assert watched.runs == 5


async def test_a_killed_process_loses_its_leases_to_the_living_and_a_stopped_one_gives_them(
    sessions: Sessions,
) -> None:
    time = Time()
    dead, living, leaving = (
        Liveness(sessions, name, clock=time) for name in ("dead", "living", "leaving")
    )
    for process in (dead, living, leaving):
        await process.once()
    held = {"dead": "job:housekeeping", "leaving": "job:digest"}
    for holder, name in held.items():
        assert await JobLeases(sessions, holder=holder, clock=time).take(name, timedelta(hours=1))
    assert not await JobLeases(sessions, holder="living", clock=time).take(
        HOUSEKEEPING, timedelta(hours=1)
    )
    # "dead" is killed: it beats no more. Within the stale interval its leases stand.
    time.advance(timedelta(seconds=5))
    await living.once()
    await leaving.once()
    assert await leases_held(sessions) == {"job:housekeeping": "dead", "job:digest": "leaving"}
    time.advance(timedelta(seconds=5))
    await living.once()
    assert await leases_held(sessions) == {"job:digest": "leaving"}
    assert await JobLeases(sessions, holder="living", clock=time).take(
        HOUSEKEEPING, timedelta(hours=1)
    )
    # "leaving" stops cleanly: its leases are free at once, not after the stale interval.
    await leaving.stop()
    assert await leases_held(sessions) == {"job:housekeeping": "living"}
    async with sessions() as session:
        now = time.now()
        assert await LeaseRepo(session).holder(HOUSEKEEPING, now=now) == "living"


async def test_one_process_announces_a_backed_up_group_at_a_time(
    sessions: Sessions, desk: Desk
) -> None:
    moment = at("2026-04-06 12:00")
    await AlertDesk(sessions, desk).open_many(30, moment)
    p1, p2 = (JobLeases(sessions, holder=name) for name in ("p1", "p2"))

    async def announce(leases: JobLeases) -> Any:
        return await announce_waiting(
            sessions,
            desk,
            OPERATOR_CHAT_ID,
            moment + timedelta(minutes=1),
            backlog_limit=5,
            every=timedelta(seconds=20),
            leases=leases,
        )

    assert await p1.take(ANNOUNCE, timedelta(minutes=5))  # p1 is sending an announcement
    assert await announce(p2) is None  # p2 leaves it to p1
    await p1.release(ANNOUNCE)
    announced = await announce(p2)
    assert announced is not None
    assert (await leases_held(sessions)).get(ANNOUNCE) == "p2"  # held while it is sent
    assert await announce(p1) is None
    await announced.done()
    assert await leases_held(sessions) == {}
    # Everything waiting was named by p2: nothing is left to announce, and no lease is kept.
    assert await announce(p1) is None
    assert await leases_held(sessions) == {}
    assert all(str(n) in "".join(m.text for m in announced.messages) for n in range(1, 31))
