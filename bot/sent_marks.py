"""Replies sent at once are recorded as sent together: a group commit.

A reply is kept in the outbox in its update's transaction and sent right after the commit;
once Telegram has taken it, its row is marked sent, or a restart would send it again. Marked
one by one, that is a transaction of its own per reply. Here every reply sent while a mark is
being written waits for the next one, and one transaction marks them all: under load, many
replies per transaction; alone, one, as before.

Each caller waits until its own mark is committed before it goes on (the next reply of its
update, the next update of its chat), so a chat never has more than the one reply that was in
flight sent but not marked: what a crash may send twice."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from storage.outbox import OutboxRepo

log = logging.getLogger(__name__)


@dataclass
class SentMarks:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    # Whose lease the rows carry (the delivery worker's process id): a row the worker took
    # over meanwhile is left to it.
    owner: str
    _waiting: list[tuple[int, asyncio.Future[None]]] = field(default_factory=list)
    _writer: asyncio.Task[None] | None = None
    # Transactions written and rows marked (for the tests).
    batches: int = 0
    marked: int = 0

    async def __call__(self, row: int) -> None:
        """Record the outbox row `row` as sent; returns once that is committed (raises what
        the database raised)."""
        done = asyncio.get_running_loop().create_future()
        self._waiting.append((row, done))
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())
        await done

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    async with self.sessions() as session:
                        await OutboxRepo(session).mark_sent_by(
                            [row for row, _ in batch], worker=self.owner, now=self.clock.now()
                        )
                        await session.commit()
                except Exception as exc:
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                self.batches += 1
                self.marked += len(batch)
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)
        finally:
            self._writer = None
