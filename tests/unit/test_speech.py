"""Decide, commit, then speak: what a handler says is held by the request middleware and said
after the commit; what Telegram refuses then is returned to be queued (a reply with all that
follows it; a pop-up in the operator group as a message there), or dropped (a keyboard change,
a pop-up in a private chat). A fake Bot records the calls and fails the chosen ones."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import (
    AnswerCallbackQuery,
    CopyMessage,
    EditMessageReplyMarkup,
    EditMessageText,
    GetChat,
    GetChatMember,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)

from bot.speech import READING, SAYING, Held, HoldSpeech, holding, install, result_unread, speak

OPERATORS = -100123
CLIENT = 700_000_001
THREAD = 42

Failing = Callable[[TelegramMethod[Any]], BaseException | None]


class FakeBot:
    """Records every call; raises what `failing` returns for a call."""

    def __init__(self, failing: Failing = lambda method: None) -> None:
        self.failing = failing
        self.calls: list[TelegramMethod[Any]] = []

    async def __call__(
        self, method: TelegramMethod[Any], request_timeout: int | None = None
    ) -> Any:
        self.calls.append(method)
        error = self.failing(method)
        if error is not None:
            raise error
        return True


class Holding(FakeBot):
    """Notes when each call starts; answers the `held` ones only once `answered` is set."""

    def __init__(self, answered: asyncio.Event, *held: TelegramMethod[Any]) -> None:
        super().__init__()
        self.answered = answered
        self.held = [id(m) for m in held]
        self.started: list[TelegramMethod[Any]] = []

    async def __call__(
        self, method: TelegramMethod[Any], request_timeout: int | None = None
    ) -> Any:
        self.started.append(method)
        if id(method) in self.held:
            await self.answered.wait()
        return await super().__call__(method, request_timeout)


def fail_on(*methods: TelegramMethod[Any], error: BaseException | None = None) -> Failing:
    chosen = [id(m) for m in methods]

    def failing(method: TelegramMethod[Any]) -> BaseException | None:
        if id(method) in chosen:
            return error or RuntimeError("Telegram said no")
        return None

    return failing


def bot_of(fake: FakeBot) -> Bot:
    return cast(Bot, fake)


def reply(text: str, chat_id: int = CLIENT) -> SendMessage:
    return SendMessage(chat_id=chat_id, text=text)


def posted(text: str) -> str:
    return f"Dilnoza: {text}"


def in_group() -> Held:
    return Held(OPERATORS, chat_id=OPERATORS, thread_id=THREAD, posted=posted)


def in_private() -> Held:
    return Held(OPERATORS, chat_id=CLIENT, posted=posted)


# ---------------------------------------------------------------- speak


def saying(calls: list[TelegramMethod[Any]]) -> list[TelegramMethod[Any]]:
    return [c for c in calls if isinstance(c, SAYING)]


def beside(calls: list[TelegramMethod[Any]]) -> list[TelegramMethod[Any]]:
    return [c for c in calls if not isinstance(c, SAYING)]


async def test_held_calls_are_made_in_order_after_speak() -> None:
    """New messages one after another in order; the pop-up and the keyboard change in their
    own order beside them (the pop-up first)."""
    held = in_private()
    said: list[TelegramMethod[Any]] = [
        reply("one"),
        AnswerCallbackQuery(callback_query_id="q1", text="Готово"),
        EditMessageReplyMarkup(chat_id=CLIENT, message_id=5),
        CopyMessage(chat_id=CLIENT, from_chat_id=OPERATORS, message_id=9),
        reply("two"),
    ]
    held.calls.extend(said)
    bot = FakeBot()
    assert await speak(bot_of(bot), held) == ([], [])
    assert sorted(map(id, bot.calls)) == sorted(map(id, said))  # each once
    assert saying(bot.calls) == saying(said)
    assert beside(bot.calls) == beside(said)
    assert bot.calls[0] is said[1]


async def test_the_acknowledgement_does_not_wait_for_the_popup_and_the_keyboard() -> None:
    """After a button: the pop-up, the keyboard change and the new message are all on their
    way at once (one round trip, not three), the pop-up first; two new messages still wait for
    each other."""
    popup = AnswerCallbackQuery(callback_query_id="q1", text="Обращение №1001")
    markup = EditMessageReplyMarkup(chat_id=CLIENT, message_id=5)
    first, second = reply("Ваше обращение зарегистрировано"), reply("ещё")
    answered = asyncio.Event()
    bot = Holding(answered, popup, first)  # answered only once both are asked
    started = bot.started
    held = in_private()
    held.calls.extend([popup, markup, first, second])
    speaking = asyncio.create_task(speak(bot_of(bot), held))
    for _ in range(20):
        await asyncio.sleep(0)
    assert started[:3] == [popup, markup, first]  # the keyboard does not wait for the pop-up
    answered.set()
    assert await asyncio.wait_for(speaking, 5) == ([], [])
    assert started.index(second) > started.index(first)


async def test_changes_keep_their_order_among_themselves() -> None:
    """Two changes of one message (its text, then its keyboard) go out one after the other,
    beside the pop-up and the messages."""
    popup = AnswerCallbackQuery(callback_query_id="q1", text="Готово")
    text = EditMessageText(chat_id=OPERATORS, message_id=5, text="#1001")
    markup = EditMessageReplyMarkup(chat_id=OPERATORS, message_id=5)
    answered = asyncio.Event()
    bot = Holding(answered, text)
    started = bot.started
    held = in_group()
    held.calls.extend([popup, text, markup])
    speaking = asyncio.create_task(speak(bot_of(bot), held))
    for _ in range(20):
        await asyncio.sleep(0)
    assert started == [popup, text]  # the keyboard waits for the text's change
    answered.set()
    assert await asyncio.wait_for(speaking, 5) == ([], [])
    assert started == [popup, text, markup]


async def test_what_is_said_after_the_commit_is_marked_as_read_by_nobody() -> None:
    """The session then skips building the results (bot.session), also for the calls made
    after one failed; once speak returns, results are built as usual again."""
    seen: list[bool] = []

    class Watching(FakeBot):
        async def __call__(
            self, method: TelegramMethod[Any], request_timeout: int | None = None
        ) -> Any:
            seen.append(result_unread())
            return await super().__call__(method, request_timeout)

    held = in_private()
    held.calls.extend([reply("one"), AnswerCallbackQuery(callback_query_id="q1")])
    failing = fail_on(held.calls[0])
    assert not result_unread()
    await speak(bot_of(Watching(failing)), held)
    assert seen == [True, True]
    assert not result_unread()


async def test_nothing_held_nothing_said() -> None:
    bot = FakeBot()
    assert await speak(bot_of(bot), in_private()) == ([], [])
    assert bot.calls == []


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("anything"),
        TelegramNetworkError(method=reply("x"), message="Request timeout error"),
        TelegramServerError(method=reply("x"), message="Internal Server Error"),
        TelegramRetryAfter(method=reply("x"), message="Too Many Requests", retry_after=7),
    ],
    ids=["unexpected", "timeout", "5xx", "429"],
)
async def test_a_failed_reply_is_queued_with_everything_said_after_it(
    error: BaseException,
) -> None:
    first, failed, last = reply("first"), reply("second"), reply("last")
    copy = CopyMessage(chat_id=CLIENT, from_chat_id=OPERATORS, message_id=9)
    photo = SendPhoto(chat_id=CLIENT, photo="file-1")
    popup = AnswerCallbackQuery(callback_query_id="q1")
    markup = EditMessageReplyMarkup(chat_id=CLIENT, message_id=5)
    held = in_private()
    held.calls.extend([first, failed, popup, copy, markup, photo, last])
    bot = FakeBot(fail_on(failed, error=error))

    later, _ = await speak(bot_of(bot), held)

    assert later == [failed, copy, photo, last]
    # What says something new after the failure waits its turn in the outbox; the pop-up and
    # the keyboard change do not say anything new and are still tried at once.
    assert saying(bot.calls) == [first, failed]
    assert beside(bot.calls) == [popup, markup]


async def test_a_later_failure_after_the_queue_started_changes_nothing() -> None:
    failed, popup = reply("second"), AnswerCallbackQuery(callback_query_id="q1", text="ok")
    held = in_private()
    held.calls.extend([failed, popup, reply("third")])
    bot = FakeBot(lambda method: RuntimeError("down"))
    later, _ = await speak(bot_of(bot), held)
    assert later == [failed, held.calls[2]]  # the private pop-up is dropped


async def test_a_failed_popup_in_the_operator_group_is_posted_there() -> None:
    popup = AnswerCallbackQuery(callback_query_id="q1", text="Обращение №1001: в работе")
    held = in_group()
    held.calls.append(popup)
    bot = FakeBot(fail_on(popup))
    later, _ = await speak(bot_of(bot), held)
    assert later == [
        SendMessage(
            chat_id=OPERATORS,
            message_thread_id=THREAD,
            text="Dilnoza: Обращение №1001: в работе",
        )
    ]
    assert bot.calls == [popup]


async def test_a_failed_popup_after_a_failed_reply_is_posted_after_it() -> None:
    failed = reply("Принято", chat_id=OPERATORS)
    popup = AnswerCallbackQuery(callback_query_id="q1", text="Готово")
    held = in_group()
    held.calls.extend([failed, popup])
    later, _ = await speak(bot_of(FakeBot(lambda method: RuntimeError("down"))), held)
    assert later == [
        failed,
        SendMessage(chat_id=OPERATORS, message_thread_id=THREAD, text="Dilnoza: Готово"),
    ]


async def test_a_failed_popup_without_a_text_in_the_group_is_dropped() -> None:
    popup = AnswerCallbackQuery(callback_query_id="q1")
    held = in_group()
    held.calls.append(popup)
    assert await speak(bot_of(FakeBot(fail_on(popup))), held) == ([], [])


async def test_a_failed_popup_in_a_private_chat_is_dropped() -> None:
    popup = AnswerCallbackQuery(callback_query_id="q1", text="Спасибо!", show_alert=True)
    held = in_private()
    held.calls.append(popup)
    bot = FakeBot(fail_on(popup))
    assert await speak(bot_of(bot), held) == ([], [])
    assert bot.calls == [popup]


async def test_a_failed_keyboard_change_is_dropped() -> None:
    markup = EditMessageReplyMarkup(chat_id=OPERATORS, message_id=5)
    after = reply("после", chat_id=OPERATORS)
    held = in_group()
    held.calls.extend([markup, after])
    bot = FakeBot(fail_on(markup))
    assert await speak(bot_of(bot), held) == ([], [])
    assert bot.calls == [markup, after]


@pytest.mark.parametrize(
    ("held", "inside"),
    [
        (Held(OPERATORS, chat_id=OPERATORS), True),
        (Held(OPERATORS, chat_id=CLIENT), False),
        (Held(OPERATORS), False),
        (Held(None), False),
        (Held(None, chat_id=OPERATORS), False),
    ],
)
def test_in_operator_chat(held: Held, inside: bool) -> None:
    assert held.in_operator_chat is inside


# ---------------------------------------------------------------- the request middleware


class Next:
    """The next step of the bot session's request chain, recorded."""

    def __init__(self) -> None:
        self.calls: list[TelegramMethod[Any]] = []

    async def __call__(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        self.calls.append(method)
        return {"answered": method.__api_method__}


async def through(middleware: HoldSpeech, make_request: Next, method: Any) -> Any:
    return await middleware(make_request, bot_of(FakeBot()), method)


async def test_inside_an_update_what_says_something_is_held() -> None:
    middleware, make_request = HoldSpeech(), Next()
    said = [
        reply("one"),
        AnswerCallbackQuery(callback_query_id="q1"),
        EditMessageReplyMarkup(chat_id=CLIENT, message_id=5),
    ]
    with holding(in_private()) as held:
        for method in said:
            assert await through(middleware, make_request, method) is None
    assert held.calls == said
    assert make_request.calls == []


async def test_reading_methods_are_not_held() -> None:
    middleware, make_request = HoldSpeech(), Next()
    member = GetChatMember(chat_id=OPERATORS, user_id=9001)
    chat = GetChat(chat_id=OPERATORS)
    with holding(in_group()) as held:
        assert await through(middleware, make_request, member) == {"answered": "getChatMember"}
        assert await through(middleware, make_request, chat) == {"answered": "getChat"}
    assert held.calls == []
    assert make_request.calls == [member, chat]
    assert {"getChatMember", "getChat", "getFile", "getMe"} <= READING


async def test_outside_an_update_nothing_is_held() -> None:
    middleware, make_request = HoldSpeech(), Next()
    message = reply("from the delivery worker")
    assert await through(middleware, make_request, message) == {"answered": "sendMessage"}
    assert make_request.calls == [message]


async def test_holding_ends_with_its_block_even_when_the_handler_fails() -> None:
    middleware, make_request = HoldSpeech(), Next()
    with pytest.raises(ValueError, match="handler failed"), holding(in_private()):
        raise ValueError("handler failed")
    message = reply("after")
    assert await through(middleware, make_request, message) is not None
    assert make_request.calls == [message]


async def test_install_adds_the_middleware_once() -> None:
    bot = Bot(token="42:TEST")
    try:
        install(bot)
        install(bot)
        assert sum(isinstance(m, HoldSpeech) for m in bot.session.middleware) == 1
    finally:
        await bot.session.close()


async def test_kept_replies_are_marked_sent_or_left_to_the_outbox() -> None:
    """Replies kept in the outbox (by their place among the held calls): each one said is
    recorded as sent; after a failure, the failed one and every later kept one are left for
    the delivery worker, in order, and nothing is queued twice."""
    first, popup, failed, last = (
        reply("first"),
        AnswerCallbackQuery(callback_query_id="q1"),
        reply("second"),
        reply("last"),
    )
    held = in_private()
    held.calls.extend([first, popup, failed, last])
    recorded: list[int] = []

    async def sent(row: int) -> None:
        recorded.append(row)

    bot = FakeBot(fail_on(failed))
    later, left = await speak(bot_of(bot), held, {0: 11, 2: 12, 3: 13}, sent)

    assert recorded == [11]
    assert left == [12, 13]
    assert later == []
    assert saying(bot.calls) == [first, failed]
    assert beside(bot.calls) == [popup]


async def test_a_mark_that_fails_lets_the_other_lanes_finish_then_raises() -> None:
    """A sent mark that could not be written fails the speech, as it always did, but only
    after the pop-up and the keyboard change beside it were made: no lane is left running."""
    popup = AnswerCallbackQuery(callback_query_id="q1", text="Готово")
    markup = EditMessageReplyMarkup(chat_id=CLIENT, message_id=5)
    answer = reply("answer")
    answered = asyncio.Event()
    bot = Holding(answered, popup, markup)  # answered only after the mark failed

    async def sent(row: int) -> None:
        answered.set()
        raise RuntimeError("database is locked")

    held = in_private()
    held.calls.extend([popup, markup, answer])
    with pytest.raises(RuntimeError, match="database is locked"):
        await asyncio.wait_for(speak(bot_of(bot), held, {2: 21}, sent), 5)
    assert [id(m) for m in bot.calls] == [id(answer), id(popup), id(markup)]
