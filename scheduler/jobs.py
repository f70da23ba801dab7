"""The desk's scheduler: APScheduler 3 (AsyncIOScheduler) in the bot's own event loop, started
and stopped with the bot (bot.factory.App).

SLA alerts wake it at their moment, not on a fixed scan: one date job is armed for the earliest
pending alert and moved whenever a plan changes (the update middleware calls `planned` after a
commit that planned an alert; every pass re-arms it from the database), and a sweep every minute
is the safety net. At start the date job is armed for the moment itself, so whatever fell due
while the bot was down is alerted at once (and once: the claim in the database decides).
With several processes on one database, one pass runs at a time among them: the pass takes the
lease `job:sla-alerts` (scheduler.leases), and a process that does not get it looks again a
second later.

The clock is a parameter: a pass takes `now` from it. APScheduler counts real time, so a moment
of the desk's clock is turned into a real delay when the job is armed; a clock that can jump
(the tests' and the demo's ShiftedClock) says so, and the job is armed again at once.

Other jobs (the digest, housekeeping) go on the same scheduler: `DeskScheduler.apscheduler`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.metrics import DeskMetrics
from bot.services.desk import Desk
from scheduler.alerts import run_alerts_once
from scheduler.leases import SLA_ALERTS, JobLeases
from storage.alerts import AlertRepo

log = logging.getLogger(__name__)

SWEEP_EVERY = timedelta(minutes=1)
NEXT_JOB, SWEEP_JOB = "sla-alerts-next", "sla-alerts-sweep"
# After a pass that leaves something due (a row moved by its re-plan), the next one waits this
# long, so a row that keeps coming due cannot spin the loop.
AGAIN_AFTER = timedelta(seconds=1)


class DeskScheduler:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        desk: Desk,
        clock: Clock,
        *,
        managers: Sequence[int] = (),
        on_queued: Callable[[], None] = lambda: None,
        sweep_every: timedelta = SWEEP_EVERY,
        leases: JobLeases | None = None,
    ) -> None:
        self.sessions = sessions
        # Several processes on one database: one pass at a time among them (scheduler.leases).
        self.leases = leases or JobLeases(sessions)
        self.desk = desk
        self.clock = clock
        self.managers = tuple(managers)
        self.on_queued = on_queued  # the delivery worker's wake: what was queued goes at once
        self.sweep_every = sweep_every
        self.metrics: DeskMetrics | None = None
        self.apscheduler = AsyncIOScheduler(
            timezone=UTC,
            # A job late because the loop was busy still runs (once, however late).
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self._lock = asyncio.Lock()
        self._armed: datetime | None = None  # the desk-clock moment the date job is set for
        self._started = False
        self._runs = 0  # passes under way or waiting for the lock
        self._no_runs = asyncio.Event()
        self._no_runs.set()
        self._unlisten: Callable[[], None] | None = None

    # ---- life

    def start(self) -> None:
        """In the running event loop (APScheduler takes it)."""
        for name in ("apscheduler.scheduler", "apscheduler.executors.default"):
            logging.getLogger(name).setLevel(logging.WARNING)  # a line per run is noise
        self.apscheduler.start()
        self._started = True
        self.apscheduler.add_job(
            self.run,
            IntervalTrigger(seconds=self.sweep_every.total_seconds(), timezone=UTC),
            id=SWEEP_JOB,
        )
        self._arm(self.clock.now())  # at once: what fell due while the bot was down
        listen = getattr(self.clock, "listen", None)
        if callable(listen):
            self._unlisten = listen(self.jumped)
        log.info("scheduler started (SLA alerts swept every %s)", self.sweep_every)

    async def stop(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Waits for a pass under way (its transaction commits or rolls back whole)."""
        if not self._started:
            return
        self._started = False
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self.apscheduler.remove_all_jobs()
        # A pass under way ends; one waiting to start gives up.
        with suppress(TimeoutError):
            await asyncio.wait_for(self._no_runs.wait(), timeout)
        self.apscheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # APScheduler shuts down in the loop's next turn

    # ---- waking

    def planned(self, moment: datetime) -> None:
        """An alert was planned for `moment` (after the commit): wake in time for it."""
        if self._started and (self._armed is None or moment < self._armed):
            self._arm(moment)

    def jumped(self) -> None:
        """The clock was moved: what is due at its new moment goes now."""
        if self._started:
            self._arm(self.clock.now())

    @property
    def armed(self) -> datetime | None:
        """The moment (of the desk's clock) the date job is set for."""
        return self._armed

    def idle(self) -> bool:
        """No pass under way and none due (the tests wait for this)."""
        armed = self._armed
        return not self._lock.locked() and (armed is None or armed > self.clock.now())

    def _arm(self, moment: datetime) -> None:
        delay = max(timedelta(0), moment - self.clock.now())
        self._armed = moment
        self.apscheduler.add_job(
            self.run,
            DateTrigger(run_date=datetime.now(UTC) + delay, timezone=UTC),
            id=NEXT_JOB,
            replace_existing=True,
        )

    # ---- the pass

    async def run(self) -> int:
        """One due-work pass at the clock's now; then the date job is armed for what is next."""
        self._runs += 1
        self._no_runs.clear()
        if self.metrics is not None:
            self.metrics.ran("scheduler")
        try:
            async with self._lock:
                if not self._started:
                    return 0
                return await self._pass()
        finally:
            self._runs -= 1
            if not self._runs:
                self._no_runs.set()

    async def _pass(self) -> int:
        self._armed = None
        sent = 0
        try:
            async with self.leases.pass_of(SLA_ALERTS) as ours:
                if not ours:
                    # Another process is in a pass, which may have looked before this moment
                    # came due: look again once it is done.
                    if self._started:
                        self._arm(self.clock.now() + AGAIN_AFTER)
                    return 0
                sent = await run_alerts_once(
                    self.sessions, self.desk, self.clock, managers=self.managers
                )
            async with self.sessions() as session:
                earliest = await AlertRepo(session).earliest_pending()
        except Exception:
            log.exception("SLA alert pass failed; the sweep tries again")
            return sent
        if sent:
            self.on_queued()
        if earliest is not None and self._started:
            now = self.clock.now()
            self._arm(max(earliest, now + AGAIN_AFTER) if earliest <= now else earliest)
        return sent
