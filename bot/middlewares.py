"""Per-update objects: one database session, the moment, the client's profile and locale."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.i18n import DeskI18n, guess_language
from storage.clients import ClientRepo
from storage.fsm import bind_update_session

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateContextMiddleware(BaseMiddleware):
    """Outer middleware on updates: the session is committed once at the end unless the
    handler failed; the delivery worker is woken so that what was queued goes out at once."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        i18n: DeskI18n,
        desk_language: str,
        wake: Callable[[], None],
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.i18n = i18n
        self.desk_language = desk_language
        self.wake = wake

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat = data.get("event_chat")
        now = self.clock.now()
        async with self.sessions() as session:
            data["session"] = session
            data["now"] = now
            locale = self.desk_language
            if user is not None and chat is not None and chat.type == "private" and not user.is_bot:
                client = await ClientRepo(session).get_or_create(
                    user.id,
                    language=guess_language(user.language_code),
                    telegram_name=user.full_name[:300],
                    now=now,
                )
                # A client who writes has unblocked the bot (if they ever blocked it).
                client.blocked_bot = False
                data["client"] = client
                locale = client.language
            with self.i18n.context(), self.i18n.use_locale(locale), bind_update_session(session):
                try:
                    result = await handler(event, data)
                except Exception:
                    await session.rollback()
                    update_id = event.update_id if isinstance(event, Update) else None
                    log.exception("update %s failed", update_id)
                    raise
                await session.commit()
        self.wake()
        return result


class InFlight(BaseMiddleware):
    """Counts updates being handled (outermost, so a count of zero means committed too): a
    graceful stop and the tests wait for it to reach zero."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        self.count += 1
        try:
            return await handler(event, data)
        finally:
            self.count -= 1
