"""Outbox leasing: one chat's messages leave strictly in order, each with one worker at a time;
the outcomes that release a lease; a chat that moved takes its pending items along."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.vocabulary import OutboxStatus, Place, Purpose
from storage.models import OutboxItem
from storage.outbox import OutboxRepo, pending_group

LEASE = timedelta(seconds=30)
CHAT = 555
OTHER = 777
LATER = 888


async def enqueue(
    sessions: async_sessionmaker[AsyncSession],
    chat_id: int,
    count: int,
    now: datetime,
    *,
    not_before: datetime | None = None,
) -> list[int]:
    async with sessions() as session:
        repo = OutboxRepo(session)
        items = [
            repo.add(chat_id, "sendMessage", {"chat_id": chat_id, "text": f"#{n}"}, now=now)
            for n in range(count)
        ]
        if not_before is not None:
            for item in items:
                item.not_before = not_before
        await session.commit()
        return [item.id for item in items]


async def lease(
    sessions: async_sessionmaker[AsyncSession], chat_id: int, worker: str, now: datetime
) -> OutboxItem | None:
    async with sessions() as session:
        item = await OutboxRepo(session).lease_head(chat_id, worker=worker, now=now, lease=LEASE)
        await session.commit()
        return item


async def mark_sent(
    sessions: async_sessionmaker[AsyncSession], item_id: int, now: datetime
) -> None:
    async with sessions() as session:
        item = await session.get(OutboxItem, item_id)
        assert item is not None
        OutboxRepo(session).mark_sent(item, now=now, result=None)
        await session.commit()


async def ready(sessions: async_sessionmaker[AsyncSession], now: datetime) -> list[int]:
    async with sessions() as session:
        return list(await OutboxRepo(session).ready_chats(now))


async def test_items_of_a_chat_come_out_in_id_order_head_only(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    ids = await enqueue(sessions, CHAT, 3, now)
    await enqueue(sessions, OTHER, 1, now)  # interleaved chat, must not matter
    ids += await enqueue(sessions, CHAT, 1, now)

    taken = []
    for step in range(len(ids)):
        item = await lease(sessions, CHAT, "w1", now + timedelta(seconds=step))
        assert item is not None
        assert (item.locked_by, item.chat_id) == ("w1", CHAT)
        assert item.locked_until == now + timedelta(seconds=step) + LEASE
        # While the head is out, the chat has nothing else to give: not the next item either.
        assert await lease(sessions, CHAT, "w2", now + timedelta(seconds=step)) is None
        taken.append(item.id)
        await mark_sent(sessions, item.id, now)
    assert taken == ids
    assert await lease(sessions, CHAT, "w1", now) is None


async def test_a_leased_head_waits_for_its_lease_to_expire(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    [item_id] = await enqueue(sessions, CHAT, 1, now)

    first = await lease(sessions, CHAT, "w1", now)
    assert first is not None and first.id == item_id
    assert await lease(sessions, CHAT, "w2", now + LEASE - timedelta(seconds=1)) is None
    assert await lease(sessions, CHAT, "w2", now + LEASE) is None  # expires strictly after

    # w1 died without finishing: after the lease the item goes to another worker.
    second = await lease(sessions, CHAT, "w2", now + LEASE + timedelta(seconds=1))
    assert second is not None and second.id == item_id
    assert second.locked_by == "w2"
    assert second.locked_until == now + LEASE + timedelta(seconds=1) + LEASE


async def test_two_workers_leasing_one_chat_at_once_one_gets_it(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    await enqueue(sessions, CHAT, 2, now)
    started = asyncio.Event()

    async def worker(name: str) -> OutboxItem | None:
        async with sessions() as session:
            await started.wait()
            item = await OutboxRepo(session).lease_head(CHAT, worker=name, now=now, lease=LEASE)
            await asyncio.sleep(0.05)  # hold the row lock while the other one tries
            await session.commit()
            return item

    for _ in range(3):  # a few rounds; each round leases the next head
        tasks = [asyncio.create_task(worker(f"w{n}")) for n in range(2)]
        await asyncio.sleep(0)
        started.set()
        got = await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
        started.clear()
        winners = [item for item in got if item is not None]
        if not winners:  # nothing left
            break
        assert len(winners) == 1, got
        await mark_sent(sessions, winners[0].id, now)
    else:
        raise AssertionError("the queue of two items did not drain")


async def test_ready_chats_skips_leased_and_future_heads(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    await enqueue(sessions, CHAT, 2, now)
    [later_head] = await enqueue(sessions, LATER, 1, now, not_before=now + timedelta(minutes=5))
    await enqueue(sessions, LATER, 1, now)  # due now, but behind a head that is not
    await enqueue(sessions, OTHER, 1, now)

    assert await ready(sessions, now) == [CHAT, OTHER]

    # A leased head takes its chat out until the lease ends.
    assert await lease(sessions, CHAT, "w1", now) is not None
    assert await ready(sessions, now) == [OTHER]
    assert await ready(sessions, now + LEASE + timedelta(seconds=1)) == [CHAT, OTHER]
    # The future head becomes due.
    assert await ready(sessions, now + timedelta(minutes=5)) == [CHAT, LATER, OTHER]

    # A head that may not leave yet cannot be leased either.
    assert await lease(sessions, LATER, "w1", now) is None
    async with sessions() as session:
        assert await OutboxRepo(session).next_due() == now
        assert await OutboxRepo(session).pending_count() == 5

    # Once the head is gone, a chat whose head is due comes back.
    await mark_sent(sessions, later_head, now)
    assert await ready(sessions, now) == [LATER, OTHER]


async def test_pending_group_finds_the_pending_album_item(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    async with sessions() as session:
        repo = OutboxRepo(session)
        album = repo.add(CHAT, "copyMessages", {"message_ids": [1]}, now=now)
        album.group_key = "album:42:1001"
        other = repo.add(CHAT, "copyMessages", {"message_ids": [7]}, now=now)
        other.group_key = "album:42:1002"
        repo.add(CHAT, "sendMessage", {"text": "plain"}, now=now)
        await session.commit()

    async with sessions() as session:
        found = await pending_group(session, "album:42:1001")
        assert found is not None and found.id == album.id
        assert await pending_group(session, "album:42:9999") is None

    await mark_sent(sessions, album.id, now)
    async with sessions() as session:
        assert await pending_group(session, "album:42:1001") is None  # sent: a new item starts
        found = await pending_group(session, "album:42:1002")
        assert found is not None and found.id == other.id


async def test_a_lease_is_renewed_only_by_its_holder(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    [item_id] = await enqueue(sessions, CHAT, 1, now)
    assert await lease(sessions, CHAT, "w1", now) is not None
    later = now + timedelta(seconds=20)
    async with sessions() as session:
        repo = OutboxRepo(session)
        assert await repo.renew_lease(item_id, worker="w1", now=later, lease=LEASE)
        assert not await repo.renew_lease(item_id, worker="w2", now=later, lease=LEASE)
        await session.commit()
    # Renewed: still out of reach where the first lease would have ended.
    assert await lease(sessions, CHAT, "w2", now + LEASE + timedelta(seconds=1)) is None
    await mark_sent(sessions, item_id, now)
    async with sessions() as session:  # a sent item has no lease to renew
        assert not await OutboxRepo(session).renew_lease(
            item_id, worker="w1", now=later, lease=LEASE
        )


async def test_outcomes_release_the_lease(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    ids = await enqueue(sessions, CHAT, 2, now)
    item = await lease(sessions, CHAT, "w1", now)
    assert item is not None
    async with sessions() as session:
        row = await session.get(OutboxItem, item.id)
        assert row is not None
        OutboxRepo(session).retry_at(row, when=now + timedelta(seconds=5), error="x" * 600)
        await session.commit()
    async with sessions() as session:
        row = await session.get(OutboxItem, ids[0])
        assert row is not None
        assert (row.status, row.attempts, row.locked_by, row.locked_until) == (
            OutboxStatus.PENDING,
            1,
            None,
            None,
        )
        assert row.not_before == now + timedelta(seconds=5) and len(row.last_error or "") == 500
        OutboxRepo(session).mark_dead(row, error="never")
        await session.commit()
    # A dead letter leaves the queue: the next item is the chat's head.
    head = await lease(sessions, CHAT, "w1", now)
    assert head is not None and head.id == ids[1]
    async with sessions() as session:
        dead = await session.get(OutboxItem, ids[0])
        assert dead is not None
        assert (dead.status, dead.attempts, dead.last_error) == (OutboxStatus.DEAD, 2, "never")
        assert await OutboxRepo(session).pending_count() == 1


async def test_a_chat_that_moved_takes_its_pending_items_along(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    sent, pending = await enqueue(sessions, CHAT, 2, now)
    await mark_sent(sessions, sent, now)
    await enqueue(sessions, OTHER, 1, now)
    async with sessions() as session:
        assert await OutboxRepo(session).move_chat(CHAT, LATER) == 1
        await session.commit()
    async with sessions() as session:
        moved = await session.get(OutboxItem, pending)
        kept = await session.get(OutboxItem, sent)
        assert moved is not None and kept is not None
        assert (moved.chat_id, kept.chat_id) == (LATER, CHAT)  # history stays where it was
    assert await ready(sessions, now) == [LATER, OTHER]


async def test_rows_keep_their_typed_columns(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    async with sessions() as session:
        OutboxRepo(session).add(
            CHAT,
            "editForumTopic",
            {"chat_id": CHAT},
            now=now,
            purpose="topic_title",
            place=Place.TOPIC,
            ticket_id=3,
        )
        await session.commit()
    async with sessions() as session:
        row = await session.scalar(select(OutboxItem))
        assert row is not None
        assert (row.purpose, row.place, row.status) == (
            Purpose.TOPIC_TITLE,
            Place.TOPIC,
            OutboxStatus.PENDING,
        )
        assert isinstance(row.place, Place) and isinstance(row.status, OutboxStatus)


async def test_replies_written_in_plain_sql_are_leased_in_order_and_fit_their_columns(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """An update's own replies (OutboxRepo.insert_leased): their ids in the order given, leased
    to the worker, and what the ORM's rows get at the storage boundary (storage.fitting): no
    U+0000, a name cut to its column."""
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    first = OutboxRepo.values(CHAT, "sendMessage", {"chat_id": CHAT, "text": "a"}, now=now)
    second = OutboxRepo.values(
        CHAT, "sendDocument", {"chat_id": CHAT}, now=now, purpose=Purpose.REPLY
    )
    second |= {"attachment": b"%PDF", "attachment_field": "document"}
    second["attachment_name"] = "акт\x00" + "я" * 400 + ".pdf"
    async with sessions() as session:
        ids = await OutboxRepo(session).insert_leased(
            [first, second], worker="w1", until=now + LEASE
        )
        await session.commit()
    assert ids[0] < ids[1]
    async with sessions() as session:
        rows = {item.id: item for item in (await session.scalars(select(OutboxItem))).all()}
    a, b = rows[ids[0]], rows[ids[1]]
    assert (a.method, a.payload, a.status, a.purpose) == (
        "sendMessage",
        {"chat_id": CHAT, "text": "a"},
        OutboxStatus.PENDING,
        Purpose.NOTICE,
    )
    assert (a.locked_by, a.locked_until) == ("w1", now + LEASE)
    assert b.purpose == Purpose.REPLY and b.attachment == b"%PDF"
    assert b.attachment_name is not None
    assert "\x00" not in b.attachment_name
    assert len(b.attachment_name) == 255 and b.attachment_name.endswith("…")
