"""storage.direct: the statements every update runs, on the driver (SQLite's, asyncpg's) in the
session's transaction, give what the session would: rows, counts, types, errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.vocabulary import InboxStatus
from storage import direct
from storage.inbox import InboxRepo, Received
from storage.models import InboxUpdate, table_of

Sessions = async_sessionmaker[AsyncSession]
INBOX = table_of(InboxUpdate)

READ = direct.Prepared(
    select(INBOX.c.status, INBOX.c.body, INBOX.c.handled_at, INBOX.c.attempts).where(
        INBOX.c.update_id == bindparam("read_id")
    )
)
MARK = direct.Prepared(
    update(INBOX)
    .where(INBOX.c.update_id == bindparam("mark_id"), INBOX.c.status == InboxStatus.PENDING)
    .values(status=InboxStatus.HANDLED, handled_at=bindparam("mark_now"))
)
KEYS = ("update_id", "chat_key", "body", "status", "attempts", "received_at")
ADD = direct.Prepared(insert(INBOX).returning(INBOX.c.update_id), KEYS)


def row(update_id: int, now: datetime) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "chat_key": 7,
        "body": {"update_id": update_id, "text": "Салом, дунё", "n": [1, None]},
        "status": InboxStatus.PENDING,
        "attempts": 0,
        "received_at": now,
    }


@pytest.fixture
def through_sqlalchemy(db: AsyncEngine) -> Iterator[list[str]]:
    """The statements SQLAlchemy's Connection runs (its cursor events)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(db.sync_engine, "before_cursor_execute", note)
    yield seen
    event.remove(db.sync_engine, "before_cursor_execute", note)


async def test_rows_come_back_as_the_session_reads_them(
    sessions: Sessions, now: datetime, through_sqlalchemy: list[str], dialect: str
) -> None:
    async with sessions() as session:
        inserted = await direct.first(session, ADD, row(41, now))
        assert inserted == (41,)
        await session.commit()
    through_sqlalchemy.clear()
    async with sessions() as session:
        got = await direct.first(session, READ, {"read_id": 41})
        kept = (
            await session.execute(READ.statement, {"read_id": 41})
        ).one()  # the same statement through the session
        assert await direct.first(session, READ, {"read_id": 404}) is None
    assert got == tuple(kept)
    status, body, handled_at, attempts = got
    assert status is InboxStatus.PENDING  # the enum type's result processor
    assert body == row(41, now)["body"]  # JSON
    assert handled_at is None and attempts == 0
    # The direct reads never went through SQLAlchemy's Connection (on either engine).
    assert len(through_sqlalchemy) == 1


async def test_a_change_counts_its_rows_and_keeps_the_types(
    sessions: Sessions, now: datetime
) -> None:
    async with sessions() as session:
        await InboxRepo(session).store([Received(5, 7, {"update_id": 5})], now=now)
        await session.commit()
    later = now + timedelta(seconds=3, microseconds=250)
    async with sessions() as session:
        assert await direct.rowcount(session, MARK, {"mark_id": 5, "mark_now": later}) == 1
        # The literal of the statement (status = 'pending') is bound too: no second mark.
        assert await direct.rowcount(session, MARK, {"mark_id": 5, "mark_now": later}) == 0
        await session.commit()
    async with sessions() as session:
        stored = await session.get(InboxUpdate, 5)
        assert stored is not None
        assert stored.status is InboxStatus.HANDLED
        assert stored.handled_at == later  # an aware UTC datetime, to the microsecond


async def test_direct_statements_are_in_the_sessions_transaction(
    sessions: Sessions, now: datetime
) -> None:
    async with sessions() as session:
        await direct.first(session, ADD, row(1, now))
        await session.rollback()  # what the driver wrote goes with the session's rollback
        assert await direct.first(session, READ, {"read_id": 1}) is None
        await direct.first(session, ADD, row(2, now))
        await session.commit()
        # After the commit the session may hold another connection: the next statement
        # runs in its new transaction, which the next commit ends.
        await direct.first(session, ADD, row(3, now))
        await session.commit()
    async with sessions() as session:
        ids = (await session.scalars(select(INBOX.c.update_id))).all()
    assert sorted(ids) == [2, 3]


async def test_a_driver_error_is_raised_as_sqlalchemy_raises_it(
    sessions: Sessions, now: datetime
) -> None:
    async with sessions() as session:
        await direct.first(session, ADD, row(31, now))
        await session.commit()
    async with sessions() as session:
        with pytest.raises(IntegrityError) as raised:
            await direct.first(session, ADD, row(31, now))  # the same update id again
        assert "31" in str(raised.value.params)
        await session.rollback()
        # The session goes on after the rollback, on a good transaction.
        assert await direct.first(session, ADD, row(32, now)) == (32,)
        await session.commit()
    async with sessions() as session:
        ids = (await session.scalars(select(INBOX.c.update_id))).all()
    assert sorted(ids) == [31, 32]


async def test_a_session_event_writes_through_the_driver_in_the_commit(
    sessions: Sessions, now: datetime
) -> None:
    async with sessions() as session:
        for update_id in (11, 12):
            await direct.first(session, ADD, row(update_id, now))

        @event.listens_for(session.sync_session, "before_commit")
        def mark(sync_session: Any) -> None:
            direct.run_in_sync(
                sync_session, MARK, [{"mark_id": n, "mark_now": now} for n in (11, 12)]
            )

        await session.commit()
    async with sessions() as session:
        statuses = (await session.scalars(select(INBOX.c.status))).all()
    assert statuses == [InboxStatus.HANDLED, InboxStatus.HANDLED]


async def test_what_sqlalchemy_computes_at_execution_runs_through_the_session(
    sessions: Sessions, now: datetime, dialect: str
) -> None:
    """A column left to its Python default (`status`, `attempts`) is computed by SQLAlchemy
    when the statement runs: such a statement is not run directly, and works all the same."""
    keys = ("update_id", "chat_key", "body", "received_at")
    defaults = direct.Prepared(insert(INBOX).returning(INBOX.c.update_id), keys)
    async with sessions() as session:
        values = {k: v for k, v in row(21, now).items() if k in keys}
        assert await direct.first(session, defaults, values) == (21,)
        await session.commit()
        engine = session.get_bind()
    assert defaults.compiled(engine.dialect) is None
    async with sessions() as session:
        stored = await session.get(InboxUpdate, 21)
    assert stored is not None and stored.status is InboxStatus.PENDING and stored.attempts == 0


def test_statements_are_compiled_once_per_dialect() -> None:
    first, second = sqlite.dialect(), sqlite.dialect()
    compiled = READ.compiled(first)
    assert compiled is not None and compiled is READ.compiled(first)
    assert compiled.sql.endswith("WHERE inbox.update_id = ?")
    assert READ.compiled(second) is not compiled  # another engine's dialect: its own
