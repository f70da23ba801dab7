"""The gateway turns every outcome of a Bot API call into a typed result; nothing escapes."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import EditMessageText, GetChat, SendMessage, TelegramMethod
from aiogram.types import ReplyParameters

from scheduler.gateway import (
    BackOff,
    Blocked,
    ChatMigrated,
    Gateway,
    GiveUp,
    MessageGone,
    NotModified,
    Outcome,
    RetryAfter,
    Sent,
    TopicGone,
)
from tests import fake_bot as fb
from tests.fake_bot import FakeBot

CLIENT = 700_000_001
DESK = -100123


async def outcome_of(
    make: fb.Raise, method: TelegramMethod[Any] | None = None, *, api: str = "sendMessage"
) -> Outcome:
    bot = FakeBot()
    bot.fail(api, make)
    return await Gateway(bot.as_bot()).call(method or SendMessage(chat_id=CLIENT, text="x"))


async def test_sent_carries_the_result() -> None:
    outcome = await Gateway(FakeBot().as_bot()).call(SendMessage(chat_id=CLIENT, text="x"))
    assert isinstance(outcome, Sent)
    assert outcome.result.message_id == 100


async def test_flood_control_says_when() -> None:
    assert await outcome_of(fb.retry_after(7)) == RetryAfter(7.0)


@pytest.mark.parametrize(
    "make",
    [
        fb.server_error,
        fb.network_error,
        fb.timeout,
        fb.undecodable,
        lambda m: TelegramAPIError(m, "I'm a teapot"),
        fb.unexpected,
    ],
    ids=["5xx", "network", "timeout", "undecodable answer", "unknown status", "anything else"],
)
async def test_what_may_pass_backs_off(make: fb.Raise) -> None:
    assert isinstance(await outcome_of(make), BackOff)


@pytest.mark.parametrize(
    "make",
    [
        fb.not_found,
        fb.unauthorized,
        fb.invalid,
        fb.bad_request("message text is empty"),
        fb.bad_request("chat not found"),
        fb.forbidden("Forbidden: bot was kicked from the supergroup chat"),
    ],
    ids=["404", "401", "validation", "empty text", "chat not found", "403 in a group"],
)
async def test_what_can_never_succeed_gives_up(make: fb.Raise) -> None:
    method = SendMessage(chat_id=DESK, text="x")
    outcome = await outcome_of(make, method)
    assert isinstance(outcome, GiveUp)
    assert outcome.reason


@pytest.mark.parametrize(
    "text", ["Forbidden: bot was blocked by the user", "Forbidden: user is deactivated"]
)
async def test_403_in_a_private_chat_is_a_blocked_client(text: str) -> None:
    assert isinstance(await outcome_of(fb.forbidden(text)), Blocked)


async def test_a_migrated_group_gives_its_new_id() -> None:
    method = SendMessage(chat_id=-123, text="x")
    assert await outcome_of(fb.migrated(-100_999), method) == ChatMigrated(-100_999)


@pytest.mark.parametrize("text", ["message thread not found", "TOPIC_DELETED", "TOPIC_CLOSED"])
async def test_a_topic_gone(text: str) -> None:
    method = SendMessage(chat_id=DESK, text="x", message_thread_id=5)
    assert isinstance(await outcome_of(fb.bad_request(text), method), TopicGone)


async def test_a_message_to_edit_gone() -> None:
    method = EditMessageText(chat_id=DESK, message_id=5, text="x")
    outcome = await outcome_of(
        fb.bad_request("message to edit not found"), method, api="editMessageText"
    )
    assert isinstance(outcome, MessageGone)


@pytest.mark.parametrize(
    "text",
    [
        "message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message",
        "TOPIC_NOT_MODIFIED",
    ],
)
async def test_not_modified_counts_as_sent(text: str) -> None:
    method = EditMessageText(chat_id=DESK, message_id=5, text="x")
    assert await outcome_of(fb.bad_request(text), method, api="editMessageText") == NotModified()


async def test_a_reply_to_a_message_gone_is_sent_without_the_reply() -> None:
    bot = FakeBot()
    bot.fail("sendMessage", fb.bad_request("message to be replied not found"))
    method = SendMessage(chat_id=CLIENT, text="x", reply_parameters=ReplyParameters(message_id=3))
    outcome = await Gateway(bot.as_bot()).call(method)
    assert isinstance(outcome, Sent)
    first, second = bot.calls
    assert first.reply_parameters is not None
    assert second.reply_parameters is None and second.text == "x"


async def test_text_telegram_cannot_parse_is_sent_plain() -> None:
    bot = FakeBot()
    bot.fail("sendMessage", fb.bad_request("can't parse entities: unclosed tag at offset 3"))
    outcome = await Gateway(bot.as_bot()).call(
        SendMessage(chat_id=CLIENT, text="<b>x", parse_mode="HTML")
    )
    assert isinstance(outcome, Sent)
    assert [c.parse_mode for c in bot.calls] == ["HTML", None]


async def test_a_fallback_that_fails_again_is_classified_too() -> None:
    bot = FakeBot()
    bot.fail("sendMessage", fb.bad_request("can't parse entities"), times=2)
    outcome = await Gateway(bot.as_bot()).call(
        SendMessage(chat_id=CLIENT, text="<b>x", parse_mode="HTML")
    )
    assert isinstance(outcome, GiveUp)  # no parse mode left to drop
    assert len(bot.calls) == 2


async def test_a_get_chat_is_a_call_like_any_other() -> None:
    outcome = await Gateway(FakeBot(forum=True).as_bot()).call(GetChat(chat_id=DESK))
    assert isinstance(outcome, Sent)
    assert outcome.result.is_forum
