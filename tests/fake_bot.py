"""A fake aiogram Bot for the delivery tests: calling it with a method object returns what
Telegram would (aiogram's own result objects) or raises what aiogram raises, with no HTTP.

    bot = FakeBot(forum=True)
    bot.fail("sendMessage", retry_after(5))                 # the next sendMessage gets a 429
    bot.fail("copyMessage", server_error, times=2, chat_id=42)
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
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
    SendPhoto,
    TelegramMethod,
)
from aiogram.types import Chat, ChatFullInfo, ForumTopic, Message, MessageId
from pydantic import ValidationError

Raise = Callable[[TelegramMethod[Any]], BaseException]
Hook = Callable[[TelegramMethod[Any]], Awaitable[None]]


def retry_after(seconds: int) -> Raise:
    return lambda m: TelegramRetryAfter(m, "Too Many Requests: retry later", seconds)


def server_error(m: TelegramMethod[Any]) -> BaseException:
    return TelegramServerError(m, "Internal Server Error")


def network_error(m: TelegramMethod[Any]) -> BaseException:
    return TelegramNetworkError(m, "Request timeout error")


def timeout(m: TelegramMethod[Any]) -> BaseException:
    return TimeoutError()


def forbidden(text: str = "Forbidden: bot was blocked by the user") -> Raise:
    return lambda m: TelegramForbiddenError(m, text)


def bad_request(text: str) -> Raise:
    return lambda m: TelegramBadRequest(m, f"Bad Request: {text}")


def not_found(m: TelegramMethod[Any]) -> BaseException:
    return TelegramNotFound(m, "Not Found")


def unauthorized(m: TelegramMethod[Any]) -> BaseException:
    return TelegramUnauthorizedError(m, "Unauthorized")


def migrated(new_chat_id: int) -> Raise:
    return lambda m: TelegramMigrateToChat(m, "group chat was upgraded", new_chat_id)


def undecodable(m: TelegramMethod[Any]) -> BaseException:
    return ClientDecodeError("Failed to decode object", ValueError("no JSON"), "<html>502</html>")


def invalid(m: TelegramMethod[Any]) -> BaseException:
    try:
        SendMessage.model_validate({})
    except ValidationError as exc:
        return exc
    raise AssertionError("an empty SendMessage validated")


def unexpected(m: TelegramMethod[Any]) -> BaseException:
    return RuntimeError("something nobody foresaw")


class Crash(BaseException):
    """The process dies in the middle of a call (nothing catches a BaseException)."""


def crash(m: TelegramMethod[Any]) -> BaseException:
    return Crash()


@dataclass
class Fault:
    api_method: str
    make: Raise
    times: int
    match: dict[str, Any]

    def applies(self, method: TelegramMethod[Any]) -> bool:
        return (
            self.times != 0
            and method.__api_method__ == self.api_method
            and all(getattr(method, k, None) == v for k, v in self.match.items())
        )


@dataclass
class FakeBot:
    forum: bool = False
    calls: list[TelegramMethod[Any]] = field(default_factory=list)
    # The calls Telegram carried out (what a user would see), in order.
    delivered: list[TelegramMethod[Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    hooks: dict[str, Hook] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    _threads: itertools.count[int] = field(default_factory=lambda: itertools.count(500))

    def as_bot(self) -> Bot:
        return cast(Bot, self)

    def fail(self, api_method: str, make: Raise, *, times: int = 1, **match: Any) -> None:
        """The next `times` calls of the method (whose fields equal `match`) raise; -1: all."""
        self.faults.append(Fault(api_method, make, times, match))

    def on(self, api_method: str, hook: Hook) -> None:
        """Run `hook` when the method is called, before it is answered."""
        self.hooks[api_method] = hook

    def of(self, api_method: str) -> list[Any]:
        return [c for c in self.calls if c.__api_method__ == api_method]

    def sent(self, api_method: str | None = None) -> list[Any]:
        return [c for c in self.delivered if api_method in (None, c.__api_method__)]

    async def __call__(
        self, method: TelegramMethod[Any], request_timeout: int | None = None
    ) -> Any:
        self.calls.append(method)
        hook = self.hooks.get(method.__api_method__)
        if hook is not None:
            await hook(method)
        for fault in self.faults:
            if fault.applies(method):
                fault.times -= 1
                raise fault.make(method)
        result = self._answer(method)
        self.delivered.append(method)
        return result

    def _message(self, chat_id: Any, text: str | None = None) -> Message:
        chat_type = "private" if int(chat_id) > 0 else "supergroup"
        return Message(
            message_id=next(self._ids),
            date=datetime(2026, 3, 17, tzinfo=UTC),
            chat=Chat(id=int(chat_id), type=chat_type),
            text=text,
        )

    def _answer(self, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, SendMessage):
            return self._message(method.chat_id, method.text)
        if isinstance(method, SendPhoto | SendDocument):
            return self._message(method.chat_id)
        if isinstance(method, EditMessageText | EditMessageCaption):
            return self._message(method.chat_id)
        if isinstance(method, CopyMessage):
            return MessageId(message_id=next(self._ids))
        if isinstance(method, CopyMessages):
            return [MessageId(message_id=next(self._ids)) for _ in method.message_ids]
        if isinstance(method, CreateForumTopic):
            return ForumTopic(
                message_thread_id=next(self._threads), name=method.name, icon_color=7322096
            )
        if isinstance(method, EditForumTopic):
            return True
        if isinstance(method, GetChat):
            return ChatFullInfo(
                id=int(method.chat_id),
                type="supergroup",
                is_forum=self.forum,
                accent_color_id=0,
                max_reaction_count=11,
                accepted_gift_types={
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            )
        raise AssertionError(f"the fake bot does not know {method.__api_method__}")
