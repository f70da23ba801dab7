"""The managers' daily digest: due at DIGEST_TIME on working days, its text against the
hand-built desk, its chart as a PNG photo through the outbox, and once per day however many
runs (one after another, a restart, two at once on one database)."""

from __future__ import annotations

import asyncio
import io
from datetime import time, timedelta

from aiogram.methods import SendMessage, SendPhoto
from aiogram.types import BufferedInputFile
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.services.desk import Desk
from bot.services.outgoing import method_of
from bot.textsplit import TEXT_LIMIT
from bot.vocabulary import OutboxStatus, Purpose
from scheduler.digest import DigestParams, run_digest
from storage.db import create_session_factory
from storage.models import Digest, OutboxItem
from tests.fake_bot import FakeBot
from tests.integration.delivery_kit import FakeClock, worker
from tests.integration.stats_kit import DIGEST_NOW, PERIOD_START, at, build_desk

MANAGERS_CHAT = -100777
PARAMS = DigestParams(manager_chat_id=MANAGERS_CHAT, manager_ids=frozenset({502, 501}))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

Sessions = async_sessionmaker[AsyncSession]


async def outbox(sessions: Sessions) -> list[OutboxItem]:
    async with sessions() as session:
        return list((await session.scalars(select(OutboxItem).order_by(OutboxItem.id))).all())


async def digests(sessions: Sessions) -> list[Digest]:
    async with sessions() as session:
        return list((await session.scalars(select(Digest).order_by(Digest.day))).all())


async def test_the_digest_goes_to_the_managers_chat_and_each_manager(
    sessions: Sessions, desk: Desk
) -> None:
    await build_desk(sessions)
    assert await run_digest(sessions, desk, PARAMS, DIGEST_NOW)

    items = await outbox(sessions)
    assert {i.purpose for i in items} == {Purpose.DIGEST}
    chats = list(dict.fromkeys(i.chat_id for i in items))
    assert chats == [MANAGERS_CHAT, 501, 502]  # the managers' chat first
    for chat_id in chats:
        calls = [method_of(i) for i in items if i.chat_id == chat_id]
        *texts, photo = calls
        assert all(isinstance(t, SendMessage) for t in texts)
        assert all(len(t.text) <= TEXT_LIMIT for t in texts)
        assert isinstance(photo, SendPhoto)
        assert isinstance(photo.photo, BufferedInputFile)
        assert photo.photo.data.startswith(PNG_SIGNATURE)
        assert photo.photo.filename == "digest-2026-03-17.png"
        assert photo.caption == (
            "Обращения за последние 14\u00a0дней: открыто, решено и нарушено сроков по дням"
        )

    (text,) = [method_of(i).text for i in items if i.chat_id == 501 and i.method == "sendMessage"]
    assert text.startswith("📊 Ежедневная сводка за 17.03.2026\nПериод: 16.03.2026 09:00 – ")
    for line in (
        "Открыто: 5 обращений",
        "Решено: 4 обращения",
        "Просрочено сейчас: 2 обращения",
        "Первый ответ (в рабочем времени): медиана 8\u00a0мин, 90-й процентиль 1\u00a0ч — "
        "по 5 ответам",
        "Сроки соблюдены: 80\xa0% (8 из 10)",
        "Средняя оценка: 4,0 (3 оценки)",
        "❗ 2 нарушения срока:",
        "• №\u00a01002 · OOO Company 1002 · высокий — первый ответ, срок 16.03.2026 11:10: "
        "выполнен с опозданием на 20\u00a0мин; исполнитель: не назначен",
        "• №\u00a01003 · OOO Company 1003 · критический — решение, срок 16.03.2026 18:00: "
        "просрочен на 15\u00a0ч и ещё не выполнен; исполнитель: Sardor Operator",
        "⏰ Сейчас просрочены 2 срока:",
        "• №\u00a01006 · OOO Company 1006 · высокий — решение: просрочено на 3\u00a0дн. 15\u00a0ч; "
        "исполнитель: Sardor Operator",
        "• Dilnoza Operator: решено 2, в работе 1, нарушений 0",
        "• Sardor Operator: решено 2, в работе 1, нарушений 1",
        "• не назначен: решено 0, в работе 0, нарушений 1",
        "• критический: открыто 1, решено 0, нарушений 1",
    ):
        assert line in text.splitlines(), line

    _monday, row = await digests(sessions)
    assert row.day.isoformat() == "2026-03-17"
    assert (row.period_start, row.period_end) == (PERIOD_START, DIGEST_NOW)  # since the last


async def test_the_chart_is_a_png_of_fourteen_days(sessions: Sessions, desk: Desk) -> None:
    await build_desk(sessions)
    await run_digest(sessions, desk, DigestParams(manager_ids=frozenset({501})), DIGEST_NOW)
    (photo,) = [i for i in await outbox(sessions) if i.method == "sendPhoto"]
    assert photo.attachment is not None
    assert len(photo.attachment) > 10_000
    image = Image.open(io.BytesIO(photo.attachment))
    image.verify()
    assert image.format == "PNG"
    assert image.size[0] > 600


async def test_the_digest_is_delivered_with_its_chart(sessions: Sessions, desk: Desk) -> None:
    await build_desk(sessions)
    await run_digest(sessions, desk, DigestParams(manager_ids=frozenset({501})), DIGEST_NOW)
    bot = FakeBot()
    await worker(bot, sessions, FakeClock(DIGEST_NOW), desk).drain()
    text, photo = bot.sent()
    assert isinstance(text, SendMessage)
    assert isinstance(photo, SendPhoto)
    assert isinstance(photo.photo, BufferedInputFile)
    assert photo.photo.data.startswith(PNG_SIGNATURE)
    assert {i.status for i in await outbox(sessions)} == {OutboxStatus.SENT}


async def test_not_before_its_time_nor_on_a_day_off(sessions: Sessions, desk: Desk) -> None:
    await build_desk(sessions)
    assert not await run_digest(sessions, desk, PARAMS, DIGEST_NOW - timedelta(seconds=1))
    assert not await run_digest(sessions, desk, PARAMS, at("Sun", 10))  # Sunday 15 March
    assert not await run_digest(sessions, desk, DigestParams(), DIGEST_NOW)  # nobody to tell
    assert await outbox(sessions) == []
    later = DigestParams(at=time(10, 30), manager_ids=frozenset({501}))
    assert not await run_digest(sessions, desk, later, at("Tue", 10, 29))
    assert await run_digest(sessions, desk, later, at("Tue", 10, 30))


async def test_once_a_day_and_late_after_a_restart(
    db: AsyncEngine, sessions: Sessions, desk: Desk
) -> None:
    await build_desk(sessions, digest=False)
    # The bot was down at 09:00: the digest goes when it is back, the same day.
    assert await run_digest(sessions, desk, PARAMS, at("Tue", 13, 15))
    sent = len(await outbox(sessions))
    assert not await run_digest(sessions, desk, PARAMS, at("Tue", 13, 16))
    restarted = create_session_factory(db)  # another process on the same database
    assert not await run_digest(restarted, desk, PARAMS, at("Tue", 17))
    assert len(await outbox(sessions)) == sent
    (first,) = await digests(sessions)
    assert first.period_end - first.period_start == timedelta(days=1)  # no digest before

    # The next working day's covers what came since.
    assert await run_digest(sessions, desk, PARAMS, at(18, 9))
    second = (await digests(sessions))[-1]
    assert (second.period_start, second.period_end) == (at("Tue", 13, 15), at(18, 9))


async def test_two_runs_at_once_send_one_digest(db: AsyncEngine, desk: Desk) -> None:
    first, second = create_session_factory(db), create_session_factory(db)
    await build_desk(first, digest=False)
    results = await asyncio.gather(
        run_digest(first, desk, PARAMS, DIGEST_NOW),
        run_digest(second, desk, PARAMS, DIGEST_NOW + timedelta(seconds=2)),
    )
    assert sorted(results) == [False, True]
    items = await outbox(first)
    assert [i.chat_id for i in items if i.method == "sendPhoto"] == [MANAGERS_CHAT, 501, 502]
    assert len(await digests(first)) == 1


async def test_many_processes_at_once_send_one_digest(db: AsyncEngine, desk: Desk) -> None:
    factories = [create_session_factory(db) for _ in range(6)]
    await build_desk(factories[0], digest=False)
    results = await asyncio.gather(*(run_digest(f, desk, PARAMS, DIGEST_NOW) for f in factories))
    assert results.count(True) == 1
    photos = [i for i in await outbox(factories[0]) if i.method == "sendPhoto"]
    assert len(photos) == 3
    assert len(await digests(factories[0])) == 1
