"""The desk's daily work on the same scheduler as the SLA alerts: the managers' digest at its
moment (DIGEST_TIME on working days), and the housekeeping every hour (a quiet resolved request
closes itself, delivered outbox rows are pruned).

The digest wakes the scheduler at its own moment, not on a scan: a date job armed for the next
digest moment of the desk's clock, armed again after each run and after a jump of the clock;
a sweep every minute asks for it too, as a safety net. Sending is once per day
whatever runs it (the digests table decides), so a restart at 09:00 or two processes send one.

Several processes on one database (scheduler.leases): a digest pass runs in one process at a
time (`job:digest`), and the housekeeping in one process an hour (`job:housekeeping`, kept for
the hour by the process that ran it)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.services.desk import Desk
from scheduler.digest import DigestParams, next_digest_at, run_digest
from scheduler.housekeeping import (
    close_quiet_requests,
    expire_personal_data,
    prune_inbox,
    prune_outbox,
)
from scheduler.leases import DIGEST, HOUSEKEEPING, JobLeases

log = logging.getLogger(__name__)

DIGEST_JOB, DIGEST_SWEEP, HOUSEKEEPING_JOB = "digest-next", "digest-sweep", "housekeeping"
DIGEST_SWEEP_EVERY = timedelta(minutes=1)
HOUSEKEEPING_EVERY = timedelta(hours=1)
# The housekeeping's lease outlives its period a little, so its holder renews it at its next
# run and no other process runs it in between.
HOUSEKEEPING_LEASE = HOUSEKEEPING_EVERY + timedelta(minutes=5)


class DailyJobs:
    def __init__(
        self,
        apscheduler: AsyncIOScheduler,
        sessions: async_sessionmaker[AsyncSession],
        desk: Desk,
        clock: Clock,
        digest: DigestParams,
        *,
        auto_close_days: int = 3,
        outbox_keep: timedelta = timedelta(days=30),
        inbox_keep: timedelta = timedelta(days=2),
        data_retention: timedelta | None = None,
        on_queued: Callable[[], None] = lambda: None,
        leases: JobLeases | None = None,
    ) -> None:
        self.apscheduler = apscheduler
        self.sessions = sessions
        self.leases = leases or JobLeases(sessions)
        self.desk = desk
        self.clock = clock
        self.digest_params = digest
        self.auto_close_days = auto_close_days
        self.outbox_keep = outbox_keep
        self.inbox_keep = inbox_keep
        self.data_retention = data_retention
        self.on_queued = on_queued
        self.digest_at: datetime | None = None  # the desk-clock moment the digest job waits for
        self._running = 0
        self._unlisten: Callable[[], None] | None = None

    def start(self) -> None:
        """After the scheduler started: the digest armed (at once: one due while the bot was
        down goes now), the housekeeping now and every hour."""
        self._arm_digest(self.clock.now())
        self.apscheduler.add_job(
            self.digest,
            IntervalTrigger(seconds=DIGEST_SWEEP_EVERY.total_seconds(), timezone=UTC),
            id=DIGEST_SWEEP,
            replace_existing=True,
        )
        self.apscheduler.add_job(
            self.housekeeping,
            IntervalTrigger(seconds=HOUSEKEEPING_EVERY.total_seconds(), timezone=UTC),
            id=HOUSEKEEPING_JOB,
            next_run_time=datetime.now(UTC),
            replace_existing=True,
        )
        listen = getattr(self.clock, "listen", None)
        if callable(listen):
            self._unlisten = listen(lambda: self._arm_digest(self.clock.now()))

    def stop(self) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None

    def idle(self) -> bool:
        """Nothing under way and the digest not yet due (the tests wait for this)."""
        due = self.digest_at
        return not self._running and (due is None or due > self.clock.now())

    def _arm_digest(self, moment: datetime) -> None:
        if not self.apscheduler.running:
            return
        delay = max(timedelta(0), moment - self.clock.now())
        self.digest_at = moment
        self.apscheduler.add_job(
            self.digest,
            DateTrigger(run_date=datetime.now(UTC) + delay, timezone=UTC),
            id=DIGEST_JOB,
            replace_existing=True,
        )

    async def digest(self) -> bool:
        """Send the digest if it is due now and nobody has; then wait for the next one."""
        now = self.clock.now()
        sent = False
        self._running += 1
        try:
            async with self.leases.pass_of(DIGEST) as ours:
                if ours:
                    sent = await run_digest(self.sessions, self.desk, self.digest_params, now)
        except Exception:
            log.exception("the digest failed; it is tried again at its next moment")
        finally:
            self._running -= 1
        if sent:
            self.on_queued()
        self._arm_digest(next_digest_at(now, self.desk, self.digest_params))
        return sent

    async def housekeeping(self) -> bool:
        """The hourly housekeeping, by one process an hour; False if another has it."""
        now = self.clock.now()
        self._running += 1
        try:
            if not await self.leases.take(HOUSEKEEPING, HOUSEKEEPING_LEASE):
                return False
            closed = await close_quiet_requests(self.sessions, self.desk, now, self.auto_close_days)
            await prune_outbox(self.sessions, now, self.outbox_keep)
            await prune_inbox(self.sessions, now, self.inbox_keep)
            if self.data_retention is not None:
                await expire_personal_data(self.sessions, self.desk, now, self.data_retention)
        except Exception:
            log.exception("housekeeping failed; it runs again within the hour")
            return False
        finally:
            self._running -= 1
        if closed:
            self.on_queued()
        return True
