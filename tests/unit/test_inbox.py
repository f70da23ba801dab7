"""The inbox's handling order: one chat's updates one after another and in order, different
chats in parallel, never more in flight than the bound; a transient failure is tried again."""

from __future__ import annotations

import asyncio
import random
from typing import Any, cast

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from bot.inbox import Inbox, InboxTicket, _Entry, chat_key

BOUND = 4


class FakeDispatcher:
    """Marks every update handled, as the update middleware does; remembers the order."""

    def __init__(self, fail: dict[int, int] | None = None) -> None:
        self.order: dict[int, list[int]] = {}
        self.running: dict[int, int] = {}
        self.most = 0
        self.fail = fail or {}

    async def feed_update(self, bot: Any, update: Update, *, inbox: InboxTicket) -> None:
        key = chat_key(update)
        assert not self.running.get(key), "two updates of one chat at once"
        self.running[key] = 1
        self.most = max(self.most, sum(self.running.values()))
        try:
            await asyncio.sleep(random.uniform(0, 0.003))
            if self.fail.get(update.update_id):
                self.fail[update.update_id] -= 1
                inbox.error = OperationalError("UPDATE", {}, Exception("database is locked"))
                return
            self.order.setdefault(key, []).append(update.update_id)
            inbox.handled = True
        finally:
            self.running[key] = 0


def message(update_id: int, chat_id: int) -> Update:
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "A"},
                "text": str(update_id),
            },
        }
    )


class NoSessions:
    """The recorded outcome of a failure goes to the database: here it is only counted."""

    def __init__(self) -> None:
        self.opened = 0

    def __call__(self) -> Any:
        self.opened += 1
        raise OSError("no database in a unit test")


def inbox_for(dispatcher: FakeDispatcher, sessions: Any = None) -> Inbox:
    return Inbox(
        cast(async_sessionmaker[AsyncSession], sessions or NoSessions()),
        cast(Dispatcher, dispatcher),
        cast(Bot, object()),
        SystemClock(),
        concurrency=BOUND,
        retry_delay=0.001,
    )


async def test_one_chat_in_order_chats_in_parallel_within_the_bound() -> None:
    dispatcher = FakeDispatcher()
    inbox = inbox_for(dispatcher)
    rng = random.Random(7)
    sent: dict[int, list[int]] = {}
    for update_id in range(1, 401):
        chat = rng.randrange(1, 21)
        sent.setdefault(chat, []).append(update_id)
        inbox._queue(chat, _Entry(update_id, message(update_id, chat), None))
        if update_id % 50 == 0:
            await asyncio.sleep(0)
    assert await inbox.wait_idle(10)
    assert dispatcher.order == sent
    assert 1 < dispatcher.most <= BOUND
    assert inbox.idle()


async def test_a_transient_failure_is_tried_again_before_the_chat_goes_on() -> None:
    dispatcher = FakeDispatcher(fail={2: 2})
    sessions = NoSessions()
    inbox = inbox_for(dispatcher, sessions)
    for update_id in (1, 2, 3):
        inbox._queue(5, _Entry(update_id, message(update_id, 5), None))
    assert await inbox.wait_idle(10)
    assert dispatcher.order == {5: [1, 2, 3]}
    assert sessions.opened == 2  # each failed attempt is recorded (here: tried to)


def test_the_chat_key_of_each_kind_of_update() -> None:
    assert chat_key(message(1, -100)) == -100
    callback = Update.model_validate(
        {
            "update_id": 2,
            "callback_query": {
                "id": "q",
                "chat_instance": "c",
                "from": {"id": 7, "is_bot": False, "first_name": "A"},
                "data": "x",
            },
        }
    )
    assert chat_key(callback) == 7
    assert chat_key(Update(update_id=3)) == 0


class Speaking:
    """Decides (holding its slot), commits, gives the slot back as the update middleware does,
    then speaks: it waits for Telegram, here until `telegram` is set."""

    def __init__(self) -> None:
        self.telegram = asyncio.Event()
        self.deciding = 0
        self.most_deciding = 0
        self.speaking: set[int] = set()
        self.order: dict[int, list[int]] = {}

    async def feed_update(self, bot: Any, update: Update, *, inbox: InboxTicket) -> None:
        key = chat_key(update)
        assert key not in self.speaking, "the chat's next update came before its replies"
        self.deciding += 1
        self.most_deciding = max(self.most_deciding, self.deciding)
        await asyncio.sleep(0)
        self.deciding -= 1
        inbox.handled = True
        inbox.release()
        self.speaking.add(key)
        try:
            await self.telegram.wait()
        finally:
            self.speaking.discard(key)
        self.order.setdefault(key, []).append(update.update_id)


async def test_an_update_speaking_to_telegram_holds_no_slot_and_its_chat_waits() -> None:
    dispatcher = Speaking()
    inbox = inbox_for(cast(FakeDispatcher, dispatcher))
    chats = range(1, 3 * BOUND + 1)
    for chat in chats:
        for n in (0, 1):
            inbox._queue(chat, _Entry(chat * 10 + n, message(chat * 10 + n, chat), None))
    for _ in range(50):
        await asyncio.sleep(0)
    # Every chat's first update decided and is waiting on Telegram, three times the bound:
    # none of them holds a slot while it waits.
    assert dispatcher.speaking == set(chats)
    assert dispatcher.most_deciding <= BOUND
    # The chats' second updates wait for their first ones' replies.
    assert dispatcher.order == {}
    dispatcher.telegram.set()
    assert await inbox.wait_idle(10)
    assert dispatcher.order == {chat: [chat * 10, chat * 10 + 1] for chat in chats}
    assert inbox._slots._value == BOUND  # every slot given back once


async def test_a_slot_is_taken_again_for_database_work_after_the_release() -> None:
    slots = asyncio.Semaphore(1)
    await slots.acquire()
    ticket = InboxTicket(1, slots=slots, holding=True)
    async with ticket.slot():  # still held: nothing to take
        assert slots.locked()
    ticket.release()
    ticket.release()  # once only
    assert slots._value == 1
    async with ticket.slot():
        assert slots.locked()
    assert slots._value == 1
