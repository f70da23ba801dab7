"""Which process runs a scheduled job: a named lease in the database (storage.leases).

Every bot process has the same scheduler, and on one database only one of them may run a job at
a time. Before a pass a process takes the job's lease (one atomic statement); a process that
does not get it skips the pass. Two kinds:

- a pass (the SLA alert pass, the digest, an announcement of waiting requests) holds its lease
  while it runs and gives it back at the end: the next pass is anyone's, so a process whose own
  handler planned an alert runs it at its moment;
- a periodic job (the hourly housekeeping) keeps its lease for its whole period: one process
  runs it each hour, and the others skip until that process is gone.

A killed process's leases are freed by the heartbeat of the living (scheduler.liveness) within
seconds, a stopped process gives its own back, and a lease runs out by itself as a last resort.
The claims in the database (an alert row, the day's digest row, `tickets.announced_at`, the
request's version) stay as the second line: even two passes at once do nothing twice.

Real time, not the desk's clock: a lease is about processes, not about deadlines."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from storage.leases import LeaseRepo

log = logging.getLogger(__name__)

SLA_ALERTS = "job:sla-alerts"
DIGEST = "job:digest"
HOUSEKEEPING = "job:housekeeping"
ANNOUNCE = "job:announce"

# Longer than a pass can take; a pass that runs longer may meet a second one (the claims hold).
PASS_LEASE = timedelta(minutes=5)


@dataclass
class JobLeases:
    sessions: async_sessionmaker[AsyncSession]
    # The process (its id in the processes table, so that a dead one's leases are freed).
    holder: str = field(default_factory=lambda: f"jobs-{uuid.uuid4().hex[:12]}")
    clock: Clock = field(default_factory=SystemClock)

    async def take(self, name: str, ttl: timedelta, *, session: AsyncSession | None = None) -> bool:
        """Take or renew the lease; False when another process holds it. In `session` (the
        caller commits) or in a transaction of its own."""
        if session is not None:
            return await LeaseRepo(session).take(
                name, holder=self.holder, now=self.clock.now(), ttl=ttl
            )
        async with self.sessions() as own:
            taken = await LeaseRepo(own).take(
                name, holder=self.holder, now=self.clock.now(), ttl=ttl
            )
            await own.commit()
        if not taken:
            log.debug("%s is run by another process now; skipped here", name)
        return taken

    async def release(self, name: str) -> None:
        """Give the lease back (if it is still ours). A failure only leaves it to run out."""
        try:
            async with self.sessions() as session:
                await LeaseRepo(session).release(name, holder=self.holder)
                await session.commit()
        except Exception:
            log.warning("the lease %s could not be given back; it runs out by itself", name)

    @asynccontextmanager
    async def pass_of(self, name: str, ttl: timedelta = PASS_LEASE) -> AsyncIterator[bool]:
        """`async with leases.pass_of(name) as ours:` run the pass only if `ours`."""
        ours = await self.take(name, ttl)
        try:
            yield ours
        finally:
            if ours:
                await self.release(name)
