"""The session keeps each result model alive, so pydantic does not build it again for every
call after a garbage collection (5 to 7 ms of CPU each time)."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Awaitable, Callable
from typing import cast

import pytest
from aiogram import Bot
from aiogram.client.session.base import Response
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates, SendChatAction, SendMessage
from aiogram.types import Message
from aiohttp import web

from bot import speech
from bot.session import _KEPT, CONNECTIONS, DeskSession


def test_the_session_reads_answers_as_aiogram_does() -> None:
    session = DeskSession()
    method = GetUpdates()
    response = session.check_response(
        bot=None,  # type: ignore[arg-type]
        method=method,
        status_code=200,
        content='{"ok": true, "result": []}',
    )
    assert response.ok and response.result == []
    gc.collect()
    # After a collection pydantic's cache still finds the model the session keeps.
    assert Response[method.__returning__] is _KEPT[method.__returning__]  # type: ignore[name-defined]


def _sent_message(content: str, status: int = 200) -> object:
    session = DeskSession()
    return session.check_response(
        bot=None,  # type: ignore[arg-type]
        method=SendMessage(chat_id=1, text="x"),
        status_code=status,
        content=content,
    )


# What Telegram answers to a sendMessage, and a body aiogram could not read as a Message.
TAKEN = '{"ok": true, "result": {"message_id": 7, "date": 0, "chat": {"id": 1, "type": "private"}}}'
UNREADABLE = '{"ok": true, "result": {"message_id": "not a number"}}'


def test_a_result_nobody_reads_is_not_built_but_a_refusal_is_read_as_aiogram_reads_it() -> None:
    # Outside an update's speech the answer is built and checked as aiogram does.
    message = _sent_message(TAKEN).result  # type: ignore[attr-defined]
    assert isinstance(message, Message) and message.message_id == 7
    with pytest.raises(ClientDecodeError):
        _sent_message(UNREADABLE)
    with speech._reading_nothing():
        # Taken: nothing is built (not even a body aiogram could not read).
        assert _sent_message(TAKEN).result is None  # type: ignore[attr-defined]
        assert _sent_message(UNREADABLE).result is None  # type: ignore[attr-defined]
        # Refused or garbled: the same errors as ever.
        with pytest.raises(TelegramRetryAfter) as flood:
            _sent_message(
                '{"ok": false, "error_code": 429, "description": "Too Many Requests",'
                ' "parameters": {"retry_after": 5}}',
                status=429,
            )
        assert flood.value.retry_after == 5
        with pytest.raises(TelegramBadRequest):
            _sent_message('{"ok": false, "error_code": 400, "description": "bad"}', 400)
        with pytest.raises(ClientDecodeError):
            _sent_message("<html>502 Bad Gateway</html>")
        with pytest.raises(TelegramServerError):
            _sent_message('{"ok": false, "error_code": 500, "description": "oops"}', 500)
    assert not speech.result_unread()


def recording_session(
    monkeypatch: pytest.MonkeyPatch, durable: Callable[[], Awaitable[None]], order: list[str]
) -> DeskSession:
    """A session whose requests are only noted in `order` (by method), waiting for `durable`."""
    from aiogram.client.session.aiohttp import AiohttpSession

    async def request(self: object, bot: object, method: object, *_timeout: object) -> str:
        order.append(type(method).__name__)
        return "sent"

    monkeypatch.setattr(AiohttpSession, "make_request", request)
    session = DeskSession()
    session.durable = durable
    return session


async def test_every_call_waits_until_what_was_committed_is_durable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On SQLite the commits leave the fsync to the group commit: nothing is said to Telegram
    about a decision before it is on disk (the getUpdates offset that confirms the stored
    updates included)."""
    order: list[str] = []

    async def durable() -> None:
        order.append("durable")

    session = recording_session(monkeypatch, durable, order)
    bot = cast(Bot, None)
    assert await session.make_request(bot, SendMessage(chat_id=1, text="x")) == "sent"
    assert await session.make_request(bot, GetUpdates(offset=5)) == "sent"
    assert order == ["durable", "SendMessage", "durable", "GetUpdates"]
    await session.close()


async def test_a_failed_fsync_fails_the_call_and_nothing_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What could not be made durable is not said: the call fails as a failed call does (the
    update's replies stay in the outbox for the delivery worker; the poller tries again)."""
    sent: list[str] = []

    async def durable() -> None:
        raise OSError(5, "Input/output error")

    session = recording_session(monkeypatch, durable, sent)
    with pytest.raises(OSError, match="Input/output error"):
        await session.make_request(cast(Bot, None), SendMessage(chat_id=1, text="x"))
    assert sent == []
    await session.close()


async def test_the_bot_has_as_many_calls_in_flight_as_chats_being_answered() -> None:
    """aiogram's session lets 100 calls through at once and queues the rest behind them; the
    desk's lets CONNECTIONS through. A local server holds every call until 150 are in."""
    waiting = 150
    assert 100 < waiting <= CONNECTIONS
    arrived, everyone = 0, asyncio.Event()

    async def hold(request: web.Request) -> web.Response:
        nonlocal arrived
        arrived += 1
        if arrived == waiting:
            everyone.set()
        await asyncio.wait_for(everyone.wait(), 10)
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", hold)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    session = DeskSession(api=TelegramAPIServer.from_base(f"http://127.0.0.1:{port}"))
    bot = Bot("42:TEST", session=session)
    try:
        calls = [bot(SendChatAction(chat_id=n, action="typing")) for n in range(waiting)]
        assert all(await asyncio.wait_for(asyncio.gather(*calls), 20))
        assert arrived == waiting  # all at once: none waited for another to finish
    finally:
        await session.close()
        await runner.cleanup()


def test_the_updates_of_a_getupdates_answer_are_kept_as_telegram_sent_them() -> None:
    """The inbox stores an update's body as it came (a field aiogram does not know included),
    without dumping aiogram's model of it again; each answer's bodies are taken once."""
    from aiogram.client.session.aiohttp import AiohttpSession

    from bot.session import received_bodies
    from tests.unit.test_inbox import message

    sent = message(41, 5).model_dump(mode="json", exclude_unset=True, by_alias=True)
    sent["message"]["a_field_of_a_newer_bot_api"] = {"n": 1}
    session = DeskSession()
    assert received_bodies(session) == {}
    response = session.check_response(
        bot=None,  # type: ignore[arg-type]
        method=GetUpdates(),
        status_code=200,
        content=json.dumps({"ok": True, "result": [sent]}),
    )
    assert [u.update_id for u in response.result] == [41]  # type: ignore[union-attr]
    assert received_bodies(session) == {41: sent}
    assert received_bodies(session) == {}  # taken
    # Another method's answer leaves them alone; a refused getUpdates keeps none.
    _ = session.check_response(None, SendMessage(chat_id=1, text="x"), 200, TAKEN)  # type: ignore[arg-type]
    assert received_bodies(session) == {}
    with pytest.raises(TelegramServerError):
        session.check_response(
            None,  # type: ignore[arg-type]
            GetUpdates(),
            500,
            '{"ok": false, "error_code": 500, "description": "oops"}',
        )
    assert received_bodies(session) == {}
    assert received_bodies(AiohttpSession()) == {}
