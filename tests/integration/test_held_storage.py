"""A dialogue store outside the database (Redis in production; aiogram's MemoryStorage here)
follows the update's transaction: inside an update its writes are held (visible to the update
itself, invisible to the store) and written through only after the commit, so a failed update
never wipes a client's draft."""

from __future__ import annotations

import pytest
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage

from storage.fsm import HeldStorage, hold_writes

CLIENT_KEY = StorageKey(bot_id=42, chat_id=700_000_001, user_id=700_000_001)
OTHER_KEY = StorageKey(bot_id=42, chat_id=700_000_002, user_id=700_000_002)


class Draft(StatesGroup):
    description = State()
    summary = State()


def stores() -> tuple[HeldStorage, MemoryStorage]:
    inner = MemoryStorage()
    return HeldStorage(inner), inner


async def test_writes_inside_an_update_are_held_until_written_through() -> None:
    held, inner = stores()
    with hold_writes() as writes:
        await held.set_state(CLIENT_KEY, Draft.description)
        await held.set_data(CLIENT_KEY, {"kind": "consultation"})
        # The update sees its own writes ...
        assert await held.get_state(CLIENT_KEY) == "Draft:description"
        assert await held.get_data(CLIENT_KEY) == {"kind": "consultation"}
        assert await held.get_value(CLIENT_KEY, "kind") == "consultation"
        # ... the store does not, yet.
        assert await inner.get_state(CLIENT_KEY) is None
        assert await inner.get_data(CLIENT_KEY) == {}
    assert writes == {CLIENT_KEY: {"state": "Draft:description", "data": {"kind": "consultation"}}}
    assert await inner.get_state(CLIENT_KEY) is None  # the block ended, nothing written yet

    await held.write_through(writes)
    assert await inner.get_state(CLIENT_KEY) == "Draft:description"
    assert await inner.get_data(CLIENT_KEY) == {"kind": "consultation"}
    assert await held.get_state(CLIENT_KEY) == "Draft:description"


async def test_outside_an_update_writes_go_straight_through() -> None:
    held, inner = stores()
    await held.set_state(CLIENT_KEY, Draft.summary)
    await held.set_data(CLIENT_KEY, {"topic": "catalog"})
    assert await inner.get_state(CLIENT_KEY) == "Draft:summary"
    assert await inner.get_data(CLIENT_KEY) == {"topic": "catalog"}
    assert await held.get_data(CLIENT_KEY) == {"topic": "catalog"}


async def test_a_failed_update_leaves_the_draft_as_it_was() -> None:
    held, inner = stores()
    await held.set_state(CLIENT_KEY, Draft.summary)
    await held.set_data(CLIENT_KEY, {"parts": [1, 2]})

    async def failing_update() -> None:
        with hold_writes():
            await held.set_state(CLIENT_KEY, None)
            await held.set_data(CLIENT_KEY, {})
            raise RuntimeError("the update failed before its commit")

    # Its writes are never written through.
    with pytest.raises(RuntimeError, match="failed"):
        await failing_update()
    assert await inner.get_state(CLIENT_KEY) == "Draft:summary"
    assert await held.get_data(CLIENT_KEY) == {"parts": [1, 2]}


async def test_a_cleared_state_inside_the_update_reads_as_cleared() -> None:
    held, inner = stores()
    await held.set_state(CLIENT_KEY, Draft.summary)
    await held.set_data(CLIENT_KEY, {"kind": "action"})
    with hold_writes() as writes:
        await held.set_state(CLIENT_KEY, None)
        assert await held.get_state(CLIENT_KEY) is None
        # Data was not written in this update: it reads from the store.
        assert await held.get_data(CLIENT_KEY) == {"kind": "action"}
    await held.write_through(writes)
    assert await inner.get_state(CLIENT_KEY) is None
    assert await inner.get_data(CLIENT_KEY) == {"kind": "action"}  # untouched


async def test_update_data_builds_on_what_the_update_wrote() -> None:
    held, inner = stores()
    await held.set_data(CLIENT_KEY, {"kind": "action"})
    with hold_writes() as writes:
        assert await held.update_data(CLIENT_KEY, {"topic": "access"}) == {
            "kind": "action",
            "topic": "access",
        }
        assert await held.update_data(CLIENT_KEY, {"feedback": "email"}) == {
            "kind": "action",
            "topic": "access",
            "feedback": "email",
        }
        assert await inner.get_data(CLIENT_KEY) == {"kind": "action"}
    await held.write_through(writes)
    assert await inner.get_data(CLIENT_KEY) == {
        "kind": "action",
        "topic": "access",
        "feedback": "email",
    }


async def test_what_a_reader_changes_is_not_a_write() -> None:
    held, _inner = stores()
    with hold_writes() as writes:
        await held.set_data(CLIENT_KEY, {"kind": "action"})
        read = await held.get_data(CLIENT_KEY)
        read["kind"] = "complaint"
        assert await held.get_data(CLIENT_KEY) == {"kind": "action"}
    assert writes[CLIENT_KEY]["data"] == {"kind": "action"}


async def test_writes_are_kept_per_key() -> None:
    held, inner = stores()
    await held.set_state(OTHER_KEY, Draft.summary)
    with hold_writes() as writes:
        await held.set_state(CLIENT_KEY, Draft.description)
        assert await held.get_state(OTHER_KEY) == "Draft:summary"
        assert await held.get_data(OTHER_KEY) == {}
    assert set(writes) == {CLIENT_KEY}
    await held.write_through(writes)
    assert await inner.get_state(OTHER_KEY) == "Draft:summary"
    assert await inner.get_state(CLIENT_KEY) == "Draft:description"


async def test_close_closes_the_inner_store() -> None:
    class Closing(MemoryStorage):
        closed = False

        async def close(self) -> None:
            self.closed = True

    inner = Closing()
    await HeldStorage(inner).close()
    assert inner.closed
