"""storage.sqlite_inline: SQLite run on the event loop's thread, a locked database waited for
without stopping the loop, a transaction that could not start tried again from a clean state."""

from __future__ import annotations

import asyncio
import contextvars
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Coroutine
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from storage import sqlite_inline
from storage.db import create_engine


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "inline.db"


@pytest.fixture
async def engine(path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (n INTEGER NOT NULL)"))
    yield engine
    await engine.dispose()


def other_process(path: Path) -> sqlite3.Connection:
    """A connection of another process, as SQLite sees it: its own, with a busy handler."""
    return sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)


async def rows(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return list((await conn.execute(text("SELECT n FROM t ORDER BY n"))).scalars())


async def test_statements_run_on_the_event_loops_thread(engine: AsyncEngine) -> None:
    threads: list[int] = []

    def where() -> int:
        threads.append(threading.get_ident())
        return 1

    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert raw.driver_connection is not None
        await raw.driver_connection.create_function("where_am_i", 0, where)
        await conn.execute(text("SELECT where_am_i()"))
    assert threads == [threading.get_ident()]


async def test_a_writer_waits_for_another_without_stopping_the_loop(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """...and is woken when the other's transaction ends, not at its next look (made 30 s)."""
    monkeypatch.setattr(sqlite_inline, "PAUSE", 30.0)
    ticks = 0
    first_wrote = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    async def first() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (1)"))
            first_wrote.set()
            await asyncio.sleep(0.2)  # the write lock is held across an await
            await conn.execute(text("INSERT INTO t VALUES (2)"))

    async def second() -> int:
        await first_wrote.wait()
        before = ticks
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (3)"))
        return ticks - before

    ticking = asyncio.create_task(ticker())
    try:
        _, ticked_while_waiting = await asyncio.wait_for(asyncio.gather(first(), second()), 10)
    finally:
        ticking.cancel()
    assert await rows(engine) == [1, 2, 3]
    assert ticked_while_waiting > 10  # the loop went on while the second writer waited


async def test_many_sessions_reading_then_writing_all_finish(engine: AsyncEngine) -> None:
    async def one(n: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT count(*) FROM t"))
            await asyncio.sleep(0)
            await conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
            await asyncio.sleep(0.001)
            await conn.execute(text("UPDATE t SET n = n WHERE n = :n"), {"n": n})

    await asyncio.gather(*(one(n) for n in range(40)))
    assert await rows(engine) == list(range(40))


async def test_another_processs_writer_is_waited_for_and_then_the_write_is_made_once(
    engine: AsyncEngine, path: Path
) -> None:
    other = other_process(path)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    asyncio.get_running_loop().call_later(0.1, other.execute, "COMMIT")
    async with engine.begin() as conn:  # its BEGIN finds the database locked, more than once
        await conn.execute(text("INSERT INTO t VALUES (2)"))
        await conn.execute(text("INSERT INTO t VALUES (3)"))
    other.close()
    assert await rows(engine) == [1, 2, 3]


async def test_a_lock_never_released_ends_in_an_error_after_the_timeout_and_nothing_is_left_open(
    path: Path, engine: AsyncEngine
) -> None:
    impatient = create_async_engine(
        f"sqlite+aiosqlite:///{path}",
        async_creator=sqlite_inline.connector(f"sqlite+aiosqlite:///{path}", timeout=0.05),
    )
    other = other_process(path)
    other.execute("BEGIN IMMEDIATE")
    try:
        async with impatient.connect() as conn:
            raw = await conn.get_raw_connection()
            assert raw.driver_connection is not None
            with pytest.raises(OperationalError, match="database is locked"):
                await conn.execute(text("INSERT INTO t VALUES (1)"))
            assert not raw.driver_connection._db().in_transaction  # the BEGIN it made, undone
            await conn.rollback()
            other.execute("COMMIT")
            await conn.execute(text("INSERT INTO t VALUES (2)"))
            await conn.commit()
    finally:
        other.close()
        await impatient.dispose()
    assert await rows(engine) == [2]


async def test_a_writer_of_another_thread_and_the_loops_writers_share_the_file(
    engine: AsyncEngine, path: Path
) -> None:
    def elsewhere() -> None:
        other = other_process(path)
        for n in range(100, 150):
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO t VALUES (?)", (n,))
            other.execute("COMMIT")
        other.close()

    async def here(n: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})

    await asyncio.gather(asyncio.to_thread(elsewhere), *(here(n) for n in range(50)))
    assert await rows(engine) == [*range(50), *range(100, 150)]


async def test_a_writer_closed_from_another_thread_still_wakes_the_waiting_statement(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pool may close a connection outside the loop's thread: its end still wakes the loop."""
    monkeypatch.setattr(sqlite_inline, "PAUSE", 30.0)
    holder = await engine.connect()
    raw = await holder.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await holder.execute(text("INSERT INTO t VALUES (1)"))  # the write lock, held

    async def second() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (2)"))

    waiting = asyncio.create_task(second())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    # Rolled back and closed in another thread, which tells the loop nothing else.
    closing = threading.Thread(target=driver.stop)
    closing.start()
    await asyncio.wait_for(waiting, 10)
    closing.join()
    await holder.invalidate()
    await holder.close()
    assert await rows(engine) == [2]


# ---------------------------------------------------------------- group commit


@pytest.fixture
def synced(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The file descriptors fsync'ed, in order."""
    calls: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


async def test_commits_skip_the_fsync_and_one_fsync_makes_all_of_them_durable(
    engine: AsyncEngine, path: Path, synced: list[int]
) -> None:
    durability = sqlite_inline.durability_of(f"sqlite+aiosqlite:///{path}")
    assert durability is not None
    async with engine.connect() as conn:
        # The connection's commits leave the fsync to the group commit.
        assert (await conn.execute(text("PRAGMA synchronous"))).scalar() == 1  # NORMAL
    for n in range(5):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})
    assert synced == []  # five commits, no fsync
    assert durability.synced < durability.committed
    # Ten who wait at once share one fsync of the log, which covers every commit before.
    await asyncio.gather(*(durability.durable() for _ in range(10)))
    assert len(synced) == 1
    assert durability.synced == durability.committed
    await durability.durable()  # nothing committed since: nothing to sync
    assert len(synced) == 1
    # A read commits nothing to sync either.
    await rows(engine)
    await durability.durable()
    assert len(synced) == 1


async def test_a_commit_made_while_the_log_is_synced_waits_for_the_next_fsync(
    engine: AsyncEngine, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    durability = sqlite_inline.durability_of(f"sqlite+aiosqlite:///{path}")
    assert durability is not None
    syncing, release = threading.Event(), threading.Event()
    calls: list[int] = []
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        calls.append(fd)
        syncing.set()
        release.wait(10)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO t VALUES (1)"))
    first = asyncio.create_task(durability.durable())
    await asyncio.to_thread(syncing.wait, 10)
    async with engine.begin() as conn:  # committed while the first fsync runs
        await conn.execute(text("INSERT INTO t VALUES (2)"))
    second = asyncio.create_task(durability.durable())
    await asyncio.sleep(0.05)
    assert not first.done() and not second.done()
    release.set()
    await asyncio.wait_for(asyncio.gather(first, second), 10)
    # The first fsync may have begun before the second commit: its waiter got one more.
    assert len(calls) == 2
    assert durability.synced == durability.committed


async def test_a_task_waits_for_what_it_committed_or_read_not_for_later_commits(
    engine: AsyncEngine, path: Path, synced: list[int]
) -> None:
    """An update that committed and then makes three Bot API calls waits for its own commit
    once: the commits other updates make in between are not its to wait for. What it read is:
    a commit it saw may be what it tells Telegram about."""
    durability = sqlite_inline.durability_of(f"sqlite+aiosqlite:///{path}")
    assert durability is not None
    mine_committed, theirs_committed = asyncio.Event(), asyncio.Event()

    async def insert(n: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})

    async def mine() -> None:
        await insert(1)
        await durability.durable()  # its own commit: one fsync
        mine_committed.set()
        await theirs_committed.wait()
        await durability.durable()  # another's commit since: not this task's to wait for
        await durability.durable()

    async def theirs() -> None:
        await mine_committed.wait()
        await insert(2)
        theirs_committed.set()

    def task(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        return asyncio.create_task(coro, context=contextvars.Context())  # a fresh task

    await asyncio.wait_for(asyncio.gather(task(mine()), task(theirs())), 10)
    assert len(synced) == 1
    assert durability.synced < durability.committed  # the other commit is not synced yet

    async def reader() -> None:
        assert await rows(engine) == [1, 2]  # it saw the other commit
        await durability.durable()

    await asyncio.wait_for(task(reader()), 10)
    assert len(synced) == 2
    assert durability.synced == durability.committed

    await insert(3)

    async def stranger() -> None:  # never touched the database: waits for everything
        await durability.durable()

    await asyncio.wait_for(task(stranger()), 10)
    assert len(synced) == 3
    assert durability.synced == durability.committed


def test_a_database_in_memory_has_nothing_to_sync() -> None:
    assert sqlite_inline.durability_of("sqlite+aiosqlite://") is None
    assert sqlite_inline.durability_of("sqlite+aiosqlite:///:memory:") is None
