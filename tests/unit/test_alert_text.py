"""The text of SLA alerts: durations through Babel, links that open a request, mentions, the
length Telegram counts, and combined messages cut only at the limit, each naming what it
continues."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.alert_text import AlertItem, alert_messages, mention, request_link, shown_length
from bot.i18n import DeskI18n, fmt_duration
from bot.render import Renderer
from bot.vocabulary import AlertKind

TZ = ZoneInfo("Asia/Tashkent")
RENDERER = Renderer(i18n=DeskI18n(), tz=TZ, desk_language="ru")
W, B, R = AlertKind.WARNING, AlertKind.BREACH, AlertKind.REPEAT


@pytest.mark.parametrize(
    ("delta", "ru", "uz"),
    [
        (timedelta(minutes=2), "2\u00a0мин", "2\u00a0daq."),
        (timedelta(hours=1, minutes=10), "1\u00a0ч 10\u00a0мин", "1\u00a0soat 10\u00a0daq."),
        (timedelta(hours=2), "2\u00a0ч", "2\u00a0soat"),
        (timedelta(days=3, hours=5, minutes=7), "3\u00a0дн. 5\u00a0ч", "3\u00a0kun 5\u00a0soat"),
        (timedelta(days=1, minutes=10), "1\u00a0дн.", "1\u00a0kun"),
        (timedelta(seconds=59), "0\u00a0мин", "0\u00a0daq."),
    ],
)
def test_durations_are_babel_s(delta: timedelta, ru: str, uz: str) -> None:
    assert fmt_duration(delta, "ru") == ru
    assert fmt_duration(delta, "uz") == uz


def test_a_time_left_is_rounded_up() -> None:
    assert fmt_duration(timedelta(seconds=61), "ru", round_up=True) == "2\u00a0мин"
    assert fmt_duration(timedelta(seconds=61), "ru") == "1\u00a0мин"


@pytest.mark.parametrize(
    ("chat", "thread", "card", "link"),
    [
        (-1001234567890, 55, 7, "https://t.me/c/1234567890/55"),  # its topic in a forum
        (-1001234567890, None, 7, "https://t.me/c/1234567890/7"),  # its card otherwise
        (-1001234567890, None, None, None),  # not posted yet
        (-4005, None, 7, None),  # a basic group has no links
        (None, None, 7, None),
    ],
)
def test_the_link_that_opens_a_request(
    chat: int | None, thread: int | None, card: int | None, link: str | None
) -> None:
    assert request_link(chat, thread, card) == link


def test_a_mention_is_escaped() -> None:
    assert mention(42, "Bob <&> Co") == '<a href="tg://user?id=42">Bob &lt;&amp;&gt; Co</a>'
    assert shown_length(mention(42, "Bob <&> Co")) == len("Bob <&> Co")


def test_the_length_telegram_counts() -> None:
    assert shown_length("<b>⚠️ Срок</b> &amp; 🔴") == len("⚠️ Срок & ".encode("utf-16-le")) // 2 + 2


def item(
    number: int, kind: AlertKind = B, assignee: int | None = None, **changes: object
) -> AlertItem:
    values: dict[str, object] = {
        "kind": kind,
        "target": "first_response",
        "number": number,
        "company": f"OOO <Company> {number}",
        "topic": "marking_codes",
        "priority": "high",
        "assignee_id": assignee,
        "assignee_name": None if assignee is None else f"Operator {assignee}",
        "link": f"https://t.me/c/123/{number}",
        "amount": timedelta(minutes=70),
    }
    values.update(changes)
    return AlertItem(**values)  # type: ignore[arg-type]


def test_one_message_in_sections_and_by_assignee() -> None:
    items = [
        item(1003, R, amount=timedelta(hours=2)),
        item(1001, W, assignee=9001, amount=timedelta(minutes=2)),
        item(1002, B, assignee=9001, target="resolution", amount=timedelta(seconds=10)),
        item(1004, B, assignee=9002),
        item(1005, B),
    ]
    [message] = alert_messages(RENDERER, items, "ru")
    assert message.split("\n") == [
        "🔴 <b>Срок пропущен: первый ответ</b>",
        '👤 <a href="tg://user?id=9002">Operator 9002</a>',
        '• <a href="https://t.me/c/123/1004">№\u00a01004</a> · OOO &lt;Company&gt; 1004 · '
        "Коды маркировки · высокий · просрочено на 1\u00a0ч 10\u00a0мин",
        "👤 не назначен",
        '• <a href="https://t.me/c/123/1005">№\u00a01005</a> · OOO &lt;Company&gt; 1005 · '
        "Коды маркировки · высокий · просрочено на 1\u00a0ч 10\u00a0мин",
        "",
        "🔴 <b>Срок пропущен: решение</b>",
        '👤 <a href="tg://user?id=9001">Operator 9001</a>',
        '• <a href="https://t.me/c/123/1002">№\u00a01002</a> · OOO &lt;Company&gt; 1002 · '
        "Коды маркировки · высокий · срок истёк только что",
        "",
        "⚠️ <b>Скоро срок: первый ответ</b>",
        '👤 <a href="tg://user?id=9001">Operator 9001</a>',
        '• <a href="https://t.me/c/123/1001">№\u00a01001</a> · OOO &lt;Company&gt; 1001 · '
        "Коды маркировки · высокий · осталось 2\u00a0мин",
        "",
        "🔁 <b>Всё ещё просрочено: первый ответ</b>",
        "👤 не назначен",
        '• <a href="https://t.me/c/123/1003">№\u00a01003</a> · OOO &lt;Company&gt; 1003 · '
        "Коды маркировки · высокий · просрочено на 2\u00a0ч",
    ]


def test_uzbek() -> None:
    [message] = alert_messages(RENDERER, [item(1001, W, amount=timedelta(hours=2))], "uz")
    assert "Muddat yaqin: birinchi javob" in message
    assert "2\u00a0soat qoldi" in message
    assert "tayinlanmagan" in message


@pytest.mark.parametrize("limit", [400, 1000, 4096])
def test_cut_only_at_the_limit_each_part_naming_what_it_continues(limit: int) -> None:
    items = [item(n, B, assignee=9001 if n % 3 else None, link=None) for n in range(1, 301)]
    messages = alert_messages(RENDERER, items, "ru", limit=limit)
    assert all(shown_length(m) <= limit for m in messages)
    named = [int(n) for m in messages for n in re.findall(r"№\u00a0(\d+)", m)]
    assert sorted(named) == list(range(1, 301))
    for message in messages:
        first, second, third = message.split("\n")[:3]
        assert first == "🔴 <b>Срок пропущен: первый ответ</b>"
        assert second.startswith("👤")
        assert third.startswith("• №")
        assert not message.endswith(("\n", "</b>")) and not message.split("\n")[-1].startswith("👤")
    # Every part but the last is full: one more line would not have fitted.
    line = max(shown_length(x) for m in messages for x in m.split("\n")) + 1
    assert all(shown_length(m) > limit - line * 2 for m in messages[:-1])
