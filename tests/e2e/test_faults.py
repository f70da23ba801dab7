"""The fault matrix: for each Bot API method the bot calls during the intake and during the
operators' work, the stand-in answers 429, 500 or nothing at all (a dropped connection, as on a
timeout) once at that call. Afterwards everything converges: the request exists once, the
client's acknowledgement, the card and the operator's answer arrive once, a topic exists once,
the status is what the operator asked, and nothing is said twice."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from standin import TIMEOUT, StandIn
from storage.models import Ticket
from tests.e2e.harness import (
    OPERATORS,
    WORKING_MOMENT,
    Harness,
    Operator,
    Person,
    identify,
    joined,
)

FORUM = OPERATORS - 1
CLIENT = 1001
POPUPS = None  # answerCallbackQuery carries no chat id: the fault hits the next pop-up

FAULTS = {"429": 429, "500": 500, "timeout": TIMEOUT}

# (phase, method, chat the call goes to, forum group?)
CALLS = [
    ("intake", "sendMessage", CLIENT, False),  # the dialogue's questions, the acknowledgement
    ("intake", "answerCallbackQuery", POPUPS, False),  # the client's button pop-ups
    ("intake", "editMessageReplyMarkup", CLIENT, False),  # the summary's buttons removed
    ("intake", "sendMessage", OPERATORS, False),  # the card
    ("intake", "copyMessage", OPERATORS, False),  # the client's photo to the desk
    ("intake", "createForumTopic", FORUM, True),  # the request's topic
    ("intake", "sendMessage", FORUM, True),  # the card in the topic
    ("desk", "answerCallbackQuery", POPUPS, False),  # the operator's "claim" pop-up
    ("desk", "editMessageText", OPERATORS, False),  # the card shows the new status
    ("desk", "copyMessage", CLIENT, False),  # the operator's answer to the client
    ("desk", "sendMessage", OPERATORS, False),  # the reply to /resolve
    ("desk", "sendMessage", CLIENT, False),  # "is your problem solved?"
    ("desk", "editForumTopic", FORUM, True),  # the topic's title shows the status
    ("desk", "editMessageText", FORUM, True),  # the card in the topic
]

CASES = [
    pytest.param(phase, method, chat, forum, status, id=f"{phase}-{method}-{chat}-{name}")
    for phase, method, chat, forum in CALLS
    for name, status in FAULTS.items()
]


async def _settle_through_retries(h: Harness) -> None:
    """Let every back-off and retry_after run out (the clock jumps; retries are due at once)."""
    for _ in range(2):
        h.clock.advance(timedelta(minutes=5))
        await h.settle(limit=20)


@pytest.mark.parametrize(("phase", "method", "chat", "forum", "status"), CASES)
async def test_one_fault_at_one_call_converges(
    standin: StandIn,
    tmp_path: Path,
    phase: str,
    method: str,
    chat: int | None,
    forum: bool,
    status: int,
) -> None:
    group = FORUM if forum else OPERATORS
    if forum:
        standin.add_group(FORUM, "CRPT-Turon desk (topics)", forum=True, members=[9001, 9002])
    h = Harness(standin, tmp_path, WORKING_MOMENT, operator_chat_id=group)
    await h.start()
    try:
        client = Person(h, CLIENT, "Иван")
        operator = Operator(h, 9001)

        def arm() -> None:
            standin.fail(method, status=status, retry_after=1, chat_id=chat)

        await identify(client)  # ends with the first question of a request
        if phase == "intake":
            arm()
        await client.press("Консультация")
        await client.press("Коды маркировки")
        await client.say("Не печатаются коды")
        await client.say(photo=True, caption="Скриншот")
        await client.press("Готово")
        await client.press("В этом чате")
        await client.press("Отправить")
        await _settle_through_retries(h)

        card = _card(standin, group)
        if phase == "desk":
            arm()
        await operator.press(card, "Взять")
        await _settle_through_retries(h)
        thread = card.get("message_thread_id")
        standin.send_message(
            9001,
            group,
            text="Перезагрузите принтер",
            reply_to=None if thread else card["message_id"],
            thread_id=thread,
        )
        await _settle_through_retries(h)
        standin.send_message(9001, group, text="/resolve 1001", thread_id=thread)
        await _settle_through_retries(h)
        await client.press("Да")
        await _settle_through_retries(h)

        assert not [f for f in standin._faults if f.method == method], "the fault never fired"
        await _assert_converged(h, standin, client, group, forum)
    finally:
        await h.stop()


def _card(standin: StandIn, group: int) -> dict[str, object]:
    cards = [
        m
        for m in standin.sent(group)
        if (m.get("text") or "").startswith("Обращение №\u00a01001 ·")
    ]
    assert len(cards) == 1, f"{len(cards)} cards"
    return cards[0]


async def _assert_converged(
    h: Harness, standin: StandIn, client: Person, group: int, forum: bool
) -> None:
    assert h.app is not None
    async with h.app.sessions() as session:
        assert await session.scalar(select(func.count(Ticket.id))) == 1
        ticket = await session.scalar(select(Ticket))
    assert ticket is not None
    assert ticket.status == "closed"  # resolved by the operator, confirmed by the client
    assert ticket.assignee_id == 9001
    assert ticket.first_response_at is not None

    said = Counter(m.get("text") or m.get("caption") or "" for m in client.inbox)
    twice = {text: n for text, n in said.items() if n > 1}
    assert not twice, f"said twice to the client: {twice}"
    text = joined(client.inbox)
    assert text.count("Ваше обращение №\u00a01001 зарегистрировано") == 1
    assert said["Перезагрузите принтер"] == 1
    assert text.count("как решённое") == 1

    _card(standin, group)  # exactly one card
    relayed = [m for m in standin.sent(group) if m.get("caption") == "Скриншот"]
    assert len(relayed) == 1
    if forum:
        live = [t for t in standin.topics(group) if not t.get("is_deleted")]
        assert len(standin.topics(group)) == 1, standin.topics(group)
        assert live[0]["name"].startswith("№\u00a01001")
    assert await h.pending_outbox() == 0
