"""aiogram FSM storage kept in the database, so a dialogue survives a restart.

Inside an update the storage joins the update's own session: the dialogue state and the
changes it goes with are committed together (and SQLite never sees two writers of one update
waiting on each other). Outside an update each call is its own short transaction.

Within an update a key's row is read once: the session keeps it (its identity map holds
unchanged rows only weakly, so without this every `get_state` and `get_data` of the update's
filters and handlers read the row again), and a state and data set in one update are written
by one UPDATE when the update commits. A rollback forgets what was kept."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from storage.models import FsmRecord

# session.info key: the rows read or added in this update's session, by key (None: no row).
_ROWS = "fsm_rows"


@event.listens_for(Session, "after_soft_rollback")
def _forget_rows(session: Session, _previous: Any) -> None:
    session.info.pop(_ROWS, None)


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
    async def _session(self) -> AsyncIterator[tuple[AsyncSession, bool]]:
        """(session, owned): the update's session if there is one, else a new one."""
        bound = _update_session.get()
        if bound is not None:
            yield bound, False
            return
        async with self._sessions() as session:
            yield session, True

    async def _found(self, session: AsyncSession, owned: bool, name: str) -> FsmRecord | None:
        """The key's row; read once per update session (kept in session.info)."""
        if owned:
            return await session.get(FsmRecord, name)
        rows: dict[str, FsmRecord | None] = session.info.setdefault(_ROWS, {})
        if name not in rows:
            rows[name] = await session.get(FsmRecord, name)
        return rows[name]

    async def _row(self, session: AsyncSession, owned: bool, key: StorageKey) -> FsmRecord:
        name = self._keys.build(key)
        row = await self._found(session, owned, name)
        if row is None:
            row = FsmRecord(key=name, state=None, data={})
            session.add(row)
            if not owned:
                session.info.setdefault(_ROWS, {})[name] = row
        return row

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self._session() as (session, owned):
            row = await self._row(session, owned, key)
            row.state = value
            if owned:
                await session.commit()

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._session() as (session, owned):
            row = await self._found(session, owned, self._keys.build(key))
            return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._session() as (session, owned):
            row = await self._row(session, owned, key)
            # A copy both ways (get_data too): the row's value is never shared with a caller,
            # so an unchanged value is not written again.
            row.data = copy.deepcopy(dict(data))
            if owned:
                await session.commit()

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._session() as (session, owned):
            row = await self._found(session, owned, self._keys.build(key))
            return copy.deepcopy(row.data) if row else {}

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
