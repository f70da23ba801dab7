"""Taking updates in: store first, confirm after, handle from the inbox.

`Inbox.receive` stores a batch of updates in a short transaction of its own; only when that
has committed does the poller move the getUpdates offset past them (a webhook answers 200), so
a crash never loses what Telegram handed over. Updates are then handled from memory: in order
per chat, different chats in parallel, with at most `concurrency` deciding at once (sized to
the database pool, so no load makes an update fail for want of a connection). The update's own
transaction marks it handled (bot.middlewares); its slot is given back as soon as that has
committed, before its replies are said: Telegram's 50-150 ms per call never holds a slot (the
chat's next update still waits until they are said). What a crash left pending is handled at
the next start (`recover`), and an update id seen twice is handled once.

Several processes (webhook mode behind a load balancer, one PostgreSQL database) share one inbox
(`shared=True`): a process that stored an update takes the chat's lease (storage.leases) before
handling it and then handles every pending update of that chat from the database, oldest first,
whichever process stored it; a process that finds the lease taken leaves its updates to the
holder, which looks again after giving the lease back. A sweep every few seconds takes what a
killed process left (its leases are freed by the heartbeats, scheduler.liveness).

Handled rows are pruned by the hourly housekeeping (scheduler.housekeeping)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import GetUpdates
from aiogram.types import CallbackQuery, Update
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.metrics import DeskMetrics
from bot.session import received_bodies
from storage.inbox import InboxRepo, Received
from storage.leases import LeaseRepo

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_DELAY = 1.0  # seconds before a failed update is tried again (doubled each time)
# Failures worth another try: the database was busy or away, not the handler wrong.
TRANSIENT = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, OSError)
# Shared inbox: a chat's lease, renewed while its updates are handled; what was stored this long
# ago and is still pending (its process died) is taken by the sweep, every SWEEP_EVERY seconds.
CHAT_LEASE = timedelta(seconds=30)
SWEEP_AFTER = timedelta(seconds=5)
SWEEP_EVERY = 2.0
BATCH = 50


def chat_lease(key: int) -> str:
    return f"chat:{key}"


def chat_key(update: Update) -> int:
    """The key that orders an update among others: its chat, else its sender, else 0."""
    try:
        event = update.event
    except Exception:  # an update type aiogram does not know
        return 0
    chat = getattr(event, "chat", None)
    if chat is None and isinstance(event, CallbackQuery) and event.message is not None:
        chat = event.message.chat
    if chat is not None:
        return int(chat.id)
    user = getattr(event, "from_user", None) or getattr(event, "user", None)
    return int(user.id) if user is not None else 0


def body_of(update: Update) -> dict[str, Any]:
    """The update as Telegram sent it (aliases, nothing that was not there)."""
    return update.model_dump(mode="json", exclude_unset=True, by_alias=True)


@dataclass
class InboxTicket:
    """Travels with one update through the dispatcher: the update middleware marks it handled
    in the update's transaction, or notes the failure, or finds it handled already."""

    update_id: int
    handled: bool = False
    duplicate: bool = False
    error: BaseException | None = None
    # The inbox's slot this update holds while it decides (None: not taken from a drain).
    slots: asyncio.Semaphore | None = None
    holding: bool = False

    def release(self) -> None:
        """Give the slot back (the update has committed; what is left holds no transaction)."""
        if self.holding and self.slots is not None:
            self.holding = False
            self.slots.release()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """A slot again for database work after the release (replies queued when Telegram
        failed), so that the pool stays enough for every slot."""
        if self.slots is None or self.holding:
            yield
            return
        async with self.slots:
            yield


@dataclass
class _Entry:
    update_id: int
    update: Update | None
    body: dict[str, Any] | None
    attempts: int = 0


class Inbox:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        dispatcher: Dispatcher,
        bot: Bot,
        clock: Clock,
        *,
        concurrency: int = 10,
        max_attempts: int = MAX_ATTEMPTS,
        retry_delay: float = RETRY_DELAY,
        shared: bool = False,
        process_id: str = "",
        metrics: DeskMetrics | None = None,
        durable: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.sessions = sessions
        # Awaited after the store commits, before Telegram may learn of it (the SQLite group
        # commit's fsync: storage.sqlite_inline.Durability).
        self.durable = durable
        self.dispatcher = dispatcher
        self.bot = bot
        self.clock = clock
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self._slots = asyncio.Semaphore(concurrency)
        self._queues: dict[int, deque[_Entry]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._receiving = 0  # receive() calls storing or waiting for their store to be durable
        # Shared mode: which process this is (its leases), and chats with news since their
        # drain last looked at the database.
        self.shared = shared
        self.metrics = metrics
        self.process_id = process_id
        self._dirty: set[int] = set()
        self._sweeping = asyncio.Event()

    # ------------------------------------------------------------ taking in

    async def receive(
        self, updates: Sequence[Update], bodies: Mapping[int, dict[str, Any]] | None = None
    ) -> int:
        """Store the updates, then queue the new ones for handling. When this returns they are
        safe, and Telegram may be told so; when it raises, nothing is to be confirmed.
        `bodies`: the updates as Telegram sent them (JSON objects by update id), where the
        caller has them; the others are stored as aiogram's models dump them.

        When a single update came and nothing else is being handled or stored (a quiet desk),
        its handling begins while the store is made durable: what it says to Telegram waits
        for its own commit to be durable, which comes after the store's (storage.sqlite_inline
        .Durability; the drain's task inherits what this task committed), so nothing of it
        goes out before the update is safe. Under load the updates wait for the store's
        durability as before: a handling that started first would hold the event loop while
        the next getUpdates waits (measured: 0.80x updates a second at 200 clients with 100 ms
        added to every call)."""
        bodies = bodies or {}
        received = [
            Received(u.update_id, chat_key(u), bodies.get(u.update_id) or body_of(u))
            for u in updates
        ]
        self._receiving += 1
        queued = False
        try:
            async with self.sessions() as session:
                new = await InboxRepo(session).store(received, now=self.clock.now())
                await session.commit()
            if self.durable is not None:
                if len(new) == 1 and not self._tasks and self._receiving == 1:
                    self._queue_new(updates, received, new)
                    queued = True
                await self.durable()
        finally:
            self._receiving -= 1
        if not queued:
            self._queue_new(updates, received, new)
        if len(new) < len(received):
            log.info("%d updates were already in the inbox", len(received) - len(new))
        return len(new)

    def _queue_new(
        self, updates: Sequence[Update], received: list[Received], new: Collection[int]
    ) -> None:
        for update, row in zip(updates, received, strict=True):
            if update.update_id in new:
                self._queue(row.chat_key, _Entry(update.update_id, update, None))

    async def recover(self) -> int:
        """Queue what an earlier run stored and did not handle (a crash); returns how many."""
        if self.shared:
            return await self.sweep(older_than=timedelta(0))
        async with self.sessions() as session:
            rows = await InboxRepo(session).pending()
            entries = [(r.chat_key, _Entry(r.update_id, None, r.body, r.attempts)) for r in rows]
        known = {e.update_id for q in self._queues.values() for e in q}
        for key, entry in entries:
            if entry.update_id not in known:
                self._queue(key, entry)
        if entries:
            log.info("%d updates left unhandled by the last run are handled now", len(entries))
        return len(entries)

    # ------------------------------------------------------------ handling

    def idle(self) -> bool:
        """Nothing being stored and nothing stored waiting to be handled in memory."""
        return not self._tasks and not self._receiving

    async def wait_idle(self, limit: float) -> bool:
        """Wait for what is in memory to be handled; False if time ran out."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while self._tasks:
            left = deadline - loop.time()
            if left <= 0:
                return False
            await asyncio.wait(list(self._tasks.values()), timeout=left)
        return True

    async def stop(self, limit: float = 10.0) -> None:
        """Let what is being handled finish; what is left stays in the inbox for next time."""
        self._sweeping.set()
        if not await self.wait_idle(limit):
            for task in list(self._tasks.values()):
                task.cancel()
            with suppress(Exception):
                await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._queues.clear()

    def _queue(self, key: int, entry: _Entry) -> None:
        self._queues.setdefault(key, deque()).append(entry)
        self._start(key)

    def _start(self, key: int) -> None:
        self._dirty.add(key)
        if key not in self._tasks:
            drain = self._drain_shared if self.shared else self._drain
            task = asyncio.create_task(drain(key), name=f"inbox-{key}")
            self._tasks[key] = task

    # ------------------------------------------------------------ shared by processes

    async def sweep(self, older_than: timedelta = SWEEP_AFTER) -> int:
        """Shared mode: start a drain for each chat with updates pending since `older_than`
        ago that no drain of this process is on (a killed process left them, or a drain
        missed them); the chat's lease decides who handles them. Returns how many chats."""
        async with self.sessions() as session:
            keys = await InboxRepo(session).pending_chats(
                before=self.clock.now() - older_than, limit=1000
            )
        fresh = [key for key in keys if key not in self._tasks]
        for key in fresh:
            self._start(key)
        return len(fresh)

    async def run_sweeper(self, every: float = SWEEP_EVERY) -> None:
        """Shared mode: sweep every few seconds until stopped."""
        while not self._sweeping.is_set():
            try:
                await self.sweep()
            except Exception:
                log.exception("sweeping the inbox failed; trying again")
            with suppress(TimeoutError):
                await asyncio.wait_for(self._sweeping.wait(), timeout=every)

    async def _take(self, key: int, *, read: bool = True) -> list[_Entry] | None:
        """Take (or renew) the chat's lease and read its pending updates (unless not `read`:
        then []), in one transaction; None if another process holds the lease."""
        async with self.sessions() as session:
            taken = await LeaseRepo(session).take(
                chat_lease(key), holder=self.process_id, now=self.clock.now(), ttl=CHAT_LEASE
            )
            entries: list[_Entry] | None = None
            if taken:
                entries = await self._pending(session, key) if read else []
            await session.commit()
        return entries

    async def _pending(self, session: AsyncSession, key: int) -> list[_Entry]:
        """The chat's pending updates, oldest first: the entries in memory where this process
        stored them, else from their stored bodies."""
        known = {e.update_id: e for e in self._queues.get(key, ())}
        entries = []
        for update_id, body, attempts in await InboxRepo(session).pending_rows(key, BATCH):
            entry = known.get(update_id) or _Entry(update_id, None, body, attempts)
            entry.attempts = max(entry.attempts, attempts)
            entries.append(entry)
        return entries

    async def _release(self, key: int) -> bool:
        """Give the chat's lease back; True if updates are pending (stored by a process that
        found the lease taken while this one held it: the holder looks again)."""
        async with self.sessions() as session:
            await LeaseRepo(session).release(chat_lease(key), holder=self.process_id)
            # After the release, in its transaction: an update stored before another process
            # found the lease taken is seen here; one stored later finds the lease free.
            more = bool(await InboxRepo(session).pending_rows(key, 1))
            await session.commit()
        return more

    async def _drain_shared(self, key: int) -> None:
        """Handle the chat's pending updates from the database under its lease, in order,
        until none is left; leave them to another process holding the lease."""
        try:
            while key in self._dirty:
                self._dirty.discard(key)
                try:
                    entries = await self._take(key)
                except Exception:
                    log.exception("could not take the lease of a chat; the sweep tries again")
                    break
                if entries is None:
                    break  # the holder looks again after its drain
                try:
                    await self._drain_leased(key, entries)
                finally:
                    more = True
                    with suppress(Exception):
                        more = await self._release(key)
                if more:
                    self._dirty.add(key)
        except Exception:
            log.exception("handling a chat's updates failed; the sweep tries again")
        finally:
            del self._tasks[key]
            self._queues.pop(key, None)
            if key in self._dirty:  # news came after the last look
                self._dirty.discard(key)
                self._start(key)

    async def _drain_leased(self, key: int, entries: list[_Entry]) -> None:
        """Handle `entries` (read under the lease) and what comes while they are handled."""
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        while entries:
            for entry in entries:
                if loop.time() - renewed > CHAT_LEASE.total_seconds() / 3:
                    if await self._take(key, read=False) is None:
                        return  # lost it (this process stalled): the holder goes on
                    renewed = loop.time()
                again = await self._handle_in_slot(entry)
                if again:
                    await asyncio.sleep(self.retry_delay * 2 ** (entry.attempts - 1))
                    break  # read the chat's rows again, this one first
                self._forget(key, entry.update_id)
            else:
                # Read again only for more than a batch, or news this process stored; what
                # others stored is seen when the lease is given back.
                if len(entries) < BATCH and key not in self._dirty:
                    return
            self._dirty.discard(key)
            async with self.sessions() as session:
                entries = await self._pending(session, key)

    def _forget(self, key: int, update_id: int) -> None:
        queue = self._queues.get(key)
        if queue is not None:
            self._queues[key] = deque(e for e in queue if e.update_id != update_id)

    async def _drain(self, key: int) -> None:
        queue = self._queues[key]
        try:
            while queue:
                entry = queue[0]
                again = await self._handle_in_slot(entry)
                if again:
                    await asyncio.sleep(self.retry_delay * 2 ** (entry.attempts - 1))
                    continue
                queue.popleft()
        finally:
            del self._tasks[key]
            self._dirty.discard(key)
            if not queue:
                self._queues.pop(key, None)

    async def _handle_in_slot(self, entry: _Entry) -> bool:
        """Handle one update in a slot, which the update's middleware gives back once its
        transaction has committed (or this does, when it is done)."""
        await self._slots.acquire()
        ticket = InboxTicket(entry.update_id, slots=self._slots, holding=True)
        try:
            return await self._handle(entry, ticket)
        finally:
            ticket.release()

    async def _handle(self, entry: _Entry, ticket: InboxTicket) -> bool:
        """Handle one update; True if it is to be tried again."""
        began = time.perf_counter()
        kind = "unknown"
        try:
            update = entry.update or Update.model_validate(entry.body, context={"bot": self.bot})
            with suppress(Exception):
                kind = update.event_type
            await self.dispatcher.feed_update(self.bot, update, inbox=ticket)
        except Exception as exc:  # what the error handler did not take
            ticket.error = ticket.error or exc
        if self.metrics is not None:
            outcome = "duplicate" if ticket.duplicate else "failed" if ticket.error else "handled"
            self.metrics.updates.labels(kind, outcome).inc()
            self.metrics.handling.observe(time.perf_counter() - began)
        if ticket.handled or ticket.duplicate:
            return False
        if ticket.error is None:
            # Nothing ran in a transaction of ours (no handler wanted it): done all the same.
            await self._close(entry, error=None)
            return False
        entry.attempts += 1
        again = isinstance(ticket.error, TRANSIENT) and entry.attempts < self.max_attempts
        await self._close(entry, error=ticket.error, final=not again)
        if not again:
            log.error(
                "update %s failed %d times and is given up: %r",
                entry.update_id,
                entry.attempts,
                ticket.error,
            )
        return again

    async def _close(
        self, entry: _Entry, *, error: BaseException | None, final: bool = True
    ) -> None:
        try:
            async with self.sessions() as session:
                repo = InboxRepo(session)
                now = self.clock.now()
                if error is None:
                    await repo.mark_handled(entry.update_id, now=now)
                else:
                    await repo.mark_failed(entry.update_id, now=now, error=repr(error), final=final)
                await session.commit()
        except Exception:  # left pending: the next start takes it again
            log.exception("could not record the outcome of update %s", entry.update_id)


class Poller:
    """Long polling that confirms an update (the next offset) only once the inbox holds it."""

    def __init__(
        self,
        bot: Bot,
        inbox: Inbox,
        *,
        allowed_updates: list[str] | None,
        timeout: int = 30,
        backoff: tuple[float, float] = (1.0, 30.0),
    ) -> None:
        self.bot = bot
        self.inbox = inbox
        self.allowed_updates = allowed_updates
        self.timeout = timeout
        self.first_delay, self.max_delay = backoff
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        fetching = GetUpdates(timeout=self.timeout, allowed_updates=self.allowed_updates)
        extra: dict[str, Any] = {}
        if self.bot.session.timeout:
            extra["request_timeout"] = int(self.bot.session.timeout + self.timeout)
        delay = self.first_delay
        while not self._stop.is_set():
            updates = await self._until_stopped(self.bot(fetching, **extra))
            if updates is None:  # stopped, or failed (the delay was taken)
                delay = await self._failed(delay) if not self._stop.is_set() else delay
                continue
            delay = self.first_delay
            if not updates:
                continue
            bodies = received_bodies(self.bot.session)
            while not self._stop.is_set():
                stored = await self._until_stopped(self.inbox.receive(updates, bodies))
                if stored is not None:
                    fetching.offset = updates[-1].update_id + 1
                    break
                if not self._stop.is_set():
                    delay = await self._failed(delay)
            delay = self.first_delay

    async def _until_stopped(self, work: Any) -> Any:
        """The result of `work`, or None if it failed or the poller was told to stop."""
        task = asyncio.ensure_future(work)
        stopping = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not task.done():
            task.cancel()
            with suppress(BaseException):
                await task
            return None
        error = task.exception()
        if error is None:
            result = task.result()
            return [] if result is None else result
        self._last_error = error
        return None

    async def _failed(self, delay: float) -> float:
        error = getattr(self, "_last_error", None)
        wait = delay
        if isinstance(error, TelegramRetryAfter):
            wait = float(error.retry_after)
        log.warning("taking updates failed (%r); trying again in %.0f s", error, wait)
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=wait)
        return min(delay * 2, self.max_delay)
