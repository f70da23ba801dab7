"""Issue 3 end to end: claiming, relaying both ways, notes, the life cycle, the client's side,
commands and who may act — in a plain group and in a forum group."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, select, update

from bot.callbacks import ClientTicketCb
from standin import StandIn
from storage.models import DeskMessage, Ticket, TicketEvent, TicketMessage
from tests.e2e.harness import (
    OPERATORS,
    WORKING_MOMENT,
    Harness,
    Operator,
    Person,
    identify,
    joined,
    open_request,
)


async def ticket(h: Harness, number: int = 1001) -> Ticket:
    assert h.app is not None
    async with h.app.sessions() as session:
        row = await session.scalar(select(Ticket).where(Ticket.number == number))
        assert row is not None
        return row


async def events(h: Harness, number: int = 1001) -> list[str]:
    t = await ticket(h, number)
    assert h.app is not None
    async with h.app.sessions() as session:
        rows = await session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id)
        )
        return [r.kind for r in rows]


async def opened(h: Harness, user_id: int = 1001, name: str = "Иван") -> Person:
    client = Person(h, user_id, name)
    await identify(client)
    await open_request(client)
    return client


async def test_two_operators_claim_at_the_same_moment(harness: Harness) -> None:
    await opened(harness)
    first, second = Operator(harness, 9001), Operator(harness, 9002)
    card = first.card(1001)
    _m, data = next(
        (card, b["callback_data"])
        for row in card["reply_markup"]["inline_keyboard"]
        for b in row
        if "Взять" in b["text"]
    )
    a = harness.standin.press(first.id, card, data)
    b = harness.standin.press(second.id, card, data)
    await harness.settle()
    answers = first.answers(a) + second.answers(b)
    assert sum("исполнитель" in x for x in answers) == 1
    assert sum("уже в работе у" in x for x in answers) == 1
    t = await ticket(harness)
    assert t.assignee_id in (9001, 9002)
    assert t.status == "in_progress"
    refreshed = first.card(1001)["text"]
    assert "в работе" in refreshed
    assert "Operator" in refreshed  # the assignee's name is on the card
    assert (await events(harness)).count("claimed") == 1


async def test_relay_both_ways_in_a_plain_group(harness: Harness) -> None:
    client = await opened(harness)
    operator = Operator(harness, 9001)
    card = operator.card(1001)
    answer = await operator.write(
        "Здравствуйте! Проверьте, пожалуйста, настройки.", reply_to=card["message_id"]
    )
    assert client.inbox[-1]["text"] == "Здравствуйте! Проверьте, пожалуйста, настройки."
    t = await ticket(harness)
    assert t.first_response_at is not None
    assert t.assignee_id == 9001  # answering claims an unclaimed request
    assert t.target("first_response").met_at is not None
    # The client replies to the operator's message: the desk copy replies to the operator's.
    copy_id = client.inbox[-1]["message_id"]
    await client.say("Проверил, не помогло", reply_to=copy_id)
    relayed = operator.desk[-1]
    assert relayed["text"] == "Проверил, не помогло"
    assert relayed["reply_to_message"]["message_id"] == answer["message_id"]
    # Each content type travels both ways.
    for kind in ({"photo": True}, {"document": "act.pdf"}, {"voice": True}, {"video": True}):
        before = len(client.inbox)
        await operator.write(reply_to=card["message_id"], **kind)
        assert len(client.inbox) == before + 1
        got = client.inbox[-1]
        assert any(k in got for k in ("photo", "document", "voice", "video"))
        before_desk = len(operator.desk)
        await client.say(**kind)
        assert len(operator.desk) == before_desk + 1
    # An album stays together.
    for i in range(3):
        harness.standin.send_message(
            client.id, photo=True, media_group_id="alb1", caption="скрины" if i == 0 else None
        )
    await harness.settle()
    album = [m for m in operator.desk if m.get("media_group_id")]
    assert len(album) == 3
    assert len({m["media_group_id"] for m in album}) == 1
    assert harness.standin.calls_of("copyMessages")


async def test_notes_never_reach_the_client(harness: Harness) -> None:
    client = await opened(harness)
    operator = Operator(harness, 9001)
    card = operator.card(1001)
    before = len(client.inbox)
    await operator.write("!клиент уже писал вчера", reply_to=card["message_id"])
    await operator.write("/note проверить в каталоге", reply_to=card["message_id"])
    assert len(client.inbox) == before
    assert harness.app is not None
    async with harness.app.sessions() as session:
        notes = (
            await session.scalars(select(TicketMessage).where(TicketMessage.direction == "note"))
        ).all()
    assert [n.text for n in notes] == ["клиент уже писал вчера", "проверить в каталоге"]
    assert (await ticket(harness)).first_response_at is None  # a note is not a first response


async def test_a_stranger_cannot_press_the_card(harness: Harness) -> None:
    await opened(harness)
    harness.standin.set_member_status(OPERATORS, 6666, "member")
    harness.standin.set_member_status(OPERATORS, 6666, "left")
    operator = Operator(harness, 9001)
    card = operator.card(1001)
    _m, data = next(
        (card, b["callback_data"]) for row in card["reply_markup"]["inline_keyboard"] for b in row
    )
    callback = harness.standin.press_raw(6666, OPERATORS, card["message_id"], data)
    await harness.settle()
    [answer] = harness.standin.callback_answers(callback)
    assert "только операторам" in answer["text"]
    assert (await ticket(harness)).assignee_id is None


async def test_forged_callback_data_from_an_operator(harness: Harness) -> None:
    await opened(harness)
    card = Operator(harness, 9001).card(1001)
    for data in ("tk:claim:999999", "tk:setprio:1:urgent", "tk:nuke:1", "garbage"):
        callback = harness.standin.press_raw(9001, OPERATORS, card["message_id"], data)
        await harness.settle()
        [answer] = harness.standin.callback_answers(callback)
        assert answer["text"], data
    assert (await ticket(harness)).priority == "medium"


async def test_a_client_never_sees_another_clients_request(harness: Harness) -> None:
    await opened(harness)
    other = Person(harness, 1002, "Пётр")
    await identify(other, name="Пётр")
    await other.say("/cancel")
    assert "не найдено" in joined(await other.say("/mytickets 1001"))
    t = await ticket(harness)
    menu = other.inbox[-1]
    view = ClientTicketCb(action="view", ticket=t.id).pack()
    callback = harness.standin.press_raw(other.id, other.id, menu["message_id"], view)
    await harness.settle()
    assert "не найдено" in harness.standin.callback_answers(callback)[0]["text"]
    rate = ClientTicketCb(action="rate", ticket=t.id, arg="5").pack()
    callback = harness.standin.press_raw(other.id, other.id, menu["message_id"], rate)
    await harness.settle()
    assert (await ticket(harness)).rating is None
    assert "Обращение №\u00a01001" not in joined(other.inbox)


async def test_resolve_then_the_client_confirms_and_rates(harness: Harness) -> None:
    client = await opened(harness)
    operator = Operator(harness, 9001)
    await operator.press(operator.card(1001), "Взять")
    await operator.write("Готово, проверьте", reply_to=operator.card(1001)["message_id"])
    await operator.press(operator.card(1001), "Решено")
    assert "Ваш вопрос решён?" in client.texts()[-1]
    out = await client.press("Да, решён")
    assert "оцените ответ" in joined(out)
    await client.press("⭐⭐⭐⭐⭐")
    await client.say("Очень быстро, спасибо")
    t = await ticket(harness)
    assert (t.status, t.rating, t.rating_comment) == ("closed", 5, "Очень быстро, спасибо")
    assert "оценил ответ по обращению №\u00a01001: 5 из 5" in joined(operator.desk)
    assert "закрыто" in operator.card(1001)["text"]
    kinds = await events(harness)
    assert kinds[:1] == ["registered"]
    assert {"claimed", "answered", "resolved", "closed", "rated", "commented"} <= set(kinds)


async def test_not_solved_reopens(harness: Harness) -> None:
    client = await opened(harness)
    operator = Operator(harness, 9001)
    await operator.press(operator.card(1001), "Взять")
    await operator.press(operator.card(1001), "Решено")
    await client.press("Нет, не решён")
    assert (await ticket(harness)).status == "in_progress"
    assert "в работе" in operator.card(1001)["text"]


async def test_message_within_the_window_reopens_after_it_opens_a_new_request(
    harness: Harness,
) -> None:
    client = await opened(harness)
    operator = Operator(harness, 9001)
    await operator.press(operator.card(1001), "Взять")
    await operator.press(operator.card(1001), "Решено")
    await client.say("Ещё вопрос по этому же")
    assert (await ticket(harness)).status == "in_progress"
    await operator.press(operator.card(1001), "Решено")
    harness.clock.advance(timedelta(hours=73))
    out = await client.say("Новый вопрос")
    assert "Выберите тип обращения" in joined(out)
    assert (await ticket(harness)).status == "resolved"


async def test_waiting_for_the_client_pauses_and_a_reply_resumes(harness: Harness) -> None:
    client = await opened(harness)
    operator = Operator(harness, 9001)
    await operator.press(operator.card(1001), "Взять")
    await operator.press(operator.card(1001), "Ждём клиента")
    t = await ticket(harness)
    assert t.status == "waiting"
    assert t.target("resolution").due_at is None
    assert "приостановлено" in operator.card(1001)["text"]
    harness.clock.advance(timedelta(hours=2))
    await client.say("Вот данные")
    t = await ticket(harness)
    assert t.status == "in_progress"
    due = t.target("resolution").due_at
    assert due is not None
    # Two working hours paused: the deadline moved by them.
    assert due - WORKING_MOMENT > timedelta(days=2)


async def test_operator_commands(harness: Harness) -> None:
    await opened(harness)
    await opened(harness, 1002, "Пётр")
    operator = Operator(harness, 9001)
    await operator.write("/queue")
    listing = operator.desk[-1]["text"]
    assert "№\u00a01001" in listing
    assert "№\u00a01002" in listing
    assert "осталось" in listing
    await operator.write("/priority 1002 critical")
    t = await ticket(harness, 1002)
    assert t.priority == "critical"
    assert t.target("resolution").due_at - t.registered_at == timedelta(hours=4)
    assert "критический" in operator.card(1002)["text"]
    await operator.write("/claim 1001")
    await operator.write("/mine")
    assert "№\u00a01001" in operator.desk[-1]["text"]
    assert "№\u00a01002" not in operator.desk[-1]["text"]
    await operator.write("/t 1002")
    assert "Обращение №\u00a01002" in operator.desk[-1]["text"]
    await operator.write("/resolve 1001")
    assert (await ticket(harness)).status == "resolved"
    await operator.write("/reopen 1001")
    assert (await ticket(harness)).status == "in_progress"
    await operator.write("/t 99999")
    assert "не найдено" in operator.desk[-1]["text"]
    await operator.write("/priority 1001 urgent")
    assert "critical|high|medium|low" in operator.desk[-1]["text"]


async def test_ban_and_unban(harness: Harness) -> None:
    client = await opened(harness)
    operator = Operator(harness, 9001)
    await operator.write("/ban 1001")
    assert "ограничен" in client.texts()[-1]
    out = await client.say("Почему?")
    assert "ограничен" in joined(out)
    await operator.write("/unban 1001")
    assert "восстановлен" in client.texts()[-1]


async def test_edits_are_mirrored_both_ways(harness: Harness) -> None:
    client = await opened(harness)
    operator = Operator(harness, 9001)
    sent = await operator.write("Ответ с опечаткой", reply_to=operator.card(1001)["message_id"])
    harness.standin.edit_message(9001, OPERATORS, sent["message_id"], "Ответ без опечатки")
    await harness.settle()
    assert client.inbox[-1]["text"] == "Ответ без опечатки"
    mine = harness.standin.send_message(client.id, text="Моё сообщене")
    await harness.settle()
    harness.standin.edit_message(client.id, client.id, mine["message_id"], "Моё сообщение")
    await harness.settle()
    assert operator.desk[-1]["text"] == "Моё сообщение"


async def test_forum_mode_topic_per_request(standin: StandIn, tmp_path: Path) -> None:
    forum_id = OPERATORS - 1
    standin.add_group(forum_id, "CRPT-Turon desk (topics)", forum=True, members=[9001, 9002])
    h = Harness(standin, tmp_path, WORKING_MOMENT, operator_chat_id=forum_id)
    await h.start()
    try:
        client = await opened(h)
        [topic] = h.standin.topics(forum_id)
        assert topic["name"] == "№\u00a01001 · ООО «Asia Trade» · новое"
        in_topic = h.standin.sent(forum_id, thread_id=topic["message_thread_id"])
        assert in_topic[0]["text"].startswith("Обращение №\u00a01001")
        # An operator writes in the topic: it reaches the client.
        h.standin.send_message(
            9001, forum_id, text="Добрый день!", thread_id=topic["message_thread_id"]
        )
        await h.settle()
        assert client.inbox[-1]["text"] == "Добрый день!"
        assert h.standin.topics(forum_id)[0]["name"] == "№\u00a01001 · ООО «Asia Trade» · в работе"
        # The client answers: it lands in the topic.
        await client.say("Спасибо")
        assert (
            h.standin.sent(forum_id, thread_id=topic["message_thread_id"])[-1]["text"] == "Спасибо"
        )
        # The topic is deleted: the next message recreates it, with the card first.
        h.standin.delete_topic(forum_id, topic["message_thread_id"])
        await client.say("Вы здесь?")
        topics = [t for t in h.standin.topics(forum_id) if not t.get("is_deleted")]
        assert len(topics) == 1
        new_thread = topics[0]["message_thread_id"]
        assert new_thread != topic["message_thread_id"]
        fresh = h.standin.sent(forum_id, thread_id=new_thread)
        assert fresh[0]["text"].startswith("Обращение №\u00a01001")
        assert fresh[-1]["text"] == "Вы здесь?"
    finally:
        await h.stop()


async def test_operator_album_reply_and_named_answers(standin: StandIn, tmp_path: Path) -> None:
    h = Harness(standin, tmp_path, WORKING_MOMENT, operator_names_visible=True)
    await h.start()
    try:
        client = await opened(h)
        operator = Operator(h, 9001)
        card = operator.card(1001)["message_id"]
        await operator.write("Добрый день", reply_to=card)
        assert (
            client.inbox[-1]["text"]
            == "Dilnoza Operator, служба поддержки CRPT-Turon:\nДобрый день"
        )
        # The operator replies to the client's relayed message: the client sees a reply to
        # their own original.
        original = await client.say("У меня вопрос")
        relayed = operator.desk[-1]
        assert relayed["text"] == "У меня вопрос"
        await operator.write("Отвечаю на вопрос", reply_to=relayed["message_id"])
        assert client.inbox[-1]["reply_to_message"]["text"] == "У меня вопрос"
        del original
        for i in range(2):
            h.standin.send_message(
                9001,
                OPERATORS,
                photo=True,
                media_group_id="op-album",
                reply_to=card if i == 0 else None,
            )
        await h.settle()
        album = [m for m in client.inbox if m.get("media_group_id")]
        assert len(album) == 2
    finally:
        await h.stop()


async def test_release_and_hand_over(harness: Harness) -> None:
    await opened(harness)
    first, second = Operator(harness, 9001), Operator(harness, 9002)
    await first.press(first.card(1001), "Взять")
    await first.press(first.card(1001), "Снять с себя")
    t = await ticket(harness)
    assert (t.assignee_id, t.status) == (None, "new")
    await first.press(first.card(1001), "Взять")
    colleague = await second.write("Я возьму")
    harness.standin.send_message(
        9001, OPERATORS, text="/assign 1001", reply_to=colleague["message_id"]
    )
    await harness.settle()
    t = await ticket(harness)
    assert t.assignee_id == 9002
    assert "Sardor Operator" in first.card(1001)["text"]
    assert "assigned" in await events(harness)


def test_callback_data_fits_64_bytes() -> None:
    from bot.callbacks import ClientTicketCb, TicketCb
    from bot.numbers import ID_MAX

    biggest = ID_MAX  # the largest id a button may carry (bot.numbers)
    assert len(TicketCb(action="setprio", ticket=biggest, arg="critical").pack().encode()) <= 64
    assert len(ClientTicketCb(action="nocomment", ticket=biggest, arg="5").pack().encode()) <= 64


async def test_forum_a_closed_topic_is_recreated(standin: StandIn, tmp_path: Path) -> None:
    forum_id = OPERATORS - 1
    standin.add_group(forum_id, "CRPT-Turon desk (topics)", forum=True, members=[9001])
    h = Harness(standin, tmp_path, WORKING_MOMENT, operator_chat_id=forum_id)
    await h.start()
    try:
        client = await opened(h)
        [topic] = h.standin.topics(forum_id)
        # An operator closes the topic: the service message is nobody's answer.
        h.standin.close_topic(forum_id, topic["message_thread_id"], by=9001)
        await h.settle()
        assert not [
            m for m in h.standin.sent(forum_id) if "нельзя переслать" in (m.get("text") or "")
        ]
        # Telegram refuses to post into the closed topic: a new one is made, card first.
        h.standin.fail(
            "copyMessage", status=400, description="Bad Request: TOPIC_CLOSED", retry_after=None
        )
        await client.say("Есть новости?")
        topics = h.standin.topics(forum_id)
        assert len(topics) == 2
        messages = h.standin.sent(forum_id, thread_id=topics[1]["message_thread_id"])
        assert messages[0]["text"].startswith("Обращение №\u00a01001")
        assert messages[-1]["text"] == "Есть новости?"
    finally:
        await h.stop()


async def test_a_reply_to_a_bot_message_the_desk_did_not_record(harness: Harness) -> None:
    """A crash between sending a card (or a relayed message) and recording it leaves a copy
    the desk does not know. An answer to a card copy still finds its request by the card's
    buttons; an answer to an unknown message without them is not lost in silence: the
    operator is told it was not sent."""
    client = await opened(harness)
    await client.say("Вот ещё подробности")
    operator = Operator(harness, 9001)
    card = operator.card(1001)
    relayed = operator.desk[-1]
    assert relayed["text"] == "Вот ещё подробности"
    assert harness.app is not None
    async with harness.app.sessions() as session:
        await session.execute(delete(DeskMessage))
        await session.execute(update(TicketMessage).values(relay_message_id=None))
        await session.commit()

    await operator.write("Здравствуйте! Проверьте принтер.", reply_to=card["message_id"])
    assert client.texts()[-1] == "Здравствуйте! Проверьте принтер."

    before = len(client.inbox)
    await operator.write("И ещё вопрос", reply_to=relayed["message_id"])
    assert len(client.inbox) == before
    assert "ответ клиенту не отправлен" in operator.desk[-1]["text"]
    # Operators talking among themselves (no reply to the bot) are left alone.
    said = len(operator.desk)  # what the bot posted in the group
    await operator.write("Коллеги, кто возьмёт?")
    assert len(operator.desk) == said
