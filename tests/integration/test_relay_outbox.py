"""What relaying queues: typed copies placed at the request's place in the group or addressed to
the client, albums gathered into one copyMessages, edits mirrored as typed edits."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiogram.methods import CopyMessage, CopyMessages, EditMessageCaption, EditMessageText
from aiogram.types import ReplyParameters

from bot.services.desk import Desk
from bot.services.outgoing import method_of
from bot.services.relay import ALBUM_WAIT, mirror_edit, relay
from bot.vocabulary import Direction, Place, Purpose
from storage.models import OutboxItem, Ticket, TicketMessage
from tests.integration.conftest import NewTicket
from tests.integration.delivery_kit import Sessions, rows

CLIENT = 700_000_001


def message(
    ticket: Ticket,
    message_id: int,
    now: datetime,
    *,
    album: str | None = None,
    chat_id: int = CLIENT,
    content_type: str = "photo",
    direction: Direction = Direction.CLIENT,
) -> TicketMessage:
    return TicketMessage(
        ticket_id=ticket.id,
        direction=direction,
        author_id=CLIENT,
        chat_id=chat_id,
        message_id=message_id,
        content_type=content_type,
        media_group_id=album,
        created_at=now,
    )


async def test_a_client_message_goes_to_the_requests_place(
    sessions: Sessions, desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    ticket = await new_ticket()
    async with sessions() as session:
        row = message(ticket, 5, now, content_type="text")
        session.add(row)
        await session.flush()
        await relay(
            session,
            desk,
            ticket,
            row,
            to_chat=desk.operator_chat_id or 0,
            purpose="relay_to_desk",
            now=now,
            reply_to=9,
        )
        await session.commit()
    [item] = await rows(sessions)
    assert (item.place, item.purpose, item.ticket_id, item.ref_id, item.group_key) == (
        Place.DESK,
        Purpose.RELAY_TO_DESK,
        ticket.id,
        row.id,
        None,
    )
    assert item.not_before == now
    assert method_of(item) == CopyMessage(
        chat_id=desk.operator_chat_id,
        from_chat_id=CLIENT,
        message_id=5,
        reply_parameters=ReplyParameters(message_id=9, allow_sending_without_reply=True),
    )


async def test_an_album_travels_as_one_copy(
    sessions: Sessions, desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    ticket = await new_ticket()
    async with sessions() as session:
        for n, message_id in enumerate((12, 11, 13)):
            row = message(ticket, message_id, now, album="g1", chat_id=-100123)
            session.add(row)
            await session.flush()
            await relay(
                session,
                desk,
                ticket,
                row,
                to_chat=CLIENT,
                purpose=Purpose.RELAY_TO_CLIENT,
                now=now + timedelta(seconds=n / 10),
                extra={"caption": "Иван: фото"},
                reply_to=4,
            )
            await session.commit()
    [item] = await rows(sessions)
    assert (item.place, item.group_key) == (Place.CHAT, "album:-100123:g1")
    assert item.not_before == now + ALBUM_WAIT
    assert method_of(item) == CopyMessages(
        chat_id=CLIENT, from_chat_id=-100123, message_ids=[11, 12, 13]
    )


async def test_an_album_being_sent_is_not_joined(
    sessions: Sessions, desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    ticket = await new_ticket()
    async with sessions() as session:
        first = message(ticket, 21, now, album="g2")
        session.add(first)
        await session.flush()
        await relay(session, desk, ticket, first, to_chat=-100123, purpose="relay_to_desk", now=now)
        await session.commit()
    async with sessions() as session:  # a worker has it right now
        [item] = await rows(sessions)
        leased = await session.get(OutboxItem, item.id)
        assert leased is not None
        leased.locked_until, leased.locked_by = now + timedelta(seconds=30), "w1"
        await session.commit()
    async with sessions() as session:
        late = message(ticket, 22, now, album="g2")
        session.add(late)
        await session.flush()
        await relay(session, desk, ticket, late, to_chat=-100123, purpose="relay_to_desk", now=now)
        await session.commit()
    first_item, late_item = await rows(sessions)
    assert method_of(first_item).message_id == 21
    assert method_of(late_item).message_id == 22


async def test_edits_are_mirrored_to_the_copy(
    sessions: Sessions, now: datetime, new_ticket: NewTicket
) -> None:
    ticket = await new_ticket()
    async with sessions() as session:
        text = message(ticket, 31, now, content_type="text")
        text.relay_chat_id, text.relay_message_id = -100123, 301
        photo = message(ticket, 32, now)
        photo.relay_chat_id, photo.relay_message_id = -100123, 302
        note = message(ticket, 33, now, content_type="text", direction=Direction.NOTE)
        unrelayed = message(ticket, 34, now, content_type="text")
        session.add_all([text, photo, note, unrelayed])
        await session.commit()
    async with sessions() as session:
        for message_id in (31, 32, 33, 34):
            assert await mirror_edit(session, CLIENT, message_id, "новый текст", now) is not None
        assert await mirror_edit(session, CLIENT, 99, "нет такого", now) is None
        await session.commit()
    text_edit, caption_edit = await rows(sessions)
    assert method_of(text_edit) == EditMessageText(
        chat_id=-100123, message_id=301, text="новый текст"
    )
    assert method_of(caption_edit) == EditMessageCaption(
        chat_id=-100123, message_id=302, caption="новый текст"
    )
    assert {(i.purpose, i.place, i.ticket_id) for i in (text_edit, caption_edit)} == {
        (Purpose.EDIT, Place.CHAT, ticket.id)
    }
