"""Where a message lands in the operator group, decided when it is sent: the request's forum
topic (made once, its id committed before anything else), a reply to its card in a plain
group, the card itself (posted anew when gone), the topic's title; and a group that Telegram
upgraded to a supergroup, whose new id delivery moves to."""

from __future__ import annotations

from datetime import datetime

import pytest
from aiogram.methods import CopyMessage, EditForumTopic
from sqlalchemy import select

from bot import keyboards as kb
from bot.services.desk import Desk
from bot.services.desk_chat import load_operator_chat
from bot.services.outgoing import Outgoing
from bot.vocabulary import OutboxStatus, Place, Purpose
from scheduler import delivery
from storage.meta import get_meta, set_meta
from storage.models import DeskMessage, OutboxItem, Ticket
from tests import fake_bot as fb
from tests.fake_bot import FakeBot
from tests.integration.conftest import NewTicket
from tests.integration.delivery_kit import (
    FakeClock,
    Sessions,
    queue,
    rows,
    set_ticket,
    ticket_row,
    worker,
)

CLIENT = 700_000_001
NEW_GROUP = -100_999


@pytest.fixture
def clock(now: datetime) -> FakeClock:
    return FakeClock(now)


@pytest.fixture
def forum() -> FakeBot:
    return FakeBot(forum=True)


@pytest.fixture
def plain() -> FakeBot:
    return FakeBot(forum=False)


def post_card(out: Outgoing, desk: Desk, ticket: Ticket) -> None:
    """What registration queues for the desk."""
    card = desk.renderer.card(ticket)
    out.to_desk(
        ticket,
        card.html,
        purpose=Purpose.CARD,
        html=True,
        reply_markup=kb.card(desk.renderer, ticket),
    )


async def desk_messages(sessions: Sessions) -> set[tuple[int, int]]:
    async with sessions() as session:
        found = await session.scalars(select(DeskMessage))
        return {(m.message_id, m.ticket_id) for m in found}


async def test_a_new_request_gets_one_topic_with_the_card_first(
    sessions: Sessions, desk: Desk, clock: FakeClock, forum: FakeBot, new_ticket: NewTicket
) -> None:
    ticket = await new_ticket()

    def write(out: Outgoing) -> None:
        post_card(out, desk, ticket)
        out.to_desk(ticket, "продолжение описания", purpose=Purpose.CARD_MORE)
        out.queue(
            CopyMessage(chat_id=desk.operator_chat_id, from_chat_id=CLIENT, message_id=7),
            purpose=Purpose.RELAY_TO_DESK,
            place=Place.DESK,
            ticket_id=ticket.id,
        )

    await queue(sessions, desk, clock, write)
    await worker(forum, sessions, clock, desk).drain()

    assert [c.__api_method__ for c in forum.calls] == [
        "getChat",
        "createForumTopic",
        "sendMessage",
        "sendMessage",
        "copyMessage",
    ]
    [topic] = forum.of("createForumTopic")
    assert topic.name == desk.renderer.topic_title(ticket)
    card, more, copy = forum.calls[2:]
    assert {card.message_thread_id, more.message_thread_id, copy.message_thread_id} == {500}
    assert card.parse_mode == "HTML" and card.reply_markup is not None
    stored = await ticket_row(sessions, ticket.id)
    assert (stored.thread_id, stored.card_message_id, stored.topic_title) == (
        500,
        100,
        topic.name,
    )
    assert await desk_messages(sessions) == {(100, ticket.id), (101, ticket.id), (102, ticket.id)}
    assert {i.status for i in await rows(sessions)} == {OutboxStatus.SENT}


@pytest.mark.parametrize("make", [fb.retry_after(3), fb.server_error, fb.timeout])
async def test_the_topic_is_kept_when_the_card_after_it_fails(
    sessions: Sessions,
    desk: Desk,
    clock: FakeClock,
    forum: FakeBot,
    new_ticket: NewTicket,
    make: fb.Raise,
) -> None:
    ticket = await new_ticket()
    await queue(sessions, desk, clock, lambda out: post_card(out, desk, ticket))
    forum.fail("sendMessage", make)
    w = worker(forum, sessions, clock, desk)
    await w.drain()
    # Telegram made the topic; its id is in the database before the card was tried.
    assert (await ticket_row(sessions, ticket.id)).thread_id == 500
    [item] = await rows(sessions)
    assert (item.status, item.attempts) == (OutboxStatus.PENDING, 1)

    clock.advance(seconds=10)
    await w.drain()
    assert len(forum.of("createForumTopic")) == 1
    [card] = forum.sent("sendMessage")
    assert card.message_thread_id == 500
    assert (await ticket_row(sessions, ticket.id)).card_message_id == 100  # the fake's first id


async def test_a_crash_after_the_topic_was_made_makes_no_second_topic(
    sessions: Sessions, desk: Desk, clock: FakeClock, forum: FakeBot, new_ticket: NewTicket
) -> None:
    ticket = await new_ticket()
    await queue(sessions, desk, clock, lambda out: post_card(out, desk, ticket))
    forum.fail("sendMessage", fb.crash)
    with pytest.raises(fb.Crash):
        await worker(forum, sessions, clock, desk).drain()
    clock.advance(seconds=delivery.LEASE.total_seconds() + 1)
    await worker(forum, sessions, clock, desk).drain()  # the restarted process
    assert len(forum.of("createForumTopic")) == 1
    assert [c.message_thread_id for c in forum.sent("sendMessage")] == [500]


async def test_a_deleted_topic_is_made_anew_with_the_card_first(
    sessions: Sessions, desk: Desk, clock: FakeClock, forum: FakeBot, new_ticket: NewTicket
) -> None:
    ticket = await new_ticket()
    await set_ticket(sessions, ticket.id, thread_id=77, card_message_id=5, topic_title="old")
    await queue(
        sessions, desk, clock, lambda out: out.to_desk(ticket, "ответ клиента", purpose="notice")
    )
    forum.fail("sendMessage", fb.bad_request("message thread not found"), message_thread_id=77)
    await worker(forum, sessions, clock, desk).drain()

    assert [(c.__api_method__, getattr(c, "message_thread_id", None)) for c in forum.calls] == [
        ("getChat", None),
        ("sendMessage", 77),
        ("getChat", None),  # is the group still a forum?
        ("createForumTopic", None),
        ("sendMessage", 500),  # the card
        ("sendMessage", 500),  # then what was to be said
    ]
    card, notice = forum.sent("sendMessage")
    assert "№\u00a01001" in card.text and card.reply_markup is not None
    assert notice.text == "ответ клиента"
    stored = await ticket_row(sessions, ticket.id)
    assert (stored.thread_id, stored.card_message_id) == (500, 100)
    [item] = await rows(sessions)
    assert (item.status, item.attempts) == (OutboxStatus.SENT, 1)


@pytest.mark.parametrize("gone", ["TOPIC_DELETED", "TOPIC_CLOSED"])
async def test_when_the_card_for_a_new_topic_fails_the_topic_is_not_made_twice(
    sessions: Sessions,
    desk: Desk,
    clock: FakeClock,
    forum: FakeBot,
    new_ticket: NewTicket,
    gone: str,
) -> None:
    ticket = await new_ticket()
    await set_ticket(sessions, ticket.id, thread_id=77, card_message_id=5)
    await queue(sessions, desk, clock, lambda out: out.to_desk(ticket, "x", purpose="notice"))
    forum.fail("sendMessage", fb.bad_request(gone), message_thread_id=77)
    forum.fail("sendMessage", fb.server_error, message_thread_id=500)  # the card
    w = worker(forum, sessions, clock, desk)
    await w.drain()
    assert (await ticket_row(sessions, ticket.id)).thread_id == 500
    clock.advance(seconds=5)
    await w.drain()
    assert len(forum.of("createForumTopic")) == 1
    card, notice = forum.sent("sendMessage")
    assert "№\u00a01001" in card.text and notice.text == "x"


async def test_a_topic_made_just_now_and_gone_at_once_is_tried_later(
    sessions: Sessions, desk: Desk, clock: FakeClock, forum: FakeBot, new_ticket: NewTicket
) -> None:
    ticket = await new_ticket()
    await queue(sessions, desk, clock, lambda out: post_card(out, desk, ticket))
    forum.fail("sendMessage", fb.bad_request("message thread not found"))
    await worker(forum, sessions, clock, desk).drain()
    assert len(forum.of("createForumTopic")) == 1  # no loop of topics within one attempt
    [item] = await rows(sessions)
    assert (item.status, item.attempts) == (OutboxStatus.PENDING, 1)
    assert (await ticket_row(sessions, ticket.id)).thread_id == 500  # the next try decides
    clock.advance(seconds=2)
    await worker(forum, sessions, clock, desk).drain()
    assert [c.message_thread_id for c in forum.sent("sendMessage")] == [500]
    assert len(forum.of("createForumTopic")) == 1


async def test_a_plain_group_answers_under_the_card(
    sessions: Sessions, desk: Desk, clock: FakeClock, plain: FakeBot, new_ticket: NewTicket
) -> None:
    ticket = await new_ticket()
    await set_ticket(sessions, ticket.id, card_message_id=5)

    def write(out: Outgoing) -> None:
        out.to_desk(ticket, "под карточкой", purpose=Purpose.NOTICE)
        out.queue(
            CopyMessage(
                chat_id=desk.operator_chat_id,
                from_chat_id=CLIENT,
                message_id=8,
                reply_parameters={"message_id": 42},
            ),
            purpose=Purpose.RELAY_TO_DESK,
            place=Place.DESK,
            ticket_id=ticket.id,
            ref_id=None,
        )
        post_card(out, desk, ticket)  # a card is never a reply to itself

    await queue(sessions, desk, clock, write)
    await worker(plain, sessions, clock, desk).drain()
    notice, copy, card = plain.calls[1:]
    assert notice.reply_parameters.message_id == 5
    assert notice.reply_parameters.allow_sending_without_reply
    assert copy.reply_parameters.message_id == 42  # a reply of its own is kept
    assert card.reply_parameters is None
    assert {notice.message_thread_id, copy.message_thread_id} == {None}
    assert plain.of("createForumTopic") == []


async def test_a_card_edit_goes_to_the_card(
    sessions: Sessions, desk: Desk, clock: FakeClock, plain: FakeBot, new_ticket: NewTicket
) -> None:
    ticket = await new_ticket()
    await set_ticket(sessions, ticket.id, card_message_id=5)
    await queue(
        sessions,
        desk,
        clock,
        lambda out: out.refresh_card(ticket, "<b>в работе</b>", kb.card(desk.renderer, ticket)),
    )
    await worker(plain, sessions, clock, desk).drain()
    [edit] = plain.of("editMessageText")
    assert (edit.message_id, edit.text, edit.parse_mode) == (5, "<b>в работе</b>", "HTML")


@pytest.mark.parametrize("card", [5, None], ids=["gone", "never posted"])
async def test_a_card_that_is_not_there_is_posted_anew(
    sessions: Sessions,
    desk: Desk,
    clock: FakeClock,
    plain: FakeBot,
    new_ticket: NewTicket,
    card: int | None,
) -> None:
    ticket = await new_ticket()
    await set_ticket(sessions, ticket.id, card_message_id=card)
    await queue(
        sessions,
        desk,
        clock,
        lambda out: out.refresh_card(ticket, "<b>карточка</b>", kb.card(desk.renderer, ticket)),
    )
    plain.fail("editMessageText", fb.bad_request("message to edit not found"))
    await worker(plain, sessions, clock, desk).drain()
    [posted] = plain.sent("sendMessage")
    assert (posted.text, posted.parse_mode, posted.reply_parameters) == (
        "<b>карточка</b>",
        "HTML",
        None,
    )
    assert posted.reply_markup == kb.card(desk.renderer, ticket)
    assert len(plain.of("editMessageText")) == (1 if card else 0)
    stored = await ticket_row(sessions, ticket.id)
    new_id = 100
    assert stored.card_message_id == new_id
    assert (new_id, ticket.id) in await desk_messages(sessions)
    [item] = await rows(sessions)
    assert (item.status, item.attempts) == (OutboxStatus.SENT, 1)


async def test_a_card_edit_in_a_deleted_topic_makes_a_topic_and_a_card(
    sessions: Sessions, desk: Desk, clock: FakeClock, forum: FakeBot, new_ticket: NewTicket
) -> None:
    ticket = await new_ticket()
    await set_ticket(sessions, ticket.id, thread_id=77, card_message_id=5)
    await queue(
        sessions,
        desk,
        clock,
        lambda out: out.refresh_card(ticket, "<b>карточка</b>", kb.card(desk.renderer, ticket)),
    )
    forum.fail("editMessageText", fb.bad_request("message to edit not found"))
    forum.fail("sendMessage", fb.bad_request("message thread not found"), message_thread_id=77)
    await worker(forum, sessions, clock, desk).drain()
    assert len(forum.of("createForumTopic")) == 1
    [card] = forum.sent("sendMessage")  # the card only: it is what was to be shown
    assert (card.message_thread_id, card.text) == (500, "<b>карточка</b>")
    stored = await ticket_row(sessions, ticket.id)
    assert (stored.thread_id, stored.card_message_id) == (500, 100)


async def test_the_topic_title_follows_the_request(
    sessions: Sessions, desk: Desk, clock: FakeClock, forum: FakeBot, new_ticket: NewTicket
) -> None:
    ticket = await new_ticket()
    await set_ticket(sessions, ticket.id, thread_id=77, topic_title="old")
    await queue(sessions, desk, clock, lambda out: out.retitle_topic(ticket, "№1001 · в работе"))
    await worker(forum, sessions, clock, desk).drain()
    [rename] = forum.of("editForumTopic")
    assert isinstance(rename, EditForumTopic)
    assert (rename.message_thread_id, rename.name) == (77, "№1001 · в работе")
    assert (await ticket_row(sessions, ticket.id)).topic_title == "№1001 · в работе"


@pytest.mark.parametrize(
    ("is_forum", "thread", "fault"),
    [
        (False, 77, None),
        (True, None, None),
        (True, 77, "TOPIC_NOT_MODIFIED"),
        (True, 77, "TOPIC_DELETED"),
    ],
    ids=["plain group", "no topic yet", "not modified", "topic gone"],
)
async def test_a_rename_with_nothing_to_rename_is_done(
    sessions: Sessions,
    desk: Desk,
    clock: FakeClock,
    new_ticket: NewTicket,
    is_forum: bool,
    thread: int | None,
    fault: str | None,
) -> None:
    bot = FakeBot(forum=is_forum)
    ticket = await new_ticket()
    await set_ticket(sessions, ticket.id, thread_id=thread)
    await queue(sessions, desk, clock, lambda out: out.retitle_topic(ticket, "новое имя"))
    if fault:
        bot.fail("editForumTopic", fb.bad_request(fault))
    await worker(bot, sessions, clock, desk).drain()
    [item] = await rows(sessions)
    assert item.status == OutboxStatus.SENT
    assert bot.of("createForumTopic") == []


async def test_an_item_of_a_request_that_is_gone_is_skipped(
    sessions: Sessions, desk: Desk, clock: FakeClock, plain: FakeBot, new_ticket: NewTicket
) -> None:
    ticket = await new_ticket()
    await queue(sessions, desk, clock, lambda out: out.to_desk(ticket, "x", purpose="notice"))
    async with sessions() as session:
        gone = await session.get(Ticket, ticket.id)
        await session.delete(gone)
        await session.commit()
    await worker(plain, sessions, clock, desk).drain()
    [item] = await rows(sessions)
    assert (item.status, item.result) == (OutboxStatus.SENT, {"skipped": "the request is gone"})
    assert plain.sent() == []


async def test_when_telegram_cannot_say_what_the_group_is_the_item_waits(
    sessions: Sessions, desk: Desk, clock: FakeClock, plain: FakeBot, new_ticket: NewTicket
) -> None:
    ticket = await new_ticket()
    await queue(sessions, desk, clock, lambda out: out.to_desk(ticket, "x", purpose="notice"))
    plain.fail("getChat", fb.server_error)
    w = worker(plain, sessions, clock, desk)
    await w.drain()
    [item] = await rows(sessions)
    assert (item.status, item.attempts) == (OutboxStatus.PENDING, 1)
    clock.advance(seconds=2)
    await w.drain()
    assert [m.text for m in plain.sent("sendMessage")] == ["x"]


async def test_a_group_upgraded_to_a_supergroup(
    sessions: Sessions, desk: Desk, clock: FakeClock, plain: FakeBot, new_ticket: NewTicket
) -> None:
    old_group = desk.operator_chat_id
    assert old_group is not None
    ticket = await new_ticket()

    def write(out: Outgoing) -> None:
        out.to_desk(ticket, "первое", purpose=Purpose.NOTICE)
        out.to_chat(old_group, "второе", purpose=Purpose.REPLY)
        out.to_chat(CLIENT, "клиенту", purpose=Purpose.NOTICE)

    await queue(sessions, desk, clock, write)
    plain.fail("getChat", fb.migrated(NEW_GROUP), chat_id=old_group)
    await worker(plain, sessions, clock, desk).drain()

    assert desk.operator_chat_id == NEW_GROUP
    first, second, to_client = await rows(sessions)
    assert (first.chat_id, second.chat_id, to_client.chat_id) == (NEW_GROUP, NEW_GROUP, CLIENT)
    assert {i.status for i in (first, second, to_client)} == {OutboxStatus.SENT}
    sent = [(m.chat_id, m.text) for m in plain.sent("sendMessage")]
    assert [m for m in sent if m[0] != CLIENT] == [(NEW_GROUP, "первое"), (NEW_GROUP, "второе")]
    assert (CLIENT, "клиенту") in sent
    assert len(plain.of("getChat")) == 2  # the new group is asked what it is
    async with sessions() as session:
        assert await get_meta(session, f"chat_migrated:{old_group}") == str(NEW_GROUP)
        desk_rows = await session.scalars(select(DeskMessage))
        assert {m.chat_id for m in desk_rows} == {NEW_GROUP}

    # Queued after the move: straight to the new group.
    await queue(sessions, desk, clock, lambda out: out.to_desk(ticket, "третье", purpose="notice"))
    await worker(plain, sessions, clock, desk).drain()
    assert plain.sent("sendMessage")[-1].chat_id == NEW_GROUP


async def test_the_moved_group_is_found_again_at_start(sessions: Sessions, desk: Desk) -> None:
    old_group = desk.operator_chat_id
    async with sessions() as session:
        await set_meta(session, f"chat_migrated:{old_group}", str(NEW_GROUP))
        await set_meta(session, f"chat_migrated:{NEW_GROUP}", "-100777")  # moved twice
        await session.commit()
    assert await load_operator_chat(sessions, desk) == -100777
    assert desk.operator_chat_id == -100777

    async with sessions() as session:  # a record that goes round in a circle ends
        await set_meta(session, "chat_migrated:-100777", str(NEW_GROUP))
        await session.commit()
    assert await load_operator_chat(sessions, desk) in (NEW_GROUP, -100777)


async def test_start_without_a_move_keeps_the_configured_group(
    sessions: Sessions, desk: Desk
) -> None:
    configured = desk.operator_chat_id
    assert await load_operator_chat(sessions, desk) == configured
    desk.operator_chat.id = None
    assert await load_operator_chat(sessions, desk) is None


async def test_a_migration_that_is_not_the_chats_own_is_given_up(
    sessions: Sessions, desk: Desk, clock: FakeClock, plain: FakeBot
) -> None:
    await queue(
        sessions,
        desk,
        clock,
        lambda out: out.queue(
            CopyMessage(chat_id=CLIENT, from_chat_id=-123, message_id=1), purpose="notice"
        ),
    )
    plain.fail("copyMessage", fb.migrated(NEW_GROUP))
    await worker(plain, sessions, clock, desk).drain()
    item, report = await rows(sessions)
    assert (item.chat_id, item.status) == (CLIENT, OutboxStatus.DEAD)
    assert report.chat_id == desk.operator_chat_id
    assert desk.operator_chat_id != NEW_GROUP


async def test_relayed_copies_remember_where_they_went(
    sessions: Sessions, desk: Desk, clock: FakeClock, plain: FakeBot, new_ticket: NewTicket
) -> None:
    from bot.vocabulary import Direction
    from storage.models import TicketMessage

    ticket = await new_ticket()
    async with sessions() as session:
        message = TicketMessage(
            ticket_id=ticket.id,
            direction=Direction.CLIENT,
            author_id=CLIENT,
            chat_id=CLIENT,
            message_id=7,
            content_type="text",
            created_at=clock.now(),
        )
        session.add(message)
        await session.commit()
    await queue(
        sessions,
        desk,
        clock,
        lambda out: out.copy_to_desk(ticket, [message]),
    )
    await worker(plain, sessions, clock, desk).drain()
    async with sessions() as session:
        stored = await session.get(TicketMessage, message.id)
        assert stored is not None
        assert (stored.relay_chat_id, stored.relay_message_id) == (desk.operator_chat_id, 100)
        item = await session.scalar(select(OutboxItem))
        assert item is not None and item.result == {"message_id": 100}
