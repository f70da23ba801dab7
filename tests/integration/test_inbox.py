"""The inbox and the process heartbeats on SQLite and PostgreSQL: an update id is stored once,
marked handled once whichever transaction comes second, failures are kept, handled rows are
pruned; a killed process's outbox leases are freed while the living keep theirs."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.vocabulary import InboxStatus
from scheduler.liveness import Liveness
from storage.inbox import InboxRepo, Received
from storage.models import InboxUpdate, OutboxItem
from storage.outbox import OutboxRepo
from storage.processes import ProcessRepo
from tests.unit.test_inbox import message

Sessions = async_sessionmaker[AsyncSession]


def update(update_id: int, chat: int = 1001) -> Received:
    body = {"update_id": update_id, "message": {"text": "ё\u0000𝔘", "chat": {"id": chat}}}
    return Received(update_id, chat, body)


async def test_an_update_id_is_stored_once(sessions: Sessions, now: datetime) -> None:
    async with sessions() as session:
        assert await InboxRepo(session).store([update(1), update(2)], now=now) == {1, 2}
        await session.commit()
    async with sessions() as session:
        assert await InboxRepo(session).store([update(2), update(3)], now=now) == {3}
        await session.commit()
    async with sessions() as session:
        rows = await InboxRepo(session).pending()
        assert [r.update_id for r in rows] == [1, 2, 3]
        assert rows[0].body["message"]["text"] == "ё\u0000𝔘"
        assert await InboxRepo(session).depth() == 3


async def test_of_two_transactions_marking_one_update_the_second_learns_it_lost(
    sessions: Sessions, now: datetime
) -> None:
    async with sessions() as session:
        await InboxRepo(session).store([update(7)], now=now)
        await session.commit()
    async with sessions() as first, sessions() as second:
        assert await InboxRepo(first).mark_handled(7, now=now)
        await first.commit()
        assert not await InboxRepo(second).mark_handled(7, now=now)
        await second.rollback()
    async with sessions() as session:
        assert not await InboxRepo(session).is_pending(7)
        assert await InboxRepo(session).depth() == 0


async def test_failures_are_counted_and_the_last_one_kept(
    sessions: Sessions, now: datetime
) -> None:
    async with sessions() as session:
        repo = InboxRepo(session)
        await repo.store([update(5)], now=now)
        await repo.mark_failed(5, now=now, error="OperationalError()", final=False)
        await repo.mark_failed(5, now=now, error="KeyError('n')", final=True)
        await session.commit()
    async with sessions() as session:
        row = await session.get(InboxUpdate, 5)
        assert row is not None
        assert (row.status, row.attempts, row.last_error) == (
            InboxStatus.FAILED,
            2,
            "KeyError('n')",
        )


async def test_handled_rows_are_pruned_pending_ones_kept(sessions: Sessions, now: datetime) -> None:
    async with sessions() as session:
        repo = InboxRepo(session)
        await repo.store([update(i) for i in range(1, 6)], now=now)
        for i in (1, 2, 3):
            await repo.mark_handled(i, now=now - timedelta(days=3))
        await repo.mark_handled(4, now=now)
        await session.commit()
    async with sessions() as session:
        assert await InboxRepo(session).prune(now - timedelta(days=2), batch=2) == 2
        assert await InboxRepo(session).prune(now - timedelta(days=2)) == 1
        await session.commit()
    async with sessions() as session:
        left = await session.scalars(select(InboxUpdate.update_id).order_by(InboxUpdate.update_id))
        assert list(left) == [4, 5]


class Fixed:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


async def test_a_dead_process_s_leases_are_freed_the_living_keep_theirs(
    sessions: Sessions, now: datetime
) -> None:
    clock: Clock = Fixed(now)
    async with sessions() as session:
        outbox = OutboxRepo(session)
        for owner in ("alive", "dead", "never-beat"):
            item = outbox.add(1001, "sendMessage", {"chat_id": 1001, "text": owner}, now=now)
            item.locked_by, item.locked_until = owner, now + timedelta(seconds=30)
        processes = ProcessRepo(session)
        await processes.beat("alive", now=now - timedelta(seconds=1))
        await processes.beat("dead", now=now - timedelta(seconds=20))
        await session.commit()

    freed = await Liveness(sessions, "me", clock=clock).once()

    assert freed == 2
    async with sessions() as session:
        held = await session.scalars(select(OutboxItem.locked_by).order_by(OutboxItem.id))
        assert list(held) == ["alive", None, None]
        alive = await ProcessRepo(session).alive(now=now, stale=timedelta(seconds=8))
        assert sorted(alive) == ["alive", "me"]


async def test_a_clean_stop_frees_what_the_process_held(sessions: Sessions, now: datetime) -> None:
    liveness = Liveness(sessions, "me", clock=Fixed(now))
    await liveness.once()
    async with sessions() as session:
        item = OutboxRepo(session).add(1001, "sendMessage", {"chat_id": 1, "text": "x"}, now=now)
        item.locked_by, item.locked_until = "me", now + timedelta(seconds=30)
        await session.commit()
    running = asyncio.create_task(liveness.run())
    await liveness.stop()
    await running
    async with sessions() as session:
        assert await session.scalar(select(OutboxItem.locked_by)) is None
        assert await ProcessRepo(session).alive(now=now, stale=timedelta(seconds=8)) == []


async def test_each_beat_tells_how_many_processes_are_alive(
    sessions: Sessions, now: datetime
) -> None:
    told: list[int] = []
    first = Liveness(sessions, "p1", clock=Fixed(now), on_alive=told.append)
    second = Liveness(sessions, "p2", clock=Fixed(now))
    await first.once()
    await second.once()
    await first.once()
    async with sessions() as session:
        await ProcessRepo(session).beat("gone", now=now - timedelta(seconds=20))
        await session.commit()
    await first.once()
    assert told == [1, 2, 2]


class Gated:
    """An inbox whose group commit waits for `release`, and a dispatcher that notes what it
    was fed and, for chat 6, waits for `busy_done` (an update still being handled)."""

    def __init__(self, sessions: Sessions) -> None:
        from aiogram import Bot, Dispatcher

        from bot.clock import SystemClock
        from bot.inbox import Inbox

        self.seen: list[list[int]] = []
        self.fed: list[int] = []
        self.waiting, self.release, self.busy_done = (
            asyncio.Event(),
            asyncio.Event(),
            asyncio.Event(),
        )
        self.gate = False
        gated = self

        async def durable() -> None:
            if not gated.gate:
                return
            async with sessions() as session:  # committed by then, and not yet confirmed
                gated.seen.append([r.update_id for r in await InboxRepo(session).pending()])
            gated.waiting.set()
            await gated.release.wait()

        class Handles:
            async def feed_update(self, bot: Any, update: Any, **kw: Any) -> None:
                gated.fed.append(update.update_id)
                if update.message.chat.id == 6:
                    await gated.busy_done.wait()
                kw["inbox"].handled = True

        self.inbox = Inbox(
            sessions,
            cast(Dispatcher, Handles()),
            cast(Bot, object()),
            SystemClock(),
            durable=durable,
        )


async def test_received_updates_are_made_durable_before_receive_returns(
    sessions: Sessions, now: datetime
) -> None:
    """On a SQLite file the commit leaves the fsync to the group commit: the inbox waits for
    it before Telegram may learn that the updates are stored (the next offset, a 200). On a
    quiet desk the handling begins meanwhile: what it says waits for its own later commit."""
    gated = Gated(sessions)
    gated.gate = True
    inbox = gated.inbox
    receiving = asyncio.create_task(inbox.receive([message(77, 5)]))
    await asyncio.wait_for(gated.waiting.wait(), 10)
    await asyncio.sleep(0.05)
    assert gated.seen == [[77]] and not receiving.done()
    assert gated.fed == [77]  # nothing else in hand: handled while the store is made durable
    assert not inbox.idle()  # stored, not yet handed over: not idle for whoever waits on it
    gated.release.set()
    assert await asyncio.wait_for(receiving, 5) == 1
    await inbox.wait_idle(5)
    assert inbox.idle()
    await inbox.stop()


async def test_under_load_updates_wait_for_their_store_to_be_durable(
    sessions: Sessions, now: datetime
) -> None:
    """With another update being handled, new ones are handed over only once their store is
    durable (a handling begun first would hold the loop while the next getUpdates waits)."""
    gated = Gated(sessions)
    inbox = gated.inbox
    assert await inbox.receive([message(80, 6)]) == 1  # chat 6: still being handled
    await asyncio.sleep(0.05)
    assert gated.fed == [80]
    gated.gate = True
    receiving = asyncio.create_task(inbox.receive([message(81, 5)]))
    await asyncio.wait_for(gated.waiting.wait(), 10)
    await asyncio.sleep(0.05)
    assert gated.fed == [80] and not receiving.done()  # 81 waits for its store's fsync
    gated.release.set()
    assert await asyncio.wait_for(receiving, 5) == 1
    await asyncio.sleep(0.05)
    assert gated.fed == [80, 81]
    gated.busy_done.set()
    assert await inbox.wait_idle(5)
    await inbox.stop()


async def test_an_update_is_stored_as_telegram_sent_it_where_the_body_came_with_it(
    sessions: Sessions, now: datetime
) -> None:
    """The poller and the webhook hand over the bodies as they came; an update without one is
    stored as aiogram's model dumps it (aliases, nothing that was not there)."""
    from bot.inbox import body_of

    gated = Gated(sessions)
    gated.busy_done.set()
    sent = message(90, 5).model_dump(mode="json", exclude_unset=True, by_alias=True)
    sent["a_field_of_a_newer_bot_api"] = True
    plain = message(91, 5)
    assert await gated.inbox.receive([message(90, 5), plain], {90: sent}) == 2
    async with sessions() as session:
        rows = await session.scalars(select(InboxUpdate).order_by(InboxUpdate.update_id))
        stored = {row.update_id: row.body for row in rows}
    assert stored == {90: sent, 91: body_of(plain)}
    assert "from" in stored[91]["message"]
    await gated.inbox.wait_idle(5)
    await gated.inbox.stop()
