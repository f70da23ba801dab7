"""FSM storages: the database one (the default) and aiogram's Redis one (when REDIS_URL is set)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseStorage, DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, create_session_factory
from storage.fsm import SqlAlchemyStorage, bind_update_session
from storage.models import FsmRecord
from tests.conftest import REDIS_URL

BOT_ID = 123456


class Dialogue(StatesGroup):
    topic = State()
    description = State()


def key(user_id: int, chat_id: int | None = None, **extra: object) -> StorageKey:
    return StorageKey(bot_id=BOT_ID, chat_id=chat_id or user_id, user_id=user_id, **extra)  # type: ignore[arg-type]


DATA = {
    "draft": {
        "kind": "consultation",
        "topic": "catalog",
        "parts": [{"chat_id": 42, "message_id": 7, "content_type": "text", "text": "Привет"}],
        "feedback": None,
    },
    "editing": True,
    "n": 3,
}


async def assert_round_trip(storage: BaseStorage, *, destinies: bool) -> None:
    alice, bob = key(1001), key(1002)
    assert await storage.get_state(alice) is None
    assert await storage.get_data(alice) == {}

    await storage.set_state(alice, Dialogue.topic)
    await storage.set_data(alice, DATA)
    assert await storage.get_state(alice) == Dialogue.topic.state
    assert await storage.get_data(alice) == DATA

    await storage.set_state(alice, "Dialogue:description")  # a plain string works too
    assert await storage.get_state(alice) == Dialogue.description.state
    assert await storage.update_data(alice, {"n": 4}) == {**DATA, "n": 4}
    assert await storage.get_value(alice, "n") == 4

    # Another user's (and another chat's, topic's, destiny's) keys see nothing of it.
    others = [bob, key(1001, chat_id=-5), key(1001, thread_id=9)]
    if destinies:
        others.append(key(1001, destiny="other"))
    for other in others:
        assert await storage.get_state(other) is None
        assert await storage.get_data(other) == {}
    await storage.set_state(bob, Dialogue.description)
    await storage.set_data(bob, {"who": "bob"})
    assert await storage.get_state(alice) == Dialogue.description.state
    assert await storage.get_data(alice) == {**DATA, "n": 4}
    assert await storage.get_data(bob) == {"who": "bob"}

    await storage.set_state(alice, None)
    await storage.set_data(alice, {})
    assert await storage.get_state(alice) is None
    assert await storage.get_data(alice) == {}
    assert await storage.get_state(bob) == Dialogue.description.state


# ---------------------------------------------------------------- SqlAlchemyStorage


async def test_sql_round_trip_and_keys_do_not_mix(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await assert_round_trip(SqlAlchemyStorage(sessions), destinies=True)


async def test_sql_state_survives_a_restart(db: AsyncEngine, engine_url: str) -> None:
    storage = SqlAlchemyStorage(create_session_factory(db))
    await storage.set_state(key(1001), Dialogue.topic)
    await storage.set_data(key(1001), DATA)
    await storage.close()
    await db.dispose()

    restarted = create_engine(engine_url)
    try:
        storage = SqlAlchemyStorage(create_session_factory(restarted))
        assert await storage.get_state(key(1001)) == Dialogue.topic.state
        assert await storage.get_data(key(1001)) == DATA
        assert await storage.get_state(key(1002)) is None
    finally:
        await restarted.dispose()


async def test_sql_bound_session_rollback_discards_the_state(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    storage = SqlAlchemyStorage(sessions)
    await storage.set_state(key(1001), Dialogue.topic)  # committed before the update

    async with sessions() as update_session:
        with bind_update_session(update_session):
            await storage.set_state(key(1001), Dialogue.description)
            await storage.set_data(key(1001), {"draft": "x"})
            await storage.set_state(key(1002), Dialogue.topic)  # a new row
            # Inside the update the change is visible...
            assert await storage.get_state(key(1001)) == Dialogue.description.state
            assert await storage.get_data(key(1001)) == {"draft": "x"}
        # ...and it lives in the update's transaction, not in one of its own: nothing of it
        # is written outside it.
        assert await storage.get_state(key(1001)) == Dialogue.topic.state
        assert await storage.get_state(key(1002)) is None
        await update_session.rollback()

    assert await storage.get_state(key(1001)) == Dialogue.topic.state
    assert await storage.get_data(key(1001)) == {}
    assert await storage.get_state(key(1002)) is None


async def test_sql_bound_session_commit_keeps_the_state(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    storage = SqlAlchemyStorage(sessions)
    async with sessions() as update_session:
        with bind_update_session(update_session):
            await storage.set_state(key(1001), Dialogue.description)
            await storage.set_data(key(1001), DATA)
            # Set in the update, the row is written once, when the update commits.
            assert await storage.get_state(key(1001)) == Dialogue.description.state
        assert await storage.get_state(key(1001)) is None
        await update_session.commit()
        rows = await update_session.scalars(select(FsmRecord.key))
        assert rows.all() == ["fsm:1001:1001:default"]
    # Outside the update each call has a session of its own again.
    assert await storage.get_state(key(1001)) == Dialogue.description.state
    assert await storage.get_data(key(1001)) == DATA


async def test_sql_get_data_returns_a_copy_nested_changes_are_stored(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """aiogram handlers read the data, change it and set it back, inside one update."""
    storage = SqlAlchemyStorage(sessions)
    await storage.set_data(key(1001), {"parts": [1]})

    async with sessions() as update_session:
        with bind_update_session(update_session):
            data = await storage.get_data(key(1001))
            data["parts"].append(2)
            await storage.set_data(key(1001), data)
        await update_session.commit()

    assert await storage.get_data(key(1001)) == {"parts": [1, 2]}


# ---------------------------------------------------------------- aiogram's RedisStorage


@pytest.fixture
async def redis_storage(redis_cleanup: str) -> AsyncIterator[RedisStorage]:
    storage = RedisStorage.from_url(REDIS_URL, key_builder=DefaultKeyBuilder(prefix=redis_cleanup))
    yield storage
    await storage.close()


@pytest.mark.redis
async def test_redis_round_trip_and_keys_do_not_mix(redis_storage: RedisStorage) -> None:
    # aiogram's default key builder (as bot.factory.make_fsm uses it) has no destinies.
    await assert_round_trip(redis_storage, destinies=False)


@pytest.mark.redis
async def test_redis_state_survives_a_new_client(
    redis_storage: RedisStorage, redis_cleanup: str
) -> None:
    await redis_storage.set_state(key(1001), Dialogue.topic)
    await redis_storage.set_data(key(1001), DATA)
    await redis_storage.close()

    again = RedisStorage.from_url(REDIS_URL, key_builder=DefaultKeyBuilder(prefix=redis_cleanup))
    try:
        assert await again.get_state(key(1001)) == Dialogue.topic.state
        assert await again.get_data(key(1001)) == DATA
    finally:
        await again.close()
