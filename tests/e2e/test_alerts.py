"""SLA alerts end to end: the real bot against the stand-in, the harness clock moved forward.
A warning and a breach reach the operator group naming the request and mentioning its
assignee, the card and the topic title show the state, managers hear of the breach and the
client gets one apology; 500 requests breaching at once reach a group held to Telegram's 20
messages a minute in a handful of messages, with zero 429 answers."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from scheduler.pacing import Limits
from standin import StandIn
from tests.e2e.bulk import add_requests
from tests.e2e.harness import (
    OPERATORS,
    WORKING_MOMENT,
    Harness,
    Operator,
    Person,
    identify,
    open_request,
)

MANAGER = 7001
FORUM = OPERATORS - 1


def link_of(message: dict[str, Any], part: str) -> str | None:
    """The url of the entity over the first occurrence of `part` in the message's text."""
    text = message["text"]
    start = len(text[: text.index(part)].encode("utf-16-le")) // 2
    for entity in message.get("entities", []):
        if entity["offset"] == start and entity["type"] == "text_link":
            return str(entity["url"])
    return None


def alerts_to(standin: StandIn, chat_id: int) -> list[str]:
    texts = [str(m.get("text") or "") for m in standin.sent(chat_id)]
    return [t for t in texts if t.startswith(("⚠️ Скоро срок", "🔴 Срок пропущен", "🔁 Всё ещё"))]


async def test_a_warning_and_a_breach_reach_the_group_naming_the_assignee(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.add_user(MANAGER, "Malika", last_name="Manager")
    standin.add_group(FORUM, "CRPT-Turon desk (topics)", forum=True, members=[9001, 9002])
    h = Harness(standin, tmp_path, WORKING_MOMENT, operator_chat_id=FORUM, manager_ids=str(MANAGER))
    await h.start()
    try:
        client = Person(h, 1001, "Иван")
        await identify(client)
        await open_request(client)
        [topic] = standin.topics(FORUM)
        thread = topic["message_thread_id"]
        card = standin.sent(FORUM, thread_id=thread)[0]
        await Operator(h, 9001).press(card, "Взять")
        general = len(standin.sent(FORUM, thread_id=None))

        h.clock.advance(timedelta(minutes=8))  # 80 % of the 10 working minutes
        await h.settle()
        [warning] = standin.sent(FORUM, thread_id=None)[general:]
        assert warning["text"].startswith("⚠️ Скоро срок: первый ответ")
        assert (
            "№\u00a01001 · ООО «Asia Trade» · Коды маркировки · средний · осталось 2\u00a0мин"
            in (warning["text"])
        )
        assert link_of(warning, "Dilnoza Operator") == "tg://user?id=9001"
        assert link_of(warning, "№\u00a01001") == f"https://t.me/c/{str(FORUM)[4:]}/{thread}"
        assert standin.topics(FORUM)[0]["name"] == (
            "№\u00a01001 · ООО «Asia Trade» · в работе · ⚠️ 2\u00a0мин до срока"
        )
        assert "⚠️ 2\u00a0мин до срока" in standin.message(FORUM, card["message_id"])["text"]
        # (the manager gets the day's digest at start, too: only alerts are looked at here)
        assert alerts_to(standin, MANAGER) == []

        h.clock.advance(timedelta(minutes=2))
        await h.settle()
        [breach] = standin.sent(FORUM, thread_id=None)[general + 1 :]
        assert breach["text"].startswith("🔴 Срок пропущен: первый ответ")
        assert "№\u00a01001" in breach["text"]
        assert link_of(breach, "Dilnoza Operator") == "tg://user?id=9001"
        assert alerts_to(standin, MANAGER) == [breach["text"]]
        assert "🔴 срок истёк" in standin.topics(FORUM)[0]["name"]
        apologies = [t for t in client.texts() if "Приносим извинения" in t]
        assert len(apologies) == 1

        # A restart in the middle: nothing is said twice; the repeat comes at its moment.
        await h.restart()
        await h.settle()
        assert len(standin.sent(FORUM, thread_id=None)) == general + 2
        h.clock.advance(timedelta(hours=2))
        await h.settle()
        [repeat] = standin.sent(FORUM, thread_id=None)[general + 2 :]
        assert repeat["text"].startswith("🔁 Всё ещё просрочено: первый ответ")
        assert "просрочено на 2\u00a0ч" in repeat["text"]
        assert len([t for t in client.texts() if "Приносим извинения" in t]) == 1
    finally:
        await h.stop()


async def test_500_breaches_make_a_handful_of_messages_and_no_429(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.limit_rate(OPERATORS, per_minute=20)  # Telegram's flood control of a group
    h = Harness(standin, tmp_path, WORKING_MOMENT)
    h.limits = Limits()  # the production pacing
    await h.start()
    try:
        assert h.app is not None
        numbers = await add_requests(h.app, 500, due_in=timedelta(hours=4))
        before = len(standin.sent(OPERATORS))
        h.clock.advance(timedelta(hours=4))
        await h.settle(limit=120)
        posted = standin.sent(OPERATORS)[before:]
        assert 1 < len(posted) <= 15
        named = Counter(int(n) for m in posted for n in re.findall(r"№\u00a0(\d+)", m["text"]))
        assert sorted(named) == numbers
        assert set(named.values()) == {1}
        assert [c for c in standin.calls if c.status == 429] == []
    finally:
        await h.stop()
