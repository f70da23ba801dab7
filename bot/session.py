"""The bot's HTTP session: aiogram's aiohttp session, with each result model kept alive.

aiogram reads every answer through `Response[<the method's result type>]`, a pydantic generic
model made on first use. pydantic caches those models weakly: once the garbage collector has
run, the next call builds the model again, which costs 5 to 7 ms of CPU (measured here), more
than the rest of a dialogue step. Keeping a reference to each one makes every later call find
it in pydantic's cache (0.05 ms)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any, cast

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession, Response
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import TelegramType

from bot.speech import result_unread

# One model per result type, for the life of the process (a few dozen at most).
_KEPT: dict[Any, type[Any]] = {}

# Bot API calls in flight at once (aiohttp's connections; aiogram's default is 100). Under
# load every chat being answered has a call or two in flight (a reply beside its pop-up), and
# past the limit a call waits in the connector's queue behind all the others: at 200 busy
# chats the acknowledgement of a request (a pop-up, a keyboard change and the message at once)
# waited there longer than it took to decide and commit.
CONNECTIONS = 400

# The answer to a call whose result nobody reads, once Telegram has said it took the call.
_TAKEN: Response[Any] = Response[Any](ok=True)


def keep_response_model(method: TelegramMethod[Any]) -> None:
    returning = method.__returning__
    if returning not in _KEPT:
        _KEPT[returning] = Response[returning]  # type: ignore[valid-type]


def received_bodies(session: BaseSession) -> dict[int, dict[str, Any]]:
    """The updates of the last getUpdates answer as Telegram sent them, by update id (taken:
    asked again, empty), for the inbox to store as they came instead of dumping aiogram's
    models again; empty for a session that does not keep them."""
    if isinstance(session, DeskSession):
        bodies, session.updates_as_sent = session.updates_as_sent, {}
        return bodies
    return {}


class DeskSession(AiohttpSession):
    """Also counts Telegram's flood-control answers (429), whichever call got them, makes
    what was committed durable before any call tells Telegram about it (`durable`: the SQLite
    group commit, storage.db.durable_barrier), and keeps the last getUpdates answer's updates
    as they were sent (`received_bodies`)."""

    on_flood: Callable[[], None] | None = None
    durable: Callable[[], Awaitable[None]] | None = None

    def __init__(self, *, limit: int = CONNECTIONS, **kwargs: Any) -> None:
        super().__init__(limit=limit, **kwargs)
        self.updates_as_sent: dict[int, dict[str, Any]] = {}

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        if self.durable is not None:
            await self.durable()
        return await super().make_request(bot, method, timeout)

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        keep_response_model(method)
        if status_code == HTTPStatus.TOO_MANY_REQUESTS and self.on_flood is not None:
            self.on_flood()
        if result_unread() and HTTPStatus.OK <= status_code <= HTTPStatus.IM_USED:
            try:
                answer = self.json_loads(content)
            except Exception:  # aiogram's own check reports it
                answer = None
            if isinstance(answer, dict) and answer.get("ok") is True:
                return cast(Response[TelegramType], _TAKEN)
        response = super().check_response(bot, method, status_code, content)
        if isinstance(method, GetUpdates):
            self.updates_as_sent = _updates_as_sent(self.json_loads(content))
        return response


def _updates_as_sent(answer: Any) -> dict[int, dict[str, Any]]:
    result = answer.get("result") if isinstance(answer, dict) else None
    if not isinstance(result, list):
        return {}
    return {
        body["update_id"]: body
        for body in result
        if isinstance(body, dict) and isinstance(body.get("update_id"), int)
    }
