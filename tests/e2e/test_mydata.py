"""The client's own data against the stand-in: /mydata shows what the desk keeps; /forget asks
first, "no" keeps everything, "yes" erases the profile, anonymises the requests (kept for the
statistics), closes the open one through the life cycle, tells the operators and leaves no
name, INN or text anywhere in the database (the inbox's raw updates included); the client
starts afresh. DATA_RETENTION_DAYS removes the personal data of requests closed long ago."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.vocabulary import Status
from scheduler.housekeeping import expire_personal_data
from storage.models import (
    Client,
    InboxUpdate,
    OutboxItem,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from tests.e2e.harness import Harness, Operator, Person, identify, open_request

NAME, TAX_ID = "Иван Петров", "301234567"


async def requested(h: Harness) -> tuple[Person, Operator]:
    client = Person(h, 1001, "Иван")
    await identify(client, NAME, TAX_ID)
    await open_request(client, "Не печатаются коды на линии Петрова")
    operator = Operator(h, 9001)
    await operator.write(
        "Здравствуйте! Проверьте, пожалуйста, принтер.", reply_to=operator.card(1001)["message_id"]
    )
    return client, operator


async def dump(h: Harness) -> str:
    """Every text the database keeps that could hold personal data."""
    assert h.app is not None
    parts: list[str] = []
    async with h.app.sessions() as session:
        for client in (await session.scalars(select(Client))).all():
            parts += [
                str(v) for v in (client.name, client.company, client.tax_id, client.telegram_name)
            ]
        for t in (await session.scalars(select(Ticket))).all():
            parts += [
                t.client_name,
                t.client_company,
                t.client_tax_id,
                t.description,
                str(t.contact),
            ]
        for m in (await session.scalars(select(TicketMessage))).all():
            parts += [str(m.text), str(m.file_name), m.author_name]
        for body in (await session.scalars(select(InboxUpdate.body))).all():
            parts.append(str(body))
        rows = await session.scalars(select(OutboxItem.payload).where(OutboxItem.chat_id == 1001))
        parts += [str(p) for p in rows.all()]
    return "\n".join(parts)


async def test_mydata_before_anything_is_kept(harness: Harness) -> None:
    client = Person(harness, 1001, "Иван")
    replies = await client.say("/mydata")
    assert "пока ничего не хранит" in replies[-1]["text"]


async def test_mydata_shows_the_profile_and_the_requests(harness: Harness) -> None:
    client, _operator = await requested(harness)
    await client.say("Дополнение: коды не печатаются со вчерашнего дня")
    text = (await client.say("/mydata"))[-1]["text"]
    assert NAME in text and "Asia Trade" in text and TAX_ID in text
    assert "1\u00a0обращение:" in text
    assert "№\u00a01001" in text
    assert "2\u00a0сообщения от Вас" in text and "1\u00a0ответ оператора" in text
    assert "/forget" in text


async def test_forget_asks_and_no_keeps_everything(harness: Harness) -> None:
    client, _operator = await requested(harness)
    ask = await client.say("/forget")
    assert "Отменить удаление будет нельзя" in ask[-1]["text"]
    await client.press("Нет, оставить")
    assert NAME in await dump(harness)
    async with harness.app.sessions() as session:  # type: ignore[union-attr]
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None and ticket.status != Status.CLOSED


async def test_forget_erases_the_client_and_anonymises_the_requests(harness: Harness) -> None:
    client, operator = await requested(harness)
    await client.say("/forget")
    replies = await client.press("Да, удалить мои данные")
    assert "Ваши данные удалены, 1\u00a0обращение обезличено" in replies[-1]["text"]
    notice = operator.desk[-1]["text"]
    assert "попросил удалить свои данные" in notice and "№\u00a01001" in notice
    assert NAME not in notice and TAX_ID not in notice

    kept = await dump(harness)
    for secret in (NAME, TAX_ID, "Asia Trade", "Петрова", "принтер", "Иван"):
        assert secret not in kept, secret
    async with harness.app.sessions() as session:  # type: ignore[union-attr]
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None
        assert ticket.status == Status.CLOSED and ticket.closed_at is not None
        assert ticket.number == 1001 and ticket.topic and ticket.first_response_at is not None
        kinds = set((await session.scalars(select(TicketEvent.kind))).all())
        assert {"withdrawn", "client_forgotten"} <= kinds
        messages = (await session.scalars(select(TicketMessage))).all()
        assert messages and all(m.text is None for m in messages)  # counted, not kept

    # A new start: identification again, as a new client.
    again = await client.say("/start")
    assert "Как к Вам обращаться" in again[-1]["text"]


async def test_a_forged_forget_button_changes_nothing(harness: Harness) -> None:
    client, _operator = await requested(harness)
    ask = (await client.say("/forget"))[-1]
    callback = harness.standin.press_raw(1001, 1001, ask["message_id"], "fg:everything")
    await harness.settle()
    assert harness.standin.callback_answers(callback)  # answered, not left spinning
    assert NAME in await dump(harness)


async def test_retention_removes_the_personal_data_of_requests_closed_long_ago(
    harness: Harness,
) -> None:
    await requested(harness)
    assert harness.app is not None
    app = harness.app
    now = harness.clock.now()
    async with app.sessions() as session:
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None
        ticket.status, ticket.closed_at = Status.CLOSED, now - timedelta(days=31)
        await session.commit()

    assert await expire_personal_data(app.sessions, app.desk, now, timedelta(days=60)) == 0
    assert TAX_ID in await dump(harness)
    assert await expire_personal_data(app.sessions, app.desk, now, timedelta(days=30)) == 1
    async with app.sessions() as session:
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None and ticket.client_tax_id == "" and ticket.description == ""
        texts = (await session.scalars(select(TicketMessage.text))).all()
        assert all(t is None for t in texts)
        kinds = (await session.scalars(select(TicketEvent.kind))).all()
        assert "data_expired" in kinds
    assert await expire_personal_data(app.sessions, app.desk, now, timedelta(days=30)) == 0
