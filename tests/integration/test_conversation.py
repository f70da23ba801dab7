"""A request's conversation without Telegram: which request a client's free message belongs to,
what the client's message does to the request, notes that never leave the group, and an
operator's answer that claims, counts as the first response and is queued for the client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import lifecycle as lc
from bot.lifecycle import Actor
from bot.services.conversation import (
    RequestClosed,
    add_client_message,
    add_note,
    find_conversation,
    operator_message,
)
from bot.services.desk import Desk
from bot.services.drafts import Part
from bot.services.relay import ALBUM_WAIT
from bot.services.tickets import TicketService
from bot.vocabulary import Direction, Place, Purpose, Status
from storage.models import Client, Ticket, TicketMessage
from tests.integration.conftest import OPERATOR_CHAT_ID
from tests.integration.service_kit import (
    CLIENT_TG,
    DILNOZA,
    SARDOR,
    client_of,
    desk_like,
    due,
    event_kinds,
    events,
    footprint,
    last_outbox_id,
    load,
    messages,
    outbox,
    place_is,
)

if TYPE_CHECKING:
    from tests.integration.conftest import NewTicket

CLIENT = Actor.client(CLIENT_TG, "Aziz")


def client_text(message_id: int, text: str = "Есть новости?") -> Part:
    return Part(chat_id=CLIENT_TG, message_id=message_id, content_type="text", text=text)


def desk_text(message_id: int, text: str = "Здравствуйте! Проверяем.") -> Part:
    return Part(chat_id=OPERATOR_CHAT_ID, message_id=message_id, content_type="text", text=text)


def desk_photo(message_id: int, caption: str | None = "Вот инструкция") -> Part:
    return Part(
        chat_id=OPERATOR_CHAT_ID,
        message_id=message_id,
        content_type="photo",
        text=caption,
        file_id=f"photo-{message_id}",
    )


@dataclass
class Talk:
    """One request of one client, the client's current one."""

    sessions: async_sessionmaker[AsyncSession]
    desk: Desk
    now: datetime
    ticket_id: int

    def at(
        self, session: AsyncSession, minutes: float = 0, desk: Desk | None = None
    ) -> TicketService:
        return TicketService(session, desk or self.desk, self.now + timedelta(minutes=minutes))

    async def run(self, *commands: lc.Command, minutes: float = 0) -> None:
        async with self.sessions() as session:
            ticket = await load(session, self.ticket_id)
            service = self.at(session, minutes)
            for command in commands:
                assert isinstance(await service.execute(ticket, command), lc.Decision)
            await session.commit()

    async def client_writes(
        self,
        part: Part,
        *,
        minutes: float = 0,
        reply_to: int | None = None,
        desk: Desk | None = None,
    ) -> None:
        async with self.sessions() as session:
            ticket = await load(session, self.ticket_id)
            client = await client_of(session, ticket)
            await add_client_message(
                self.at(session, minutes, desk), client, ticket, part, reply_to=reply_to
            )
            await session.commit()

    async def operator_writes(
        self,
        part: Part,
        *,
        actor: Actor = DILNOZA,
        minutes: float = 0,
        reply_to_desk: int | None = None,
        desk: Desk | None = None,
    ) -> int:
        async with self.sessions() as session:
            ticket = await load(session, self.ticket_id)
            row = await operator_message(
                self.at(session, minutes, desk), ticket, actor, part, reply_to_desk=reply_to_desk
            )
            await session.commit()
            return row.id


@pytest.fixture
async def talk(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> Talk:
    ticket = await new_ticket()
    async with sessions() as session:
        client = await session.get(Client, ticket.client_id)
        assert client is not None
        client.current_ticket_id = ticket.id
        await session.commit()
    return Talk(sessions, desk, now, ticket.id)


async def found(talk: Talk, minutes: float = 0) -> Ticket | None:
    async with talk.sessions() as session:
        ticket = await load(session, talk.ticket_id)
        client = await client_of(session, ticket)
        return await find_conversation(talk.at(session, minutes), client)


# ---------------------------------------------------------------- finding the conversation


async def test_the_current_open_request_is_the_conversation(talk: Talk) -> None:
    ticket = await found(talk)
    assert ticket is not None
    assert ticket.id == talk.ticket_id


@pytest.mark.parametrize(("hours", "inside"), [(1, True), (71.9, True), (72, True), (73, False)])
async def test_a_resolved_request_is_the_conversation_inside_the_reopen_window(
    talk: Talk, hours: float, inside: bool
) -> None:
    await talk.run(lc.Claim(DILNOZA), lc.Resolve(DILNOZA))
    ticket = await found(talk, minutes=hours * 60)
    assert (ticket.id if ticket else None) == (talk.ticket_id if inside else None)


async def test_a_closed_request_is_no_conversation(talk: Talk) -> None:
    await talk.run(lc.Claim(DILNOZA), lc.Resolve(DILNOZA), lc.Close(CLIENT))
    assert await found(talk, minutes=1) is None


async def test_without_a_current_request_the_most_recently_active_open_one(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    first = await new_ticket()
    strangers = await new_ticket(telegram_id=700_000_002)
    async with sessions() as session:
        # A second request of the same client, active later than the first.
        older = await load(session, first.id)
        client = await client_of(session, older)
        second = Ticket(
            number=1100,
            client_id=client.id,
            kind=older.kind,
            topic=older.topic,
            status=Status.NEW,
            priority=older.priority,
            feedback=older.feedback,
            description="Второе",
            language="ru",
            client_name="Aziz",
            client_company="OOO Test",
            client_tax_id="123456789",
            registered_at=now,
            last_activity_at=now + timedelta(minutes=5),
        )
        session.add(second)
        await session.commit()
        second_id = second.id
    async with sessions() as session:
        client = await client_of(session, await load(session, first.id))
        assert client.current_ticket_id is None
        ticket = await find_conversation(TicketService(session, desk, now), client)
        assert ticket is not None
        assert ticket.id == second_id
        # Another client's request is never theirs, whatever the profile says.
        client.current_ticket_id = strangers.id
        ticket = await find_conversation(TicketService(session, desk, now), client)
        assert ticket is not None
        assert ticket.id == second_id


async def test_no_open_request_no_conversation(talk: Talk) -> None:
    await talk.run(lc.Claim(DILNOZA), lc.Resolve(DILNOZA), lc.Close(CLIENT))
    async with talk.sessions() as session:
        client = await client_of(session, await load(session, talk.ticket_id))
        client.current_ticket_id = None
        assert await find_conversation(talk.at(session), client) is None


# ---------------------------------------------------------------- the client writes


async def test_a_client_message_is_stored_and_relayed_to_the_desk(talk: Talk) -> None:
    async with talk.sessions() as session:
        ticket = await load(session, talk.ticket_id)
        ticket.client_unreachable = True
        await session.commit()
    await talk.client_writes(client_text(50), minutes=3)
    async with talk.sessions() as session:
        ticket = await load(session, talk.ticket_id)
        assert ticket.status == Status.NEW
        assert ticket.client_unreachable is False
        assert ticket.last_activity_at == talk.now + timedelta(minutes=3)
        (row,) = await messages(session, talk.ticket_id)
        assert (row.direction, row.author_id, row.message_id, row.text) == (
            Direction.CLIENT,
            CLIENT_TG,
            50,
            "Есть новости?",
        )
        assert await event_kinds(session, talk.ticket_id) == ["client_wrote"]
        relayed = [r for r in await outbox(session) if r.purpose == Purpose.RELAY_TO_DESK]
        assert len(relayed) == 1
        copy = relayed[0]
        assert (copy.method, copy.chat_id, copy.ref_id) == ("copyMessage", OPERATOR_CHAT_ID, row.id)
        assert place_is(copy, Place.DESK)
        assert (copy.payload["from_chat_id"], copy.payload["message_id"]) == (CLIENT_TG, 50)
        assert "reply_parameters" not in copy.payload


async def test_a_message_on_a_waiting_request_resumes_it(talk: Talk) -> None:
    await talk.run(lc.Claim(DILNOZA))
    await talk.run(lc.Wait(DILNOZA), minutes=30)
    async with talk.sessions() as session:
        assert due(await load(session, talk.ticket_id), "resolution") is None
    await talk.client_writes(client_text(51, "Вот данные"), minutes=90)
    async with talk.sessions() as session:
        ticket = await load(session, talk.ticket_id)
        assert (ticket.status, ticket.assignee_id) == (Status.IN_PROGRESS, DILNOZA.id)
        assert due(ticket, "resolution") is not None
        assert all(p.ended_at == talk.now + timedelta(minutes=90) for p in ticket.pauses)
        kinds = await event_kinds(session, talk.ticket_id)
        assert kinds[-3:-1] == ["client_wrote", "resumed"]


async def test_a_message_inside_the_reopen_window_reopens(talk: Talk) -> None:
    await talk.run(lc.Claim(DILNOZA), lc.Answer(DILNOZA), lc.Resolve(DILNOZA))
    async with talk.sessions() as session:
        mark = await last_outbox_id(session)
    ticket = await found(talk, minutes=24 * 60)
    assert ticket is not None
    await talk.client_writes(client_text(52, "Проблема вернулась"), minutes=24 * 60)
    async with talk.sessions() as session:
        ticket = await load(session, talk.ticket_id)
        assert (ticket.status, ticket.resolved_at) == (Status.IN_PROGRESS, None)
        target = ticket.target("resolution")
        assert target is not None
        assert target.met_at is None
        assert "reopened" in await event_kinds(session, talk.ticket_id)
        rows = await outbox(session, after=mark)
        # The client reopened it: they are not told so; the desk sees their message.
        assert not any(r.chat_id == CLIENT_TG for r in rows)
        assert any(r.purpose == Purpose.RELAY_TO_DESK for r in rows)


async def test_a_message_on_a_closed_request_is_kept_and_changes_nothing(talk: Talk) -> None:
    await talk.run(lc.Claim(DILNOZA), lc.Resolve(DILNOZA), lc.Close(CLIENT))
    await talk.client_writes(client_text(53, "Спасибо!"), minutes=5)
    async with talk.sessions() as session:
        ticket = await load(session, talk.ticket_id)
        assert ticket.status == Status.CLOSED
        assert [m.message_id for m in await messages(session, talk.ticket_id)] == [53]
        assert "client_wrote" not in await event_kinds(session, talk.ticket_id)


async def test_a_reply_keeps_its_reply_to_in_the_group(talk: Talk) -> None:
    """The client answers the copy of an operator's message: the desk's copy of the client's
    message replies to the operator's original."""
    async with talk.sessions() as session:
        session.add(
            TicketMessage(
                ticket_id=talk.ticket_id,
                direction=Direction.OPERATOR,
                author_id=DILNOZA.id,
                author_name="Dilnoza",
                chat_id=OPERATOR_CHAT_ID,
                message_id=500,
                content_type="text",
                text="Пришлите скриншот",
                relay_chat_id=CLIENT_TG,
                relay_message_id=77,
                created_at=talk.now,
            )
        )
        await session.commit()
    await talk.client_writes(client_text(54, "Вот"), reply_to=77)
    async with talk.sessions() as session:
        (copy,) = [r for r in await outbox(session) if r.purpose == Purpose.RELAY_TO_DESK]
        assert copy.payload["reply_parameters"] == {
            "message_id": 500,
            "allow_sending_without_reply": True,
        }


async def test_an_album_travels_as_one_copy(talk: Talk) -> None:
    for message_id in (60, 61, 62):
        part = Part(CLIENT_TG, message_id, "photo", file_id=f"p{message_id}", media_group_id="G")
        await talk.client_writes(part)
    async with talk.sessions() as session:
        relayed = [r for r in await outbox(session) if r.purpose == Purpose.RELAY_TO_DESK]
        assert len(relayed) == 1
        album = relayed[0]
        assert album.method == "copyMessages"
        assert album.payload["message_ids"] == [60, 61, 62]
        assert album.group_key == f"album:{CLIENT_TG}:G"
        assert album.not_before == talk.now + ALBUM_WAIT
        assert len(await messages(session, talk.ticket_id)) == 3


async def test_without_an_operator_group_nothing_is_relayed(talk: Talk) -> None:
    lonely = desk_like(talk.desk, operator_chat_id=None)
    await talk.client_writes(client_text(55), desk=lonely)
    async with talk.sessions() as session:
        assert len(await messages(session, talk.ticket_id)) == 1
        assert await outbox(session) == []


# ---------------------------------------------------------------- notes


async def test_a_note_is_stored_and_never_queued_for_the_client(talk: Talk) -> None:
    await talk.run(lc.Claim(DILNOZA))
    async with talk.sessions() as session:
        before = await footprint(session)
        ticket = await load(session, talk.ticket_id)
        await add_note(talk.at(session, 2), ticket, SARDOR, desk_text(700, "!проверить ИНН"))
        await session.commit()
    async with talk.sessions() as session:
        after = await footprint(session)
        assert after.outbox == before.outbox  # nothing to anyone
        assert after.messages == before.messages + 1
        (note,) = await messages(session, talk.ticket_id)
        assert (note.direction, note.author_id, note.text) == (
            Direction.NOTE,
            SARDOR.id,
            "!проверить ИНН",
        )
        audit = await events(session, talk.ticket_id)
        assert (audit[-1].kind, audit[-1].actor_id, audit[-1].data) == (
            "note",
            SARDOR.id,
            {"message": note.id},
        )
        ticket = await load(session, talk.ticket_id)
        assert ticket.first_response_at is None  # a note is no answer
        assert ticket.assignee_id == DILNOZA.id


# ---------------------------------------------------------------- the operator answers


async def test_an_answer_claims_counts_as_first_response_and_reaches_the_client(
    talk: Talk,
) -> None:
    row_id = await talk.operator_writes(desk_text(501), minutes=4)
    async with talk.sessions() as session:
        ticket = await load(session, talk.ticket_id)
        assert (ticket.status, ticket.assignee_id, ticket.assignee_name) == (
            Status.IN_PROGRESS,
            DILNOZA.id,
            "Dilnoza",
        )
        first = talk.now + timedelta(minutes=4)
        assert ticket.first_response_at == first
        target = ticket.target("first_response")
        assert target is not None
        assert (target.met_at, target.breached_at) == (first, None)
        (row,) = await messages(session, talk.ticket_id)
        assert (row.id, row.direction, row.author_id) == (row_id, Direction.OPERATOR, DILNOZA.id)
        assert (await event_kinds(session, talk.ticket_id))[:3] == [
            "claimed",
            "answered",
            "target_met",
        ]
        to_client = [r for r in await outbox(session) if r.chat_id == CLIENT_TG]
        assert len(to_client) == 1
        copy = to_client[0]
        assert (copy.method, copy.purpose, copy.ref_id) == (
            "copyMessage",
            Purpose.RELAY_TO_CLIENT,
            row_id,
        )
        assert place_is(copy, Place.CHAT)
        assert (copy.payload["from_chat_id"], copy.payload["message_id"]) == (
            OPERATOR_CHAT_ID,
            501,
        )
        assert "caption" not in copy.payload

    # The second answer, by a colleague, is no first response and takes nothing.
    await talk.operator_writes(desk_text(502, "Ещё минуту"), actor=SARDOR, minutes=20)
    async with talk.sessions() as session:
        ticket = await load(session, talk.ticket_id)
        assert ticket.first_response_at == first
        assert ticket.assignee_id == DILNOZA.id
        assert (await event_kinds(session, talk.ticket_id)).count("target_met") == 1
        assert len([r for r in await outbox(session) if r.chat_id == CLIENT_TG]) == 2


async def test_a_late_first_answer_is_a_breach(talk: Talk) -> None:
    await talk.operator_writes(desk_text(503), minutes=25)
    async with talk.sessions() as session:
        target = (await load(session, talk.ticket_id)).target("first_response")
        assert target is not None
        assert target.met_at == talk.now + timedelta(minutes=25)
        assert target.breached_at == talk.now + timedelta(minutes=10)


async def test_a_signed_text_answer_is_a_send_message(talk: Talk) -> None:
    signed = desk_like(talk.desk, operator_names_visible=True)
    await talk.operator_writes(desk_text(504, "Добрый день"), desk=signed)
    async with talk.sessions() as session:
        (message,) = [r for r in await outbox(session) if r.chat_id == CLIENT_TG]
        assert (message.method, message.purpose) == ("sendMessage", Purpose.RELAY_TO_CLIENT)
        assert message.payload["text"] == "Dilnoza, служба поддержки CRPT-Turon:\nДобрый день"
        assert "reply_parameters" not in message.payload


async def test_a_signed_photo_answer_is_a_copy_with_a_signed_caption(talk: Talk) -> None:
    signed = desk_like(talk.desk, operator_names_visible=True)
    await talk.operator_writes(desk_photo(505), desk=signed)
    async with talk.sessions() as session:
        (copy,) = [r for r in await outbox(session) if r.chat_id == CLIENT_TG]
        assert copy.method == "copyMessage"
        assert copy.payload["caption"] == "Dilnoza, служба поддержки CRPT-Turon:\nВот инструкция"


async def test_an_answer_in_reply_keeps_the_reply_in_the_clients_chat(talk: Talk) -> None:
    """The operator replies to the desk's copy (600) of the client's message 50."""
    async with talk.sessions() as session:
        session.add(
            TicketMessage(
                ticket_id=talk.ticket_id,
                direction=Direction.CLIENT,
                author_id=CLIENT_TG,
                author_name="Aziz",
                chat_id=CLIENT_TG,
                message_id=50,
                content_type="text",
                text="Помогите",
                relay_chat_id=OPERATOR_CHAT_ID,
                relay_message_id=600,
                created_at=talk.now,
            )
        )
        await session.commit()
    reply = {"message_id": 50, "allow_sending_without_reply": True}
    await talk.operator_writes(desk_text(506), reply_to_desk=600)
    signed = desk_like(talk.desk, operator_names_visible=True)
    await talk.operator_writes(desk_text(507), reply_to_desk=600, desk=signed)
    async with talk.sessions() as session:
        copy, message = [r for r in await outbox(session) if r.chat_id == CLIENT_TG]
        assert (copy.method, copy.payload["reply_parameters"]) == ("copyMessage", reply)
        assert (message.method, message.payload["reply_parameters"]) == ("sendMessage", reply)


async def test_an_answer_on_a_resolved_request_still_reaches_the_client(talk: Talk) -> None:
    await talk.run(lc.Claim(DILNOZA), lc.Resolve(DILNOZA))
    await talk.operator_writes(desk_text(508, "И ещё совет"), minutes=5)
    async with talk.sessions() as session:
        assert (await load(session, talk.ticket_id)).status == Status.RESOLVED
        relayed = [r for r in await outbox(session) if r.purpose == Purpose.RELAY_TO_CLIENT]
        assert len(relayed) == 1


async def test_an_answer_on_a_closed_request_raises_and_queues_nothing(talk: Talk) -> None:
    await talk.run(lc.Claim(DILNOZA), lc.Resolve(DILNOZA), lc.Close(CLIENT))
    async with talk.sessions() as session:
        before = await footprint(session)
    with pytest.raises(RequestClosed):
        await talk.operator_writes(desk_text(509), actor=SARDOR, minutes=5)
    async with talk.sessions() as session:
        assert await footprint(session) == before
        ticket = await load(session, talk.ticket_id)
        assert (ticket.status, ticket.assignee_id) == (Status.CLOSED, DILNOZA.id)


async def test_a_long_signed_answer_reaches_the_client_whole(talk: Talk) -> None:
    signed = desk_like(talk.desk, operator_names_visible=True)
    answer = "Подробная инструкция. " * 185 + "КОНЕЦ"  # within Telegram's 4096
    assert len(answer) <= 4096
    await talk.operator_writes(desk_text(510, answer), desk=signed)
    async with talk.sessions() as session:
        sent = [r for r in await outbox(session) if r.chat_id == CLIENT_TG]
        said = "".join(r.payload.get("text", "") for r in sent)
        assert "КОНЕЦ" in said
