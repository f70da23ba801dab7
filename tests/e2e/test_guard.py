"""Issue 8 end to end: the quality guard on operators' answers (held with a warning and two
buttons, sent as it is, cancelled, checked again when edited, off with QUALITY_GUARD=off) and
saved answers (/macros, /macro add|del, /m in both client languages), the real bot against the
stand-in."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from standin import StandIn
from storage.models import HeldAnswer, Ticket, TicketEvent
from tests.e2e.harness import (
    JSON,
    OPERATORS,
    UZ,
    WORKING_MOMENT,
    Harness,
    Operator,
    Person,
    buttons,
    identify,
    open_request,
)

SEND, CANCEL = "Отправить как есть", "Отменить"


async def opened(h: Harness, user_id: int = 1001, language: str = "ru") -> Person:
    if language == "uz":
        client = Person(h, user_id, "Aziz", language_code="uz")
        await identify(client, name="Aziz Karimov", tax_id="305678901")
        await open_request(client, "Kodlar chop etilmayapti", labels=UZ)
    else:
        client = Person(h, user_id, "Иван")
        await identify(client)
        await open_request(client)
    return client


async def audit(h: Harness, number: int = 1001) -> list[tuple[str, int | None]]:
    assert h.app is not None
    async with h.app.sessions() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None
        rows = await session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
        )
        return [(r.kind, r.actor_id) for r in rows]


def card(operator: Operator, number: int) -> JSON:
    """The newest state of the request's card ("№" and the number joined by a space that does
    not break, or by nothing)."""
    for message in reversed(operator.desk):
        text = (message.get("text") or "").replace("\u00a0", "")
        if text.startswith(f"Обращение №{number}"):
            return message
    raise AssertionError(f"no card of request {number}")


def warnings(operator: Operator) -> list[JSON]:
    return [m for m in operator.desk if (m.get("text") or "").startswith("⚠️")]


def labels(message: JSON) -> list[str]:
    return [b["text"] for b in buttons(message)]


async def test_a_held_answer_sent_as_it_is(harness: Harness) -> None:
    client = await opened(harness)
    operator = Operator(harness, 9001)
    card_id = card(operator, 1001)["message_id"]
    before = len(client.inbox)
    mine = await operator.write("Я не знаю, перезвоните позже.", reply_to=card_id)
    assert len(client.inbox) == before  # nothing reached the client
    [warning] = warnings(operator)
    assert warning["reply_to_message"]["message_id"] == mine["message_id"]
    assert "«Я не знаю»" in warning["text"]
    assert "«перезвоните позже»" in warning["text"]
    assert "№\u00a01001" in warning["text"]
    assert labels(warning) == [SEND, CANCEL]
    # A colleague decides: sent as written, counted as the first response.
    second = Operator(harness, 9002)
    callback = await second.press(warning, SEND)
    assert "как есть" in second.answers(callback)[0]
    assert client.inbox[-1]["text"] == "Я не знаю, перезвоните позже."
    decided = harness.standin.message(OPERATORS, warning["message_id"])
    assert decided is not None
    assert "отправлен клиенту как есть" in decided["text"]
    assert "Sardor Operator" in decided["text"]
    assert labels(decided) == []  # the buttons are gone
    # A late press on the old buttons is harmless.
    again = harness.standin.press_raw(
        9001,
        OPERATORS,
        warning["message_id"],
        warning["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
    )
    await harness.settle()
    assert "уже принято" in operator.answers(again)[0]
    assert len(client.inbox) == before + 1
    log = await audit(harness)
    assert ("guard_held", 9001) in log
    assert ("guard_sent", 9002) in log
    assert ("answered", 9001) in log


async def test_a_held_answer_cancelled(harness: Harness) -> None:
    client = await opened(harness)
    operator = Operator(harness, 9001)
    before = len(client.inbox)
    await operator.write(
        "ПРОВЕРЬТЕ ИНН И ЗАГРУЗИТЕ КОДЫ", reply_to=card(operator, 1001)["message_id"]
    )
    [warning] = warnings(operator)
    assert "заглавными" in warning["text"]
    await operator.press(warning, CANCEL)
    assert len(client.inbox) == before
    decided = harness.standin.message(OPERATORS, warning["message_id"])
    assert decided is not None
    assert "отменён" in decided["text"]
    assert ("guard_cancelled", 9001) in await audit(harness)
    assert harness.app is not None
    async with harness.app.sessions() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.number == 1001))
        assert ticket is not None
        assert ticket.first_response_at is None


async def test_a_stranger_cannot_decide(harness: Harness) -> None:
    client = await opened(harness)
    operator = Operator(harness, 9001)
    await operator.write("Ты где?", reply_to=card(operator, 1001)["message_id"])
    [warning] = warnings(operator)
    data = warning["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    callback = harness.standin.press_raw(6666, OPERATORS, warning["message_id"], data)
    await harness.settle()
    assert "только операторам" in harness.standin.callback_answers(callback)[0]["text"]
    assert client.texts()[-1] != "Ты где?"


async def test_edits_are_checked_again(harness: Harness) -> None:
    client = await opened(harness)
    operator = Operator(harness, 9001)
    card_id = card(operator, 1001)["message_id"]
    # A held answer that its author corrects goes to the client by itself.
    held = await operator.write("Ты проверил настройки?", reply_to=card_id)
    before = len(client.inbox)
    harness.standin.edit_message(9001, OPERATORS, held["message_id"], "Вы проверили настройки?")
    await harness.settle()
    assert client.inbox[-1]["text"] == "Вы проверили настройки?"
    assert len(client.inbox) == before + 1
    assert "Исправленный ответ" in operator.desk[-1]["text"]
    # An answer the client has, edited into one that breaks the rules: not mirrored.
    sent = await operator.write("Проверьте, пожалуйста, драйвер.", reply_to=card_id)
    assert client.inbox[-1]["text"] == "Проверьте, пожалуйста, драйвер."
    harness.standin.edit_message(9001, OPERATORS, sent["message_id"], "Проверь драйвер, бля")
    await harness.settle()
    assert client.inbox[-1]["text"] == "Проверьте, пожалуйста, драйвер."
    warning = warnings(operator)[-1]
    assert "«бля»" in warning["text"]
    assert "«Проверь" not in warning["text"]
    # Sent as it is: the edit is mirrored then.
    await operator.press(warning, SEND)
    assert client.inbox[-1]["text"] == "Проверь драйвер, бля"
    log = await audit(harness)
    assert ("guard_fixed", 9001) in log
    assert log.count(("guard_held", 9001)) == 2


async def test_the_guard_switched_off(standin: StandIn, tmp_path: Path) -> None:
    h = Harness(standin, tmp_path, WORKING_MOMENT, quality_guard="off")
    await h.start()
    try:
        client = await opened(h)
        operator = Operator(h, 9001)
        await operator.write("Я не знаю", reply_to=card(operator, 1001)["message_id"])
        assert client.inbox[-1]["text"] == "Я не знаю"
        assert warnings(operator) == []
    finally:
        await h.stop()


async def test_a_held_answer_survives_a_restart(standin: StandIn, tmp_path: Path) -> None:
    h = Harness(standin, tmp_path, WORKING_MOMENT)
    await h.start()
    client = await opened(h)
    operator = Operator(h, 9001)
    await operator.write("Это ваши проблемы", reply_to=card(operator, 1001)["message_id"])
    [warning] = warnings(operator)
    await h.stop()
    h2 = Harness(standin, tmp_path, WORKING_MOMENT)
    await h2.start()
    try:
        operator.h = h2
        await operator.press(warning, SEND)
        assert client.inbox[-1]["text"] == "Это ваши проблемы"
    finally:
        await h2.stop()


async def test_forum_the_warning_is_in_the_requests_topic(standin: StandIn, tmp_path: Path) -> None:
    forum = OPERATORS - 1
    standin.add_group(forum, "CRPT-Turon desk (topics)", forum=True, members=[9001, 9002])
    h = Harness(standin, tmp_path, WORKING_MOMENT, operator_chat_id=forum)
    await h.start()
    try:
        client = await opened(h)
        [topic] = h.standin.topics(forum)
        thread = topic["message_thread_id"]
        h.standin.send_message(9001, forum, text="Sen kutib tur", thread_id=thread)
        await h.settle()
        [warning] = [
            m for m in h.standin.sent(forum, thread_id=thread) if m["text"].startswith("⚠️")
        ]
        assert "«Sen»" in warning["text"]
        before = len(client.inbox)
        _m, data = next(
            (warning, b["callback_data"]) for b in buttons(warning) if b["text"] == SEND
        )
        h.standin.press(9002, warning, data)
        await h.settle()
        assert len(client.inbox) == before + 1
        # A saved answer in the topic, without a reply.
        h.standin.send_message(9001, forum, text="/macro add thanks", thread_id=thread)
        await h.settle()
        assert "Отправьте /macro add" in h.standin.sent(forum, thread_id=thread)[-1]["text"]
    finally:
        await h.stop()


# ---------------------------------------------------------------- saved answers


async def test_saved_answers_in_both_languages(harness: Harness) -> None:
    ivan = await opened(harness)
    aziz = await opened(harness, 1002, "uz")
    operator = Operator(harness, 9001)

    async def command(text: str, reply_to: int | None = None) -> str:
        await operator.write(text, reply_to=reply_to)
        return operator.desk[-1]["text"]

    assert "пока нет" in await command("/macros")
    ru = await operator.write("{name}, обновите драйвер; ответ по №{number} — {due}.")
    assert "добавлен" in await command("/macro add Driver", reply_to=ru["message_id"])
    uz = await operator.write("{name}, drayverni yangilang ({company}).")
    assert "обновлён" in await command("/macro add driver uz", reply_to=uz["message_id"])
    listed = await command("/macros")
    assert "Driver — русский, узбекский" in listed
    # A bad placeholder and a command without the text are answered clearly.
    bad = await operator.write("Здравствуйте, {client}!")
    assert "{client}" in await command("/macro add hello", reply_to=bad["message_id"])
    assert "ответом на сообщение" in await command("/macro add hello")
    assert "Сохранённые ответы:" in await command("/macro")
    # To the Russian client, in reply to the card of №1001.
    said = await command("/m DRIVER", reply_to=card(operator, 1001)["message_id"])
    assert said.startswith("✅")
    assert ivan.inbox[-1]["text"].startswith(
        "Иван Петров, обновите драйвер; ответ по №1001 — до 11:10 в понедельник"
    )
    # To the Uzbek client, in reply to their relayed message.
    await aziz.say("Yordam bering")
    relayed = operator.desk[-1]
    assert relayed["text"] == "Yordam bering"
    await command("/m driver", reply_to=relayed["message_id"])
    assert aziz.inbox[-1]["text"] == "Aziz Karimov, drayverni yangilang (ООО «Asia Trade»)."
    assert aziz.inbox[-1]["reply_to_message"]["text"] == "Yordam bering"
    log = await audit(harness, 1002)
    assert ("macro_used", 9001) in log
    assert ("answered", 9001) in log
    # What cannot be done.
    assert "нет" in await command("/m nothing", reply_to=card(operator, 1001)["message_id"])
    assert "какому обращению" in await command("/m driver")
    assert "удалён" in await command("/macro del DRIVER")
    assert "пока нет" in await command("/macros")


async def test_a_saved_answer_missing_the_clients_language(harness: Harness) -> None:
    await opened(harness, 1002, "uz")
    operator = Operator(harness, 9001)
    text = await operator.write("Спасибо за ожидание!")
    await operator.write("/macro add wait", reply_to=text["message_id"])
    await operator.write("/m wait", reply_to=card(operator, 1001)["message_id"])
    assert "нет версии на языке клиента (узбекский)" in operator.desk[-1]["text"]
    assert "/macro add wait uz" in operator.desk[-1]["text"]


async def test_a_saved_answer_held_by_the_guard(harness: Harness) -> None:
    client = await opened(harness)
    operator = Operator(harness, 9001)
    text = await operator.write("Перезвоните позже, {name}.")
    await operator.write("/macro add later", reply_to=text["message_id"])
    before = len(client.inbox)
    await operator.write("/m later", reply_to=card(operator, 1001)["message_id"])
    assert len(client.inbox) == before
    [warning] = warnings(operator)
    assert "сохранённый ответ" in warning["text"]
    await operator.press(warning, SEND)
    assert client.inbox[-1]["text"] == "Перезвоните позже, Иван Петров."
    assert harness.app is not None
    async with harness.app.sessions() as session:
        [held] = (await session.scalars(select(HeldAnswer))).all()
        assert (held.macro, held.decided_by) == ("later", 9001)


def test_the_command_menu_lists_the_saved_answers() -> None:
    from bot.commands import OPERATOR_COMMANDS

    assert {"macros", "macro", "m"} <= set(OPERATOR_COMMANDS)
