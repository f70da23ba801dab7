"""The durable inbox against the stand-in: an update is stored before Telegram is told it was
received, what a crash left unhandled is handled at the next start, an update seen twice is
handled once, and a reply a killed process left in flight is sent within seconds of a restart."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from aiogram.methods import SendMessage
from aiogram.types import Update
from sqlalchemy import select

from bot.inbox import InboxTicket, chat_key
from bot.services.outgoing import Outgoing
from bot.vocabulary import InboxStatus, Purpose
from standin import StandIn
from storage.db import create_engine, create_session_factory
from storage.inbox import InboxRepo, Received
from storage.models import InboxUpdate, OutboxItem
from storage.outbox import OutboxRepo
from tests.e2e.harness import Harness, Person

GREETING = "Здравствуйте"


async def _rows(h: Harness) -> list[InboxUpdate]:
    assert h.app is not None
    async with h.app.sessions() as session:
        return list((await session.scalars(select(InboxUpdate))).all())


async def test_every_update_is_stored_and_marked_handled(harness: Harness) -> None:
    client = Person(harness, 1001, "Иван")
    await client.say("/start")
    rows = await _rows(harness)
    assert [(r.chat_key, r.status) for r in rows] == [(1001, InboxStatus.HANDLED)]
    assert rows[0].body["message"]["text"] == "/start"
    assert rows[0].body["message"]["from"]["id"] == 1001


async def test_what_a_crash_left_unhandled_is_handled_at_the_next_start(
    harness: Harness, standin: StandIn
) -> None:
    client = Person(harness, 1001, "Иван")
    await harness.stop()
    # Telegram handed these over, the inbox stored them, and the process died before handling
    # them: the offset moved past them, so Telegram will not hand them over again.
    standin.send_message(1001, text="/start")
    standin.send_message(1001, text="Иван Петров")
    bodies = standin.take_updates(None, 100)
    standin.drop_pending_updates()
    engine = create_engine(harness.database_url)
    try:
        async with create_session_factory(engine)() as session:
            received = [Received(b["update_id"], 1001, b) for b in bodies]
            assert len(await InboxRepo(session).store(received, now=harness.clock.now())) == 2
            await session.commit()
    finally:
        await engine.dispose()

    await harness.start()
    await harness.settle()

    texts = client.texts()
    assert len(texts) == 3  # the greeting, the question of the name, the next question
    assert texts[0].startswith(GREETING)
    # The name was taken in its turn, after the greeting: the next question is the company.
    assert "компан" in texts[2].lower()
    assert {r.status for r in await _rows(harness)} == {InboxStatus.HANDLED}


async def test_an_update_received_twice_is_handled_once(harness: Harness, standin: StandIn) -> None:
    client = Person(harness, 1001, "Иван")
    await client.say("/start")
    app = harness.app
    assert app is not None
    (row,) = await _rows(harness)
    update = Update.model_validate(row.body, context={"bot": app.bot})
    # Telegram redelivers what it thinks was lost (a webhook that timed out, say).
    assert await app.inbox.receive([update]) == 0
    await harness.settle()
    assert len(client.texts()) == 2  # the greeting and the question of the name, once


async def test_of_two_transactions_handling_one_update_only_one_keeps_its_effects(
    harness: Harness, standin: StandIn
) -> None:
    """Two processes that both took one update (a webhook retried into another process):
    the first commit marks it handled, the other's effects are rolled back and it says
    nothing."""
    client = Person(harness, 1001, "Иван")
    app = harness.app
    assert app is not None
    await harness.stop()
    standin.send_message(1001, text="/start")
    (body,) = standin.take_updates(None, 100)
    standin.drop_pending_updates()
    await harness.start()
    app = harness.app
    assert app is not None
    update = Update.model_validate(body, context={"bot": app.bot})
    async with app.sessions() as session:
        stored = Received(update.update_id, chat_key(update), body)
        await InboxRepo(session).store([stored], now=harness.clock.now())
        await session.commit()
    tickets = [InboxTicket(update.update_id), InboxTicket(update.update_id)]
    await asyncio.gather(*(app.dispatcher.feed_update(app.bot, update, inbox=t) for t in tickets))
    await harness.settle()

    assert sorted((t.handled, t.duplicate) for t in tickets) == [(False, True), (True, False)]
    assert len(client.texts()) == 2
    assert client.texts()[0].startswith(GREETING)


async def test_the_offset_moves_only_once_the_inbox_holds_the_update(
    harness: Harness, standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Person(harness, 1001, "Иван")
    real_store = InboxRepo.store
    failures = {"left": 2}
    offsets_when_failing: list[list[Any]] = []

    def offsets() -> list[Any]:
        return [c.params.get("offset") for c in standin.calls_of("getUpdates")]

    async def flaky(self: InboxRepo, *args: Any, **kwargs: Any) -> set[int]:
        if failures["left"]:
            failures["left"] -= 1
            offsets_when_failing.append(offsets())
            raise OSError("the database is away")
        return await real_store(self, *args, **kwargs)

    monkeypatch.setattr(InboxRepo, "store", flaky)
    app = harness.app
    assert app is not None and app.poller is not None
    app.poller.first_delay = 0.05
    standin.send_message(1001, text="/start")
    await standin.wait_for(lambda: failures["left"] == 0, timeout=10)
    await harness.settle()

    assert len(client.texts()) == 2
    update_id = (await _rows(harness))[0].update_id
    # While the store failed, Telegram was never told the update was received ...
    assert len(offsets_when_failing) == 2
    assert all(update_id + 1 not in seen for seen in offsets_when_failing)
    # ... and once it was stored, the next poll confirmed it.
    await standin.wait_for(lambda: update_id + 1 in offsets(), timeout=5)


async def test_a_reply_a_killed_process_left_in_flight_is_sent_after_the_restart(
    harness: Harness, standin: StandIn
) -> None:
    """A reply is kept in the outbox, leased to the process, in the update's transaction;
    the process was killed before it said it. The restarted bot sees that process no longer
    beats and sends the reply at once, not when the 30 s lease runs out."""
    client = Person(harness, 1001, "Иван")
    await harness.stop()
    engine = create_engine(harness.database_url)
    now = harness.clock.now()
    try:
        async with create_session_factory(engine)() as session:
            out = Outgoing(OutboxRepo(session), None, now)
            item: OutboxItem = out.queue(
                SendMessage(chat_id=1001, text="Ваше обращение зарегистрировано"),
                purpose=Purpose.REPLY,
            )
            item.locked_by, item.locked_until = "killed-process", now + timedelta(seconds=30)
            await session.commit()
    finally:
        await engine.dispose()

    await harness.start()
    await harness.settle()
    assert client.texts() == ["Ваше обращение зарегистрировано"]
