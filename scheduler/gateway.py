"""The one gateway to the Bot API for delivery: it makes a call and turns every outcome into a
typed result. Nothing raised by the call escapes; what is not recognised becomes BackOff (may
pass: the attempt cap ends it) or GiveUp (can never succeed)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from pydantic import ValidationError

log = logging.getLogger(__name__)

# Within the worker's lease (scheduler.delivery.LEASE), so a slow call never outlives it.
CALL_TIMEOUT = 20


@dataclass(frozen=True)
class Sent:
    result: Any


@dataclass(frozen=True)
class NotModified:
    """An edit that changes nothing: what it asked for is already there (counts as sent)."""


@dataclass(frozen=True)
class RetryAfter:
    """Flood control (429): Telegram says when."""

    seconds: float


@dataclass(frozen=True)
class BackOff:
    """May pass (5xx, network, timeout, an answer that does not parse, anything unknown)."""

    reason: str


@dataclass(frozen=True)
class GiveUp:
    """Can never succeed as it stands (a 400 that is not one of the cases below, 401, 404)."""

    reason: str


@dataclass(frozen=True)
class Blocked:
    """403 in a private chat: the user blocked the bot or deleted their account."""

    reason: str


@dataclass(frozen=True)
class ChatMigrated:
    """The group became a supergroup with a new id."""

    new_chat_id: int


@dataclass(frozen=True)
class TopicGone:
    """The forum topic was deleted or closed."""

    reason: str


@dataclass(frozen=True)
class MessageGone:
    """The message to edit is not there any more."""

    reason: str


Outcome = (
    Sent
    | NotModified
    | RetryAfter
    | BackOff
    | GiveUp
    | Blocked
    | ChatMigrated
    | TopicGone
    | MessageGone
)

NOT_MODIFIED = ("message is not modified", "topic_not_modified")
TOPIC_GONE = ("message thread not found", "topic_deleted", "topic_closed", "thread not found")
MESSAGE_GONE = ("message to edit not found",)
CANT_PARSE = "can't parse entities"


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


def _has(method: TelegramMethod[Any], name: str) -> bool:
    value = getattr(method, name, None)
    return value is not None and not isinstance(value, Default)


def _private_chat(method: TelegramMethod[Any]) -> bool:
    chat_id = getattr(method, "chat_id", None)
    return isinstance(chat_id, int) and chat_id > 0


@dataclass
class Gateway:
    bot: Bot
    timeout: int = CALL_TIMEOUT

    async def call(self, method: TelegramMethod[Any]) -> Outcome:
        try:
            return Sent(await self.bot(method, request_timeout=self.timeout))
        except TelegramRetryAfter as exc:
            return RetryAfter(float(exc.retry_after))
        except TelegramMigrateToChat as exc:
            return ChatMigrated(int(exc.migrate_to_chat_id))
        except TelegramBadRequest as exc:
            return await self._bad_request(method, exc)
        except TelegramForbiddenError as exc:
            if _private_chat(method):
                return Blocked(_reason(exc))
            return GiveUp(_reason(exc))
        except (TelegramNotFound, TelegramUnauthorizedError, TelegramEntityTooLarge) as exc:
            return GiveUp(_reason(exc))
        except (
            TelegramServerError,
            TelegramNetworkError,
            TelegramConflictError,
            TimeoutError,
            ClientDecodeError,
        ) as exc:
            return BackOff(_reason(exc))
        except TelegramAPIError as exc:  # a status aiogram does not classify
            return BackOff(_reason(exc))
        except ValidationError as exc:  # the call cannot be built as it stands
            return GiveUp(_reason(exc))
        except Exception as exc:
            log.exception("unexpected error from %s", method.__api_method__)
            return BackOff(_reason(exc))

    async def _bad_request(self, method: TelegramMethod[Any], exc: TelegramBadRequest) -> Outcome:
        text = exc.message.lower()
        if any(marker in text for marker in NOT_MODIFIED):
            return NotModified()
        if any(marker in text for marker in TOPIC_GONE):
            return TopicGone(_reason(exc))
        if any(marker in text for marker in MESSAGE_GONE):
            return MessageGone(_reason(exc))
        if "repl" in text and "not found" in text and _has(method, "reply_parameters"):
            # The message replied to is gone: the answer itself still matters.
            return await self.call(method.model_copy(update={"reply_parameters": None}))
        if CANT_PARSE in text and _has(method, "parse_mode"):
            # Better a plain text than a lost one.
            return await self.call(method.model_copy(update={"parse_mode": None}))
        return GiveUp(_reason(exc))
