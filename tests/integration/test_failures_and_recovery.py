"""When an update fails, whoever acted is answered politely (in the client's own language, the
operator in the group) and the dialogue is left as it was, in the database's dialogue store and
in Redis alike; a dialogue that got ahead of the database (a step kept in Redis that the
database lost) asks again for what is missing instead of failing at every confirmation.

The real bot from the production factory, fed through its dispatcher, its calls answered by the
stand-in in this process (tests/integration/fuzz_kit.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import handlers.client.identify
import handlers.operators.actions
import handlers.operators.commands
from bot.services.drafts import Part, RequestDraft
from handlers.client.states import Identify, NewRequest
from storage.models import Client, Ticket
from tests.conftest import REDIS_URL
from tests.integration.conftest import require_redis
from tests.integration.fuzz_kit import (
    NEWBIE,
    OPERATOR,
    OPERATORS,
    DeskPress,
    DeskSay,
    Forge,
    FuzzDesk,
    Say,
    Text,
    watching_logs,
)

APOLOGY_RU = "Извините, при обработке сообщения произошла ошибка."
APOLOGY_UZ = "Kechirasiz, xabarni qayta ishlashda xatolik yuz berdi."


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
async def desk(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[FuzzDesk]:
    """The desk with its dialogues in the database, or in Redis (REDIS_URL)."""
    settings: dict[str, Any] = {}
    if request.param == "redis":
        require_redis()
        settings["redis_url"] = REDIS_URL
    async with FuzzDesk.running(f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}", **settings) as d:
        await d.reset("ru")
        yield d


class Boom(RuntimeError):
    pass


async def boom(*_args: Any, **_kwargs: Any) -> None:
    raise Boom("a handler failed")


def texts(desk: FuzzDesk, chat_id: int, since: int = 0) -> list[str]:
    return [m.get("text") or "" for m in desk.standin.sent(chat_id)[since:]]


async def client_row(desk: FuzzDesk, telegram_id: int) -> Client:
    async with desk.app.sessions() as session:
        client = await session.scalar(select(Client).where(Client.telegram_id == telegram_id))
    assert client is not None
    return client


async def dialogue(desk: FuzzDesk, telegram_id: int) -> tuple[str | None, dict[str, Any]]:
    storage = desk.app.dispatcher.storage
    key = desk.key(telegram_id)
    return await storage.get_state(key), await storage.get_data(key)


@pytest.fixture
def failing_logs() -> Iterator[None]:
    """The failures these tests cause are logged as errors; that is expected here."""
    with watching_logs():
        yield


async def test_a_failed_step_leaves_the_dialogue_as_it_was(
    desk: FuzzDesk, monkeypatch: pytest.MonkeyPatch, failing_logs: None
) -> None:
    await desk.play(Say(NEWBIE, Text("/start")))
    assert (await dialogue(desk, NEWBIE))[0] == Identify.name.state
    # The answer is taken and the next question set, then the step fails before its commit.
    monkeypatch.setattr(handlers.client.identify, "reask", boom)
    mark = await desk.play(Say(NEWBIE, Text("Иван Петров")))
    [apology] = texts(desk, NEWBIE, mark.sent[NEWBIE])
    assert apology.startswith(APOLOGY_RU)
    assert (await dialogue(desk, NEWBIE))[0] == Identify.name.state  # not ahead of the database
    assert (await client_row(desk, NEWBIE)).name is None
    monkeypatch.undo()
    mark = await desk.play(Say(NEWBIE, Text("Иван Петров")))
    assert (await dialogue(desk, NEWBIE))[0] == Identify.company.state
    assert "компании" in texts(desk, NEWBIE, mark.sent[NEWBIE])[-1]


async def test_a_dialogue_ahead_of_the_database_asks_again_for_what_is_missing(
    desk: FuzzDesk,
) -> None:
    """The dialogue is at the summary with a whole draft, but the database has no profile:
    the confirmation asks for the profile, keeps the draft, and the request is registered."""
    await desk.play(Say(NEWBIE, Text("/start")))
    storage, key = desk.app.dispatcher.storage, desk.key(NEWBIE)
    written = desk.standin.send_message(NEWBIE, text="Коды не печатаются")
    desk.standin.drop_pending_updates()
    desk.offset = 0
    draft = RequestDraft(
        kind="consultation",
        topic="marking_codes",
        parts=[Part(NEWBIE, written["message_id"], "text", written["text"])],
        feedback="telegram",
    )
    await storage.set_state(key, NewRequest.confirm)
    await storage.set_data(key, {"draft": draft.to_data()})
    with watching_logs() as problems:
        for step in (
            Forge(NEWBIE, "dr:confirm"),
            Say(NEWBIE, Text("Иван Петров")),
            Say(NEWBIE, Text("ООО «Asia Trade»")),
        ):
            mark = await desk.play(step)
            await desk.check(step, mark, problems)
        answered = texts(desk, NEWBIE, mark.sent[NEWBIE])
        assert "компании" in answered[-1]
        mark = await desk.play(Say(NEWBIE, Text("301234567")))
        await desk.check(Say(NEWBIE, Text("301234567")), mark, problems)
        # Thanked by name, and straight back to the summary: the draft was kept.
        said = texts(desk, NEWBIE, mark.sent[NEWBIE])
        assert said[0].startswith("Спасибо, Иван Петров!")
        assert "Коды не печатаются" in said[-1]
        assert (await dialogue(desk, NEWBIE))[0] == NewRequest.confirm.state
        mark = await desk.play(Forge(NEWBIE, "dr:confirm"))
        await desk.check(Forge(NEWBIE, "dr:confirm"), mark, problems)
    async with desk.app.sessions() as session:
        numbers = (await session.scalars(select(Ticket.number).order_by(Ticket.number))).all()
    assert list(numbers) == [1001, 1002, 1003]
    assert (await dialogue(desk, NEWBIE))[0] is None


async def test_the_last_answer_of_a_profile_missing_an_earlier_one_asks_for_it(
    desk: FuzzDesk,
) -> None:
    """Never «Спасибо, None!»: at the tax id with no name stored, the name is asked again."""
    await desk.play(Say(NEWBIE, Text("/start")))
    await desk.app.dispatcher.storage.set_state(desk.key(NEWBIE), Identify.tax_id)
    mark = await desk.play(Say(NEWBIE, Text("301234567")))
    said = texts(desk, NEWBIE, mark.sent[NEWBIE])
    assert not any("None" in t for t in said)
    assert (await dialogue(desk, NEWBIE))[0] == Identify.name.state
    assert (await client_row(desk, NEWBIE)).tax_id == "301234567"  # the answer is kept


async def test_a_client_is_apologised_to_in_their_own_language(
    desk: FuzzDesk, monkeypatch: pytest.MonkeyPatch, failing_logs: None
) -> None:
    # Telegram says Russian; the client chose Uzbek.
    await desk.play(Say(NEWBIE, Text("/start")))
    await desk.play(Forge(NEWBIE, "lg:uz"))
    assert (await client_row(desk, NEWBIE)).language == "uz"
    monkeypatch.setattr(handlers.client.identify, "reask", boom)
    mark = await desk.play(Say(NEWBIE, Text("Aziz Karimov")))
    [apology] = texts(desk, NEWBIE, mark.sent[NEWBIE])
    assert apology.startswith(APOLOGY_UZ)


async def test_an_operator_whose_command_fails_is_answered_in_the_group(
    desk: FuzzDesk, monkeypatch: pytest.MonkeyPatch, failing_logs: None
) -> None:
    monkeypatch.setattr(handlers.operators.commands, "perform", boom)
    monkeypatch.setattr(handlers.operators.actions, "perform", boom)
    mark = await desk.play(DeskSay(OPERATOR, Text("/claim 1001")))
    [reply] = desk.standin.sent(OPERATORS)[mark.sent[OPERATORS] :]
    assert reply["text"].startswith(APOLOGY_RU)
    assert reply["reply_to_message"]["text"] == "/claim 1001"
    # A button: the pop-up says so ...
    mark = await desk.play(DeskPress(OPERATOR, 1001, 0))
    assert desk.last_callback is not None
    [popup] = desk.standin.callback_answers(desk.last_callback)
    assert popup["text"].startswith(APOLOGY_RU) and popup["show_alert"]
    # ... and when the pop-up cannot be shown, a message beside the card does.
    desk.standin.fail(
        "answerCallbackQuery", status=400, description="Bad Request: query is too old"
    )
    mark = await desk.play(DeskPress(OPERATOR, 1001, 0))
    [told] = desk.standin.sent(OPERATORS)[mark.sent[OPERATORS] :]
    assert told["text"].startswith(APOLOGY_RU)
    card = await desk._card(1001)
    assert card is not None and told["reply_to_message"]["message_id"] == card["message_id"]
