"""The announcement of new requests a backed-up operator group gets: critical first, each
request with its number, company, topic, priority and the command that opens its card; the
count in the right plural form; long lists split within Telegram's limit."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from bot.announce_text import NewRequest, announcement
from bot.i18n import DeskI18n
from bot.render import Renderer
from bot.textsplit import TEXT_LIMIT
from bot.vocabulary import Priority

RENDERER = Renderer(i18n=DeskI18n(), tz=ZoneInfo("Asia/Tashkent"), desk_language="ru")
NUMBERS = re.compile(r"№\u00a0(\d+)")


def request(number: int, priority: Priority = Priority.MEDIUM) -> NewRequest:
    return NewRequest(number, f"ООО «Компания <{number}>»", "marking_codes", priority)


def test_critical_first_then_by_priority_and_number() -> None:
    requests = [
        request(1003, Priority.LOW),
        request(1001),
        request(1005, Priority.CRITICAL),
        request(1002, Priority.HIGH),
        request(1004, Priority.CRITICAL),
    ]
    [text] = announcement(RENDERER, "ru", requests)
    assert [int(n) for n in NUMBERS.findall(text)] == [1004, 1005, 1002, 1001, 1003]
    line = next(line for line in text.splitlines() if "1001" in line)
    assert line == (
        "№\u00a01001 · ООО «Компания &lt;1001&gt;» · Коды маркировки · средний · /t_1001"
    )


@pytest.mark.parametrize(
    ("count", "lang", "words"),
    [
        (1, "ru", "1 новое обращение"),
        (2, "ru", "2 новых обращения"),
        (5, "ru", "5 новых обращений"),
        (21, "ru", "21 новое обращение"),
        (1, "uz", "1\u00a0ta yangi murojaat"),
        (2, "uz", "2\u00a0ta yangi murojaat"),
    ],
)
def test_the_count_takes_its_plural_form(count: int, lang: str, words: str) -> None:
    texts = announcement(RENDERER, lang, [request(1000 + i) for i in range(count)])
    assert words in texts[0]


def test_a_long_list_is_split_within_the_limit_and_names_each_once() -> None:
    requests = [request(100_000 + i) for i in range(300)]
    texts = announcement(RENDERER, "ru", requests)
    assert len(texts) > 1
    assert all(len(text) <= TEXT_LIMIT for text in texts)
    named = [int(n) for text in texts for n in NUMBERS.findall(text)]
    assert named == sorted(r.number for r in requests)
