"""The one durable outbox against Telegram's answers: flood control, server errors, a client who
blocked the bot, and a restart with messages still undelivered."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from standin import StandIn
from storage.models import OutboxItem, Ticket
from tests.e2e.harness import (
    OPERATORS,
    WORKING_MOMENT,
    Harness,
    Operator,
    Person,
    identify,
    open_request,
)


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
    # Until the first answer's copy was refused and both answers are handled: the first waits
    # for its back-off, the second behind it (the card and the topic may still be paced too).
    await harness.standin.wait_for(
        lambda: any(c.status == 500 for c in harness.standin.calls_of("copyMessage")), timeout=10
    )
    await harness.handled()
    relays = [i for i in await outbox(harness) if i.purpose == "relay_to_client"]
    assert [(i.status, i.attempts) for i in relays] == [("pending", 1), ("pending", 0)]
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


async def test_the_operator_group_upgraded_to_a_supergroup(
    standin: StandIn, tmp_path: Path
) -> None:
    """A basic group becomes a supergroup (a new id): the desk follows it at once, what was
    queued for the old id goes to the new one, and it stays so after a restart."""
    basic, upgraded = -4001, -1004001
    standin.add_group(basic, "CRPT-Turon desk", members=[9001, 9002], supergroup=False)
    h = Harness(standin, tmp_path, WORKING_MOMENT, operator_chat_id=basic)
    await h.start()
    try:
        client = Person(h, 1001, "Иван")
        await identify(client)
        await open_request(client)
        assert standin.sent(basic)[0]["text"].startswith("Обращение №\u00a01001")
        standin.upgrade_group(9001, basic, upgraded)
        await h.settle()
        standin.send_message(9001, upgraded, text="/claim 1001")
        await h.settle()
        assert "исполнитель" in standin.sent(upgraded)[-1]["text"]
        await client.say("Жду ответа")
        assert standin.sent(upgraded)[-1]["text"] == "Жду ответа"
        await h.restart()
        await client.say("Ещё раз")
        assert standin.sent(upgraded)[-1]["text"] == "Ещё раз"
        assert not [c for c in standin.calls if c.status == 400 and "upgraded" in str(c.error)]
    finally:
        await h.stop()


async def test_delivery_follows_an_upgrade_it_was_not_told_of(
    standin: StandIn, tmp_path: Path
) -> None:
    """The service message was missed (the bot was down): the first message refused with
    migrate_to_chat_id moves the desk, and it is delivered to the new id."""
    basic, upgraded = -4002, -1004002
    standin.add_group(basic, "CRPT-Turon desk", members=[9001], supergroup=False)
    h = Harness(standin, tmp_path, WORKING_MOMENT, operator_chat_id=basic)
    await h.start()
    try:
        client = Person(h, 1001, "Иван")
        await identify(client)
        await open_request(client)
        await h.stop()
        standin.upgrade_group(9001, basic, upgraded)
        standin.take_updates(10**9, 1)  # confirmed unseen: the service message is missed
        await h.start()
        await client.say("Есть новости?")
        assert standin.sent(upgraded)[-1]["text"] == "Есть новости?"
    finally:
        await h.stop()


async def delivered_by_worker(h: Harness) -> list[int]:
    """Spy on the delivery worker: the chats whose items it delivered."""
    assert h.app is not None
    worker = h.app.worker
    chats: list[int] = []
    real = worker.deliver_head

    async def deliver_head(chat_id: int, *, paced: bool = False) -> bool:
        done = await real(chat_id, paced=paced)
        if done:
            chats.append(chat_id)
        return done

    worker.deliver_head = deliver_head  # type: ignore[method-assign]
    return chats


async def test_the_acknowledgement_is_said_at_once_by_the_update_itself(harness: Harness) -> None:
    chats = await delivered_by_worker(harness)
    client, _operator = await opened(harness)
    acknowledgement = [t for t in client.texts() if "зарегистрировано" in t]
    assert len(acknowledgement) == 1
    # Said right after the confirmation's commit, after its pop-up and the keyboard change,
    # not in the delivery worker's turn; the worker posted the card in the group.
    assert client.id not in chats
    assert OPERATORS in chats
    [row] = [r for r in await outbox(harness) if r.purpose == "registered"]
    assert (row.status, row.attempts, row.locked_by) == ("sent", 1, None)


async def test_an_acknowledgement_telegram_failed_is_sent_by_the_delivery_worker(
    harness: Harness,
) -> None:
    chats = await delivered_by_worker(harness)
    client = Person(harness, 1001, "Иван")
    await identify(client)
    await client.say("/new")
    await client.press("Консультация")
    await client.press("Коды маркировки")
    await client.say("Не печатаются коды")
    await client.press("Готово")
    await client.press("В этом чате")
    harness.standin.fail("sendMessage", status=502, chat_id=client.id)
    await client.press("Отправить")
    harness.clock.advance(timedelta(minutes=1))
    await harness.settle()
    assert len([t for t in client.texts() if "зарегистрировано" in t]) == 1
    assert client.id in chats
    [row] = [r for r in await outbox(harness) if r.purpose == "registered"]
    assert (row.status, row.locked_by) == ("sent", None)
