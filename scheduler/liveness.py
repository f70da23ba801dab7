"""Heartbeats: each bot process beats every few seconds; the outbox items, chats and scheduled
jobs leased by a process that stopped beating (killed, its machine gone) are freed, so the
living take them over within seconds instead of when the lease runs out. A clean stop gives
back what the process held. Real time, not the desk's clock: this is about processes, not
deadlines (tests that move the desk's clock do not kill anyone)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, SystemClock
from storage.leases import LeaseRepo
from storage.outbox import OutboxRepo
from storage.processes import ProcessRepo

log = logging.getLogger(__name__)

BEAT = timedelta(seconds=2)
STALE = timedelta(seconds=8)


class Liveness:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        process_id: str,
        *,
        clock: Clock | None = None,
        beat: timedelta = BEAT,
        stale: timedelta = STALE,
        on_alive: Callable[[int], None] = lambda processes: None,
    ) -> None:
        self.sessions = sessions
        self.process_id = process_id
        self.clock = clock or SystemClock()
        self.beat = beat
        self.stale = stale
        # Told how many processes are alive at each beat (the delivery worker's pacing share).
        self.on_alive = on_alive
        self._stop = asyncio.Event()

    async def once(self) -> int:
        """Beat, and free what dead processes held; returns how many items were freed."""
        now = self.clock.now()
        async with self.sessions() as session:
            processes = ProcessRepo(session)
            await processes.beat(self.process_id, now=now)
            await processes.forget_dead(now=now, stale=self.stale)
            alive = [*await processes.alive(now=now, stale=self.stale), self.process_id]
            freed = await OutboxRepo(session).release_dead(alive)
            # Chats and scheduled jobs a dead process held are anyone's now.
            await LeaseRepo(session).release_dead(alive)
            await session.commit()
        self.on_alive(len(set(alive)))
        if freed:
            log.info("%d outbox items held by a stopped process were freed", freed)
        return freed

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.once()
            except Exception:
                log.exception("heartbeat failed; trying again")
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.beat.total_seconds())

    async def stop(self) -> None:
        """A clean stop: this process is gone, and what it held is free at once."""
        self._stop.set()
        try:
            async with self.sessions() as session:
                await ProcessRepo(session).forget(self.process_id)
                await OutboxRepo(session).release_dead(
                    await ProcessRepo(session).alive(now=self.clock.now(), stale=self.stale)
                )
                await LeaseRepo(session).release_all(self.process_id)
                await session.commit()
        except Exception:
            log.exception("could not sign off the process")
