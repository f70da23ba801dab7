"""The delivery worker against a fake Bot (no HTTP), on SQLite and PostgreSQL: order per chat,
flood control and back-off, the cap of attempts and age, dead letters reported once, a client
who blocked the bot, a restart in the middle of an item."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

import pytest
from aiogram.methods import CopyMessage, EditMessageText
from sqlalchemy.ext.asyncio import AsyncSession

from bot.render import Renderer
from bot.services.desk import Desk
from bot.services.outgoing import Outgoing
from bot.vocabulary import OutboxStatus, Place, Purpose
from scheduler import delivery
from storage.models import Client, OutboxItem
from storage.outbox import OutboxRepo
from tests import fake_bot as fb
from tests.fake_bot import FakeBot
from tests.integration.conftest import NewTicket
from tests.integration.delivery_kit import (
    FakeClock,
    Sessions,
    events,
    queue,
    rows,
    ticket_row,
    worker,
)

CLIENT = 700_000_001
OTHER = 700_000_002


@pytest.fixture
def clock(now: datetime) -> FakeClock:
    return FakeClock(now)


@pytest.fixture
def bot() -> FakeBot:
    return FakeBot()


def texts(methods: list[Any]) -> list[str]:
    return [m.text for m in methods]


async def test_each_chat_gets_its_messages_in_order_once(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot
) -> None:
    def write(out: Outgoing) -> None:
        for n in range(3):
            out.to_chat(CLIENT, f"a{n}", purpose=Purpose.NOTICE)
            out.to_chat(OTHER, f"b{n}", purpose=Purpose.NOTICE)

    await queue(sessions, desk, clock, write)
    await worker(bot, sessions, clock, desk).drain()

    to = {chat: [m.text for m in bot.sent() if m.chat_id == chat] for chat in (CLIENT, OTHER)}
    assert to == {CLIENT: ["a0", "a1", "a2"], OTHER: ["b0", "b1", "b2"]}
    done = await rows(sessions)
    assert {(i.status, i.attempts, i.locked_by) for i in done} == {(OutboxStatus.SENT, 1, None)}
    # Each row records the message Telegram made of it (the fake bot numbers them from 100 in
    # the order they were sent; chats go side by side, so not in the rows' order).
    made = {m.text: 100 + n for n, m in enumerate(bot.sent())}
    assert all(i.result == {"message_id": made[i.payload["text"]]} for i in done)


async def test_flood_control_is_honoured_and_the_chat_waits(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot, now: datetime
) -> None:
    await queue(
        sessions,
        desk,
        clock,
        lambda out: [out.to_chat(CLIENT, t, purpose=Purpose.NOTICE) for t in ("1", "2")],
    )
    bot.fail("sendMessage", fb.retry_after(7))
    w = worker(bot, sessions, clock, desk)
    await w.drain()
    first, second = await rows(sessions)
    assert (first.status, first.attempts, first.not_before) == (
        OutboxStatus.PENDING,
        1,
        now + timedelta(seconds=7),
    )
    assert first.last_error == "flood control"
    assert second.attempts == 0 and bot.sent() == []  # behind its head

    clock.advance(seconds=6)
    await w.drain()
    assert bot.sent() == []
    clock.advance(seconds=1)
    await w.drain()
    assert texts(bot.sent()) == ["1", "2"]


@pytest.mark.parametrize(
    "make", [fb.server_error, fb.network_error, fb.timeout, fb.undecodable, fb.unexpected]
)
async def test_what_may_pass_is_retried_with_growing_pauses(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot, make: fb.Raise
) -> None:
    await queue(sessions, desk, clock, lambda out: out.to_chat(CLIENT, "x", purpose="notice"))
    bot.fail("sendMessage", make, times=3)
    w = worker(bot, sessions, clock, desk)
    pauses = []
    for _ in range(3):
        start = clock.now()
        await w.drain()
        [item] = await rows(sessions)
        pauses.append((item.not_before - start).total_seconds())
        clock.moment = item.not_before
    assert pauses == [2.0, 4.0, 8.0]
    await w.drain()
    [item] = await rows(sessions)
    assert (item.status, item.attempts, texts(bot.sent())) == (OutboxStatus.SENT, 4, ["x"])


async def dead_letters(sessions: Sessions) -> list[OutboxItem]:
    return [i for i in await rows(sessions) if i.purpose == Purpose.DEAD_LETTER]


async def test_an_item_that_keeps_failing_becomes_a_dead_letter_reported_once(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot, new_ticket: NewTicket
) -> None:
    ticket = await new_ticket()

    def write(out: Outgoing) -> None:
        out.queue(
            CopyMessage(chat_id=CLIENT, from_chat_id=desk.operator_chat_id, message_id=5),
            purpose=Purpose.RELAY_TO_CLIENT,
            ticket_id=ticket.id,
        )
        out.to_chat(CLIENT, "next", purpose=Purpose.NOTICE, ticket_id=ticket.id)

    await queue(sessions, desk, clock, write)
    bot.fail("copyMessage", fb.server_error, times=-1)
    w = worker(bot, sessions, clock, desk, max_attempts=3)
    for _ in range(5):
        await w.drain()
        clock.advance(hours=1)

    stuck, after, report = await rows(sessions)
    assert len(bot.of("copyMessage")) == 3
    assert (stuck.status, stuck.attempts) == (OutboxStatus.DEAD, 3)
    assert stuck.last_error is not None and "given up after 3 tries" in stuck.last_error
    assert after.status == OutboxStatus.SENT  # the chat's queue went on
    assert (report.purpose, report.place, report.ticket_id, report.ref_id) == (
        Purpose.DEAD_LETTER,
        Place.DESK,
        ticket.id,
        stuck.id,
    )
    assert report.status == OutboxStatus.SENT
    [told] = bot.sent("sendMessage")[1:]
    assert told.chat_id == desk.operator_chat_id
    assert "№\u00a01001" in told.text and "TelegramServerError" in told.text
    assert told.reply_parameters is None  # no card yet in this plain group
    assert len(await dead_letters(sessions)) == 1


async def test_an_item_failing_for_too_long_is_given_up_sooner(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot
) -> None:
    await queue(sessions, desk, clock, lambda out: out.to_chat(CLIENT, "x", purpose="notice"))
    bot.fail("sendMessage", fb.network_error, times=-1, chat_id=CLIENT)
    w = worker(bot, sessions, clock, desk, max_age=timedelta(hours=1))
    await w.drain()
    clock.advance(hours=2)  # the bot was down: one more try, then it is buried
    await w.drain()
    item, report = await rows(sessions)
    assert (item.status, item.attempts) == (OutboxStatus.DEAD, 2)
    assert report.place == Place.CHAT  # no request to place it with
    assert report.chat_id == desk.operator_chat_id and report.status == OutboxStatus.SENT
    assert str(CLIENT) in bot.sent()[-1].text


async def test_an_old_item_still_gets_its_first_try(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot
) -> None:
    await queue(sessions, desk, clock, lambda out: out.to_chat(CLIENT, "x", purpose="notice"))
    clock.advance(hours=48)  # queued before a long stop of the bot
    await worker(bot, sessions, clock, desk).drain()
    [item] = await rows(sessions)
    assert item.status == OutboxStatus.SENT


async def test_what_can_never_succeed_is_buried_at_once(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot, new_ticket: NewTicket
) -> None:
    ticket = await new_ticket()
    await queue(
        sessions,
        desk,
        clock,
        lambda out: out.to_chat(CLIENT, "x", purpose=Purpose.NOTICE, ticket_id=ticket.id),
    )
    bot.fail("sendMessage", fb.bad_request("message is too long"), chat_id=CLIENT)
    await worker(bot, sessions, clock, desk).drain()
    item, report = await rows(sessions)
    assert (item.status, item.attempts) == (OutboxStatus.DEAD, 1)
    assert item.last_error == "TelegramBadRequest: Bad Request: message is too long"
    assert report.purpose == Purpose.DEAD_LETTER and report.status == OutboxStatus.SENT


async def test_a_stored_call_that_does_not_build_is_buried(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot
) -> None:
    async with sessions() as session:
        OutboxRepo(session).add(CLIENT, "sendMessage", {"chat_id": CLIENT}, now=clock.now())
        OutboxRepo(session).add(CLIENT, "sendPigeon", {"chat_id": CLIENT}, now=clock.now())
        await session.commit()
    await worker(bot, sessions, clock, desk).drain()
    no_text, no_method, *reports = await rows(sessions)
    assert no_text.status == no_method.status == OutboxStatus.DEAD
    assert no_method.last_error is not None and "sendPigeon" in no_method.last_error
    assert len(reports) == 2 and bot.calls == bot.delivered  # never sent to Telegram


async def test_failures_in_the_operator_group_are_logged_not_reported(
    sessions: Sessions,
    desk: Desk,
    clock: FakeClock,
    bot: FakeBot,
    new_ticket: NewTicket,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ticket = await new_ticket()
    await queue(
        sessions,
        desk,
        clock,
        lambda out: out.to_desk(ticket, "заметка", purpose=Purpose.NOTICE),
    )
    bot.fail("sendMessage", fb.forbidden("Forbidden: bot was kicked from the supergroup chat"))
    with caplog.at_level(logging.ERROR, logger="scheduler.delivery"):
        await worker(bot, sessions, clock, desk).drain()
    [item] = await rows(sessions)
    assert item.status == OutboxStatus.DEAD
    assert await dead_letters(sessions) == []
    assert f"outbox item {item.id}" in caplog.text and "dead letter" in caplog.text


async def test_a_failed_report_is_not_reported(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot
) -> None:
    await queue(sessions, desk, clock, lambda out: out.to_chat(CLIENT, "x", purpose="notice"))
    bot.fail("sendMessage", fb.bad_request("message is too long"), times=-1)
    await worker(bot, sessions, clock, desk).drain()
    item, report = await rows(sessions)
    assert item.status == report.status == OutboxStatus.DEAD
    assert len(await rows(sessions)) == 2


async def test_without_an_operator_group_a_dead_letter_is_only_logged(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot
) -> None:
    desk.operator_chat.id = None
    await queue(sessions, desk, clock, lambda out: out.to_chat(CLIENT, "x", purpose="notice"))
    bot.fail("sendMessage", fb.not_found)
    await worker(bot, sessions, clock, desk).drain()
    [item] = await rows(sessions)
    assert item.status == OutboxStatus.DEAD


async def test_a_client_who_blocked_the_bot(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot, new_ticket: NewTicket
) -> None:
    first = await new_ticket()
    async with sessions() as session:  # a second open request of the same client
        second_id = await _second_request(session, first.client_id, clock.now())

    def write(out: Outgoing) -> None:
        for n in range(3):
            out.to_chat(CLIENT, f"ответ {n}", purpose=Purpose.RELAY_TO_CLIENT, ticket_id=first.id)

    await queue(sessions, desk, clock, write)
    bot.fail("sendMessage", fb.forbidden(), times=-1, chat_id=CLIENT)
    await worker(bot, sessions, clock, desk).drain()

    items = await rows(sessions)
    to_client = [i for i in items if i.chat_id == CLIENT]
    assert [(i.status, i.attempts) for i in to_client] == [(OutboxStatus.DEAD, 1)] * 3
    assert len([c for c in bot.calls if c.chat_id == CLIENT]) == 3  # 403 is never retried
    notices = [i for i in items if i.chat_id == desk.operator_chat_id]
    assert sorted(i.ticket_id for i in notices) == sorted([first.id, second_id])  # once each
    assert {(i.purpose, i.place, i.status) for i in notices} == {
        (Purpose.NOTICE, Place.DESK, OutboxStatus.SENT)
    }
    assert all("заблокировал бота" in m.text for m in bot.sent("sendMessage"))
    assert await dead_letters(sessions) == []  # not a dead-letter report
    for ticket_id in (first.id, second_id):
        assert (await ticket_row(sessions, ticket_id)).client_unreachable
    async with sessions() as session:
        client = await session.get(Client, first.client_id)
        assert client is not None and client.blocked_bot
    assert sorted(e.ticket_id for e in await events(sessions, "client_blocked")) == sorted(
        [first.id, second_id]
    )


async def _second_request(session: AsyncSession, client_id: int, now: datetime) -> int:
    from bot.sla import Priority
    from bot.vocabulary import Feedback, Kind, Status
    from storage.models import Ticket

    ticket = Ticket(
        number=1002,
        client_id=client_id,
        kind=Kind.CONSULTATION,
        topic="other",
        status=Status.IN_PROGRESS,
        priority=Priority.LOW,
        feedback=Feedback.TELEGRAM,
        language="ru",
        client_name="Aziz",
        client_company="OOO Test",
        client_tax_id="123456789",
        registered_at=now,
        last_activity_at=now - timedelta(hours=1),
    )
    session.add(ticket)
    await session.commit()
    return ticket.id


async def test_the_blocked_client_event_goes_to_the_service_given(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot
) -> None:
    told: list[tuple[int, datetime]] = []

    async def on_blocked(session: AsyncSession, d: Desk, chat_id: int, now: datetime) -> None:
        assert d is desk
        told.append((chat_id, now))

    await queue(sessions, desk, clock, lambda out: out.to_chat(CLIENT, "x", purpose="notice"))
    bot.fail("sendMessage", fb.forbidden("Forbidden: user is deactivated"))
    await worker(bot, sessions, clock, desk, on_blocked=on_blocked).drain()
    assert told == [(CLIENT, clock.now())]
    [item] = await rows(sessions)
    assert item.status == OutboxStatus.DEAD


async def test_not_modified_counts_as_sent(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot
) -> None:
    await queue(
        sessions,
        desk,
        clock,
        lambda out: out.queue(
            EditMessageText(chat_id=CLIENT, message_id=5, text="same"), purpose=Purpose.EDIT
        ),
    )
    bot.fail("editMessageText", fb.bad_request("message is not modified"))
    await worker(bot, sessions, clock, desk).drain()
    [item] = await rows(sessions)
    assert (item.status, item.result) == (OutboxStatus.SENT, {"not_modified": True})


async def test_a_restart_in_the_middle_of_an_item_delivers_it_once(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot
) -> None:
    await queue(
        sessions,
        desk,
        clock,
        lambda out: [out.to_chat(CLIENT, t, purpose=Purpose.NOTICE) for t in ("1", "2")],
    )
    bot.fail("sendMessage", fb.crash)
    first = worker(bot, sessions, clock, desk)
    with pytest.raises(fb.Crash):
        await first.drain()  # the process dies while Telegram is being called

    second = worker(bot, sessions, clock, desk)  # the restarted process
    await second.drain()
    assert bot.sent() == []  # the dead worker's lease still holds the head
    clock.advance(seconds=delivery.LEASE.total_seconds() + 1)
    await second.drain()
    assert texts(bot.sent()) == ["1", "2"]
    assert [(i.status, i.attempts) for i in await rows(sessions)] == [(OutboxStatus.SENT, 1)] * 2


async def test_a_worker_that_lost_its_lease_records_nothing(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot, new_ticket: NewTicket
) -> None:
    bot.forum = True
    ticket = await new_ticket()
    await queue(sessions, desk, clock, lambda out: out.to_desk(ticket, "x", purpose="card"))

    async def too_slow(method: Any) -> None:  # another worker took the item meanwhile
        async with sessions() as session:
            [item] = await rows(sessions)
            row = await session.get(OutboxItem, item.id)
            assert row is not None
            row.locked_by = "someone else"
            await session.commit()

    bot.on("createForumTopic", too_slow)
    await worker(bot, sessions, clock, desk).drain()
    [item] = await rows(sessions)
    assert (item.status, item.attempts, item.locked_by) == (OutboxStatus.PENDING, 0, "someone else")
    assert bot.sent("sendMessage") == []  # the card is the other worker's to send
    assert (await ticket_row(sessions, ticket.id)).thread_id == 500  # the topic is kept


async def test_the_worker_runs_until_stopped(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot
) -> None:
    w = worker(bot, sessions, clock, desk)
    running = asyncio.create_task(w.run(idle=0.05))
    await queue(sessions, desk, clock, lambda out: out.to_chat(CLIENT, "x", purpose="notice"))
    w.wake()
    for _ in range(200):
        if bot.sent():
            break
        await asyncio.sleep(0.01)
    w.stop()
    await asyncio.wait_for(running, timeout=5)
    assert texts(bot.sent()) == ["x"]


async def test_a_failing_round_does_not_stop_the_worker(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = worker(bot, sessions, clock, desk)
    rounds = 0
    real_drain = w.drain

    async def flaky() -> float:
        nonlocal rounds
        rounds += 1
        if rounds == 1:
            raise RuntimeError("the database went away for a moment")
        return await real_drain()

    monkeypatch.setattr(w, "drain", flaky)
    running = asyncio.create_task(w.run(idle=0.01))
    await queue(sessions, desk, clock, lambda out: out.to_chat(CLIENT, "x", purpose="notice"))
    for _ in range(300):
        if bot.sent():
            break
        await asyncio.sleep(0.01)
    w.stop()
    await asyncio.wait_for(running, timeout=5)
    assert rounds > 1 and texts(bot.sent()) == ["x"]


async def test_pacing_holds_a_chat_back(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot
) -> None:
    from scheduler.pacing import Limits

    w = worker(bot, sessions, clock, desk, Limits(private_burst=1, private_rate=0.001))
    await queue(
        sessions,
        desk,
        clock,
        lambda out: [out.to_chat(CLIENT, t, purpose=Purpose.NOTICE) for t in ("1", "2")],
    )
    pause = await w.drain()
    assert texts(bot.sent()) == ["1"]
    assert pause > 0


async def test_an_unforeseen_error_while_placing_is_capped_like_the_rest(
    sessions: Sessions,
    desk: Desk,
    clock: FakeClock,
    bot: FakeBot,
    new_ticket: NewTicket,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticket = await new_ticket()
    await queue(sessions, desk, clock, lambda out: out.to_desk(ticket, "x", purpose="notice"))

    def broken(*args: object) -> str:
        raise KeyError("a catalogue entry")

    bot.forum = True
    monkeypatch.setattr(Renderer, "topic_title", broken)
    await worker(bot, sessions, clock, desk, max_attempts=1).drain()
    [item] = await rows(sessions)  # into the operator group: buried, not reported
    assert item.status == OutboxStatus.DEAD
    assert item.last_error is not None and "KeyError" in item.last_error
    assert bot.of("createForumTopic") == []


async def test_chats_are_sent_to_side_by_side_each_in_order_within_the_bound(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot
) -> None:
    """Telegram's latency is waited out for several chats at once (DeliveryWorker.parallel),
    never for more than that, and never for two items of one chat at once."""
    chats = [CLIENT + n for n in range(10)]

    def write(out: Outgoing) -> None:
        for n in range(3):
            for chat in chats:
                out.to_chat(chat, f"{chat}:{n}", purpose=Purpose.NOTICE)

    await queue(sessions, desk, clock, write)
    flying: set[int] = set()
    most = 0
    full = asyncio.Event()  # the bound was reached once: from then on, no waiting

    async def latency(method: Any) -> None:
        # Each call is held until `parallel` calls are in flight together (or half a second
        # has passed, for the last few of a round), however slow the machine is.
        nonlocal most
        assert method.chat_id not in flying, "two items of one chat at once"
        flying.add(method.chat_id)
        most = max(most, len(flying))
        if len(flying) >= delivery.PARALLEL:
            full.set()
        with suppress(TimeoutError):
            await asyncio.wait_for(full.wait(), 0.5)
        await asyncio.sleep(0)
        flying.discard(method.chat_id)

    bot.on("sendMessage", latency)
    w = worker(bot, sessions, clock, desk)
    await w.drain()
    assert most == w.parallel == 4
    to = {chat: [m.text for m in bot.sent() if m.chat_id == chat] for chat in chats}
    assert to == {chat: [f"{chat}:{n}" for n in range(3)] for chat in chats}
    assert {(i.status, i.attempts) for i in await rows(sessions)} == {(OutboxStatus.SENT, 1)}


async def test_side_by_side_sends_keep_the_global_pace(
    sessions: Sessions, desk: Desk, clock: FakeClock, bot: FakeBot
) -> None:
    from scheduler.pacing import Limits

    # Room for 3 messages in all, whatever the chats.
    w = worker(bot, sessions, clock, desk, Limits(global_burst=3, global_rate=0.001))
    await queue(
        sessions,
        desk,
        clock,
        lambda out: [out.to_chat(CLIENT + n, "x", purpose=Purpose.NOTICE) for n in range(8)],
    )
    pause = await w.drain()
    assert len(bot.sent()) == 3
    assert pause > 0
