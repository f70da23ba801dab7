"""One inbox shared by several processes (webhook mode behind a load balancer): two Inbox
instances with their own process ids on one database. Whichever process stores an update, each
is handled once, and one chat's updates one after another in update order, never by two
processes at once; what a dead process left (its chat lease held, its updates pending) is taken
by the living once the lease is free."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import Update
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ShiftedClock
from bot.factory import build_app
from bot.inbox import CHAT_LEASE, Inbox, InboxTicket, body_of, chat_key, chat_lease
from bot.settings import Settings, load_settings
from bot.vocabulary import InboxStatus
from storage.inbox import InboxRepo, Received
from storage.leases import LeaseRepo
from storage.models import InboxUpdate, Lease
from tests.unit.test_inbox import message

Sessions = async_sessionmaker[AsyncSession]


class Desk:
    """The dispatchers of both processes: marks each update handled in a transaction of its
    own, as the update middleware does, and watches the order and overlap of every chat."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.order: dict[int, list[int]] = {}
        self.by: dict[int, str] = {}
        self.running: set[int] = set()
        self.overlaps = 0

    def dispatcher(self, process: str) -> Dispatcher:
        desk = self

        class One:
            async def feed_update(self, bot: Any, update: Update, *, inbox: InboxTicket) -> None:
                key = chat_key(update)
                if key in desk.running:
                    desk.overlaps += 1
                desk.running.add(key)
                try:
                    await asyncio.sleep(random.uniform(0, 0.004))
                    async with desk.sessions() as session:
                        if not await InboxRepo(session).mark_handled(
                            update.update_id, now=datetime.now().astimezone()
                        ):
                            inbox.duplicate = True
                            return
                        await session.commit()
                    desk.order.setdefault(key, []).append(update.update_id)
                    desk.by[update.update_id] = process
                    inbox.handled = True
                finally:
                    desk.running.discard(key)

        return cast(Dispatcher, One())


def process(sessions: Sessions, desk: Desk, name: str, clock: ShiftedClock) -> Inbox:
    return Inbox(
        sessions,
        desk.dispatcher(name),
        cast(Bot, object()),
        clock,
        concurrency=4,
        retry_delay=0.001,
        shared=True,
        process_id=name,
    )


async def pending(sessions: Sessions) -> int:
    async with sessions() as session:
        return await InboxRepo(session).depth()


async def settle(sessions: Sessions, *inboxes: Inbox) -> None:
    for _ in range(200):
        for inbox in inboxes:
            await inbox.wait_idle(10)
        if not await pending(sessions):
            return
        for inbox in inboxes:
            await inbox.sweep(older_than=timedelta(0))
        await asyncio.sleep(0.01)
    raise AssertionError("updates left pending")


async def test_two_processes_handle_each_update_once_in_order_per_chat(
    sessions: Sessions, now: datetime
) -> None:
    clock = ShiftedClock(now)
    desk = Desk(sessions)
    first, second = process(sessions, desk, "p1", clock), process(sessions, desk, "p2", clock)
    rng = random.Random(11)
    sent: dict[int, list[int]] = {}
    plan: dict[int, list[tuple[int, Inbox]]] = {}
    for update_id in range(1, 241):
        chat = rng.randrange(1, 13)
        sent.setdefault(chat, []).append(update_id)
        plan.setdefault(chat, []).append((update_id, rng.choice((first, second))))

    async def deliver(chat: int) -> None:
        # Telegram's order within a chat; the balancer picks the process at random.
        for update_id, inbox in plan[chat]:
            await inbox.receive([message(update_id, chat)])
            await asyncio.sleep(rng.uniform(0, 0.003))

    await asyncio.gather(*(deliver(chat) for chat in plan))
    await settle(sessions, first, second)

    assert desk.order == sent
    assert desk.overlaps == 0
    assert {"p1", "p2"} == set(desk.by.values())  # both did a share
    async with sessions() as session:
        statuses = await session.scalars(select(InboxUpdate.status))
        assert set(statuses.all()) == {InboxStatus.HANDLED}
        assert not await session.scalar(select(func.count()).select_from(Lease))


async def test_a_dead_process_s_chat_is_taken_when_its_lease_is_free(
    sessions: Sessions, now: datetime
) -> None:
    clock = ShiftedClock(now)
    desk = Desk(sessions)
    async with sessions() as session:
        # The dead process stored two updates, took the chat and was killed.
        assert await LeaseRepo(session).take(chat_lease(7), holder="dead", now=now, ttl=CHAT_LEASE)
        await session.commit()
    async with sessions() as session:
        await InboxRepo(session).store([_received(1, 7), _received(2, 7)], now=clock.now())
        await session.commit()

    living = process(sessions, desk, "living", clock)
    clock.advance(timedelta(seconds=6))
    await living.sweep()
    await living.wait_idle(10)
    assert desk.order == {}  # the lease is still the dead one's
    assert await pending(sessions) == 2

    clock.advance(CHAT_LEASE)
    assert await living.sweep() == 1
    await living.wait_idle(10)
    assert desk.order == {7: [1, 2]}
    assert await pending(sessions) == 0


async def test_news_for_a_chat_under_another_process_s_lease_is_left_to_it(
    sessions: Sessions, now: datetime
) -> None:
    clock = ShiftedClock(now)
    desk = Desk(sessions)
    holder, other = process(sessions, desk, "p1", clock), process(sessions, desk, "p2", clock)
    async with sessions() as session:
        assert await LeaseRepo(session).take(chat_lease(9), holder="p1", now=now, ttl=CHAT_LEASE)
        await session.commit()
    await other.receive([message(1, 9)])
    await other.wait_idle(10)
    assert desk.order == {} and await pending(sessions) == 1
    # p1 (the holder) looks again when its drain ends: here, its next drain of the chat.
    async with sessions() as session:
        await LeaseRepo(session).release(chat_lease(9), holder="p1")
        await session.commit()
    await holder.sweep(older_than=timedelta(0))
    await holder.wait_idle(10)
    assert desk.order == {9: [1]} and desk.by[1] == "p1"


def _received(update_id: int, chat: int) -> Received:
    return Received(update_id, chat, body_of(message(update_id, chat)))


def desk_settings(engine_url: str, mode: str) -> Settings:
    return load_settings(
        _env_file=None,
        bot_token="123456:TEST",
        telegram_api_url="http://127.0.0.1:9",  # nothing answers: no call leaves the machine
        database_url=engine_url,
        operator_chat_id=-1001000000001,
        bot_mode=mode,
        webhook_url="https://desk.example.uz/telegram/webhook",
        webhook_secret="s" * 32,
        setup_check=False,
    )


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_chats_are_leased_only_where_processes_can_share_the_inbox(
    engine_url: str, dialect: str, mode: str
) -> None:
    """Webhook processes on one PostgreSQL database share the inbox; long polling has one
    receiver (Telegram answers a second getUpdates with 409), and SQLite one process."""
    app = await build_app(desk_settings(engine_url, mode))
    try:
        assert app.inbox.shared == (dialect == "postgresql" and mode == "webhook")
    finally:
        await app.close()


async def test_a_poller_waits_while_another_process_polls_on_the_database(
    engine_url: str, sessions: Sessions
) -> None:
    """A restart that overlaps its predecessor: the new process neither polls nor handles the
    inbox until the old one has stopped (and finished what it held); told to stop while it
    waits, it stops."""
    first = await build_app(desk_settings(engine_url, "polling"))
    second = await build_app(desk_settings(engine_url, "polling"))
    third = await build_app(desk_settings(engine_url, "polling"))
    try:
        await first.start_background(sole=True)
        async with sessions() as session:
            await InboxRepo(session).store([_received(7, 1)], now=datetime.now(UTC))
            await session.commit()
        waiting = asyncio.create_task(second.start_background(sole=True))
        await asyncio.sleep(1.5)
        assert not waiting.done()
        assert not second.inbox._queues and await pending(sessions) == 1  # not taken
        await first.close()
        await asyncio.wait_for(waiting, timeout=5)  # the lease was given back at the stop
        assert await second.inbox.wait_idle(5)
        assert await pending(sessions) == 0  # what the first left is the second's now
        # A third, told to stop while it waits, stops at once.
        stopped = asyncio.create_task(third.start_background(sole=True))
        await asyncio.sleep(0.3)
        third.stop_polling()
        await asyncio.wait_for(stopped, timeout=3)
        assert not third.inbox._queues
    finally:
        for app in (first, second, third):
            await app.close()
