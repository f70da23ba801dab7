"""The quality guard and saved answers without Telegram, on SQLite and PostgreSQL: an answer
that breaks the regulation is held (nothing queued for the client, no first response), sent as
it is or cancelled once, checked again when edited; saved answers are kept per language and
sent filled in, through the guard and the answer path, as the first response."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import lifecycle as lc
from bot.guard import Guard
from bot.lifecycle import Actor
from bot.services import guarding
from bot.services import macros as saved
from bot.services.conversation import RequestClosed
from bot.services.desk import Desk
from bot.services.drafts import Part
from bot.services.tickets import TicketService
from bot.vocabulary import HeldAction, HeldKind, HeldStatus, Purpose
from storage.macros import MacroRepo
from storage.models import HeldAnswer, Macro, OutboxItem, TicketMessage
from tests.integration.conftest import OPERATOR_CHAT_ID
from tests.integration.service_kit import (
    CLIENT_TG,
    DILNOZA,
    SARDOR,
    desk_like,
    events,
    last_outbox_id,
    load,
    outbox,
)

if TYPE_CHECKING:
    from tests.integration.conftest import NewTicket

GUARD = Guard.load()


def desk_text(message_id: int, text: str) -> Part:
    return Part(chat_id=OPERATOR_CHAT_ID, message_id=message_id, content_type="text", text=text)


def command(message_id: int) -> Part:
    return Part(chat_id=OPERATOR_CHAT_ID, message_id=message_id, content_type="text")


@dataclass
class Desk2:
    """One request and a desk with the guard on (or off)."""

    sessions: async_sessionmaker[AsyncSession]
    desk: Desk
    now: datetime
    ticket_id: int

    def at(self, session: AsyncSession, minutes: float = 0) -> TicketService:
        return TicketService(session, self.desk, self.now + timedelta(minutes=minutes))

    async def answer(self, part: Part, actor: Actor = DILNOZA) -> HeldAnswer | None:
        async with self.sessions() as session:
            ticket = await load(session, self.ticket_id)
            held = await guarding.answer(self.at(session), ticket, actor, part)
            await session.commit()
            return held

    async def press(self, held_id: int, action: HeldAction, actor: Actor = SARDOR) -> str:
        async with self.sessions() as session:
            verdict = await guarding.decide(self.at(session, 1), held_id, action, actor)
            await session.commit()
            return verdict.popup

    async def edit(self, message_id: int, text: str) -> guarding.EditOutcome:
        async with self.sessions() as session:
            outcome = await guarding.edited(
                self.at(session, 2), DILNOZA, OPERATOR_CHAT_ID, message_id, text
            )
            await session.commit()
            return outcome

    async def to_client(self, after: int = 0) -> list[OutboxItem]:
        async with self.sessions() as session:
            return [r for r in await outbox(session, after=after) if r.chat_id == CLIENT_TG]

    async def held(self) -> list[HeldAnswer]:
        async with self.sessions() as session:
            rows = await session.scalars(select(HeldAnswer).order_by(HeldAnswer.id))
            return list(rows.all())

    async def log(self) -> list[tuple[str, int | None, dict[str, object]]]:
        async with self.sessions() as session:
            return [(e.kind, e.actor_id, e.data) for e in await events(session, self.ticket_id)]

    async def mark(self) -> int:
        async with self.sessions() as session:
            return await last_outbox_id(session)


@pytest.fixture
async def d(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> Desk2:
    ticket = await new_ticket()
    return Desk2(sessions, desk_like(desk, guard=GUARD), now, ticket.id)


# ---------------------------------------------------------------- held, sent, cancelled


async def test_an_answer_with_a_forbidden_phrase_is_held(d: Desk2) -> None:
    held = await d.answer(desk_text(801, "Я не знаю, перезвоните позже."))
    assert held is not None
    assert held.status == HeldStatus.HELD
    assert held.kind == HeldKind.ANSWER
    assert [f["fragment"] for f in held.findings] == ["Я не знаю", "перезвоните позже"]
    assert await d.to_client() == []
    async with d.sessions() as session:
        ticket = await load(session, d.ticket_id)
        assert ticket.first_response_at is None  # a held answer is no answer
        assert ticket.assignee_id is None
        stored = await session.scalars(select(TicketMessage))
        assert stored.all() == []
    [(_kind, actor, data)] = [e for e in await d.log() if e[0] == "guard_held"]
    assert actor == DILNOZA.id
    assert data["held"] == held.id
    assert {f["rule"] for f in data["findings"]} == {"phrase"}  # type: ignore[union-attr]


async def test_send_as_it_is_relays_it_once_as_the_first_response(d: Desk2) -> None:
    held = await d.answer(desk_text(802, "Ты проверил коды?"))
    assert held is not None
    popup = await d.press(held.id, HeldAction.SEND)
    assert "отправлен клиенту как есть" in popup
    assert SARDOR.name in popup
    [copy] = await d.to_client()
    assert copy.method == "copyMessage"
    assert (copy.payload["from_chat_id"], copy.payload["message_id"]) == (OPERATOR_CHAT_ID, 802)
    assert copy.purpose == Purpose.RELAY_TO_CLIENT
    async with d.sessions() as session:
        ticket = await load(session, d.ticket_id)
        assert ticket.first_response_at is not None
        assert ticket.assignee_id == DILNOZA.id  # the author answered, whoever pressed
        row = await session.get(HeldAnswer, held.id)
        assert row is not None
        assert (row.status, row.decided_by) == (HeldStatus.SENT, SARDOR.id)
    # A second press, of either button, changes nothing.
    again = await d.press(held.id, HeldAction.SEND)
    assert "уже принято" in again
    assert "уже принято" in await d.press(held.id, HeldAction.CANCEL)
    assert len(await d.to_client()) == 1
    kinds = [(k, a) for k, a, _data in await d.log()]
    assert ("guard_sent", SARDOR.id) in kinds
    assert kinds.count(("answered", DILNOZA.id)) == 1


async def test_cancel_drops_it(d: Desk2) -> None:
    held = await d.answer(desk_text(803, "ПРОВЕРЬТЕ ИНН И ПЕРЕЗАГРУЗИТЕ ПРИНТЕР"))
    assert held is not None
    assert [f["rule"] for f in held.findings] == ["caps"]
    assert "отменён" in await d.press(held.id, HeldAction.CANCEL)
    assert "уже принято" in await d.press(held.id, HeldAction.SEND)
    assert await d.to_client() == []
    assert ("guard_cancelled", SARDOR.id) in [(k, a) for k, a, _d in await d.log()]
    [row] = await d.held()
    assert row.status == HeldStatus.CANCELLED


async def test_an_unknown_or_forged_held_id(d: Desk2) -> None:
    assert "больше не действует" in await d.press(999, HeldAction.SEND)
    # An id no integer column holds finds nothing (no overflow error in the database).
    assert "больше не действует" in await d.press(2**62, HeldAction.SEND)
    assert await d.to_client() == []


async def test_a_closed_request_is_refused_before_anything_is_held(d: Desk2) -> None:
    async with d.sessions() as session:
        ticket = await load(session, d.ticket_id)
        service = d.at(session)
        for cmd in (lc.Claim(DILNOZA), lc.Resolve(DILNOZA), lc.Close(Actor.client(CLIENT_TG))):
            assert isinstance(await service.execute(ticket, cmd), lc.Decision)
        await session.commit()
    with pytest.raises(RequestClosed):
        await d.answer(desk_text(804, "Я не знаю"))
    assert await d.held() == []


async def test_the_guard_off_sends_everything(d: Desk2) -> None:
    d.desk = desk_like(d.desk, guard=None)
    assert await d.answer(desk_text(805, "Я не знаю")) is None
    assert len(await d.to_client()) == 1


async def test_a_clean_answer_goes_at_once(d: Desk2) -> None:
    assert await d.answer(desk_text(806, "Проверьте, пожалуйста, STIR")) is None
    assert len(await d.to_client()) == 1
    assert await d.held() == []


# ---------------------------------------------------------------- edits


async def test_a_held_answer_edited_until_it_passes_goes(d: Desk2) -> None:
    held = await d.answer(desk_text(810, "Ты проверил?"))
    assert held is not None
    still = await d.edit(810, "Твой принтер включён?")
    assert still.held is not None
    assert still.held.id == held.id
    assert [f["fragment"] for f in still.held.findings] == ["Твой"]
    assert await d.to_client() == []
    fixed = await d.edit(810, "Ваш принтер включён?")
    assert fixed.fixed is not None
    [copy] = await d.to_client()
    assert copy.payload["message_id"] == 810
    [row] = await d.held()
    assert (row.status, row.text) == (HeldStatus.FIXED, "Ваш принтер включён?")
    assert "guard_fixed" in [k for k, _a, _d in await d.log()]
    # The buttons of the old warning no longer do anything.
    assert "уже принято" in await d.press(held.id, HeldAction.SEND)
    assert len(await d.to_client()) == 1


async def test_an_edit_of_a_relayed_answer_that_now_breaks_the_rules(d: Desk2) -> None:
    assert await d.answer(desk_text(820, "Проверьте настройки")) is None
    async with d.sessions() as session:
        message = (await session.scalars(select(TicketMessage))).one()
        message.relay_chat_id, message.relay_message_id = CLIENT_TG, 5020  # delivered
        await session.commit()
    mark = await d.mark()
    outcome = await d.edit(820, "Проверь настройки, ты же умеешь")
    assert outcome.held is not None
    assert outcome.held.kind == HeldKind.EDIT
    assert await d.to_client(after=mark) == []  # not mirrored
    async with d.sessions() as session:
        message = (await session.scalars(select(TicketMessage))).one()
        assert message.text == "Проверьте настройки"  # the client still has this
    # Sent as it is: the edit is mirrored then.
    await d.press(outcome.held.id, HeldAction.SEND)
    [edit] = await d.to_client(after=mark)
    assert (edit.method, edit.payload["text"]) == (
        "editMessageText",
        "Проверь настройки, ты же умеешь",
    )
    assert edit.payload["message_id"] == 5020


async def test_a_clean_edit_replaces_a_held_one(d: Desk2) -> None:
    assert await d.answer(desk_text(830, "Проверьте настройки")) is None
    async with d.sessions() as session:
        message = (await session.scalars(select(TicketMessage))).one()
        message.relay_chat_id, message.relay_message_id = CLIENT_TG, 5030
        await session.commit()
    mark = await d.mark()
    first = await d.edit(830, "Это ваши проблемы")
    assert first.held is not None
    second = await d.edit(830, "Проверьте, пожалуйста, настройки")
    assert second.held is None
    [edit] = await d.to_client(after=mark)
    assert edit.payload["text"] == "Проверьте, пожалуйста, настройки"
    [row] = await d.held()
    assert row.status == HeldStatus.REPLACED
    assert "уже принято" in await d.press(row.id, HeldAction.SEND)
    assert len(await d.to_client(after=mark)) == 1


# ---------------------------------------------------------------- saved answers


async def save(
    d: Desk2, name: str, language: str, text: str
) -> saved.Saved | saved.BadPlaceholders:
    async with d.sessions() as session:
        outcome = await saved.save(d.at(session), name, language, text, DILNOZA)
        await session.commit()
        return outcome


async def use(d: Desk2, name: str, message_id: int = 900) -> saved.Use:
    async with d.sessions() as session:
        ticket = await load(session, d.ticket_id)
        outcome = await saved.use(d.at(session), ticket, SARDOR, name, command(message_id))
        await session.commit()
        return outcome


async def set_language(d: Desk2, language: str) -> None:
    async with d.sessions() as session:
        ticket = await load(session, d.ticket_id)
        ticket.language = language
        await session.commit()


async def test_saved_answers_are_kept_per_language_whatever_the_case(d: Desk2) -> None:
    first = await save(d, "Driver", "ru", "Обновите драйвер, {name}.")
    assert isinstance(first, saved.Saved)
    assert first.created
    second = await save(d, "driver", "uz", "{name}, drayverni yangilang.")
    assert isinstance(second, saved.Saved)
    assert not second.created
    third = await save(d, "DRIVER", "ru", "Обновите, пожалуйста, драйвер, {name}.")
    assert isinstance(third, saved.Saved)
    async with d.sessions() as session:
        [macro] = (await session.scalars(select(Macro))).all()
        assert (macro.name, macro.key) == ("Driver", "driver")
        assert macro.text_ru == "Обновите, пожалуйста, драйвер, {name}."
        assert macro.text_uz == "{name}, drayverni yangilang."
        assert macro.created_by == DILNOZA.id
        assert await MacroRepo(session).remove("DrIvEr")
        assert not await MacroRepo(session).remove("driver")
        await session.commit()
        assert await MacroRepo(session).all() == []


async def test_unknown_placeholders_are_refused(d: Desk2) -> None:
    outcome = await save(d, "bad", "ru", "Здравствуйте, {client}! Срок {due}, {Name}.")
    assert isinstance(outcome, saved.BadPlaceholders)
    assert outcome.names == ["client", "Name"]
    async with d.sessions() as session:
        assert await MacroRepo(session).all() == []


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ru", "Aziz, по обращению №1001 (OOO Test) ответим до 11:10 во вторник, 17 марта."),
        ("uz", "Aziz, №1001 murojaat (OOO Test) boʻyicha seshanba, 17-mart kuni soat 11:10 gacha"),
    ],
)
async def test_a_saved_answer_in_the_clients_language(
    d: Desk2, language: str, expected: str
) -> None:
    await save(d, "eta", "ru", "{name}, по обращению №{number} ({company}) ответим {due}.")
    await save(
        d, "eta", "uz", "{name}, №{number} murojaat ({company}) boʻyicha {due} javob beramiz."
    )
    await set_language(d, language)
    outcome = await use(d, "ETA")
    assert isinstance(outcome, saved.Sent)
    assert outcome.language == language
    [message] = await d.to_client()
    assert message.method == "sendMessage"
    assert message.payload["text"].startswith(expected)
    assert message.purpose == Purpose.RELAY_TO_CLIENT
    async with d.sessions() as session:
        ticket = await load(session, d.ticket_id)
        assert ticket.first_response_at is not None  # counted as the first response
        assert ticket.assignee_id == SARDOR.id
        stored = (await session.scalars(select(TicketMessage))).one()
        assert (stored.message_id, stored.text) == (900, message.payload["text"])
        assert message.ref_id == stored.id
    assert ("macro_used", SARDOR.id) in [(k, a) for k, a, _d in await d.log()]


async def test_what_a_saved_answer_cannot_do(d: Desk2) -> None:
    assert isinstance(await use(d, "nothing"), saved.Unknown)
    await save(d, "only-uz", "uz", "Rahmat!")
    await set_language(d, "ru")
    missing = await use(d, "only-uz")
    assert isinstance(missing, saved.NoVersion)
    assert missing.language == "ru"
    # No deadline left for {due}: the request is answered and resolved, every target met.
    await save(d, "due", "ru", "Ответим {due}")
    async with d.sessions() as session:
        ticket = await load(session, d.ticket_id)
        service = d.at(session)
        for cmd in (lc.Answer(DILNOZA), lc.Resolve(DILNOZA)):
            assert isinstance(await service.execute(ticket, cmd), lc.Decision)
        await session.commit()
    mark = await d.mark()
    assert isinstance(await use(d, "due"), saved.NoDue)
    assert await d.to_client(after=mark) == []


async def test_a_saved_answer_goes_through_the_guard(d: Desk2) -> None:
    await save(d, "later", "ru", "{name}, перезвоните позже.")
    outcome = await use(d, "later", message_id=950)
    assert isinstance(outcome, saved.Held)
    assert outcome.row.kind == HeldKind.MACRO
    assert outcome.row.text == "Aziz, перезвоните позже."
    assert await d.to_client() == []
    await d.press(outcome.row.id, HeldAction.SEND)
    [message] = await d.to_client()
    assert (message.method, message.payload["text"]) == ("sendMessage", "Aziz, перезвоните позже.")
    log = [(k, a) for k, a, _d in await d.log()]
    assert ("guard_sent", SARDOR.id) in log
    assert ("macro_used", SARDOR.id) in log
    # The /m command's own edit is no new answer.
    assert (await d.edit(950, "/m later")).held is None
    assert len(await d.to_client()) == 1
