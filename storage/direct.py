"""The statements every update runs, on SQLite's driver connection inside the session's
transaction.

Every update reads its dialogue, marks itself handled, writes its dialogue back and keeps its
replies in the outbox: four or five statements of a few microseconds each in SQLite, and some
fifty through the session (its connection, the execution context, the result, the greenlet
around each driver call). So on SQLite these statements are compiled once by SQLAlchemy (for
the engine's own dialect, with its bind and result processors: enums, UTC datetimes, JSON)
and run on the driver connection the session's transaction holds (storage.sqlite_inline). They
are in that transaction: the driver begins it before the first write and the session's commit
or rollback ends it, as for every other statement. Elsewhere (PostgreSQL, another SQLite
driver) they run through the session as any statement does.

What is not run through SQLAlchemy's Connection is not seen by its events
(`before_cursor_execute`); nothing of the desk listens to them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.util.concurrency import await_

from storage import sqlite_inline

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    binds: tuple[tuple[str, Processor], ...]  # in the order of the SQL's placeholders
    fixed: Mapping[str, Any]  # the statement's own values (literals, not the caller's)
    results: tuple[Processor, ...]  # per result column

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        merged = {**self.fixed, **values}
        return [
            merged[name] if process is None else process(merged[name])
            for name, process in self.binds
        ]

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(
            value if process is None else process(value)
            for value, process in zip(raw, self.results, strict=True)
        )


class Prepared:
    """A Core statement to run directly on SQLite's driver; `keys`: the columns an INSERT
    without values is given (its SQL depends on them)."""

    def __init__(self, statement: Select[Any] | UpdateBase, keys: Sequence[str] | None = None):
        self.statement = statement
        self.keys = list(keys) if keys is not None else None
        self._compiled: dict[int, tuple[Dialect, _Compiled | None]] = {}

    def compiled(self, dialect: Dialect) -> _Compiled | None:
        """Compiled for `dialect` (once); None if it cannot be run directly (a value
        SQLAlchemy computes at execution, a column default: the session runs it then)."""
        cached = self._compiled.get(id(dialect))
        if cached is not None and cached[0] is dialect:
            return cached[1]
        compiled = self.statement.compile(dialect=dialect, column_keys=self.keys)
        result: _Compiled | None = None
        binds: list[tuple[str, Processor]] = []
        for name in compiled.positiontup or ():
            process = compiled._bind_processors.get(name)
            if process is not None and not callable(process):  # a tuple's, per element
                break
            binds.append((name, process))
        else:
            if (
                compiled.positiontup is not None
                and not getattr(compiled, "insert_prefetch", None)
                and not getattr(compiled, "update_prefetch", None)
                and not getattr(compiled, "postfetch", None)
            ):
                result = _Compiled(
                    sql=compiled.string,
                    binds=tuple(binds),
                    fixed={
                        name: value
                        for name, value in compiled.construct_params(_check=False).items()
                        if name in compiled.binds and not compiled.binds[name].required
                    },
                    results=tuple(
                        entry[3]._cached_result_processor(dialect, None)
                        for entry in compiled._result_columns
                    ),
                )
        self._compiled[id(dialect)] = (dialect, result)
        return result


# session.info key: the driver connection of the session's transaction and its dialect, or
# None where statements are not run directly; forgotten when the transaction ends.
_DRIVER = "direct_driver"


@event.listens_for(Session, "after_transaction_end")
def _forget_driver(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_DRIVER, None)


def _driver_of(
    connection: SyncConnection | None,
) -> tuple[sqlite_inline.Connection, Dialect] | None:
    if connection is None or connection.dialect.name != "sqlite":
        return None
    driver = connection.connection.driver_connection
    if not isinstance(driver, sqlite_inline.Connection):
        return None
    return driver, connection.dialect


async def _direct(
    session: AsyncSession, prepared: Prepared
) -> tuple[sqlite_inline.Connection, _Compiled] | None:
    info = session.info
    if _DRIVER in info:
        found = info[_DRIVER]
    else:
        found = info[_DRIVER] = _driver_of((await session.connection()).sync_connection)
    if found is None:
        return None
    driver, dialect = found
    compiled = prepared.compiled(dialect)
    return None if compiled is None else (driver, compiled)


async def first(
    session: AsyncSession, prepared: Prepared, values: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    """The statement's first row (processed as SQLAlchemy would), or None."""
    direct = await _direct(session, prepared)
    if direct is None:
        found = (await session.execute(prepared.statement, dict(values))).first()
        return None if found is None else tuple(found)
    driver, compiled = direct
    raw = await driver.fetch_first(compiled.sql, compiled.parameters(values))
    return None if raw is None else compiled.row(raw)


async def rowcount(session: AsyncSession, prepared: Prepared, values: Mapping[str, Any]) -> int:
    """The rows the statement changed."""
    direct = await _direct(session, prepared)
    if direct is None:
        done = await session.execute(prepared.statement, dict(values))
        return int(done.rowcount)  # type: ignore[attr-defined]
    driver, compiled = direct
    return await driver.change(compiled.sql, compiled.parameters(values))


def run_in_sync(session: Session, prepared: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
    """The statement once per row, from synchronous code running in SQLAlchemy's greenlet (a
    session event): the driver's asynchronous call is awaited there as SQLAlchemy's are."""
    found = _driver_of(session.connection())
    compiled = prepared.compiled(found[1]) if found is not None else None
    if found is None or compiled is None:
        session.execute(prepared.statement, [dict(row) for row in rows])
        return
    driver = found[0]
    for row in rows:
        await_(driver.change(compiled.sql, compiled.parameters(row)))
