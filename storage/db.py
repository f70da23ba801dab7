"""Engine and session factory; migrations are applied with Alembic at start."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import fitting, sqlite_inline

MIGRATIONS = Path(__file__).with_name("migrations")


# Connections per process: the inbox's slots (INBOX_CONCURRENCY, 10), the delivery worker's
# chats at once (4), and one each for taking updates in, marking replies sent, the heartbeat
# and the scheduler: 18 kept open once used and 2 more for a moment. Kept, not overflow: a
# connection closed on return is opened again at the next burst (on PostgreSQL a connection,
# its authentication and its prepared statements, each time).
POOL_SIZE = 18
MAX_OVERFLOW = 2

# A PostgreSQL connection that sat in the pool longer than this is checked before it is used
# (a server restarted or a dropped link since); one back from work a moment ago is not.
IDLE_CHECK = 5.0


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        # An in-memory database is one connection (SQLAlchemy's static pool): no sizes.
        sizes = {} if ":memory:" in url else {"pool_size": POOL_SIZE, "max_overflow": MAX_OVERFLOW}
        # Statements run on the event loop's thread, not one thread hop per driver call; a
        # locked database is waited for asynchronously (storage.sqlite_inline).
        engine = create_async_engine(url, async_creator=sqlite_inline.connector(url), **sizes)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    engine = create_async_engine(url, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW)
    check_the_idle(engine)
    return engine


def check_the_idle(
    engine: AsyncEngine,
    idle: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Ping a pooled connection before use only if it sat idle for `idle` seconds or more.

    SQLAlchemy's `pool_pre_ping` pings at every checkout, and on asyncpg a ping is three round
    trips (BEGIN, an empty statement, ROLLBACK): under load that was a fifth of all the
    process's round trips to PostgreSQL, for connections that had been in use a millisecond
    before. A connection that breaks while in use (the server restarted under load) fails its
    statement as it would have after a ping: SQLAlchemy then discards the pool's connections
    and the update is tried again (bot.inbox, TRANSIENT). A failed ping here makes the pool
    open a fresh connection instead (DisconnectionError, SQLAlchemy's documented way)."""
    dialect = engine.dialect
    limit = IDLE_CHECK if idle is None else idle

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle_from(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = clock()

    @event.listens_for(engine.sync_engine, "checkout")
    def _check_if_idle(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("idle_since", None)  # none: opened for this checkout
        if since is None or clock() - since < limit:
            return
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError() from exc


def durable_barrier(url: str) -> Callable[[], Awaitable[None]] | None:
    """What to await before telling the outside world about a commit: on a SQLite file, the
    group commit's fsync (storage.sqlite_inline.Durability); elsewhere nothing (PostgreSQL's
    commit is on disk when it returns)."""
    if not url.startswith("sqlite"):
        return None
    durability = sqlite_inline.durability_of(url)
    return durability.durable if durability is not None else None


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    fitting.install()  # what clients write fits its column (storage.fitting)
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


# Several processes started at once on one PostgreSQL database upgrade one after another: the
# first migrates, the others wait for this lock and find nothing left to do.
MIGRATION_LOCK = 20261124


async def one_at_a_time(session: AsyncSession, key: int) -> None:
    """On PostgreSQL, wait until no other process's transaction holds `key`, and hold it until
    this transaction ends (several processes starting at once); SQLite has one process."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))
