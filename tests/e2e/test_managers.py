"""The managers' commands end to end: /stats and /export for MANAGER_IDS in a private chat with
the bot and in the managers' chat; anyone else is refused politely (a client's /stats is not
taken for a message to the desk), in their own language."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from standin import StandIn
from tests.e2e.harness import WORKING_MOMENT, Harness, Operator, Person, identify, open_request

MANAGER = 7001
MANAGERS_CHAT = -1001000000077
REFUSED_RU = "Извините, эта команда доступна только руководителям службы поддержки."
REFUSED_UZ = "Kechirasiz, bu buyruq faqat qoʻllab-quvvatlash xizmati rahbarlari uchun."


@pytest.fixture
async def managed(standin: StandIn, tmp_path: Path) -> AsyncIterator[Harness]:
    standin.add_user(MANAGER, "Malika", last_name="Manager")
    standin.add_group(MANAGERS_CHAT, "CRPT-Turon managers", members=[MANAGER, 6666])
    h = Harness(
        standin,
        tmp_path,
        WORKING_MOMENT,
        manager_ids=str(MANAGER),
        manager_chat_id=MANAGERS_CHAT,
    )
    await h.start()
    # Monday 11:00: the day's digest is due, and goes at start (the scheduler's catch-up).
    await standin.wait_for(lambda: any("photo" in m for m in standin.sent(MANAGERS_CHAT)), 15)
    await h.settle()
    yield h
    await h.stop()


def since_start(h: Harness) -> list[str]:
    """The managers' chat after the digest that opened it."""
    messages = h.standin.sent(MANAGERS_CHAT)
    last_photo = max(i for i, m in enumerate(messages) if "photo" in m)
    return texts(messages[last_photo + 1 :])


def texts(messages: list[dict[str, object]]) -> list[str]:
    return [str(m.get("text") or m.get("caption") or "") for m in messages]


async def test_the_digest_reaches_the_managers_chat_and_each_manager(
    managed: Harness, standin: StandIn
) -> None:
    for chat_id in (MANAGERS_CHAT, MANAGER):
        *words, chart = standin.sent(chat_id)
        assert words[0]["text"].startswith("📊 Ежедневная сводка за 23.11.2026\n")
        assert "Открыто: 0 обращений" in words[0]["text"]
        assert chart["caption"].startswith("Обращения за последние 14\u00a0дней")
        stored = standin.files.get(chart["photo"][-1]["file_id"])
        assert stored is not None
        assert stored.data is not None
        assert stored.data.startswith(b"\x89PNG")


async def test_strangers_are_refused_politely_in_their_language(managed: Harness) -> None:
    client = Person(managed, 1001, "Иван")
    for command in ("/stats", "/export week", "/stats@CRPT_Turon_Bot today"):
        assert texts(await client.say(command)) == [REFUSED_RU]
    uzbek = Person(managed, 1002, "Dilshod", language_code="uz")
    assert texts(await uzbek.say("/stats")) == [REFUSED_UZ]
    # An operator is not a manager either.
    operator = Person(managed, 9003, "Operator")
    assert texts(await operator.say("/export")) == [REFUSED_RU]
    # Nor is a member of the managers' chat who is not in MANAGER_IDS.
    managed.standin.send_message(6666, MANAGERS_CHAT, text="/stats")
    await managed.settle()
    assert since_start(managed) == [REFUSED_RU]
    # Nothing reached the desk: no request was started from these messages.
    assert not any("№" in t for t in texts(Operator(managed, 9001).desk))


async def test_a_manager_gets_the_figures_in_private_and_in_the_managers_chat(
    managed: Harness,
) -> None:
    client = Person(managed, 1001, "Иван")
    await identify(client)
    await open_request(client)

    manager = Person(managed, MANAGER, "Malika")
    (stats,) = texts(await manager.say("/stats"))
    assert stats.startswith("📊 Статистика за 23.11.2026\n")
    assert "Открыто: 1 обращение" in stats
    assert "Просрочено сейчас: 0 обращений" in stats

    (usage,) = texts(await manager.say("/stats fortnight"))
    assert usage.startswith("Укажите период: /stats today")
    (usage,) = texts(await manager.say("/export 2026-11-30 2026-11-01"))
    assert usage.startswith("Укажите период: /export today")
    (empty,) = texts(await manager.say("/export yesterday"))
    assert empty == "За 22.11.2026 – 22.11.2026 обращений не зарегистрировано."

    managed.standin.send_message(MANAGER, MANAGERS_CHAT, text="/stats week")
    await managed.settle()
    (in_group,) = since_start(managed)
    assert in_group.startswith("📊 Статистика за 17.11.2026 – 23.11.2026")


async def test_export_sends_a_workbook_and_a_csv(managed: Harness) -> None:
    client = Person(managed, 1001, "Иван")
    await identify(client)
    await open_request(client, "Не печатаются коды")

    manager = Person(managed, MANAGER, "Malika")
    workbook, table = await manager.say("/export today")
    assert workbook["caption"] == "1 обращение за 23.11.2026 – 23.11.2026"
    assert workbook["document"]["file_name"] == "requests_2026-11-23_2026-11-23.xlsx"
    assert table["document"]["file_name"] == "requests_2026-11-23_2026-11-23.csv"

    stored = managed.standin.files.get(workbook["document"]["file_id"])
    assert stored is not None
    assert stored.data is not None
    sheet = load_workbook(io.BytesIO(stored.data)).active
    assert sheet is not None
    header, row = [list(r) for r in sheet.iter_rows(values_only=True)]
    record = dict(zip(header, row, strict=True))
    assert record["Номер"] == 1001
    assert record["Компания"] == "ООО «Asia Trade»"
    assert record["Описание"] == "Не печатаются коды"
    assert record["Первый ответ: соблюдение срока"] == "ожидается"

    stored = managed.standin.files.get(table["document"]["file_id"])
    assert stored is not None
    assert stored.data is not None
    rows = list(csv.reader(io.StringIO(stored.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == header
    assert rows[1][0] == "1001"
