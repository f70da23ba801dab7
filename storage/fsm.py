"""aiogram FSM storage kept in the database, so a dialogue survives a restart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StateType, StorageKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import FsmRecord


class SqlAlchemyStorage(BaseStorage):
    """One row per key; each call is its own short transaction."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_factory
        self._keys = DefaultKeyBuilder(with_destiny=True)

    async def _row(self, session: AsyncSession, key: StorageKey) -> FsmRecord:
        name = self._keys.build(key)
        row = await session.get(FsmRecord, name)
        if row is None:
            row = FsmRecord(key=name, state=None, data={})
            session.add(row)
        return row

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self._sessions() as session:
            row = await self._row(session, key)
            row.state = value
            await session.commit()

    async def get_state(self, key: StorageKey) -> str | None:
        async with self._sessions() as session:
            row = await session.get(FsmRecord, self._keys.build(key))
            return row.state if row else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self._sessions() as session:
            row = await self._row(session, key)
            row.data = dict(data)
            await session.commit()

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self._sessions() as session:
            row = await session.get(FsmRecord, self._keys.build(key))
            return dict(row.data) if row else {}

    async def close(self) -> None:
        return None
