"""The delivery worker: sends the outbox in order per chat, paced to Telegram's limits,
retrying what can succeed and recording what cannot. Safe to run in several processes:
each chat's head item is leased in the database before it is sent."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot, methods
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import ForumTopic, Message, MessageId
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards as kb
from bot.clock import Clock
from bot.services.desk import Desk
from bot.services.outgoing import CARD_KEY, PLACE_KEY, THREAD_KEY, Outgoing
from scheduler.pacing import Limits, Pacer
from storage.clients import ClientRepo
from storage.models import DeskMessage, OutboxItem, Ticket, TicketMessage
from storage.outbox import OutboxRepo
from storage.tickets import TicketRepo

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_BACKOFF = 300.0


class Retry(Exception):
    def __init__(self, delay: float, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay


class Skip(Exception):
    """Nothing to do any more (e.g. renaming a topic in a group without topics)."""


class GiveUp(Exception):
    """The call can never succeed (blocked, chat gone, malformed): stop retrying it."""


@dataclass
class DeliveryWorker:
    bot: Bot
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    desk: Desk
    limits: Limits = field(default_factory=Limits)
    worker_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _pacer: Pacer = field(init=False)
    _forum: bool | None = None
    _card_repost: set[int] = field(default_factory=set)
    _placing: int | None = None
    _stopped: bool = False

    def __post_init__(self) -> None:
        self._pacer = Pacer(self.limits)

    def wake(self) -> None:
        """Called after a commit that queued something, so it goes out at once."""
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    async def run(self, idle: float = 1.0) -> None:
        log.info("delivery worker %s started", self.worker_id)
        while not self._stopped:
            try:
                pause = await self.drain()
            except Exception:
                log.exception("delivery round failed; retrying")
                pause = idle
            self._wake.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(idle, pause or idle))

    async def drain(self) -> float:
        """Send what may be sent now; return how long until the pacing lets more go."""
        next_pause = 0.0
        sent_any = True
        while sent_any and not self._stopped:
            sent_any = False
            async with self.sessions() as session:
                chats = await OutboxRepo(session).ready_chats(self.clock.now())
            for chat_id in chats:
                wait = self._pacer.wait_time(chat_id, time.monotonic())
                if wait > 0:
                    next_pause = wait if not next_pause else min(next_pause, wait)
                    continue
                if await self.deliver_head(chat_id):
                    sent_any = True
        return next_pause

    async def deliver_head(self, chat_id: int) -> bool:
        now = self.clock.now()
        async with self.sessions() as session:
            item = await OutboxRepo(session).lease_head(
                chat_id, worker=self.worker_id, now=now, lease=LEASE
            )
            await session.commit()
        if item is None:
            return False
        self._pacer.take(chat_id, time.monotonic())
        self._placing = item.ticket_id if chat_id == self.desk.operator_chat_id else None
        try:
            method, payload = await self._resolve(item)
            result = await self._call(method, payload)
        except Skip as skip:
            await self._done(item, {"skipped": str(skip)})
            return True
        except Retry as retry:
            await self._reschedule(item, retry)
            return True
        except GiveUp as exc:
            await self._give_up(item, str(exc))
            return True
        await self._done(item, result)
        return True

    # ---- calling Telegram

    async def _call(self, method: str, payload: dict[str, Any]) -> Any:
        cls = getattr(methods, method[0].upper() + method[1:], None)
        if cls is None:
            raise GiveUp(f"unknown method {method}")
        call = cls.model_validate(payload)
        try:
            return await self.bot(call)
        except TelegramRetryAfter as exc:
            raise Retry(float(exc.retry_after), "flood control") from exc
        except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
            raise Retry(-1, type(exc).__name__) from exc
        except TelegramForbiddenError as exc:
            raise GiveUp(f"forbidden: {exc.message}") from exc
        except TelegramBadRequest as exc:
            return await self._bad_request(method, payload, exc)
        except (TelegramNotFound, TelegramUnauthorizedError) as exc:
            raise GiveUp(f"{type(exc).__name__}: {exc.message}") from exc

    async def _bad_request(
        self, method: str, payload: dict[str, Any], exc: TelegramBadRequest
    ) -> Any:
        text = exc.message.lower()
        if "message is not modified" in text or "topic_not_modified" in text:
            return True
        if "thread not found" in text or "topic_deleted" in text or "topic_closed" in text:
            ticket_id = self._placing
            if ticket_id is not None:
                await self._forget_thread(ticket_id)
                raise Retry(0, "topic gone; recreating") from exc
        if (
            "message to edit not found" in text
            and method == "editMessageText"
            and self._placing is not None
        ):
            await self._forget_card(self._placing)
            raise Retry(0, "card gone; posting it anew") from exc
        if "reply" in text and "not found" in text and "reply_parameters" in payload:
            retry = {k: v for k, v in payload.items() if k != "reply_parameters"}
            return await self._call(method, retry)
        if "can't parse entities" in text and "parse_mode" in payload:
            # Better a plain text than a lost one.
            retry = {k: v for k, v in payload.items() if k != "parse_mode"}
            return await self._call(method, retry)
        raise GiveUp(f"bad request: {exc.message}") from exc

    # ---- placement in the operator group

    async def _resolve(self, item: OutboxItem) -> tuple[str, dict[str, Any]]:
        """Fill in what was unknown when the item was queued: the request's topic, its card."""
        method, payload = item.method, dict(item.payload)
        place = payload.pop(PLACE_KEY, None)
        card_of = payload.pop(CARD_KEY, None)
        thread_of = payload.pop(THREAD_KEY, None)
        ticket_id = place or card_of or thread_of
        if ticket_id is None:
            return method, payload
        async with self.sessions() as session:
            ticket = await session.get(Ticket, int(ticket_id))
            if ticket is None:
                raise Skip("request gone")
            forum = await self._is_forum()
            if thread_of is not None:
                if not forum or ticket.thread_id is None:
                    raise Skip("no topic to rename")
                payload["message_thread_id"] = ticket.thread_id
                ticket.topic_title = payload.get("name")
                await session.commit()
                return method, payload
            if card_of is not None and ticket.card_message_id is not None:
                payload["message_id"] = ticket.card_message_id
                return method, payload
            if card_of is not None:
                # The card is gone with its topic (or was never posted): post it anew.
                method = "sendMessage"
                self._card_repost.add(item.id)
            if forum:
                thread_id = ticket.thread_id or await self._create_topic(
                    session, ticket, with_card=item.purpose != "card"
                )
                payload["message_thread_id"] = thread_id
            elif (
                item.purpose not in ("card", "card_edit")
                and ticket.card_message_id
                and "reply_parameters" not in payload
            ):
                payload["reply_parameters"] = {
                    "message_id": ticket.card_message_id,
                    "allow_sending_without_reply": True,
                }
        return method, payload

    async def _is_forum(self) -> bool:
        if self._forum is None:
            chat_id = self.desk.operator_chat_id
            if chat_id is None:
                return False
            try:
                chat = await self.bot.get_chat(chat_id)
            except (TelegramNetworkError, TelegramServerError, TelegramRetryAfter) as exc:
                raise Retry(-1, "getChat failed") from exc
            except (TelegramBadRequest, TelegramForbiddenError) as exc:
                raise GiveUp(f"operator chat unreachable: {exc.message}") from exc
            self._forum = bool(chat.is_forum)
        return self._forum

    async def _create_topic(self, session: AsyncSession, ticket: Ticket, *, with_card: bool) -> int:
        """One topic per request. The worker holds the lease on the operator chat's head item,
        so no other worker is creating a topic for the same request at this moment. A topic
        made anew (the old one was deleted) gets the card first, so operators see the request."""
        title = self.desk.renderer.topic_title(ticket)
        topic = await self._call(
            "createForumTopic", {"chat_id": self.desk.operator_chat_id, "name": title}
        )
        if not isinstance(topic, ForumTopic):
            raise GiveUp("createForumTopic returned no topic")
        ticket.thread_id = topic.message_thread_id
        ticket.topic_title = title
        if with_card:
            card = await self._call(
                "sendMessage",
                {
                    "chat_id": self.desk.operator_chat_id,
                    "message_thread_id": topic.message_thread_id,
                    "text": self.desk.renderer.card(ticket).html,
                    "parse_mode": "HTML",
                    "reply_markup": kb.card(self.desk.renderer, ticket).model_dump(
                        exclude_none=True
                    ),
                },
            )
            ticket.card_message_id = _first_message_id(card)
            if ticket.card_message_id is not None and self.desk.operator_chat_id is not None:
                session.add(
                    DeskMessage(
                        chat_id=self.desk.operator_chat_id,
                        message_id=ticket.card_message_id,
                        ticket_id=ticket.id,
                    )
                )
        await session.commit()
        return topic.message_thread_id

    async def _forget_thread(self, ticket_id: int) -> None:
        async with self.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is not None and ticket.thread_id is not None:
                log.warning("topic of request %s is gone; a new one will be created", ticket.number)
                ticket.thread_id = None
                ticket.card_message_id = None
                await session.commit()

    async def _forget_card(self, ticket_id: int) -> None:
        async with self.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is not None:
                ticket.card_message_id = None
                await session.commit()

    # ---- recording the outcome

    async def _done(self, item: OutboxItem, result: Any) -> None:
        now = self.clock.now()
        async with self.sessions() as session:
            row = await session.get(OutboxItem, item.id)
            assert row is not None
            row.status = "sent"
            row.sent_at = now
            row.attempts += 1
            row.locked_until = None
            row.result = _summarize(result)
            await self._after_sent(session, row, result)
            await session.commit()

    async def _after_sent(self, session: AsyncSession, row: OutboxItem, result: Any) -> None:
        first_id = _first_message_id(result)
        if first_id is None:
            return
        if row.ticket_id is not None and row.chat_id == self.desk.operator_chat_id:
            for message_id in _all_message_ids(result):
                await session.merge(
                    DeskMessage(chat_id=row.chat_id, message_id=message_id, ticket_id=row.ticket_id)
                )
        reposted = row.id in self._card_repost
        self._card_repost.discard(row.id)
        if (row.purpose == "card" or reposted) and row.ticket_id is not None:
            ticket = await session.get(Ticket, row.ticket_id)
            if ticket is not None:
                ticket.card_message_id = first_id
        if row.purpose.startswith("relay") and row.ref_id is not None:
            message = await session.get(TicketMessage, row.ref_id)
            if message is not None:
                message.relay_chat_id = row.chat_id
                message.relay_message_id = first_id

    async def _reschedule(self, item: OutboxItem, retry: Retry) -> None:
        async with self.sessions() as session:
            row = await session.get(OutboxItem, item.id)
            assert row is not None
            row.attempts += 1
            delay = retry.delay if retry.delay >= 0 else min(MAX_BACKOFF, 2.0**row.attempts)
            row.not_before = self.clock.now() + timedelta(seconds=delay)
            row.locked_until = None
            row.last_error = str(retry)[:500]
            await session.commit()
        log.warning(
            "outbox item %s (%s) will be retried in %.1f s: %s", item.id, item.method, delay, retry
        )

    async def _give_up(self, item: OutboxItem, reason: str) -> None:
        now = self.clock.now()
        async with self.sessions() as session:
            row = await session.get(OutboxItem, item.id)
            assert row is not None
            row.status = "failed"
            row.attempts += 1
            row.locked_until = None
            row.last_error = reason[:500]
            if reason.startswith("forbidden") and row.chat_id > 0:
                await self._client_unreachable(session, row, now)
            await session.commit()
        log.error("outbox item %s (%s) failed for good: %s", item.id, item.method, reason)
        self.wake()

    async def _client_unreachable(
        self, session: AsyncSession, row: OutboxItem, now: datetime
    ) -> None:
        """A client who blocked the bot: note it on their open requests and tell the desk once."""
        client = await ClientRepo(session).by_telegram_id(row.chat_id)
        if client is None:
            return
        client.blocked_bot = True
        out = Outgoing(OutboxRepo(session), self.desk.operator_chat_id, now)
        lang = self.desk.renderer.desk_language
        for ticket in await TicketRepo(session).open_for_client(client.id):
            if ticket.client_unreachable:
                continue
            ticket.client_unreachable = True
            out.to_desk(
                ticket,
                self.desk.renderer.t("desk.client_blocked", lang, number=ticket.number),
                purpose="notice",
            )


def _first_message_id(result: Any) -> int | None:
    if isinstance(result, Message | MessageId):
        return result.message_id
    if isinstance(result, list) and result and isinstance(result[0], Message | MessageId):
        return result[0].message_id
    return None


def _all_message_ids(result: Any) -> list[int]:
    items = result if isinstance(result, list) else [result]
    return [r.message_id for r in items if isinstance(r, Message | MessageId)]


def _summarize(result: Any) -> dict[str, Any]:
    if isinstance(result, list):
        return {"message_ids": [r.message_id for r in result if isinstance(r, Message | MessageId)]}
    first = _first_message_id(result)
    if first is not None:
        return {"message_id": first}
    if isinstance(result, ForumTopic):
        return {"message_thread_id": result.message_thread_id}
    if isinstance(result, dict):
        return result
    return {"ok": bool(result)}
