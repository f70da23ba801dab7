"""Opening a request from a confirmed draft: the number comes from the counter, the deadlines
from the policy, and the client's acknowledgement, the operator card and copies of the client's
files are queued in the same transaction. A draft that lacks an answer writes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards as kb
from bot.render import CARD_DESCRIPTION_LIMIT
from bot.services.desk import Desk
from bot.services.drafts import Part, RequestDraft
from bot.services.registration import DraftIncomplete, register_request
from bot.services.tickets import TicketService
from bot.sla import Priority
from bot.vocabulary import Direction, Feedback, Kind, Place, Purpose, Status
from storage.models import Client, Counter, Ticket
from tests.integration.conftest import OPERATOR_CHAT_ID
from tests.integration.service_kit import (
    CLIENT_TG,
    due,
    events,
    footprint,
    load,
    messages,
    outbox,
    place_is,
)


async def add_client(
    session: AsyncSession, now: datetime, *, telegram_id: int = CLIENT_TG, identified: bool = True
) -> Client:
    client = Client(
        telegram_id=telegram_id,
        language="ru",
        telegram_name="Test Client",
        name="Aziz" if identified else None,
        company="OOO Test",
        tax_id="123456789",
        tax_id_kind="inn",
        created_at=now,
        updated_at=now,
    )
    session.add(client)
    await session.flush()
    return client


def text(message_id: int, body: str) -> Part:
    return Part(chat_id=CLIENT_TG, message_id=message_id, content_type="text", text=body)


def photo(message_id: int, caption: str | None = None, album: str | None = None) -> Part:
    return Part(
        chat_id=CLIENT_TG,
        message_id=message_id,
        content_type="photo",
        text=caption,
        file_id=f"photo-{message_id}",
        media_group_id=album,
    )


def draft(*parts: Part, **changes: object) -> RequestDraft:
    values: dict[str, object] = {
        "kind": Kind.CONSULTATION,
        "topic": "marking_codes",
        "parts": list(parts) or [text(10, "Коды маркировки не проходят проверку")],
        "feedback": Feedback.TELEGRAM,
        "contact": None,
    }
    values.update(changes)
    return RequestDraft(**values)  # type: ignore[arg-type]


async def register(
    sessions: async_sessionmaker[AsyncSession],
    desk: Desk,
    now: datetime,
    request: RequestDraft,
    *,
    telegram_id: int = CLIENT_TG,
) -> int:
    async with sessions() as session:
        client = await add_client(session, now, telegram_id=telegram_id)
        ticket = await register_request(TicketService(session, desk, now), client, request)
        await session.commit()
        return ticket.id


async def test_a_complete_draft_becomes_a_numbered_request_with_its_deadlines(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime
) -> None:
    parts = [
        text(10, "Коды маркировки не проходят проверку"),
        photo(11, caption="Снимок экрана"),
        Part(CLIENT_TG, 12, "document", file_id="doc-12", file_name="act.pdf"),
    ]
    ticket_id = await register(sessions, desk, now, draft(*parts))

    async with sessions() as session:
        ticket = await load(session, ticket_id)
        assert ticket.number == 1001  # the counter starts at 1000
        assert (ticket.status, ticket.priority) == (Status.NEW, Priority.MEDIUM)
        assert ticket.assignee_id is None
        assert ticket.registered_at == now
        assert ticket.description == "Коды маркировки не проходят проверку\n\nСнимок экрана"
        assert ticket.contact is None
        assert (ticket.client_name, ticket.client_company, ticket.client_tax_id) == (
            "Aziz",
            "OOO Test",
            "123456789",
        )
        client = await session.get(Client, ticket.client_id)
        assert client is not None
        assert client.current_ticket_id == ticket.id

        # Two targets, due when the policy says: 11:00 on a Tuesday is working time.
        policy = desk.policy.deadlines(now, Priority.MEDIUM, "marking_codes")
        assert [t.kind for t in ticket.targets] == ["first_response", "resolution"]
        assert due(ticket, "first_response") == policy.first_response_due
        assert due(ticket, "first_response") == now + timedelta(minutes=10)
        assert due(ticket, "resolution") == policy.resolution_due
        assert all(t.met_at is None and t.breached_at is None for t in ticket.targets)

        stored = await messages(session, ticket_id)
        assert [(m.message_id, m.content_type, m.direction) for m in stored] == [
            (10, "text", Direction.CLIENT),
            (11, "photo", Direction.CLIENT),
            (12, "document", Direction.CLIENT),
        ]
        assert {m.author_id for m in stored} == {CLIENT_TG}
        assert stored[2].file_name == "act.pdf"

        audit = await events(session, ticket_id)
        assert [e.kind for e in audit] == ["registered", "deadline_changed", "deadline_changed"]
        assert audit[0].data == {"priority": "medium"}
        assert {e.actor_id for e in audit} == {CLIENT_TG}
        moved = {e.data["target"]: datetime.fromisoformat(e.data["due_at"]) for e in audit[1:]}
        assert moved == {
            "first_response": policy.first_response_due,
            "resolution": policy.resolution_due,
        }

        ack, card, copy_photo, copy_document = await outbox(session)
        assert (ack.method, ack.purpose, ack.chat_id) == (
            "sendMessage",
            Purpose.REGISTERED,
            CLIENT_TG,
        )
        assert place_is(ack, Place.CHAT)
        assert ack.ticket_id == ticket_id
        assert ack.payload["text"] == desk.renderer.registered(ticket, desk.policy)
        assert "№\u00a01001" in ack.payload["text"]
        assert "10" in ack.payload["text"]  # "within 10 minutes"

        assert (card.method, card.purpose, card.chat_id) == (
            "sendMessage",
            Purpose.CARD,
            OPERATOR_CHAT_ID,
        )
        assert place_is(card, Place.DESK)
        assert card.payload["parse_mode"] == "HTML"
        assert card.payload["text"] == desk.renderer.card(ticket).html
        assert card.payload["reply_markup"] == kb.card(desk.renderer, ticket).model_dump(
            mode="json", exclude_none=True
        )
        buttons = [
            b["callback_data"]
            for row in card.payload["reply_markup"]["inline_keyboard"]
            for b in row
        ]
        assert buttons == [
            f"tk:claim:{ticket_id}:",
            f"tk:prio:{ticket_id}:",
            f"tk:resolve:{ticket_id}:",
        ]

        for copy, message_id in ((copy_photo, 11), (copy_document, 12)):
            assert (copy.method, copy.purpose, copy.chat_id) == (
                "copyMessage",
                Purpose.RELAY_TO_DESK,
                OPERATOR_CHAT_ID,
            )
            assert place_is(copy, Place.DESK)
            assert copy.payload["from_chat_id"] == CLIENT_TG
            assert copy.payload["message_id"] == message_id
        assert copy_photo.ref_id == stored[1].id


async def test_numbers_follow_the_counter(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime
) -> None:
    first = await register(sessions, desk, now, draft())
    second = await register(sessions, desk, now, draft(), telegram_id=CLIENT_TG + 1)
    async with sessions() as session:
        assert [(await load(session, i)).number for i in (first, second)] == [1001, 1002]
        counter = await session.get(Counter, "ticket_number")
        assert counter is not None
        assert counter.value == 1002


async def test_an_album_is_copied_together_and_text_only_parts_are_not_copied(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime
) -> None:
    parts = [
        text(10, "Смотрите фото"),
        photo(11, album="A1"),
        photo(12, album="A1"),
        photo(13, album="A1"),
        text(14, "И ещё одно"),
        photo(15),
    ]
    ticket_id = await register(sessions, desk, now, draft(*parts))
    async with sessions() as session:
        copies = [r for r in await outbox(session) if r.purpose == Purpose.RELAY_TO_DESK]
        assert [
            (r.method, r.payload.get("message_ids") or r.payload["message_id"]) for r in copies
        ] == [
            ("copyMessages", [11, 12, 13]),
            ("copyMessage", 15),
        ]
        assert all(r.ticket_id == ticket_id for r in copies)


async def test_a_long_description_follows_the_card_and_a_phone_is_kept(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime
) -> None:
    long = "Описание проблемы. " * (CARD_DESCRIPTION_LIMIT // 10)
    request = draft(text(10, long), feedback=Feedback.PHONE, contact="+998901234567")
    ticket_id = await register(sessions, desk, now, request)
    async with sessions() as session:
        ticket = await load(session, ticket_id)
        assert ticket.contact == "+998901234567"
        rows = await outbox(session)
        assert [r.purpose for r in rows][:2] == [Purpose.REGISTERED, Purpose.CARD]
        more = [r for r in rows if r.purpose == Purpose.CARD_MORE]
        assert more
        assert all(r.chat_id == OPERATOR_CHAT_ID and place_is(r, Place.DESK) for r in more)
        assert "№\u00a01001" in more[0].payload["text"]


async def test_outside_working_time_the_promise_names_the_morning(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime
) -> None:
    saturday = now + timedelta(days=4)  # Saturday 21 March, 11:00 (and Navruz)
    ticket_id = await register(sessions, desk, saturday, draft())
    async with sessions() as session:
        ticket = await load(session, ticket_id)
        first_due = due(ticket, "first_response")
        assert first_due is not None
        assert first_due.astimezone(desk.tz).hour == 10
        ack = (await outbox(session))[0]
        assert ack.purpose == Purpose.REGISTERED
        assert "10:00" in ack.payload["text"]


@pytest.mark.parametrize(
    "missing",
    [
        {"kind": None},
        {"topic": None},
        {"parts": []},
        {"feedback": None},
    ],
    ids=["kind", "topic", "parts", "feedback"],
)
async def test_an_incomplete_draft_writes_nothing(
    sessions: async_sessionmaker[AsyncSession],
    desk: Desk,
    now: datetime,
    missing: dict[str, object],
) -> None:
    async with sessions() as session:
        client = await add_client(session, now)
        await session.commit()
        before = await footprint(session)
        request = draft(**missing)
        with pytest.raises(DraftIncomplete):
            await register_request(TicketService(session, desk, now), client, request)
        await session.commit()
    await assert_nothing_written(sessions, before)


async def test_an_unidentified_client_cannot_register(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime
) -> None:
    async with sessions() as session:
        client = await add_client(session, now, identified=False)
        await session.commit()
        before = await footprint(session)
        with pytest.raises(DraftIncomplete):
            await register_request(TicketService(session, desk, now), client, draft())
        await session.commit()
        assert client.current_ticket_id is None
    await assert_nothing_written(sessions, before)


async def assert_nothing_written(
    sessions: async_sessionmaker[AsyncSession], before: object
) -> None:
    async with sessions() as session:
        assert await footprint(session) == before
        assert await session.scalar(select(func.count()).select_from(Ticket)) == 0
        counter = await session.get(Counter, "ticket_number")
        assert counter is not None
        assert counter.value == 1000  # no number was spent
