"""Decide, commit, then speak.

While an update is handled, whatever a handler says to Telegram (a reply, a pop-up, a changed
keyboard, a prompt) is held back by a request middleware on the bot's session and said only
after the update's transaction has committed. So no handler holds a transaction across a
Telegram call, and no failed call can undo a decision: a reply that Telegram refuses or drops
(429, 5xx, a timeout, anything) is queued in the durable outbox with whatever followed it, so
it is still said, in order; a pop-up that fails in the operator group is posted there instead,
so the operator learns what was done; a failed keyboard change is only logged.

Calls that read (getChatMember for the access check, getChat, getFile, ...) pass at once:
handlers need their answers, and they decide nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    CopyMessage,
    CopyMessages,
    ForwardMessage,
    SendAnimation,
    SendAudio,
    SendContact,
    SendDocument,
    SendLocation,
    SendMediaGroup,
    SendMessage,
    SendPhoto,
    SendVideo,
    SendVoice,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType

if TYPE_CHECKING:
    from aiogram.methods import Response

log = logging.getLogger(__name__)

# Methods that only read: they go through at once, inside the update.
READING = frozenset(
    {
        "getMe",
        "getChat",
        "getChatMember",
        "getChatAdministrators",
        "getChatMemberCount",
        "getFile",
        "getUpdates",
        "getWebhookInfo",
        "getMyCommands",
        "getForumTopicIconStickers",
        "getUserProfilePhotos",
    }
)

# Methods that say something new: when one fails it is queued, and so is all that follows it.
SAYING = (
    SendMessage,
    CopyMessage,
    CopyMessages,
    ForwardMessage,
    SendPhoto,
    SendDocument,
    SendVideo,
    SendVoice,
    SendAudio,
    SendAnimation,
    SendMediaGroup,
    SendContact,
    SendLocation,
)


@dataclass
class Held:
    """What one update has said so far, and where it was said."""

    operator_chat_id: int | None
    chat_id: int | None = None
    thread_id: int | None = None
    # How a pop-up that failed reads when it is posted in the operator group instead.
    posted: Callable[[str], str] = str
    calls: list[TelegramMethod[Any]] = field(default_factory=list)
    # The update queued something for the delivery worker (beyond these calls).
    queued: bool = False

    @property
    def in_operator_chat(self) -> bool:
        return self.chat_id is not None and self.chat_id == self.operator_chat_id


_held: ContextVar[Held | None] = ContextVar("held_speech", default=None)
# Set while an update says what it held: nobody reads what those calls return.
_unread: ContextVar[bool] = ContextVar("result_unread", default=False)


def result_unread() -> bool:
    """True while the calls being made are ones whose result nobody reads (the session then
    checks that Telegram accepted them without building the returned objects)."""
    return _unread.get()


@contextmanager
def holding(held: Held) -> Iterator[Held]:
    token = _held.set(held)
    try:
        yield held
    finally:
        _held.reset(token)


class HoldSpeech(BaseRequestMiddleware):
    """On the bot's session: inside an update, hold every call that says something."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        held = _held.get()
        if held is None or method.__api_method__ in READING:
            return await make_request(bot, method)
        held.calls.append(method)
        # Handlers never use what a reply returns; the call is made after the commit.
        return None  # type: ignore[return-value]


def install(bot: Bot) -> None:
    if not any(isinstance(m, HoldSpeech) for m in bot.session.middleware):
        bot.session.middleware(HoldSpeech())


def durable(method: TelegramMethod[Any]) -> bool:
    """A call kept in the outbox (leased to this process) in the update's own transaction, so
    that a crash after the commit cannot lose it: the restarted bot sends what was not sent."""
    return isinstance(method, SAYING)


SentHook = Callable[[int], Awaitable[None]]


@contextmanager
def _reading_nothing() -> Iterator[None]:
    token = _unread.set(True)
    try:
        yield
    finally:
        _unread.reset(token)


async def speak(
    bot: Bot,
    held: Held,
    kept: dict[int, int] | None = None,
    sent: SentHook | None = None,
) -> tuple[list[TelegramMethod[Any]], list[int]]:
    """Say what was held, after the commit. `kept` maps a call's place in `held.calls` to its
    outbox row, and `sent` records such a row as sent. Returns what could not be said now and
    is to be queued in the outbox (in order), and the kept rows left for the delivery worker.

    What says something new goes out one call after another, in order; the pop-ups go out
    beside it, and so do the changes (a changed keyboard, an edit), each in their own order: the
    acknowledgement after a button does not wait for the pop-up and the keyboard change, and
    the chat's next update waits one round trip for them, not one for each."""
    kept = kept or {}
    # By the call's place in held.calls: what is to be queued instead, and kept rows left.
    later: dict[int, list[TelegramMethod[Any]]] = {}
    left: dict[int, int] = {}

    async def say(indices: list[int]) -> None:
        failed = False
        for index in indices:
            method, row = held.calls[index], kept.get(index)
            if failed and isinstance(method, SAYING):
                # Something new failed before: this waits its turn in the outbox behind it.
                if row is None:
                    later[index] = [method]
                else:
                    left[index] = row
                continue
            try:
                await bot(method)
            except Exception as exc:  # whatever happens, the decision stands
                log.warning("%s after the commit failed: %r", method.__api_method__, exc)
                failed = True
                if row is None:
                    later[index] = _instead(method, held)
                else:
                    left[index] = row
                continue
            if row is not None and sent is not None:
                await sent(row)

    lanes: tuple[list[int], list[int], list[int]] = ([], [], [])  # pop-ups, changes, messages
    for index, method in enumerate(held.calls):
        lane = (
            2 if isinstance(method, SAYING) else 0 if isinstance(method, AnswerCallbackQuery) else 1
        )
        lanes[lane].append(index)
    busy = [lane for lane in lanes if lane]
    with _reading_nothing():
        if len(busy) == 1:
            await say(busy[0])
        else:
            # The pop-up first (it stops the button's clock); the changes and the new messages
            # beside it, each lane in its own order (cancelled together with the update). A
            # lane that fails (a sent mark not written) lets the others finish, then raises.
            outcomes = await asyncio.gather(*(say(lane) for lane in busy), return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
    queued = [method for index in sorted(later) for method in later[index]]
    return queued, [left[index] for index in sorted(left)]


def _instead(method: TelegramMethod[Any], held: Held) -> list[TelegramMethod[Any]]:
    if isinstance(method, SAYING):
        return [method]
    if isinstance(method, AnswerCallbackQuery) and held.in_operator_chat and method.text:
        assert held.chat_id is not None
        return [
            SendMessage(
                chat_id=held.chat_id,
                message_thread_id=held.thread_id,
                text=held.posted(method.text),
            )
        ]
    return []
