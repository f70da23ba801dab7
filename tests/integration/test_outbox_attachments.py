"""Files through the outbox: a photo or document uploaded with its call (a BufferedInputFile)
is stored beside the JSON payload and put back when the worker sends it."""

from __future__ import annotations

from datetime import datetime

import pytest
from aiogram.methods import SendDocument, SendMessage, SendPhoto
from aiogram.types import BufferedInputFile, FSInputFile
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.desk import Desk
from bot.services.outgoing import ATTACHED, Outgoing, method_of
from bot.vocabulary import OutboxStatus, Purpose
from storage.models import OutboxItem
from storage.outbox import OutboxRepo
from tests.fake_bot import FakeBot, server_error
from tests.integration.delivery_kit import FakeClock, queue, rows, worker

MANAGER = 4242
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40  # binary, with every byte value


async def test_photo_and_document_round_trip(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime
) -> None:
    clock = FakeClock(now)
    bot = FakeBot()
    await queue(
        sessions,
        desk,
        clock,
        lambda out: (
            out.queue(
                SendPhoto(
                    chat_id=MANAGER, photo=BufferedInputFile(PNG, "chart.png"), caption="chart"
                ),
                purpose=Purpose.DIGEST,
            ),
            out.queue(
                SendDocument(chat_id=MANAGER, document=BufferedInputFile(b"a;b\n1;2\n", "x.csv")),
                purpose=Purpose.REPLY,
            ),
        ),
    )
    stored = await rows(sessions)
    assert [r.attachment_field for r in stored] == ["photo", "document"]
    assert [r.attachment_name for r in stored] == ["chart.png", "x.csv"]
    assert stored[0].attachment == PNG
    assert stored[0].payload["photo"] == ATTACHED  # the JSON holds only a placeholder
    assert stored[0].payload["caption"] == "chart"

    await worker(bot, sessions, clock, desk).drain()

    photo, document = bot.sent()
    assert isinstance(photo, SendPhoto)
    assert isinstance(photo.photo, BufferedInputFile)
    assert photo.photo.data == PNG
    assert photo.photo.filename == "chart.png"
    assert photo.caption == "chart"
    assert isinstance(document, SendDocument)
    assert isinstance(document.document, BufferedInputFile)
    assert document.document.data == b"a;b\n1;2\n"
    assert document.document.filename == "x.csv"
    assert [r.status for r in await rows(sessions)] == [OutboxStatus.SENT] * 2


async def test_a_failed_upload_is_retried_with_its_file(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime
) -> None:
    clock = FakeClock(now)
    bot = FakeBot()
    bot.fail("sendPhoto", server_error)
    photo = SendPhoto(chat_id=MANAGER, photo=BufferedInputFile(PNG, "chart.png"))
    await queue(sessions, desk, clock, lambda out: out.queue(photo, purpose=Purpose.DIGEST))
    deliver = worker(bot, sessions, clock, desk)
    await deliver.drain()
    assert bot.sent() == []
    clock.advance(seconds=10)
    await deliver.drain()
    (sent,) = bot.sent()
    assert isinstance(sent.photo, BufferedInputFile)
    assert sent.photo.data == PNG


async def test_an_item_rebuilt_from_the_database_gets_its_file(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime
) -> None:
    async with sessions() as session:
        out = Outgoing(OutboxRepo(session), desk.operator_chat_id, now)
        item = out.queue(
            SendDocument(chat_id=MANAGER, document=BufferedInputFile(b"xlsx", "r.xlsx")),
            purpose=Purpose.REPLY,
        )
        await session.commit()
        item_id = item.id
    async with sessions() as session:
        row = await session.get(OutboxItem, item_id)
        assert row is not None
        method = method_of(row)
    assert isinstance(method, SendDocument)
    assert isinstance(method.document, BufferedInputFile)
    assert method.document.data == b"xlsx"


async def test_what_cannot_be_queued_fails_when_queued(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime
) -> None:
    async with sessions() as session:
        out = Outgoing(OutboxRepo(session), desk.operator_chat_id, now)
        on_disk = SendDocument(chat_id=MANAGER, document=FSInputFile(__file__))
        with pytest.raises(ValueError, match="BufferedInputFile"):
            out.queue(on_disk, purpose=Purpose.REPLY)
        plain = out.queue(SendMessage(chat_id=MANAGER, text="hi"), purpose=Purpose.REPLY)
        assert plain.attachment is None
        assert plain.attachment_field is None
