"""SQLite for SQLAlchemy's asyncio extension without a thread per call.

aiosqlite runs every driver call (a cursor, each execute, each fetch, each close, the commit)
in the connection's own thread and wakes the event loop for its answer: four or five thread
hand-offs per statement. On the desk's hot path (a dialogue step runs some ten statements in
three transactions) the hand-offs cost more CPU than the statements: bench/bench_floor.py
measured it. An SQLite statement on a local file takes microseconds; the commit of a WAL
transaction a fraction of a millisecond (the fsync). So this driver runs them where they are
awaited, on the event loop's thread, and SQLAlchemy's aiosqlite dialect adapts it as it adapts
aiosqlite (`create_async_engine(..., async_creator=...)`, SQLAlchemy's documented seam).

The one thing a thread did for free is waiting for a lock: SQLite's busy handler sleeps in the
calling thread until another connection's write transaction ends. On the loop's thread that
would stop the very transaction it waits for, so the connections are opened with no busy
timeout and a statement that finds the database locked is tried again after an asynchronous
wait: woken as soon as a write transaction of this process ends (`_Writers`), or after a short
pause for other processes' writers, until the timeout (30 s, as before). A statement that would
have started a transaction (Python's sqlite3 begins one before the first INSERT, UPDATE or
DELETE) is tried again from a clean state; inside a transaction only a plain "busy" is retried
(a stale snapshot never becomes fresh by waiting, as with SQLite's own handler).

The other thing a thread hid is the commit's fsync of the write-ahead log: half a millisecond
or more on a virtual disk, during which the loop would stand still, once per update. So the
connections commit without it (`PRAGMA synchronous=NORMAL`: a commit is in the log, safe from a
crash of the process, not yet from a power cut), and `Durability.durable()` makes everything
committed so far durable with one fsync of the log in a thread, shared by all who wait for it
(group commit). Whoever tells the outside world about a commit waits for it first: the inbox
before Telegram learns an update is stored, the bot's session before any Bot API call
(bot.session). A checkpoint, which moves the log into the database file, syncs both itself.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import make_url

T = TypeVar("T")

SQLITE_BUSY = 5
TIMEOUT = 30.0  # seconds a statement waits for a lock, as SQLite's busy timeout did
PAUSE = 0.005  # longest wait between tries when no writer of this process ends first


class _Writers:
    """Wakes the statements that found the database locked when one of this process's write
    transactions ends (per event loop: tests run several loops one after another)."""

    def __init__(self) -> None:
        self._ended: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def ended(self) -> None:
        event, loop = self._ended, self._loop
        if event is None or loop is None:
            return
        self._ended = None
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # a connection closed outside the loop (the pool's clean-up)
            running = None
        if running is loop:
            event.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    async def wait(self, pause: float) -> None:
        loop = asyncio.get_running_loop()
        if self._ended is None or self._loop is not loop:
            self._ended, self._loop = asyncio.Event(), loop
        ended = self._ended
        try:
            async with asyncio.timeout(pause):
                await ended.wait()
        except TimeoutError:
            pass


class Durability:
    """Group commit for one database file: commits are counted as they happen, and
    `durable()` returns once every commit the calling task may know of is on disk (one fsync
    of the write-ahead log for all who wait at once).

    What a task may know of: its own commits and whatever it could read, that is every commit
    made before its newest snapshot (a statement run outside a transaction takes one). So a
    task that committed, then speaks to Telegram three times, waits for its commit once, not
    for the commits other tasks make in between; a task that never touched the database waits
    for everything committed so far."""

    def __init__(self, database: str) -> None:
        self.log = f"{database}-wal"
        # Writing commits so far, and how many of them are on disk. One to begin with: what an
        # earlier process committed may not be on disk yet (it was killed before its fsync),
        # and this one may act on it; the first wait syncs it.
        self.committed = 1
        self.synced = 0
        self._syncing: asyncio.Future[None] | None = None
        # Per task (and shared with SQLAlchemy's greenlets, which run in the task's context).
        self._known: ContextVar[int] = ContextVar(f"durability_known_{id(self)}", default=0)

    def note_commit(self) -> None:
        self.committed += 1
        self._known.set(self.committed)

    def note_snapshot(self) -> None:
        """A statement began outside a transaction: it may have read every commit so far."""
        if self._known.get() != self.committed:
            self._known.set(self.committed)

    async def durable(self) -> None:
        target = self._known.get() or self.committed
        while self.synced < target:
            syncing = self._syncing
            if syncing is None or syncing.get_loop() is not asyncio.get_running_loop():
                syncing = self._syncing = asyncio.ensure_future(self._sync())
            await asyncio.shield(syncing)

    async def _sync(self) -> None:
        upto = self.committed
        try:
            await asyncio.get_running_loop().run_in_executor(None, self._fsync)
            self.synced = max(self.synced, upto)
        finally:
            self._syncing = None

    def _fsync(self) -> None:
        try:
            fd = os.open(self.log, os.O_RDONLY)
        except FileNotFoundError:  # no log: everything is in the database file, synced
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


_WRITERS: weakref.WeakValueDictionary[str, _Writers] = weakref.WeakValueDictionary()
_DURABILITY: weakref.WeakValueDictionary[str, Durability] = weakref.WeakValueDictionary()


class Cursor:
    """aiosqlite's cursor interface, run on the caller's thread."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._cursor = connection._db().cursor()

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> Cursor:
        if parameters is None:
            await self._connection._run(self._cursor.execute, sql)
        else:
            await self._connection._run(self._cursor.execute, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> Cursor:
        rows = list(parameters)  # a generator cannot be tried twice
        await self._connection._run(self._cursor.executemany, sql, rows)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _AtOnce:
    """Stands in for aiosqlite's queue of calls for its thread: SQLAlchemy's adapter sets the
    isolation level through it."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:
            future.set_exception(exc)


class Connection:
    """aiosqlite's connection interface over the standard library's sqlite3, run on the
    caller's thread (the attributes SQLAlchemy's adapter reads, `_conn`, `_connection` and
    `_tx`, included)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        writers: _Writers,
        timeout: float,
        durability: Durability | None = None,
    ) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._writers = writers
        self._timeout = timeout
        self._durability = durability
        self._tx = _AtOnce()

    @property
    def _connection(self) -> sqlite3.Connection | None:
        return self._conn

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("no active connection")
        return self._conn

    async def _run(self, call: Callable[..., T], *args: Any) -> T:
        db = self._db()
        deadline: float | None = None
        while True:
            outside = not db.in_transaction
            try:
                result = call(*args)
            except sqlite3.OperationalError as exc:
                code = exc.sqlite_errorcode
                if code & 0xFF != SQLITE_BUSY or not (outside or code == SQLITE_BUSY):
                    raise
                if outside and db.in_transaction:  # the transaction its BEGIN opened
                    db.rollback()
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self._timeout
                if now >= deadline:
                    raise
                await self._writers.wait(min(PAUSE, deadline - now))
                continue
            if outside and self._durability is not None:
                self._durability.note_snapshot()
            return result

    def cursor(self) -> Cursor:
        return Cursor(self)

    async def fetch_first(self, sql: str, parameters: Sequence[Any]) -> Any:
        """The first row of a statement run on its own cursor (storage.direct)."""
        cursor = self._db().cursor()
        try:
            await self._run(cursor.execute, sql, parameters)
            return cursor.fetchone()
        finally:
            cursor.close()

    async def change(self, sql: str, parameters: Sequence[Any]) -> int:
        """Run a statement that returns no rows; the rows it changed (storage.direct)."""
        cursor = self._db().cursor()
        try:
            await self._run(cursor.execute, sql, parameters)
            return cursor.rowcount
        finally:
            cursor.close()

    async def commit(self) -> None:
        db = self._db()
        writing = db.in_transaction
        await self._run(db.commit)
        if writing:
            if self._durability is not None:
                self._durability.note_commit()
            self._writers.ended()

    async def rollback(self) -> None:
        db = self._db()
        writing = db.in_transaction
        db.rollback()
        if writing:
            self._writers.ended()

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._db().create_function(*args, **kw)

    @property
    def isolation_level(self) -> str | None:
        return self._db().isolation_level

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            if conn.in_transaction:
                conn.rollback()
                self._writers.ended()
            conn.close()


def _connect_args(url: str) -> tuple[Any, dict[str, Any]]:
    """The database and the options SQLAlchemy's aiosqlite dialect would open the URL with."""
    args, options = SQLiteDialect_aiosqlite().create_connect_args(make_url(url))
    [database] = args
    return database, dict(options)


def connector(url: str, *, timeout: float = TIMEOUT) -> Callable[[], Any]:
    """The `async_creator` for `create_async_engine(url, ...)`: connections to the URL's
    database as SQLAlchemy's aiosqlite dialect would open them, run on the caller's thread."""
    database, options = _connect_args(url)
    options = {**options, "timeout": 0, "check_same_thread": False}
    # One per database file, whichever engine of this process writes it.
    writers = _WRITERS.setdefault(str(database), _Writers())
    durability = durability_of(url)

    async def connect() -> Connection:
        conn = sqlite3.connect(database, **options)
        if durability is not None:
            conn.execute("PRAGMA synchronous=NORMAL")  # the fsync is Durability's
        return Connection(conn, writers, timeout, durability)

    return connect


def durability_of(url: str) -> Durability | None:
    """The group commit of the URL's database file (None in memory: nothing to sync)."""
    database, _options = _connect_args(url)
    if database in ("", ":memory:") or str(database).startswith("file::memory:"):
        return None
    return _DURABILITY.setdefault(str(database), Durability(str(database)))
