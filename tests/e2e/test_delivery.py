"""The one durable outbox against Telegram's answers: flood control, server errors, a client who
blocked the bot, and a restart with messages still undelivered."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import OutboxItem, Ticket
from tests.e2e.harness import OPERATORS, Harness, Operator, Person, identify, open_request


async def opened(h: Harness) -> tuple[Person, Operator]:
    client = Person(h, 1001, "Иван")
    await identify(client)
    await open_request(client)
    return client, Operator(h, 9001)


async def outbox(h: Harness) -> list[OutboxItem]:
    assert h.app is not None
    async with h.app.sessions() as session:
        return list((await session.scalars(select(OutboxItem).order_by(OutboxItem.id))).all())


async def test_flood_control_is_honoured_and_nothing_is_lost(harness: Harness) -> None:
    client, operator = await opened(harness)
    harness.standin.fail("copyMessage", status=429, retry_after=1, times=2, chat_id=client.id)
    await operator.write("Первый ответ", reply_to=operator.card(1001)["message_id"])
    await operator.write("Второй ответ", reply_to=operator.card(1001)["message_id"])
    assert client.texts()[-2:] == ["Первый ответ", "Второй ответ"]  # in order, once each
    failed = [c for c in harness.standin.calls_of("copyMessage") if not c.ok]
    assert [c.status for c in failed] == [429, 429]
    assert all(item.status == "sent" for item in await outbox(harness))


async def test_server_errors_are_retried(harness: Harness) -> None:
    client, operator = await opened(harness)
    harness.standin.fail("copyMessage", status=500, times=1, chat_id=client.id)
    await operator.write("Ответ", reply_to=operator.card(1001)["message_id"])
    harness.clock.advance(timedelta(seconds=5))  # past the back-off
    await harness.settle()
    assert client.texts()[-1] == "Ответ"
    [item] = [i for i in await outbox(harness) if i.purpose == "relay_to_client"]
    assert (item.status, item.attempts) == ("sent", 2)


async def test_a_client_who_blocked_the_bot(harness: Harness) -> None:
    client, operator = await opened(harness)
    harness.standin.block_bot(client.id)
    await operator.write("Ответ", reply_to=operator.card(1001)["message_id"])
    await operator.write("Ещё ответ", reply_to=operator.card(1001)["message_id"])
    items = [i for i in await outbox(harness) if i.purpose == "relay_to_client"]
    assert [i.status for i in items] == ["dead", "dead"]
    # 403 is never retried.
    assert len([c for c in harness.standin.calls_of("copyMessage") if c.status == 403]) == 2
    notices = [
        m["text"]
        for m in harness.standin.sent(OPERATORS)
        if "заблокировал бота" in (m.get("text") or "")
    ]
    assert len(notices) == 1  # told once, not per message
    assert harness.app is not None
    async with harness.app.sessions() as session:
        t = await session.scalar(select(Ticket).where(Ticket.number == 1001))
    assert t is not None
    assert t.client_unreachable
    # The client unblocks the bot and writes: they are reachable again.
    harness.standin.block_bot(client.id, blocked=False)
    await client.say("Я снова здесь")
    await operator.write("С возвращением", reply_to=operator.card(1001)["message_id"])
    assert client.texts()[-1] == "С возвращением"
    async with harness.app.sessions() as session:
        t = await session.scalar(select(Ticket).where(Ticket.number == 1001))
    assert t is not None
    assert not t.client_unreachable


async def test_a_restart_with_undelivered_messages(harness: Harness) -> None:
    client, operator = await opened(harness)
    harness.standin.fail("copyMessage", status=500, times=1, chat_id=client.id)
    card = operator.card(1001)["message_id"]
    harness.standin.send_message(operator.id, OPERATORS, text="Ответ 1", reply_to=card)
    harness.standin.send_message(operator.id, OPERATORS, text="Ответ 2", reply_to=card)
    await harness.standin.idle()  # taken by the bot, but not settled: the first is backing off
    pending = [i for i in await outbox(harness) if i.status == "pending"]
    assert len(pending) == 2  # the first waits for its back-off, the second behind it
    await harness.stop()
    await harness.start()
    harness.clock.advance(timedelta(seconds=5))
    await harness.settle()
    assert client.texts()[-2:] == ["Ответ 1", "Ответ 2"]
    delivered = [
        c
        for c in harness.standin.calls_of("copyMessage")
        if c.ok and c.params["chat_id"] == client.id
    ]
    assert len(delivered) == 2  # nothing confirmed was sent twice
