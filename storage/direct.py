"""The statements every update runs, on the driver connection inside the session's transaction.

Every update reads its dialogue, marks itself handled, writes its dialogue back and keeps its
replies in the outbox: four or five statements that cost the database little and SQLAlchemy's
execution path much more (the session, its connection, the execution context, the result, the
greenlet around each driver call: some fifty calls each). So these statements are compiled once
by SQLAlchemy (for the engine's own dialect, with its bind and result processors: enums, UTC
datetimes, JSON) and run on the driver connection the session's transaction holds: SQLite's
(storage.sqlite_inline) or asyncpg's, the latter through SQLAlchemy's adapter for it (its lock,
its lazily begun transaction, its cache of prepared statements). They are in that transaction:
it is begun before the first statement, and the session's commit or rollback ends it, as for
every other statement. A driver's error is raised as SQLAlchemy raises it (sqlalchemy.exc).
Elsewhere (another driver) they run through the session as any statement does.

What is not run through SQLAlchemy's Connection is not seen by its events
(`before_cursor_execute`); nothing of the desk listens to them."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Connection as SyncConnection
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.util.concurrency import await_

from storage import sqlite_inline

Processor = Callable[[Any], Any] | None
T = TypeVar("T")


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


class _Asyncpg:
    """Runs statements on asyncpg as SQLAlchemy's cursor for it does (its adapter's lock,
    transaction and prepared statements), without the cursor and the execution around it."""

    __slots__ = ("adapter", "dialect")

    def __init__(self, adapter: Any, dialect: Dialect) -> None:
        self.adapter = adapter
        self.dialect = dialect

    async def _run(self, sql: str, parameters: Sequence[Any]) -> tuple[list[Any], str | None]:
        adapter = self.adapter
        async with adapter._execute_mutex:
            if adapter._transaction is None:
                await adapter._start_transaction()
            try:
                prepared, _ = await adapter._prepare(
                    sql, getattr(self.dialect, "_invalidate_schema_cache_asof", 0)
                )
                rows = await prepared.fetch(*parameters)
                return rows, prepared.get_statusmsg()
            except Exception as error:
                adapter._handle_exception(error)  # raises the DBAPI error, as the cursor does
                raise

    async def fetch_first(self, sql: str, parameters: Sequence[Any]) -> Any:
        rows, _ = await self._run(sql, parameters)
        return rows[0] if rows else None

    async def change(self, sql: str, parameters: Sequence[Any]) -> int:
        _, status = await self._run(sql, parameters)
        done = _CHANGED.match(status or "")
        return int(done.group(1)) if done else -1


_CHANGED = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")


class _Driver(Protocol):
    async def fetch_first(self, sql: str, parameters: Sequence[Any]) -> Any: ...

    async def change(self, sql: str, parameters: Sequence[Any]) -> int: ...


def _driver_of(connection: SyncConnection | None) -> tuple[_Driver, Dialect] | None:
    if connection is None:
        return None
    dialect = connection.dialect
    fairy = connection.connection
    if dialect.name == "sqlite":
        driver = fairy.driver_connection
        if isinstance(driver, sqlite_inline.Connection):
            return driver, dialect
    elif dialect.name == "postgresql" and dialect.driver == "asyncpg":
        return _Asyncpg(fairy.dbapi_connection, dialect), dialect
    return None


async def _run(
    call: Callable[[str, Sequence[Any]], Awaitable[T]],
    dialect: Dialect,
    sql: str,
    parameters: Sequence[Any],
) -> T:
    """`call(sql, parameters)` on the driver; its error raised as SQLAlchemy's Connection
    raises it."""
    try:
        return await call(sql, parameters)
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(
            sql, parameters, error, dialect.loaded_dbapi.Error, dialect=dialect
        ) from error


async def _direct(
    session: AsyncSession, prepared: Prepared
) -> tuple[_Driver, Dialect, _Compiled] | None:
    info = session.info
    if _DRIVER in info:
        found = info[_DRIVER]
    else:
        found = info[_DRIVER] = _driver_of((await session.connection()).sync_connection)
    if found is None:
        return None
    driver, dialect = found
    compiled = prepared.compiled(dialect)
    return None if compiled is None else (driver, dialect, compiled)


async def first(
    session: AsyncSession, prepared: Prepared, values: Mapping[str, Any]
) -> tuple[Any, ...] | None:
    """The statement's first row (processed as SQLAlchemy would), or None."""
    direct = await _direct(session, prepared)
    if direct is None:
        found = (await session.execute(prepared.statement, dict(values))).first()
        return None if found is None else tuple(found)
    driver, dialect, compiled = direct
    raw = await _run(driver.fetch_first, dialect, compiled.sql, compiled.parameters(values))
    return None if raw is None else compiled.row(raw)


async def rowcount(session: AsyncSession, prepared: Prepared, values: Mapping[str, Any]) -> int:
    """The rows the statement changed."""
    direct = await _direct(session, prepared)
    if direct is None:
        done = await session.execute(prepared.statement, dict(values))
        return int(done.rowcount)  # type: ignore[attr-defined]
    driver, dialect, compiled = direct
    return await _run(driver.change, dialect, compiled.sql, compiled.parameters(values))


def run_in_sync(session: Session, prepared: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
    """The statement once per row, from synchronous code running in SQLAlchemy's greenlet (a
    session event): the driver's asynchronous call is awaited there as SQLAlchemy's are."""
    found = _driver_of(session.connection())
    compiled = prepared.compiled(found[1]) if found is not None else None
    if found is None or compiled is None:
        session.execute(prepared.statement, [dict(row) for row in rows])
        return
    driver, dialect = found
    for row in rows:
        await_(_run(driver.change, dialect, compiled.sql, compiled.parameters(row)))
