"""The Bot API stand-in, driven by a real aiogram Bot over HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    ForumTopic,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    ReplyParameters,
)
from aiogram.types.media_union import MediaUnion

from standin import ApiError, StandIn
from standin.formatting import parse

CLIENT = 1001
OPERATOR = 2002
STRANGER = 3003
DESK = -1001234567890  # forum with topics
GROUP = -4005  # plain group


def keyboard(*data: str) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(text=d.upper(), callback_data=d) for d in data]
    return InlineKeyboardMarkup(inline_keyboard=[buttons])


@pytest.fixture
async def standin() -> AsyncIterator[StandIn]:
    world = StandIn()
    world.add_user(CLIENT, "Aziz", username="aziz", language_code="uz")
    world.add_user(OPERATOR, "Olga", language_code="ru")
    world.add_user(STRANGER, "Sam", started=False)
    world.add_group(DESK, "Support desk", forum=True, admins=[OPERATOR])
    world.add_group(GROUP, "Plain group", members=[CLIENT])
    await world.start()
    yield world
    await world.stop()


@pytest.fixture
async def bot(standin: StandIn) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(standin.url))
    bot = Bot(standin.token, session=session)
    yield bot
    await session.close()


# ---------------------------------------------------------------- basics


async def test_get_me(bot: Bot, standin: StandIn) -> None:
    me = await bot.get_me()

    assert me.id == standin.bot_id == 123456789
    assert me.is_bot
    assert me.username == "CRPT_Turon_Bot"
    assert standin.calls[-1].method == "getMe"
    assert standin.calls[-1].ok


async def test_wrong_token_is_unauthorized(standin: StandIn) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(standin.url))
    other = Bot("42:wrong", session=session)
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await other.get_me()
    finally:
        await session.close()
    assert standin.calls[-1].status == 401


async def test_unknown_method_is_404_and_recorded(standin: StandIn) -> None:
    url = f"{standin.url}/bot{standin.token}/sendTelepathy"
    async with aiohttp.ClientSession() as http, http.post(url, data={"chat_id": "1"}) as resp:
        body = await resp.json()

    assert resp.status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    assert standin.unknown_methods == ["sendTelepathy"]
    assert standin.calls[-1].params == {"chat_id": 1}


async def test_json_body_requests_are_understood(standin: StandIn) -> None:
    url = f"{standin.url}/bot{standin.token}/sendMessage"
    payload = {"chat_id": CLIENT, "text": "123", "reply_markup": {"inline_keyboard": []}}
    async with aiohttp.ClientSession() as http, http.post(url, json=payload) as resp:
        body = await resp.json()

    assert body["ok"], body
    assert standin.last(CLIENT)["text"] == "123"  # a text parameter stays a string


# ---------------------------------------------------------------- sending and editing


async def test_send_and_edit_message_with_inline_keyboard(bot: Bot, standin: StandIn) -> None:
    sent = await bot.send_message(CLIENT, "Choose", reply_markup=keyboard("yes", "no"))

    stored = standin.last(CLIENT)
    assert stored["message_id"] == sent.message_id
    assert stored["from"]["id"] == standin.bot_id
    assert stored["reply_markup"]["inline_keyboard"][0][1]["callback_data"] == "no"
    assert sent.reply_markup is not None

    edited = await bot.edit_message_text(
        "Chosen: yes", chat_id=CLIENT, message_id=sent.message_id, reply_markup=keyboard("undo")
    )
    assert isinstance(edited, Message)
    assert edited.edit_date is not None
    assert standin.last(CLIENT)["text"] == "Chosen: yes"
    assert standin.last(CLIENT)["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "undo"

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Chosen: yes",
            chat_id=CLIENT,
            message_id=sent.message_id,
            reply_markup=keyboard("undo"),
        )

    # Editing the text without a keyboard removes the keyboard, as Telegram does.
    await bot.edit_message_text("Done", chat_id=CLIENT, message_id=sent.message_id)
    assert "reply_markup" not in standin.last(CLIENT)
    assert len(standin.sent(CLIENT)) == 1


async def test_edit_errors(bot: Bot, standin: StandIn) -> None:
    user_message = standin.send_message(CLIENT, text="hello")
    photo = await bot.send_photo(CLIENT, BufferedInputFile(b"\xff\xd8jpeg", "a.jpg"))

    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=CLIENT, message_id=999)
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text("x", chat_id=CLIENT, message_id=user_message["message_id"])
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("x", chat_id=CLIENT, message_id=photo.message_id)

    await bot.edit_message_caption(chat_id=CLIENT, message_id=photo.message_id, caption="Nice")
    assert standin.last(CLIENT)["caption"] == "Nice"


async def test_html_is_validated_and_rendered(bot: Bot, standin: StandIn) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(CLIENT, "<b>Ticket #7", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match=r"can't parse entities: Unsupported start tag"):
        await bot.send_message(CLIENT, "price < 5", parse_mode="HTML")

    await bot.send_message(CLIENT, "<b>Ticket</b> &lt;7&gt; &amp; co", parse_mode="HTML")

    stored = standin.last(CLIENT)
    assert stored["text"] == "Ticket <7> & co"
    assert stored["entities"] == [{"type": "bold", "offset": 0, "length": 6}]
    assert standin.calls_of("sendMessage")[-1].params["parse_mode"] == "HTML"


async def test_text_and_caption_limits(bot: Bot, standin: StandIn) -> None:
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(CLIENT, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(CLIENT, "   ")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(CLIENT, BufferedInputFile(b"img", "p.jpg"), caption="c" * 1025)

    await bot.send_message(
        CLIENT, "<i>" + "x" * 4096 + "</i>", parse_mode="HTML"
    )  # counted after parsing
    assert len(standin.sent(CLIENT)) == 1


async def test_reply_parameters_and_missing_reply(bot: Bot, standin: StandIn) -> None:
    question = standin.send_message(CLIENT, text="Where is my order?")

    await bot.send_message(
        CLIENT, "Looking", reply_parameters=ReplyParameters(message_id=question["message_id"])
    )
    assert standin.last(CLIENT)["reply_to_message"]["text"] == "Where is my order?"

    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(CLIENT, "?", reply_parameters=ReplyParameters(message_id=777))

    # A reply to a message of another chat is an external reply.
    photo = standin.send_message(CLIENT, photo=True)
    quoted = await bot.send_message(
        DESK,
        "About this photo",
        reply_parameters=ReplyParameters(message_id=photo["message_id"], chat_id=CLIENT),
    )
    assert quoted.reply_to_message is None
    assert quoted.external_reply is not None
    assert quoted.external_reply.photo is not None
    assert standin.last(DESK)["external_reply"]["chat"]["id"] == CLIENT


async def test_unknown_chat_and_stranger(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(555, "hi")
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(STRANGER, "hi")


async def test_blocked_user_is_forbidden(bot: Bot, standin: StandIn) -> None:
    standin.block_bot(CLIENT)

    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(CLIENT, "Your ticket is closed")
    assert standin.sent(CLIENT) == []

    standin.block_bot(CLIENT, blocked=False)
    await bot.send_message(CLIENT, "Welcome back")
    assert standin.last(CLIENT)["text"] == "Welcome back"


async def test_delete_message(bot: Bot, standin: StandIn) -> None:
    sent = await bot.send_message(CLIENT, "temporary")

    assert await bot.delete_message(CLIENT, sent.message_id)
    assert standin.sent(CLIENT) == []
    assert len(standin.sent(CLIENT, include_deleted=True)) == 1
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(CLIENT, sent.message_id)


# ---------------------------------------------------------------- files


async def test_upload_get_file_and_download(bot: Bot, standin: StandIn) -> None:
    sent = await bot.send_document(
        CLIENT, BufferedInputFile(b"%PDF-1.4 report", filename="report.pdf"), caption="Report"
    )

    assert sent.document is not None
    assert sent.document.file_name == "report.pdf"
    assert sent.document.file_size == 15
    assert standin.calls_of("sendDocument")[-1].params["document"]["filename"] == "report.pdf"

    file = await bot.get_file(sent.document.file_id)
    assert file.file_path
    data = await bot.download_file(file.file_path)
    assert data is not None
    assert data.read() == b"%PDF-1.4 report"

    # A file_id can be sent again, but only as a kind that fits it.
    await bot.send_document(DESK, sent.document.file_id)
    assert standin.last(DESK)["document"]["file_id"] == sent.document.file_id
    with pytest.raises(TelegramBadRequest, match="type of file mismatch"):
        await bot.send_voice(DESK, sent.document.file_id)
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(DESK, "no-such-file-id")


async def test_send_media_group(bot: Bot, standin: StandIn) -> None:
    media: list[MediaUnion] = [
        InputMediaPhoto(media=BufferedInputFile(b"one", "1.jpg"), caption="<b>two</b> photos"),
        InputMediaPhoto(media=BufferedInputFile(b"two", "2.jpg")),
    ]
    messages = await bot.send_media_group(CLIENT, media)

    assert len(messages) == 2
    assert messages[0].media_group_id == messages[1].media_group_id is not None
    assert messages[0].caption == "<b>two</b> photos"  # no parse_mode given
    assert [m["message_id"] for m in standin.sent(CLIENT)] == [m.message_id for m in messages]


# ---------------------------------------------------------------- copying


async def test_copy_messages_keeps_the_album(bot: Bot, standin: StandIn) -> None:
    first = standin.send_message(CLIENT, photo=True, media_group_id="album-1", caption="broken")
    second = standin.send_message(CLIENT, photo=True, media_group_id="album-1")
    note = standin.send_message(CLIENT, text="see photos")

    ids = [first["message_id"], second["message_id"], note["message_id"]]
    copies = await bot.copy_messages(DESK, CLIENT, ids)

    assert len(copies) == 3
    desk = standin.sent(DESK)
    assert [m["message_id"] for m in desk] == [c.message_id for c in copies]
    assert desk[0]["media_group_id"] == desk[1]["media_group_id"] != "album-1"
    assert "media_group_id" not in desk[2]
    assert desk[0]["caption"] == "broken"
    assert desk[0]["photo"][-1]["file_id"] == first["photo"][-1]["file_id"]
    assert desk[2]["text"] == "see photos"
    assert "forward_origin" not in desk[2]


async def test_copy_message_takes_content_from_the_world(bot: Bot, standin: StandIn) -> None:
    doc = standin.send_message(CLIENT, document="invoice.xlsx", caption="old")

    copied = await bot.copy_message(
        DESK, CLIENT, doc["message_id"], caption="<i>new</i>", parse_mode="HTML"
    )

    stored = standin.last(DESK)
    assert stored["message_id"] == copied.message_id
    assert stored["document"]["file_name"] == "invoice.xlsx"
    assert stored["caption"] == "new"
    assert stored["caption_entities"][0]["type"] == "italic"
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(DESK, CLIENT, 4040)


# ---------------------------------------------------------------- forum topics


async def test_forum_topic_lifecycle(bot: Bot, standin: StandIn) -> None:
    topic = await bot.create_forum_topic(DESK, "Ticket #1 · Aziz")
    assert isinstance(topic, ForumTopic)
    assert topic.icon_color == 7322096

    await bot.send_message(DESK, "Card", message_thread_id=topic.message_thread_id)
    card = standin.last(DESK)
    assert card["message_thread_id"] == topic.message_thread_id
    assert card["is_topic_message"] is True
    assert card["reply_to_message"]["forum_topic_created"]["name"] == "Ticket #1 · Aziz"
    assert standin.sent(DESK, thread_id=topic.message_thread_id) == [card]
    assert standin.sent(DESK, thread_id=None) == []

    assert await bot.edit_forum_topic(DESK, topic.message_thread_id, name="Ticket #1 · closed")
    assert standin.topics(DESK)[0]["name"] == "Ticket #1 · closed"
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.edit_forum_topic(DESK, topic.message_thread_id, name="Ticket #1 · closed")

    assert await bot.delete_forum_topic(DESK, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(DESK, "late", message_thread_id=topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.edit_forum_topic(DESK, topic.message_thread_id, name="again")


async def test_topic_deleted_by_a_user(bot: Bot, standin: StandIn) -> None:
    topic = await bot.create_forum_topic(DESK, "Ticket #2")
    standin.delete_topic(DESK, topic.message_thread_id)

    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.copy_message(
            DESK,
            CLIENT,
            standin.send_message(CLIENT, text="x")["message_id"],
            message_thread_id=topic.message_thread_id,
        )
    assert standin.topics(DESK)[0]["is_deleted"] is True


async def test_topics_need_a_forum_and_rights(bot: Bot, standin: StandIn) -> None:
    standin.add_group(-1009, "No rights", forum=True, bot_rights={"can_manage_topics": False})

    with pytest.raises(TelegramBadRequest, match="not enough rights to create a topic"):
        await bot.create_forum_topic(-1009, "Ticket")
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(GROUP, "Ticket")


async def test_user_writes_in_a_topic(bot: Bot, standin: StandIn) -> None:
    topic = await bot.create_forum_topic(DESK, "Ticket #3")
    card = await bot.send_message(DESK, "Card", message_thread_id=topic.message_thread_id)

    reply = standin.send_message(
        OPERATOR, DESK, text="On it", thread_id=topic.message_thread_id, reply_to=card.message_id
    )
    plain = standin.send_message(OPERATOR, DESK, text="Anyone?", thread_id=topic.message_thread_id)

    assert reply["reply_to_message"]["message_id"] == card.message_id
    assert plain["reply_to_message"]["message_id"] == topic.message_thread_id
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["On it", "Anyone?"]
    assert updates[0].message is not None
    assert updates[0].message.is_topic_message


# ---------------------------------------------------------------- faults


async def test_429_surfaces_as_retry_after(bot: Bot, standin: StandIn) -> None:
    standin.fail("sendMessage", retry_after=3)

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(CLIENT, "hi")
    assert caught.value.retry_after == 3
    assert "Too Many Requests: retry after 3" in str(caught.value)
    assert standin.sent(CLIENT) == []
    assert standin.calls[-1].error == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }

    await bot.send_message(CLIENT, "hi")  # only the next call failed
    assert standin.last(CLIENT)["text"] == "hi"


async def test_flood_control_of_a_group(bot: Bot, standin: StandIn) -> None:
    standin.limit_rate(DESK, per_minute=3)
    for index in range(3):
        await bot.send_message(DESK, f"message {index}")
    await bot.get_chat(DESK)  # reading is not limited
    await bot.send_message(CLIENT, "another chat is not limited")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(DESK, "one too many")
    assert 55 <= caught.value.retry_after <= 60
    assert [m["text"] for m in standin.sent(DESK)] == ["message 0", "message 1", "message 2"]
    assert [c.status for c in standin.calls_of("sendMessage")].count(429) == 1


async def test_latency_delays_every_call() -> None:
    with pytest.raises(ValueError, match="negative"):
        StandIn(latency=-1)
    world = StandIn(latency=0.1)
    world.add_user(CLIENT, "Aziz")
    async with world:
        session = AiohttpSession(api=TelegramAPIServer.from_base(world.url))
        bot = Bot(world.token, session=session)
        try:
            started = time.monotonic()
            await bot.send_message(CLIENT, "hi")
            await bot.get_me()
            took = time.monotonic() - started
        finally:
            await session.close()
    assert took >= 0.2
    assert world.last(CLIENT)["text"] == "hi"


async def test_fault_for_one_chat_and_server_error(bot: Bot, standin: StandIn) -> None:
    standin.fail("sendMessage", status=500, times=2, chat_id=DESK)

    await bot.send_message(CLIENT, "unaffected")
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Internal Server Error"):
            await bot.send_message(DESK, "desk")
    await bot.send_message(DESK, "desk")
    assert [m["text"] for m in standin.sent(DESK)] == ["desk"]

    standin.fail("createForumTopic", status=400, description="Bad Request: CHAT_NOT_MODIFIED")
    with pytest.raises(TelegramBadRequest, match="CHAT_NOT_MODIFIED"):
        await bot.create_forum_topic(DESK, "Ticket")
    assert standin.topics(DESK) == []


# ---------------------------------------------------------------- updates


async def test_long_polling_returns_a_message_and_a_callback(bot: Bot, standin: StandIn) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=30) == []
    assert 0.9 <= time.monotonic() - started < 2  # the hold is capped at 1 s

    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.1)
    standin.send_message(CLIENT, text="/start")
    updates = await asyncio.wait_for(poll, 0.5)  # answered as soon as the update arrives

    assert len(updates) == 1
    message = updates[0].message
    assert message is not None
    assert message.text == "/start"
    assert message.entities is not None
    assert message.entities[0].type == "bot_command"
    assert message.from_user is not None
    assert message.from_user.username == "aziz"

    menu = await bot.send_message(CLIENT, "Menu", reply_markup=keyboard("new"))
    callback_id = standin.press(CLIENT, standin.last(CLIENT), "new")
    updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1)

    assert len(updates) == 1
    query = updates[0].callback_query
    assert query is not None
    assert query.id == callback_id
    assert query.data == "new"
    assert query.message is not None
    assert query.message.message_id == menu.message_id

    assert await bot.answer_callback_query(query.id, text="Creating…", show_alert=True)
    assert standin.callback_answers(callback_id) == [
        {"text": "Creating…", "show_alert": True, "url": None, "cache_time": 0}
    ]
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)

    assert await bot.get_updates(offset=updates[-1].update_id + 1) == []  # confirmed


async def test_callback_answer_text_limit_and_button_checks(bot: Bot, standin: StandIn) -> None:
    await bot.send_message(CLIENT, "Menu", reply_markup=keyboard("a"))
    with pytest.raises(ValueError, match="no button 'b'"):
        standin.press(CLIENT, standin.last(CLIENT), "b")
    forged = standin.press_raw(CLIENT, CLIENT, standin.last(CLIENT)["message_id"], "admin:drop")

    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(forged, text="x" * 201)
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(CLIENT, "Menu", reply_markup=keyboard("x" * 65))


async def test_edited_message_and_privacy(bot: Bot, standin: StandIn) -> None:
    standin.add_group(-4006, "Private mode", members=[CLIENT], bot_status="member")
    standin.send_message(CLIENT, -4006, text="chatter the bot must not see")
    standin.send_message(CLIENT, -4006, text="/help")
    original = standin.send_message(CLIENT, text="typo")
    standin.edit_message(CLIENT, CLIENT, original["message_id"], "fixed")

    updates = await bot.get_updates()

    texts = [u.message.text for u in updates if u.message]
    assert texts == ["/help", "typo"]
    assert updates[-1].edited_message is not None
    assert updates[-1].edited_message.text == "fixed"


async def test_chat_members(bot: Bot, standin: StandIn) -> None:
    operator = await bot.get_chat_member(DESK, OPERATOR)
    outsider = await bot.get_chat_member(DESK, CLIENT)
    me = await bot.get_chat_member(DESK, standin.bot_id)
    admins = await bot.get_chat_administrators(DESK)

    assert operator.status == "administrator"
    assert outsider.status == "left"
    assert me.status == "administrator"
    assert getattr(me, "can_manage_topics", None) is True
    assert {a.user.id for a in admins} == {OPERATOR, standin.bot_id}

    standin.set_member_status(DESK, CLIENT, "kicked")
    assert (await bot.get_chat_member(DESK, CLIENT)).status == "kicked"
    chat = await bot.get_chat(DESK)
    assert chat.is_forum
    assert chat.type == "supergroup"


async def test_bot_removed_from_group(bot: Bot, standin: StandIn) -> None:
    standin.set_member_status(DESK, standin.bot_id, "kicked")

    with pytest.raises(TelegramForbiddenError, match="bot was kicked from the supergroup chat"):
        await bot.send_message(DESK, "hello")
    updates = await bot.get_updates(allowed_updates=["my_chat_member"])
    assert updates[0].my_chat_member is not None
    assert updates[0].my_chat_member.new_chat_member.status == "kicked"


async def test_commands_per_scope_and_language(bot: Bot, standin: StandIn) -> None:
    commands = [BotCommand(command="start", description="Начать")]
    await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(), language_code="ru")

    got = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="ru")
    assert [c.command for c in got] == ["start"]
    assert await bot.get_my_commands() == []
    assert standin.my_commands({"type": "all_private_chats"}, "ru")[0]["description"] == "Начать"
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])


async def test_wait_helpers_explain_timeouts(bot: Bot, standin: StandIn) -> None:
    await bot.send_message(CLIENT, "one")

    posted = await standin.wait_sent(CLIENT, 1, timeout=0.2)
    assert posted[0]["text"] == "one"
    with pytest.raises(TimeoutError, match=r"(?s)expected 2 bot messages.*sendMessage"):
        await standin.wait_sent(CLIENT, 2, timeout=0.1)
    with pytest.raises(LookupError, match="posted nothing"):
        standin.last(OPERATOR)

    standin.send_message(CLIENT, text="nobody polls")
    with pytest.raises(TimeoutError, match="updates not yet fetched by the bot: 1"):
        await standin.idle(timeout=0.1)


async def test_dispatcher_end_to_end(bot: Bot, standin: StandIn) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        await message.answer("Hello!", reply_markup=keyboard("new"))

    @router.callback_query(F.data == "new")
    async def new_ticket(query: CallbackQuery) -> None:
        await query.answer("Describe the problem")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    try:
        standin.send_message(CLIENT, text="/start")
        hello = (await standin.wait_sent(CLIENT, 1))[0]
        callback_id = standin.press(CLIENT, hello, "new")
        await standin.wait_for(lambda: standin.callback_answers(callback_id))
        await standin.idle()
    finally:
        await dispatcher.stop_polling()
        await polling

    assert hello["text"] == "Hello!"
    assert standin.callback_answers(callback_id)[0]["text"] == "Describe the problem"
    assert set(standin.allowed_updates or []) == {"message", "callback_query"}
    assert standin.unknown_methods == []


# ---------------------------------------------------------------- the world without HTTP


def test_world_misuse_raises_value_error() -> None:
    world = StandIn()
    world.add_user(1, "A")
    with pytest.raises(ValueError, match="unknown user"):
        world.send_message(2, text="hi")
    with pytest.raises(ValueError, match="exactly one"):
        world.send_message(1, text="hi", photo=True)
    world.add_group(-5, "G")
    with pytest.raises(ValueError, match="not a member"):
        world.send_message(1, -5, text="hi")


@pytest.mark.parametrize(
    ("text", "mode", "plain", "entities"),
    [
        ("<b>bold <i>both</i></b>", "HTML", "bold both", [("bold", 0, 9), ("italic", 5, 4)]),
        ('<a href="https://t.me">link</a>', "HTML", "link", [("text_link", 0, 4)]),
        ("a & b &foo; &#33;", "HTML", "a & b &foo; !", []),
        ("*bold* and \\. dot", "MarkdownV2", "bold and . dot", [("bold", 0, 4)]),
        ("[site](https://a.b/c-d)", "MarkdownV2", "site", [("text_link", 0, 4)]),
        ("`x.y` _it_", "Markdown", "x.y it", [("code", 0, 3), ("italic", 4, 2)]),
        ("😀 <b>x</b>", "HTML", "😀 x", [("bold", 3, 1)]),
    ],
)
def test_parse_modes(
    text: str, mode: str, plain: str, entities: list[tuple[str, int, int]]
) -> None:
    formatted = parse(text, mode, None)
    assert formatted.text == plain
    assert [(e["type"], e["offset"], e["length"]) for e in formatted.entities] == entities


@pytest.mark.parametrize(
    ("text", "mode", "error"),
    [
        ("<b>open", "HTML", 'end tag corresponding to start tag "b"'),
        ("<b>x</i>", "HTML", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("</b>", "HTML", "Unexpected end tag"),
        ("<script>x</script>", "HTML", 'Unsupported start tag "script"'),
        ("Ticket #1.", "MarkdownV2", "Character '#' is reserved"),
        ("*bold", "MarkdownV2", "Can't find end of Bold entity"),
        ("_open", "Markdown", "Can't find end of the entity starting at byte offset 0"),
    ],
)
def test_parse_errors(text: str, mode: str, error: str) -> None:
    with pytest.raises(ApiError, match="can't parse entities") as caught:
        parse(text, mode, None)
    assert error in caught.value.description
    assert caught.value.status == 400
