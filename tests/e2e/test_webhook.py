"""Webhook mode against the stand-in, which POSTs updates to the bot's web server as Telegram
does: the bot sets its webhook with the secret and the update types it handles; a client's
dialogue and an operator's answer go through it; a request without the secret, or with a wrong
one, gets 401 and changes nothing; an update is answered 200 only once it is stored (a failed
store answers 503 and Telegram sends it again); an update sent twice is handled once; a bot that
polls deletes a webhook left behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.inbox import Inbox
from bot.vocabulary import InboxStatus
from standin import StandIn
from standin.local import free_port
from storage.models import InboxUpdate
from tests.e2e.harness import (
    OPERATORS,
    WORKING_MOMENT,
    Harness,
    Operator,
    Person,
    identify,
    open_request,
)

URL = "https://desk.example.uz/telegram/webhook"
SECRET = "s3cret-Token_for-tests"


def webhook_harness(standin: StandIn, tmp_path: Path) -> Harness:
    """The real bot in webhook mode on a free port; the stand-in posts to it."""
    return Harness(
        standin,
        tmp_path,
        WORKING_MOMENT,
        bot_mode="webhook",
        webhook_url=URL,
        webhook_secret=SECRET,
        web_port=free_port(),
    )


async def greeted(h: Harness) -> bool:
    """A client's /start is answered with the greeting."""
    client = Person(h, 1001, "Иван")
    await client.say("/start")
    return any("Здравствуйте" in t for t in client.texts())


@pytest.fixture
async def hooked(standin: StandIn, tmp_path: Path) -> AsyncIterator[Harness]:
    h = webhook_harness(standin, tmp_path)
    await h.start()
    yield h
    await h.stop()


def local_url(h: Harness) -> str:
    assert h.app is not None
    host, port = h.app.settings.web_address or ("", 0)
    return f"http://{host}:{port}/telegram/webhook"


async def stored(h: Harness) -> list[tuple[int, InboxStatus]]:
    assert h.app is not None
    async with h.app.sessions() as session:
        rows = await session.execute(
            select(InboxUpdate.update_id, InboxUpdate.status).order_by(InboxUpdate.update_id)
        )
        return [(r[0], r[1]) for r in rows.all()]


async def test_the_webhook_is_set_with_the_secret_and_the_handled_update_types(
    hooked: Harness, standin: StandIn
) -> None:
    call = standin.calls_of("setWebhook")[-1]
    assert call.params["url"] == URL
    assert call.params["secret_token"] == SECRET
    assert "my_chat_member" in call.params["allowed_updates"]
    assert "callback_query" in call.params["allowed_updates"]
    assert not call.params.get("drop_pending_updates")
    assert not standin.calls_of("getUpdates")


async def test_a_request_and_its_answer_go_through_the_webhook(
    hooked: Harness, standin: StandIn
) -> None:
    client = Person(hooked, 1001, "Иван")
    await identify(client)
    replies = await open_request(client)
    assert "№\u00a01001" in replies[-1]["text"]
    operator = Operator(hooked, 9001)
    card = operator.card(1001)
    await operator.write("Проверьте, пожалуйста, настройки принтера.", reply_to=card["message_id"])
    assert "настройки принтера" in client.texts()[-1]

    posts = standin.webhook_posts
    assert posts and all(p.status == 200 for p in posts)
    assert all(p.target.endswith("/telegram/webhook") for p in posts)
    assert len({p.update_id for p in posts}) == len(posts)
    assert {status for _, status in await stored(hooked)} == {InboxStatus.HANDLED}
    assert not standin.calls_of("getUpdates")
    assert standin.sent(OPERATORS)


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}])
async def test_without_the_secret_the_webhook_answers_401_and_does_nothing(
    hooked: Harness, standin: StandIn, headers: dict[str, str]
) -> None:
    calls = len(standin.calls)
    forged = {
        "update_id": 777,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 1001, "type": "private"},
            "from": {"id": 1001, "is_bot": False, "first_name": "Mallory"},
            "text": "/start",
        },
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(local_url(hooked), json=forged, headers=headers) as response,
    ):
        assert response.status == 401
    await hooked.settle()
    assert await stored(hooked) == []
    assert len(standin.calls) == calls  # nothing said to anyone


async def test_a_body_that_is_not_an_update_is_refused(hooked: Harness) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as http:
        async with http.post(local_url(hooked), data=b"{not json", headers=headers) as response:
            assert response.status == 400
        async with http.post(local_url(hooked), json={"x": 1}, headers=headers) as response:
            assert response.status == 400
    assert await stored(hooked) == []


async def test_an_update_is_answered_only_once_stored_and_sent_again_after_a_failure(
    hooked: Harness, standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert hooked.app is not None
    inbox = hooked.app.inbox
    real = Inbox.receive
    failures = {"left": 2}

    async def flaky(self: Inbox, updates: Any, bodies: Any = None) -> int:
        if failures["left"]:
            failures["left"] -= 1
            raise OSError("the database went away")
        return await real(self, updates, bodies)

    monkeypatch.setattr(Inbox, "receive", flaky)
    client = Person(hooked, 1001, "Иван")
    await client.say("/start")
    statuses = [p.status for p in standin.webhook_posts]
    assert statuses == [503, 503, 200]
    assert len({p.update_id for p in standin.webhook_posts}) == 1
    assert any("Здравствуйте" in t for t in client.texts())
    assert [s for _, s in await stored(hooked)] == [InboxStatus.HANDLED]
    assert inbox.idle()


async def test_an_update_sent_twice_is_handled_once(hooked: Harness, standin: StandIn) -> None:
    client = Person(hooked, 1001, "Иван")
    await client.say("/start")
    greetings = len(standin.sent(1001))
    update_id = standin.webhook_posts[-1].update_id
    body = {
        "update_id": update_id,
        "message": {
            "message_id": 99,
            "date": 0,
            "chat": {"id": 1001, "type": "private"},
            "from": {"id": 1001, "is_bot": False, "first_name": "Иван"},
            "text": "/start",
        },
    }
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with (
        aiohttp.ClientSession() as http,
        http.post(local_url(hooked), json=body, headers=headers) as response,
    ):
        assert response.status == 200
    await hooked.settle()
    assert len(standin.sent(1001)) == greetings
    assert len(await stored(hooked)) == 1


async def test_a_polling_bot_deletes_a_webhook_left_behind(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.settings["webhook"] = URL
    h = Harness(standin, tmp_path, WORKING_MOMENT)
    await h.start()
    try:
        assert standin.calls_of("deleteWebhook")
        assert not standin.calls_of("deleteWebhook")[-1].params.get("drop_pending_updates")
        assert await greeted(h)
    finally:
        await h.stop()


async def test_in_polling_mode_the_web_server_runs_when_web_port_is_set(
    standin: StandIn, tmp_path: Path
) -> None:
    port = free_port()
    h = Harness(standin, tmp_path, WORKING_MOMENT, web_port=port)
    await h.start()
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/no-such-page") as response,
        ):
            assert response.status == 404
        assert standin.calls_of("getUpdates")
    finally:
        await h.stop()
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(f"http://127.0.0.1:{port}/no-such-page")


async def test_set_webhook_is_tried_again_when_telegram_fails(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.fail("setWebhook", status=500, times=2)
    h = webhook_harness(standin, tmp_path)
    await h.start()
    try:
        await standin.wait_for(lambda: standin.settings["webhook"] == URL, timeout=15)
        assert [c.status for c in standin.calls_of("setWebhook")] == [500, 500, 200]
        assert await greeted(h)
    finally:
        await h.stop()


async def test_polling_starts_though_the_webhook_check_fails(
    standin: StandIn, tmp_path: Path
) -> None:
    standin.fail("getWebhookInfo", status=500)
    h = Harness(standin, tmp_path, WORKING_MOMENT)
    await h.start()
    try:
        assert await greeted(h)
    finally:
        await h.stop()
