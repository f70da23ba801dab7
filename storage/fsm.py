"""aiogram FSM storage kept in the database, so a dialogue survives a restart.

Inside an update the storage joins the update's own session: the dialogue state and the
changes it goes with are committed together (and SQLite never sees two writers of one update
waiting on each other). Outside an update each call is its own short transaction.

Within an update a key's row is read once (kept in the session's `info`), and what the update
sets is written by one statement when the session commits (an upsert, in the commit's own
transaction, before it ends). Every update reads its dialogue and most change it, so this is
plain SQL, not the ORM's identity map and unit of work (a third of the cost), and on SQLite it
runs on the driver of the session's connection (storage.direct). A rollback forgets what was
kept."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import bindparam, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from storage import direct
from storage.models import FsmRecord, table_of

# session.info key: the dialogues read or set in this update's session, by key.
_ROWS = "fsm_rows"

_TABLE = table_of(FsmRecord)
# Built once (their cache keys too): they run for every update.
# On SQLite they run on the driver itself (storage.direct).
_READ = direct.Prepared(
    select(_TABLE.c.state, _TABLE.c.data).where(_TABLE.c.key == bindparam("fsm_key"))
)
_WRITE = {
    name: direct.Prepared(
        insert(_TABLE)
        .values(key=bindparam("fsm_key"), state=bindparam("fsm_state"), data=bindparam("fsm_data"))
        .on_conflict_do_update(
            index_elements=[_TABLE.c.key],
            set_={"state": bindparam("fsm_state"), "data": bindparam("fsm_data")},
        )
    )
    for name, insert in (("sqlite", sqlite_insert), ("postgresql", pg_insert))
}


@dataclass
class _Dialogue:
    """One key's state and data as this session sees them; `changed` is to be written."""

    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    changed: bool = False


@event.listens_for(Session, "after_soft_rollback")
def _forget_rows(session: Session, _previous: Any) -> None:
    session.info.pop(_ROWS, None)


@event.listens_for(Session, "before_commit")
def _write_rows(session: Session) -> None:
    """What the update set, written in the transaction that commits (sync: the commit runs
    in SQLAlchemy's greenlet, so a statement here waits like any other)."""
    rows: dict[str, _Dialogue] = session.info.get(_ROWS) or {}
    changed = [
        {"fsm_key": key, "fsm_state": row.state, "fsm_data": row.data}
        for key, row in rows.items()
        if row.changed
    ]
    if not changed:
        return
    direct.run_in_sync(session, _WRITE[session.get_bind().dialect.name], changed)
    for row in rows.values():
        row.changed = False


_update_session: ContextVar[AsyncSession | None] = ContextVar("fsm_update_session", default=None)


@contextmanager
def bind_update_session(session: AsyncSession) -> Iterator[None]:
    token = _update_session.set(session)
    try:
        yield
    finally:
        _update_session.reset(token)


class SqlAlchemyStorage(BaseStorage):
    """One row per key."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_factory
        self._keys = DefaultKeyBuilder(with_destiny=True)

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[AsyncSession]:
        """The update's session if there is one; else a new one, committed at the end."""
        bound = _update_session.get()
        if bound is not None:
            yield bound
            return
        async with self._sessions() as session:
            yield session
            await session.commit()

    async def _dialogue(self, session: AsyncSession, key: StorageKey) -> _Dialogue:
        """The key's dialogue; read once per session (kept in session.info)."""
        name = self._keys.build(key)
        rows: dict[str, _Dialogue] = session.info.setdefault(_ROWS, {})
        row = rows.get(name)
        if row is None:
            found = await direct.first(session, _READ, {"fsm_key": name})
            row = rows[name] = _Dialogue() if found is None else _Dialogue(*found)
        return row

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self._session() as session:
            row = await self._dialogue(session, key)
            if row.state != value:
                row.state, row.changed = value, True

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session() as session:
            return (await self._dialogue(session, key)).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._session() as session:
            row = await self._dialogue(session, key)
            # A copy both ways (get_data too): the kept value is never shared with a caller,
            # so an unchanged value is not written again.
            value = copy.deepcopy(dict(data))
            if row.data != value:
                row.data, row.changed = value, True

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session() as session:
            return copy.deepcopy((await self._dialogue(session, key)).data)

    async def close(self) -> None:
        return None


_held_writes: ContextVar[dict[StorageKey, dict[str, Any]] | None] = ContextVar(
    "fsm_held_writes", default=None
)


@contextmanager
def hold_writes() -> Iterator[dict[StorageKey, dict[str, Any]]]:
    """Inside an update, a HeldStorage keeps its writes here until the update commits."""
    writes: dict[StorageKey, dict[str, Any]] = {}
    token = _held_writes.set(writes)
    try:
        yield writes
    finally:
        _held_writes.reset(token)


class HeldStorage(BaseStorage):
    """A storage outside the database (Redis) made to follow the update's transaction: its
    writes are held until the database has committed, then written through; an update that
    fails leaves the dialogue as it was (a client's draft is never wiped by a failed step)."""

    def __init__(self, inner: BaseStorage) -> None:
        self.inner = inner

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        writes = _held_writes.get()
        if writes is None:
            await self.inner.set_state(key, state)
            return
        writes.setdefault(key, {})["state"] = state.state if isinstance(state, State) else state

    async def get_state(self, key: StorageKey) -> str | None:
        held = (_held_writes.get() or {}).get(key, {})
        if "state" in held:
            return held["state"]
        return await self.inner.get_state(key)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        writes = _held_writes.get()
        if writes is None:
            await self.inner.set_data(key, data)
            return
        writes.setdefault(key, {})["data"] = dict(data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        held = (_held_writes.get() or {}).get(key, {})
        if "data" in held:
            return dict(held["data"])
        return await self.inner.get_data(key)

    async def write_through(self, writes: dict[StorageKey, dict[str, Any]]) -> None:
        for key, values in writes.items():
            if "state" in values:
                await self.inner.set_state(key, values["state"])
            if "data" in values:
                await self.inner.set_data(key, values["data"])

    async def close(self) -> None:
        await self.inner.close()
