"""Finding the request an operator's message in the group is about, the twin of a message in the
other chat, and mirrored edits, without Telegram."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.desk import Desk
from bot.services.relay import counterpart_id, mirror_edit, ticket_in_desk
from bot.vocabulary import Direction, Purpose
from storage.models import DeskMessage, TicketMessage
from tests.integration.conftest import OPERATOR_CHAT_ID
from tests.integration.service_kit import CLIENT_TG, DILNOZA, desk_like, events, load, outbox

if TYPE_CHECKING:
    from tests.integration.conftest import NewTicket


def message(
    ticket_id: int,
    now: datetime,
    *,
    direction: Direction = Direction.CLIENT,
    chat_id: int = CLIENT_TG,
    message_id: int = 50,
    content_type: str = "text",
    relay: tuple[int, int] | None = None,
    media_group_id: str | None = None,
) -> TicketMessage:
    return TicketMessage(
        ticket_id=ticket_id,
        direction=direction,
        author_id=CLIENT_TG if direction == Direction.CLIENT else DILNOZA.id,
        author_name="",
        chat_id=chat_id,
        message_id=message_id,
        content_type=content_type,
        text="было",
        media_group_id=media_group_id,
        relay_chat_id=relay[0] if relay else None,
        relay_message_id=relay[1] if relay else None,
        created_at=now,
    )


@pytest.fixture
async def ticket_id(
    sessions: async_sessionmaker[AsyncSession], now: datetime, new_ticket: NewTicket
) -> int:
    ticket_id = (await new_ticket()).id
    async with sessions() as session:
        ticket = await load(session, ticket_id)
        ticket.thread_id = 42
        session.add(DeskMessage(chat_id=OPERATOR_CHAT_ID, message_id=900, ticket_id=ticket_id))
        session.add(
            message(ticket_id, now, chat_id=CLIENT_TG, message_id=50, relay=(OPERATOR_CHAT_ID, 600))
        )
        session.add(
            message(
                ticket_id,
                now,
                direction=Direction.OPERATOR,
                chat_id=OPERATOR_CHAT_ID,
                message_id=901,
                relay=(CLIENT_TG, 77),
            )
        )
        session.add(
            message(
                ticket_id,
                now,
                direction=Direction.OPERATOR,
                chat_id=OPERATOR_CHAT_ID,
                message_id=902,
                content_type="photo",
                media_group_id="M",
            )
        )
        await session.commit()
    return ticket_id


@pytest.mark.parametrize(
    ("thread_id", "reply_to", "album", "found"),
    [
        pytest.param(42, None, None, True, id="its-topic"),
        pytest.param(None, 900, None, True, id="reply-to-card-or-notice"),
        pytest.param(None, 901, None, True, id="reply-to-a-message-of-the-request"),
        pytest.param(None, None, "M", True, id="rest-of-an-album"),
        pytest.param(7, 900, None, True, id="unknown-topic-then-reply"),
        pytest.param(7, None, None, False, id="unknown-topic"),
        pytest.param(None, 999, "N", False, id="unknown-reply-and-album"),
        pytest.param(None, None, None, False, id="nothing"),
    ],
)
async def test_the_request_a_message_in_the_group_is_about(
    sessions: async_sessionmaker[AsyncSession],
    desk: Desk,
    ticket_id: int,
    thread_id: int | None,
    reply_to: int | None,
    album: str | None,
    found: bool,
) -> None:
    async with sessions() as session:
        ticket = await ticket_in_desk(session, desk, thread_id, reply_to, album)
        assert (ticket.id if ticket else None) == (ticket_id if found else None)


async def test_without_an_operator_group_only_the_topic_finds_a_request(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, ticket_id: int
) -> None:
    lonely = desk_like(desk, operator_chat_id=None)
    async with sessions() as session:
        assert await ticket_in_desk(session, lonely, None, 900, "M") is None
        found = await ticket_in_desk(session, lonely, 42, None)
        assert found is not None
        assert found.id == ticket_id


@pytest.mark.parametrize(
    ("chat_id", "message_id", "twin"),
    [
        pytest.param(CLIENT_TG, 50, 600, id="client-original-to-desk-copy"),
        pytest.param(OPERATOR_CHAT_ID, 600, 50, id="desk-copy-to-client-original"),
        pytest.param(OPERATOR_CHAT_ID, 901, 77, id="operator-original-to-client-copy"),
        pytest.param(CLIENT_TG, 77, 901, id="client-copy-to-operator-original"),
        pytest.param(OPERATOR_CHAT_ID, 902, None, id="not-relayed-yet"),
        pytest.param(CLIENT_TG, 12345, None, id="unknown"),
    ],
)
async def test_the_twin_in_the_other_chat(
    sessions: async_sessionmaker[AsyncSession],
    ticket_id: int,
    chat_id: int,
    message_id: int,
    twin: int | None,
) -> None:
    async with sessions() as session:
        assert await counterpart_id(session, chat_id, message_id) == twin


async def test_an_edit_of_a_relayed_text_is_mirrored(
    sessions: async_sessionmaker[AsyncSession], now: datetime, ticket_id: int
) -> None:
    later = now + timedelta(minutes=3)
    async with sessions() as session:
        row = await mirror_edit(session, CLIENT_TG, 50, "стало", later)
        await session.commit()
    assert row is not None
    async with sessions() as session:
        (edit,) = await outbox(session)
        assert (edit.method, edit.purpose, edit.chat_id, edit.ticket_id) == (
            "editMessageText",
            Purpose.EDIT,
            OPERATOR_CHAT_ID,
            ticket_id,
        )
        assert (edit.payload["message_id"], edit.payload["text"]) == (600, "стало")
        audit = await events(session, ticket_id)
        assert [(e.kind, e.actor_kind, e.actor_id, e.at) for e in audit] == [
            ("edited", "client", CLIENT_TG, later)
        ]
        stored = await session.get(TicketMessage, row.id)
        assert stored is not None
        assert (stored.text, stored.edited_at) == ("стало", later)


async def test_an_edit_of_a_relayed_caption_is_mirrored(
    sessions: async_sessionmaker[AsyncSession], now: datetime, ticket_id: int
) -> None:
    async with sessions() as session:
        session.add(
            message(
                ticket_id,
                now,
                direction=Direction.OPERATOR,
                chat_id=OPERATOR_CHAT_ID,
                message_id=903,
                content_type="photo",
                relay=(CLIENT_TG, 78),
            )
        )
        await session.commit()
    async with sessions() as session:
        assert await mirror_edit(session, OPERATOR_CHAT_ID, 903, None, now) is not None
        await session.commit()
    async with sessions() as session:
        (edit,) = await outbox(session)
        assert (edit.method, edit.chat_id) == ("editMessageCaption", CLIENT_TG)
        assert (edit.payload["message_id"], edit.payload["caption"]) == (78, "")
        assert [(e.kind, e.actor_kind) for e in await events(session, ticket_id)] == [
            ("edited", "operator")
        ]


async def test_an_edit_of_a_note_or_an_unrelayed_message_stays_inside(
    sessions: async_sessionmaker[AsyncSession], now: datetime, ticket_id: int
) -> None:
    async with sessions() as session:
        session.add(
            message(
                ticket_id,
                now,
                direction=Direction.NOTE,
                chat_id=OPERATOR_CHAT_ID,
                message_id=904,
                relay=(CLIENT_TG, 79),  # a note is never relayed; even if it were, no edit
            )
        )
        await session.commit()
    async with sessions() as session:
        note = await mirror_edit(session, OPERATOR_CHAT_ID, 904, "заметка", now)
        unrelayed = await mirror_edit(session, OPERATOR_CHAT_ID, 902, "подпись", now)
        unknown = await mirror_edit(session, OPERATOR_CHAT_ID, 12345, "?", now)
        await session.commit()
    assert note is not None
    assert note.text == "заметка"
    assert unrelayed is not None
    assert unknown is None
    async with sessions() as session:
        assert await outbox(session) == []
        assert [e.kind for e in await events(session, ticket_id)] == ["edited", "edited"]
