"""The typed outbox: aiogram method objects serialised by aiogram, every method the bot queues
coming back equal; a call that cannot be built fails when it is queued; where a message goes is
the `place` column, never a key inside the payload."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from aiogram import Bot
from aiogram.client.default import Default, DefaultBotProperties
from aiogram.methods import (
    CopyMessage,
    CopyMessages,
    CreateForumTopic,
    EditForumTopic,
    EditMessageCaption,
    EditMessageText,
    GetChat,
    SendDocument,
    SendMessage,
    TelegramMethod,
)
from aiogram.types import (
    FSInputFile,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    ReplyParameters,
)
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.outgoing import (
    Outgoing,
    dump_method,
    group_albums,
    load_method,
    method_of,
    rewrite,
)
from bot.vocabulary import OutboxStatus, Place, Purpose
from storage.models import OutboxItem, Ticket, TicketMessage
from storage.outbox import ADDED, OutboxRepo

NOW = datetime(2026, 3, 17, 6, 0, tzinfo=UTC)
DESK = -100123
CLIENT = 700_000_001


def keyboard() -> InlineKeyboardMarkup:
    kb = InlineKeyboardBuilder()
    kb.button(text="Взять", callback_data="t:claim:5")
    kb.button(text="Решено", callback_data="t:resolve:5")
    return kb.as_markup()


class Bag:
    """Stands in for the session: keeps what is added."""

    def __init__(self) -> None:
        self.items: list[OutboxItem] = []
        self.info: dict[str, object] = {}  # the session's own notes (storage.outbox.ADDED)

    def add(self, item: OutboxItem) -> None:
        self.items.append(item)


def test_queueing_notes_that_the_session_has_something_to_deliver() -> None:
    out, bag = outgoing()
    assert ADDED not in bag.info
    first = out.to_chat(CLIENT, "Здравствуйте", purpose=Purpose.NOTICE)
    second = out.to_chat(CLIENT, "Ещё", purpose=Purpose.NOTICE)
    assert bag.info[ADDED] == [first, second]


def outgoing(operator_chat_id: int | None = DESK) -> tuple[Outgoing, Bag]:
    bag = Bag()
    return Outgoing(OutboxRepo(cast(AsyncSession, bag)), operator_chat_id, NOW), bag


TICKET = Ticket(id=5, number=1001)

EVERY_METHOD_THE_BOT_QUEUES: list[TelegramMethod[Any]] = [
    SendMessage(chat_id=CLIENT, text="Обращение №1001 зарегистрировано"),
    SendMessage(chat_id=DESK, text="<b>№1001</b>", parse_mode="HTML", reply_markup=keyboard()),
    SendMessage(
        chat_id=CLIENT,
        text="Иван: ответ",
        reply_parameters=ReplyParameters(message_id=7, allow_sending_without_reply=True),
    ),
    SendMessage(chat_id=CLIENT, text="без разметки", parse_mode=None),
    SendMessage(
        chat_id=CLIENT,
        text="ссылка",
        link_preview_options=LinkPreviewOptions(is_disabled=True),
    ),
    SendMessage(chat_id=CLIENT, text="без предпросмотра", link_preview_options=None),
    CopyMessage(chat_id=DESK, from_chat_id=CLIENT, message_id=11),
    CopyMessage(
        chat_id=CLIENT,
        from_chat_id=DESK,
        message_id=12,
        caption="Иван: подпись",
        reply_parameters=ReplyParameters(message_id=3, allow_sending_without_reply=True),
    ),
    CopyMessages(chat_id=DESK, from_chat_id=CLIENT, message_ids=[13, 14, 15]),
    EditMessageText(
        chat_id=DESK, text="<b>карточка</b>", parse_mode="HTML", reply_markup=keyboard()
    ),
    EditMessageText(chat_id=CLIENT, message_id=20, text="исправлено"),
    EditMessageCaption(chat_id=CLIENT, message_id=21, caption="новая подпись"),
    EditForumTopic(chat_id=DESK, message_thread_id=0, name="№1001 · OOO Test · новое"),
    CreateForumTopic(chat_id=DESK, name="№1001 · OOO Test · новое"),
    GetChat(chat_id=DESK),
]


@pytest.mark.parametrize("method", EVERY_METHOD_THE_BOT_QUEUES, ids=lambda m: type(m).__name__)
def test_every_method_round_trips(method: TelegramMethod[Any]) -> None:
    payload = dump_method(method)
    assert not any(key.startswith("$") for key in payload)
    again = load_method(method.__api_method__, payload)
    assert type(again) is type(method)
    assert again == method
    assert dump_method(again) == payload


def request_data(bot: Bot, method: TelegramMethod[Any]) -> dict[str, Any]:
    """What aiogram puts on the wire for a method (its defaults resolved by the bot)."""
    session = bot.session
    prepared = {
        key: session.prepare_value(value, bot=bot, files={})
        for key, value in method.model_dump(warnings=False).items()
    }
    return {key: value for key, value in prepared.items() if value}


@pytest.mark.parametrize("method", EVERY_METHOD_THE_BOT_QUEUES, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("parse_mode", [None, "HTML"])
async def test_a_stored_call_puts_the_same_request_on_the_wire(
    method: TelegramMethod[Any], parse_mode: str | None
) -> None:
    bot = Bot(
        "42:TEST",
        default=DefaultBotProperties(parse_mode=parse_mode, link_preview_is_disabled=True),
    )
    try:
        again = load_method(method.__api_method__, dump_method(method))
        assert request_data(bot, again) == request_data(bot, method)
    finally:
        await bot.session.close()


def test_bot_defaults_are_not_stored_but_an_explicit_none_is() -> None:
    left = dump_method(SendMessage(chat_id=CLIENT, text="x"))
    assert left == {"chat_id": CLIENT, "text": "x"}
    again = load_method("sendMessage", left)
    # Left to the bot: aiogram's sentinels are back, resolved when sent.
    assert again.parse_mode == Default("parse_mode")
    assert again.link_preview_options == Default("link_preview")

    plain = dump_method(SendMessage(chat_id=CLIENT, text="x", parse_mode=None))
    assert plain == {"chat_id": CLIENT, "text": "x", "parse_mode": None}
    assert load_method("sendMessage", plain).parse_mode is None

    explicit_default = SendMessage(chat_id=CLIENT, text="x", parse_mode=Default("parse_mode"))
    assert dump_method(explicit_default) == {"chat_id": CLIENT, "text": "x"}


def test_a_call_that_cannot_be_stored_fails_when_queued() -> None:
    out, bag = outgoing()
    with pytest.raises(ValueError, match="no fields"):
        out.queue(
            SendMessage(chat_id=CLIENT, text="x", message_thred_id=5),  # type: ignore[call-arg]
            purpose=Purpose.NOTICE,
        )
    # A file on disk cannot wait in a table (an in-memory one can: the attachment columns).
    on_disk = cast(InputFile, FSInputFile(__file__))
    with pytest.raises(ValueError, match="only a BufferedInputFile"):
        out.queue(SendDocument(chat_id=CLIENT, document=on_disk), purpose=Purpose.NOTICE)
    with pytest.raises(ValueError, match="numeric chat_id"):
        out.queue(SendMessage(chat_id="@channel", text="x"), purpose=Purpose.NOTICE)
    with pytest.raises(ValueError, match="no_such_purpose"):
        out.queue(SendMessage(chat_id=CLIENT, text="x"), purpose="no_such_purpose")
    with pytest.raises(ValueError, match="needs the request"):
        out.queue(SendMessage(chat_id=DESK, text="x"), purpose=Purpose.NOTICE, place=Place.DESK)
    assert bag.items == []


def test_building_an_invalid_method_fails_at_once() -> None:
    with pytest.raises(ValidationError, match="text"):
        SendMessage(chat_id=CLIENT)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="unknown Bot API method"):
        load_method("sendCarrierPigeon", {})


def test_queue_writes_the_typed_columns() -> None:
    out, bag = outgoing()
    item = out.queue(
        SendMessage(chat_id=CLIENT, text="x"),
        purpose="notice",  # the callers' strings are accepted for now
        ticket_id=5,
        ref_id=9,
        group_key="album:1:2",
        delay=timedelta(seconds=2),
    )
    assert bag.items == [item]
    assert (item.method, item.chat_id, item.payload) == (
        "sendMessage",
        CLIENT,
        {"chat_id": CLIENT, "text": "x"},
    )
    assert item.purpose is Purpose.NOTICE and item.place is Place.CHAT
    assert item.status is OutboxStatus.PENDING and item.attempts == 0
    assert (item.ticket_id, item.ref_id, item.group_key) == (5, 9, "album:1:2")
    assert (item.created_at, item.not_before) == (NOW, NOW + timedelta(seconds=2))
    assert method_of(item) == SendMessage(chat_id=CLIENT, text="x")


def test_the_helpers_place_their_messages() -> None:
    out, bag = outgoing()
    out.to_chat(CLIENT, "ответ", purpose=Purpose.NOTICE, ticket_id=5, html=True, ref_id=3)
    out.to_desk(TICKET, "заметка", purpose=Purpose.NOTICE, reply_markup=keyboard())
    out.refresh_card(TICKET, "<b>карточка</b>", keyboard())
    out.retitle_topic(TICKET, "№1001 · OOO Test · в работе")
    to_chat, to_desk, card, title = bag.items

    assert (to_chat.place, to_chat.chat_id, to_chat.ticket_id) == (Place.CHAT, CLIENT, 5)
    assert method_of(to_chat) == SendMessage(chat_id=CLIENT, text="ответ", parse_mode="HTML")

    assert (to_desk.place, to_desk.chat_id, to_desk.ticket_id) == (Place.DESK, DESK, 5)
    assert method_of(to_desk) == SendMessage(chat_id=DESK, text="заметка", reply_markup=keyboard())

    assert (card.place, card.purpose, card.method) == (
        Place.CARD,
        Purpose.CARD_EDIT,
        "editMessageText",
    )
    assert "message_id" not in card.payload  # filled when sent

    assert (title.place, title.purpose, title.method) == (
        Place.TOPIC,
        Purpose.TOPIC_TITLE,
        "editForumTopic",
    )
    assert title.payload["message_thread_id"] == 0  # the placeholder, filled when sent


def test_without_an_operator_group_nothing_goes_to_the_desk() -> None:
    out, bag = outgoing(None)
    assert out.to_desk(TICKET, "x", purpose=Purpose.NOTICE) is None
    assert out.refresh_card(TICKET, "x", keyboard()) is None
    assert out.retitle_topic(TICKET, "x") is None
    out.copy_to_desk(TICKET, [TicketMessage(id=1, chat_id=CLIENT, message_id=5)])
    assert bag.items == []


def part(row_id: int, message_id: int, album: str | None = None) -> TicketMessage:
    return TicketMessage(id=row_id, chat_id=CLIENT, message_id=message_id, media_group_id=album)


def test_copy_to_desk_keeps_albums_together() -> None:
    out, bag = outgoing()
    messages = [part(1, 10), part(2, 11, "a"), part(3, 12, "a"), part(4, 13, "b"), part(5, 14)]
    assert [[m.id for m in g] for g in group_albums(messages)] == [[1], [2, 3], [4], [5]]
    out.copy_to_desk(TICKET, messages)
    assert [(i.method, i.ref_id, i.place) for i in bag.items] == [
        ("copyMessage", 1, Place.DESK),
        ("copyMessages", 2, Place.DESK),
        ("copyMessage", 4, Place.DESK),
        ("copyMessage", 5, Place.DESK),
    ]
    assert method_of(bag.items[1]) == CopyMessages(
        chat_id=DESK, from_chat_id=CLIENT, message_ids=[11, 12]
    )
    assert all(i.purpose is Purpose.RELAY_TO_DESK for i in bag.items)


def test_rewrite_replaces_a_pending_call() -> None:
    out, _bag = outgoing()
    item = out.queue(
        CopyMessage(chat_id=CLIENT, from_chat_id=DESK, message_id=1), purpose=Purpose.EDIT
    )
    rewrite(item, CopyMessages(chat_id=CLIENT, from_chat_id=DESK, message_ids=[1, 2]))
    assert item.method == "copyMessages"
    assert item.payload == {"chat_id": CLIENT, "from_chat_id": DESK, "message_ids": [1, 2]}
