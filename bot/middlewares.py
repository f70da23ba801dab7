"""Per-update objects: one database session, the moment, the client's profile and locale."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from datetime import datetime, timedelta
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import TelegramObject, Update, User
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.i18n import DeskI18n, guess_language
from bot.inbox import InboxTicket
from bot.sent_marks import SentMarks
from bot.services.desk import Desk
from bot.services.outgoing import Outgoing, load_method
from bot.services.tickets import TicketService
from bot.speech import Held, durable, holding, speak
from bot.vocabulary import Place, Purpose
from storage.clients import ClientRepo
from storage.fsm import HeldStorage, bind_update_session, hold_writes
from storage.inbox import InboxRepo
from storage.models import OutboxItem
from storage.outbox import ADDED, OutboxRepo

# How long a reply kept in the outbox stays this process's to send before the delivery worker
# may take it (a process that died is noticed sooner: scheduler.delivery's liveness check).
REPLY_LEASE = timedelta(seconds=30)
# What an update queues for its own chat that is said at once after its replies.
AT_ONCE = frozenset({Purpose.REGISTERED, Purpose.NOTICE})

log = logging.getLogger(__name__)

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class UpdateContextMiddleware(BaseMiddleware):
    """Outer middleware on updates: one session and one ticket service per update; the session
    is committed once at the end unless the handler failed, and only then is anything said
    (bot.speech); what could not be said is queued in the outbox; the delivery worker is woken
    so that what was queued goes out at once, and the alert scheduler is told of the earliest
    alert the update planned (`planned`), so that it wakes in time for it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        i18n: DeskI18n,
        desk: Desk,
        wake: Callable[[], None],
        fsm: BaseStorage | None = None,
        planned: Callable[[datetime], None] | None = None,
        owner: str = "bot",
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.i18n = i18n
        self.desk = desk
        self.wake = wake
        self.held_fsm = fsm if isinstance(fsm, HeldStorage) else None
        self.planned = planned
        # Whose lease the replies kept in the outbox carry: the delivery worker's (process) id.
        self.owner = owner
        # Replies sent at once are marked sent together (bot.sent_marks).
        self.sent = SentMarks(sessions, clock, owner)

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat = data.get("event_chat")
        held = Held(
            self.desk.operator_chat_id,
            chat_id=chat.id if chat is not None else None,
            thread_id=data.get("event_thread_id"),
            posted=self._posted(user),
        )
        now = self.clock.now()
        kept: dict[int, int] = {}
        with holding(held), hold_writes() as fsm_writes:
            result = await self._decide(handler, event, data, user, chat, now, held, kept)
        inbox: InboxTicket | None = data.get("inbox")
        if inbox is not None:
            if inbox.duplicate:
                return UNHANDLED
            # Committed: the inbox's slot goes to the next update while this one speaks.
            inbox.release()
        if self.held_fsm is not None:
            await self.held_fsm.write_through(fsm_writes)
        if await self._speak(data["bot"], held, kept, now, inbox) or held.queued:
            self.wake()
        return result

    async def _decide(
        self,
        handler: Handler,
        event: TelegramObject,
        data: dict[str, Any],
        user: User | None,
        chat: Any,
        now: datetime,
        held: Held,
        kept: dict[int, int],
    ) -> Any:
        inbox: InboxTicket | None = data.get("inbox")
        async with self._session(data) as session:
            data["now"] = now
            data["tickets"] = tickets = TicketService(session, self.desk, now)
            locale = self.desk.renderer.desk_language
            if user is not None and chat is not None and chat.type == "private" and not user.is_bot:
                client = await ClientRepo(session).get_or_create(
                    user.id,
                    language=guess_language(user.language_code),
                    telegram_name=user.full_name[:300],
                    now=now,
                )
                if isinstance(event, Update) and event.message is not None and client.blocked_bot:
                    # A client who writes has unblocked the bot (if they ever blocked it); a
                    # button on an old message can be pressed in a chat with the bot blocked.
                    # (Set only when it changes: a set attribute makes the client a row for
                    # the unit of work to look at when the update commits.)
                    client.blocked_bot = False
                data["client"] = client
                locale = client.language
            # For the error handler, which runs after the rollback (the client is expired then).
            data["locale"] = locale
            with self.i18n.context(), self.i18n.use_locale(locale), bind_update_session(session):
                try:
                    result = await handler(event, data)
                except Exception as exc:
                    await session.rollback()
                    update_id = event.update_id if isinstance(event, Update) else None
                    log.exception("update %s failed", update_id)
                    if inbox is not None:
                        inbox.error = exc
                    raise
                if inbox is not None:
                    if not await InboxRepo(session).mark_handled(inbox.update_id, now=now):
                        # Another transaction handled it first: its effects are the ones kept.
                        await session.rollback()
                        inbox.duplicate = True
                        return UNHANDLED
                    inbox.handled = True
                kept.update(await self._keep(session, held, now))
                await session.commit()
        if tickets.planned is not None and self.planned is not None:
            self.planned(tickets.planned)
        return result

    @asynccontextmanager
    async def _session(self, data: dict[str, Any]) -> AsyncIterator[AsyncSession]:
        """The update's session, opened by UpdateSession; one of its own without it."""
        session: AsyncSession | None = data.get("session")
        if session is not None:
            yield session
            return
        async with self.sessions() as session:
            data["session"] = session
            yield session

    def _posted(self, user: User | None) -> Callable[[str], str]:
        renderer = self.desk.renderer
        name = user.full_name if user is not None else ""

        def posted(text: str) -> str:
            return renderer.t("desk.said_late", renderer.desk_language, name=name, text=text)

        return posted

    async def _keep(self, session: AsyncSession, held: Held, now: datetime) -> dict[int, int]:
        """Put each reply in the outbox, leased to this process, in the update's transaction:
        sent at once after the commit, and by the delivery worker if that fails or the
        process dies first. What the update queued for its own private chat (the request's
        acknowledgement, a notice) is leased and said at once after the replies the same way,
        instead of waiting for the delivery worker's turn. Returns the rows by their place
        among the held calls; `held.queued` tells whether the delivery worker has work."""
        queued: list[OutboxItem] = list(session.info.get(ADDED, ()))
        out = Outgoing(OutboxRepo(session), self.desk.operator_chat_id, now)
        until = now + REPLY_LEASE
        replies: dict[int, dict[str, Any]] = {}
        for index, method in enumerate(held.calls):
            if durable(method) and isinstance(getattr(method, "chat_id", None), int):
                replies[index] = out.row(method, purpose=Purpose.REPLY)
        at_once: dict[int, OutboxItem] = {}
        for item in queued:
            if self._at_once(item, held, now):
                item.locked_by, item.locked_until = self.owner, until
                at_once[len(held.calls)] = item
                held.calls.append(load_method(item.method, item.payload))
        taken = {id(item) for item in at_once.values()}
        held.queued = any(id(item) not in taken for item in queued)
        rows: dict[int, int] = {}
        if replies:
            # The replies in plain SQL (OutboxRepo.insert_leased), the rest by the ORM's flush.
            ids = await out.outbox.insert_leased(
                list(replies.values()), worker=self.owner, until=until
            )
            rows = dict(zip(replies, ids, strict=True))
        if at_once:
            await session.flush()
            rows |= {index: item.id for index, item in at_once.items()}
        return rows

    @staticmethod
    def _at_once(item: OutboxItem, held: Held, now: datetime) -> bool:
        """Queued for the update's own private chat, due now, and nothing to record once sent
        (what the delivery worker records of a relayed message, a card, a topic)."""
        return (
            held.chat_id is not None
            and held.chat_id > 0
            and item.chat_id == held.chat_id
            and item.purpose in AT_ONCE
            and item.place == Place.CHAT
            and item.attachment is None
            and item.not_before <= now
        )

    async def _speak(
        self,
        bot: Bot,
        held: Held,
        kept: dict[int, int],
        now: datetime,
        inbox: InboxTicket | None,
    ) -> bool:
        """Say what was held; True if something was left for the delivery worker."""
        later, left = await speak(bot, held, kept, self.sent)
        if not later and not left:
            return False
        async with inbox.slot() if inbox is not None else nullcontext(), self.sessions() as session:
            await OutboxRepo(session).release(left, worker=self.owner)
            out = Outgoing(OutboxRepo(session), self.desk.operator_chat_id, now)
            for method in later:
                out.queue(method, purpose=Purpose.REPLY)
            await session.commit()
        log.info("%d replies could not be said at once and were queued", len(later) + len(left))
        return True


class UpdateSession(BaseMiddleware):
    """Outer middleware on updates, before aiogram's FSM middleware: opens the update's one
    session and binds the FSM storage to it, so that the dialogue state aiogram reads before
    the handlers (`raw_state`) is read in the update's transaction, once, and not in a session
    of its own. UpdateContextMiddleware commits it; the session holds no connection after that
    (what follows, the replies, never waits on the database in it)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.sessions() as session:
            data["session"] = session
            with bind_update_session(session):
                return await handler(event, data)


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
