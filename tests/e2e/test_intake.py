"""Issue 2 end to end: identification, the request dialogue and registration in both languages,
against the local Bot API stand-in."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from standin import StandIn
from storage.models import Client, Ticket, TicketMessage
from tests.conftest import require_service
from tests.e2e.harness import (
    OPERATORS,
    RU,
    TZ,
    UZ,
    WORKING_MOMENT,
    Harness,
    Person,
    identify,
    joined,
    open_request,
)


async def tickets(h: Harness) -> list[Ticket]:
    assert h.app is not None
    async with h.app.sessions() as session:
        return list((await session.scalars(select(Ticket).order_by(Ticket.number))).all())


async def test_russian_dialogue_registers_and_posts_a_card(harness: Harness) -> None:
    client = Person(harness, 1001, "Иван")
    await identify(client)
    out = await open_request(client, text="Не печатаются коды маркировки на линии 2")
    reply = joined(out)
    assert "Ваше обращение №\u00a01001 зарегистрировано" in reply
    assert "Оператор ответит Вам в течение 10\u00a0минут." in reply
    [card] = [
        m
        for m in harness.standin.sent(OPERATORS)
        if "Обращение №\u00a01001" in (m.get("text") or "")
    ]
    for expected in (
        "Консультация",
        "Коды маркировки",
        "средний",
        "Иван Петров",
        "ООО «Asia Trade»",
        "301234567",
        "Не печатаются коды маркировки на линии 2",
        "Первый ответ до: 23.11.2026 11:10",
        "Решение до: 25.11.2026 11:00",
    ):
        assert expected in card["text"]
    assert any(
        b["text"] == "🙋 Взять в работу"
        for row in card["reply_markup"]["inline_keyboard"]
        for b in row
    )
    [ticket] = await tickets(harness)
    assert ticket.number == 1001
    assert ticket.kind == "consultation"
    assert ticket.topic == "marking_codes"
    assert ticket.status == "new"


async def test_uzbek_dialogue_outside_working_hours(standin: StandIn, tmp_path: Path) -> None:
    # Friday 21:00 in Tashkent: the answer is promised by 10:00 on Monday.
    h = Harness(standin, tmp_path, datetime(2026, 11, 27, 21, 0, tzinfo=TZ))
    await h.start()
    try:
        client = Person(h, 2002, "Aziz", language_code="uz")
        out = await client.say("/start")
        assert "CRPT-Turon qoʻllab-quvvatlash xizmatiga xush kelibsiz" in joined(out)
        await client.say("O'ktam G'ulomov")
        await client.say('MChJ "Olmos-2000"')
        await client.say("412345678")
        out = await open_request(client, text="Kartani moderatsiyadan o'tkazish kerak", labels=UZ)
        reply = joined(out)
        assert "Murojaatingiz №\u00a01001 raqami bilan roʻyxatga olindi" in reply
        assert "Hozir ish vaqti emas." in reply
        assert "dushanba, 30-noyabr kuni soat 10:00 gacha" in reply
        # Operators read the card in the desk's language (Russian by default).
        card = h.standin.sent(OPERATORS)[0]["text"]
        assert "Язык: узбекский" in card
        assert "Первый ответ до: 30.11.2026 10:00" in card
    finally:
        await h.stop()


async def test_every_wrong_answer_is_explained_and_earlier_answers_kept(harness: Harness) -> None:
    client = Person(harness, 1002, "Пётр")
    await client.say("/start")
    assert "от 2 до 100\u00a0символов" in joined(await client.say("И"))
    assert "только буквы" in joined(await client.say("Иван 2000"))
    assert "от 2 до 100\u00a0символов" in joined(await client.say("Я" * 10_000))
    assert "название Вашей компании" in joined(await client.say("Ғулом O'ktamov"))
    assert "от 2 до 200\u00a0символов" in joined(await client.say("X"))
    assert "должно содержать буквы" in joined(await client.say("12345"))
    assert "ИНН (СТИР)" in joined(await client.say("ИП «Ғулом»"))
    body = "3150299012345"
    wrong = (pinfl_check(body) + 1) % 10
    checks = {
        "12345": "9\u00a0цифр, ПИНФЛ — из 14",
        "30123456A": "только цифрами",
        "101234567": "с цифры от 2 до 7",
        "81234567890123": "с цифры от 1 до 6",
        "33102991234567": "дата рождения",
        f"{body}{wrong}": "контрольная цифра ПИНФЛ не соответствует",
    }
    for raw, expected in checks.items():
        assert expected in joined(await client.say(raw)), raw
    # The name and the company given before are kept through all the wrong answers.
    assert harness.app is not None
    async with harness.app.sessions() as session:
        saved = await session.scalar(select(Client).where(Client.telegram_id == 1002))
    assert saved is not None
    assert (saved.name, saved.company, saved.tax_id) == ("Ғулом O'ktamov", "ИП «Ғулом»", None)
    out = await client.say("4-123-456-78")
    assert "Спасибо, Ғулом O'ktamov! Ваши данные сохранены." in joined(out)


def pinfl_check(first13: str) -> int:
    return sum(int(d) * w for d, w in zip(first13, [7, 3, 1] * 5, strict=False)) % 10


async def test_pinfl_is_accepted_for_an_individual(harness: Harness) -> None:
    digits = "3150299012345"
    check = pinfl_check(digits)
    client = Person(harness, 1003, "Ольга")
    await identify(client, name="Ольга", tax_id=f"{digits}{check}")
    assert "Ваши данные сохранены" in joined(client.inbox)


async def test_sticker_and_photo_where_text_is_expected(harness: Harness) -> None:
    client = Person(harness, 1004, "Иван")
    await client.say("/start")
    out = await client.say(sticker=True)
    assert "Здесь нужен ответ текстом" in joined(out)
    assert "Напишите, пожалуйста, Ваше имя" in joined(out)
    out = await client.say(photo=True, caption="скриншот ошибки")
    assert "Файл сохранён и будет приложен к обращению" in joined(out)
    await client.say("Иван")
    await client.say("ООО Тест")
    await client.say("301234567")
    # The photo sent during identification went into the request being written.
    await client.press(RU["kind"])
    out = await client.press(RU["topic"])
    assert "Принято 1 сообщение." in joined(out)
    # A sticker in the description is refused politely; a photo is kept as an attachment.
    assert "можно приложить" in joined(await client.say(sticker=True))
    await client.say(photo=True, caption="Скриншот ошибки")
    await client.press(RU["done"])
    await client.press(RU["telegram"])
    out = await client.press(RU["confirm"])
    assert "№\u00a01001" in joined(out)
    desk = harness.standin.sent(OPERATORS)
    assert "скриншот ошибки\n\nСкриншот ошибки" in desk[0]["text"]
    assert len([m for m in desk if m.get("photo")]) == 2, "both photos were copied to the group"


async def test_a_long_message_is_stored_whole_and_the_card_is_split(harness: Harness) -> None:
    client = Person(harness, 1005, "Иван")
    await identify(client)
    long_text = " ".join(f"слово{i}" for i in range(1500))[:10_000]
    assert len(long_text) == 10_000
    await open_request(client, text=long_text)
    [ticket] = await tickets(harness)
    assert ticket.description == long_text
    assert harness.app is not None
    async with harness.app.sessions() as session:
        stored = await session.scalar(
            select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
        )
    assert stored is not None
    assert stored.text == long_text
    desk = [m["text"] for m in harness.standin.sent(OPERATORS)]
    assert all(len(t) <= 4096 for t in desk)
    assert len(desk) >= 3
    assert "Описание обращения №\u00a01001 (1/" in desk[1]
    rebuilt = " ".join(t.split(":\n", 1)[1] for t in desk[1:])
    assert rebuilt.split() == long_text.split()


async def test_a_restart_in_the_middle_keeps_the_answers(harness: Harness) -> None:
    client = Person(harness, 1006, "Иван")
    await client.say("/start")
    await client.say("Иван Петров")
    await client.say("ООО Ромашка")
    await harness.restart()
    out = await client.say("301234567")
    assert "Спасибо, Иван Петров!" in joined(out)
    await client.press(RU["kind"])
    await client.press(RU["topic"])
    await client.say("первая часть")
    await harness.restart()
    await client.say("вторая часть")
    await client.press(RU["done"])
    await client.press(RU["telegram"])
    await client.press(RU["confirm"])
    [ticket] = await tickets(harness)
    assert ticket.client_company == "ООО Ромашка"
    assert ticket.description == "первая часть\n\nвторая часть"


async def test_feedback_by_phone_and_email_with_validation(harness: Harness) -> None:
    client = Person(harness, 1007, "Иван")
    await identify(client)
    await client.say("/new")
    await client.press(RU["kind"])
    await client.press(RU["topic"])
    await client.say("Вопрос")
    await client.press(RU["done"])
    out = await client.press("По телефону")
    assert out[-1]["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    assert "Не удалось распознать номер" in joined(await client.say("12"))
    out = await client.say(contact={"phone_number": "998901234567"})
    assert "+998901234567" in joined(out)
    await client.press("Изменить")
    await client.press("Способ связи")
    await client.press("По электронной почте")
    assert "адрес электронной почты" in joined(await client.say("not-an-email"))
    out = await client.say("Ivan@Example.uz")
    assert "Ivan@example.uz" in joined(out)
    await client.press(RU["confirm"])
    [ticket] = await tickets(harness)
    assert (ticket.feedback, ticket.contact) == ("email", "Ivan@example.uz")
    assert "По электронной почте: Ivan@example.uz" in harness.standin.sent(OPERATORS)[0]["text"]


async def test_summary_edit_cancel_help_language_profile(harness: Harness) -> None:
    client = Person(harness, 1008, "Иван")
    await identify(client)
    await client.say("/new")
    await client.press(RU["kind"])
    await client.press(RU["topic"])
    await client.say("Текст")
    await client.press(RU["done"])
    await client.press(RU["telegram"])
    await client.press("Изменить")
    await client.press("Тема")
    out = await client.press("Регистрация и доступ")
    assert "Тема: Регистрация и доступ" in joined(out)
    assert "отменено" in joined(await client.say("/cancel")).lower()
    assert "/mytickets" in joined(await client.say("/help"))
    await client.say("/language")
    out = await client.press("Oʻzbekcha")
    assert "Muloqot tili: oʻzbek tili." in joined(out)
    out = await client.say("/profile")
    assert "Sizning maʼlumotlaringiz" in joined(out)
    assert "301234567" in joined(out)
    await client.press("JShShIRni oʻzgartirish")
    assert "2 dan 7 gacha" in joined(await client.say("912345678"))
    out = await client.say("512345678")
    assert "Oʻzgarishlar saqlandi." in joined(out)
    assert "512345678" in joined(out)


async def test_free_message_starts_a_request_and_is_kept(harness: Harness) -> None:
    client = Person(harness, 1009, "Иван")
    out = await client.say("Здравствуйте, не работает вход")
    assert "Ваше сообщение сохранено" in joined(out)
    await client.say("Иван")
    await client.say("ООО Тест")
    out = await client.say("301234567")
    assert "Выберите тип обращения" in joined(out)
    await client.press(RU["kind"])
    out = await client.press(RU["topic"])
    assert "Принято 1 сообщение." in joined(out)
    await client.press(RU["done"])
    await client.press(RU["telegram"])
    await client.press(RU["confirm"])
    [ticket] = await tickets(harness)
    assert ticket.description == "Здравствуйте, не работает вход"


async def test_later_messages_are_stored_against_the_open_request(harness: Harness) -> None:
    client = Person(harness, 1010, "Иван")
    await identify(client)
    await open_request(client)
    await client.say("Дополнение: ошибка 500")
    await client.say(document="log.txt", caption="Лог")
    [ticket] = await tickets(harness)
    assert harness.app is not None
    async with harness.app.sessions() as session:
        rows = (
            await session.scalars(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id))
        ).all()
    assert [r.text for r in rows] == ["Не печатаются коды", "Дополнение: ошибка 500", "Лог"]
    assert rows[2].file_name == "log.txt"


async def test_forged_and_outdated_buttons_are_refused_politely(harness: Harness) -> None:
    client = Person(harness, 1011, "Иван")
    await identify(client)
    await client.say("/cancel")  # idle: none of the buttons below belongs to a step now
    menu = client.inbox[-1]
    standin = harness.standin
    for data in ("kd:consultation", "tp:../../etc", "xx:1", "ct:view:999999", "tk:claim:1"):
        callback = standin.press_raw(client.id, client.id, menu["message_id"], data)
        await harness.settle()
        [answer] = standin.callback_answers(callback)
        assert answer["text"], data
    assert await harness.pending_outbox() == 0


async def test_commands_are_registered_in_both_languages(harness: Harness) -> None:
    standin = harness.standin
    scope = {"type": "all_private_chats"}
    ru = {c["command"]: c["description"] for c in standin.my_commands(scope, "ru")}
    uz = {c["command"]: c["description"] for c in standin.my_commands(scope, "uz")}
    assert ru["new"] == "Новое обращение"
    assert uz["new"] == "Yangi murojaat"
    assert (
        set(ru)
        == set(uz)
        == {
            "start",
            "new",
            "mytickets",
            "profile",
            "mydata",
            "forget",
            "language",
            "cancel",
            "help",
        }
    )


async def test_a_restart_keeps_the_answers_in_redis(standin: StandIn, tmp_path: Path) -> None:
    """With REDIS_URL set the dialogue state lives in Redis and survives a restart too."""
    require_service("Redis", "127.0.0.1", 6379)
    from redis.asyncio import Redis

    url = "redis://127.0.0.1:6379/14"
    redis = Redis.from_url(url)
    await redis.flushdb()
    h = Harness(standin, tmp_path, WORKING_MOMENT, redis_url=url)
    await h.start()
    try:
        client = Person(h, 1012, "Иван")
        await client.say("/start")
        await client.say("Иван Петров")
        await h.restart()
        out = await client.say("ООО Ромашка")
        assert "ИНН (СТИР)" in joined(out)
        assert await redis.keys("fsm:*"), "the state is in Redis"
        assert "Спасибо, Иван Петров!" in joined(await client.say("301234567"))
    finally:
        await h.stop()
        await redis.flushdb()
        await redis.aclose()


async def test_a_message_at_the_summary_is_added_not_dropped(harness: Harness) -> None:
    client = Person(harness, 1013, "Иван")
    await identify(client)
    await client.press(RU["kind"])
    await client.press(RU["topic"])
    await client.say("Первая часть")
    await client.press(RU["done"])
    await client.press(RU["telegram"])
    out = await client.say("И ещё одна деталь")
    assert "будет добавлено к описанию" in joined(out)
    assert "Первая часть\n\nИ ещё одна деталь" in joined(out)  # the summary shows it
    await client.press(RU["confirm"])
    [ticket] = await tickets(harness)
    assert ticket.description == "Первая часть\n\nИ ещё одна деталь"


async def test_the_topic_list_is_configurable(standin: StandIn, tmp_path: Path) -> None:
    h = Harness(standin, tmp_path, WORKING_MOMENT, desk_topics=("catalog", "other"))
    await h.start()
    try:
        client = Person(h, 1014, "Иван")
        await identify(client)
        out = await client.press(RU["kind"])
        labels = [b["text"] for row in out[-1]["reply_markup"]["inline_keyboard"] for b in row]
        assert labels == ["Модерация карточек Национального каталога", "Другое"]
    finally:
        await h.stop()
