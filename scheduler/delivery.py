"""The delivery worker: sends the outbox in order per chat, paced to Telegram's limits,
retrying what can succeed and burying what cannot as a dead letter the operators are told of.

Safe to run in several processes: each chat's head item is leased in the database before it is
sent. The lease is short (LEASE, 30 s) and renewed before every further call an item needs
(a topic, a card), and each call's timeout is shorter still: a worker that dies mid-item leaves
a lease that runs out within half a minute, after which any worker (the restarted process too)
takes the item again. What a worker decides comes from the item's own columns and the request's
row, never from memory of earlier attempts; the only thing it caches is whether the operator
group is a forum."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.methods import CreateForumTopic, EditMessageText, GetChat, SendMessage, TelegramMethod
from aiogram.types import ForumTopic, Message, MessageId, ReplyParameters
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards as kb
from bot.clock import Clock
from bot.metrics import DeskMetrics
from bot.services.alert_plans import marks_of
from bot.services.desk import Desk
from bot.services.desk_chat import chat_moved
from bot.services.outgoing import Outgoing, method_of
from bot.services.reachability import client_blocked
from bot.vocabulary import Place, Purpose
from scheduler.announce import announce_waiting
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
from scheduler.leases import JobLeases
from scheduler.pacing import Limits, Pacer
from storage.models import DeskMessage, OutboxItem, Ticket, TicketMessage
from storage.outbox import OutboxRepo

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
MAX_ATTEMPTS = 12
MAX_AGE = timedelta(hours=24)
PARALLEL = 4
FIRST_BACKOFF = 2.0  # seconds; doubled at every try
MAX_BACKOFF = 3600.0
# How long the answer "is the operator group a forum" is trusted (operators may switch it).
FORUM_TTL = 300.0
# A backed-up operator group: requests are announced together (scheduler.announce).
ANNOUNCE_AFTER = timedelta(seconds=60)
ANNOUNCE_EVERY = timedelta(seconds=20)

# Told when Telegram says a client blocked the bot: (session, desk, chat id, now).
BlockedHandler = Callable[[AsyncSession, Desk, int, datetime], Awaitable[object]]


@dataclass(frozen=True)
class Skipped:
    """Nothing to send any more (the request is gone; a rename in a group without topics)."""

    reason: str


@dataclass(frozen=True)
class LeaseLost:
    """Another worker has the item now (this one was too slow); it records the outcome."""


Decision = Outcome | Skipped | LeaseLost


@dataclass
class _Attempt:
    """One attempt at one item: lives for the attempt only, never on the worker."""

    item: OutboxItem
    calls: int = 0
    topic_made: bool = False


@dataclass
class DeliveryWorker:
    bot: Bot
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    desk: Desk
    limits: Limits = field(default_factory=Limits)
    max_attempts: int = MAX_ATTEMPTS
    max_age: timedelta = MAX_AGE
    lease: timedelta = LEASE
    on_blocked: BlockedHandler = client_blocked
    worker_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    # The pacing's time (seconds); a test plays a storm on a simulated one.
    monotonic: Callable[[], float] = time.monotonic
    # When the operator group's queue would keep a new request's card back longer than
    # `announce_after`, the waiting requests are named together, at most every `announce_every`.
    announce_after: timedelta = ANNOUNCE_AFTER
    announce_every: timedelta = ANNOUNCE_EVERY
    # Private chats whose head items are sent at once (each uses one database connection at a
    # time: keep INBOX_CONCURRENCY + this within the pool, storage.db).
    parallel: int = PARALLEL
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _pacer: Pacer = field(init=False)
    metrics: DeskMetrics | None = None
    # Which process announces a backed-up group's requests (scheduler.leases); this worker's.
    leases: JobLeases | None = None
    _gateway: Gateway = field(init=False)
    _forum: tuple[bool, float] | None = None  # (is a forum, when asked): the group's shape
    _stopped: bool = False

    def __post_init__(self) -> None:
        self._pacer = Pacer(self.limits)
        self._gateway = Gateway(self.bot)
        if self.leases is None:
            self.leases = JobLeases(self.sessions, holder=self.worker_id)

    def wake(self) -> None:
        """Called after a commit that queued something, so it goes out at once."""
        self._wake.set()

    def share(self, processes: int) -> None:
        """`processes` bot processes are alive: pace to this one's share of the limits."""
        self._pacer.share(processes)

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    async def run(self, idle: float = 1.0) -> None:
        log.info("delivery worker %s started", self.worker_id)
        while not self._stopped:
            if self.metrics is not None:
                self.metrics.ran("delivery")
            try:
                pause = await self.drain()
            except Exception:
                log.exception("delivery round failed; retrying")
                pause = idle
            self._wake.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(idle, pause or idle))

    async def drain(self) -> float:
        """Send what may be sent now; return how long until the pacing lets more go.

        Each ready chat's head item goes out in a task of its own, up to `parallel` chats at
        once: one chat's items still leave one at a time and in order, and Telegram's latency
        is waited out for many chats together instead of chat after chat. A chat's turn is
        taken from the pacing when its task starts, so the tasks together keep the limits."""
        next_pause = 0.0
        sent_any = True
        while sent_any and not self._stopped:
            sent_any = False
            async with self.sessions() as session:
                chats = await OutboxRepo(session).ready_chats(self.clock.now())
            turns: set[asyncio.Task[bool]] = set()
            for chat_id in chats:
                wait = self._pacer.wait_time(chat_id, self.monotonic())
                if wait > 0:
                    next_pause = wait if not next_pause else min(next_pause, wait)
                    continue
                if chat_id == self.desk.operator_chat_id:
                    # The group's turn is taken in line: an announcement, or its head item.
                    if await self._announce(chat_id) or await self.deliver_head(chat_id):
                        sent_any = True
                    continue
                if len(turns) >= self.parallel:
                    done, turns = await asyncio.wait(turns, return_when=asyncio.FIRST_COMPLETED)
                    sent_any = any(t.result() for t in done) or sent_any
                self._pacer.take(chat_id, self.monotonic())
                turns.add(asyncio.create_task(self._turn(chat_id)))
            if turns:
                sent_any = any(await asyncio.gather(*turns)) or sent_any
        return next_pause

    async def _turn(self, chat_id: int) -> bool:
        try:
            return await self.deliver_head(chat_id, paced=True)
        except Exception:  # this chat's turn only; the others go on, it is tried next round
            log.exception("delivering to a chat failed; retrying")
            return False

    async def deliver_head(self, chat_id: int, *, paced: bool = False) -> bool:
        """Lease the chat's oldest pending item, try it once, record what happened (`paced`:
        its turn was taken from the pacing already)."""
        now = self.clock.now()
        async with self.sessions() as session:
            item = await OutboxRepo(session).lease_head(
                chat_id, worker=self.worker_id, now=now, lease=self.lease
            )
            await session.commit()
        if item is None:
            return False
        if not paced:
            self._pacer.take(chat_id, self.monotonic())
        try:
            decision = await self._attempt(_Attempt(item))
        except Exception as exc:  # placing failed in an unforeseen way: capped like the rest
            log.exception("outbox item %s could not be tried", item.id)
            decision = BackOff(f"{type(exc).__name__}: {exc}"[:300])
        await self._record(item, decision)
        return True

    async def _announce(self, chat_id: int) -> bool:
        """Name the new requests whose cards a backed-up queue keeps back (one message, or a
        few, critical first); True if it took the group's turn."""
        rate = self._pacer.limits.group_rate
        announced = await announce_waiting(
            self.sessions,
            self.desk,
            chat_id,
            self.clock.now(),
            backlog_limit=int(rate * self.announce_after.total_seconds()),
            every=self.announce_every,
            leases=self.leases,
        )
        if announced is None:
            return False
        try:
            sent_all = True
            for method in announced.messages:
                self._pacer.take(chat_id, self.monotonic())
                outcome = await self._gateway.call(method)
                if not isinstance(outcome, Sent):
                    log.warning("an announcement of new requests failed: %s", outcome)
                    sent_all = False
                    break
            if not sent_all:  # their cards still come; the next round may announce them again
                await announced.undo()
        finally:
            await announced.done()
        return True

    # ---- one attempt

    async def _attempt(self, attempt: _Attempt) -> Decision:
        item = attempt.item
        try:
            method = method_of(item)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            return GiveUp(f"the stored call cannot be built: {exc}"[:300])
        if "chat_id" in type(method).model_fields:  # the row knows the chat (it may have moved)
            method = method.model_copy(update={"chat_id": item.chat_id})
        if item.place == Place.CHAT:
            return await self._call(attempt, method)
        decision: Decision = GiveUp("not placed")
        for _again in range(3):  # again after the topic, then the card, was found gone
            placed = await self._place(attempt, method)
            if not isinstance(placed, TelegramMethod):
                decision = placed
            else:
                decision = await self._call(attempt, placed)
            if isinstance(decision, TopicGone) and not attempt.topic_made:
                await self._forget_topic(item)
                continue
            if isinstance(decision, MessageGone) and item.place == Place.CARD:
                await self._forget_card(item)
                continue
            break
        if isinstance(decision, TopicGone):  # a topic made just now is gone: try later
            return BackOff(decision.reason)
        return decision

    async def _call(self, attempt: _Attempt, method: TelegramMethod[Any]) -> Outcome | LeaseLost:
        if attempt.calls and not await self._renew(attempt.item):
            return LeaseLost()
        attempt.calls += 1
        return await self._gateway.call(method)

    async def _renew(self, item: OutboxItem) -> bool:
        async with self.sessions() as session:
            kept = await OutboxRepo(session).renew_lease(
                item.id, worker=self.worker_id, now=self.clock.now(), lease=self.lease
            )
            await session.commit()
        return kept

    # ---- placement in the operator group

    async def _place(
        self, attempt: _Attempt, method: TelegramMethod[Any]
    ) -> TelegramMethod[Any] | Decision:
        """Fill in what was unknown when the item was queued: the request's topic, its card."""
        item = attempt.item
        if item.ticket_id is None:
            return GiveUp(f"an item placed at the request's {item.place} has no request")
        async with self.sessions() as session:
            ticket = await session.get(Ticket, item.ticket_id)
            if ticket is None:
                return Skipped("the request is gone")
            thread_id, card_id = ticket.thread_id, ticket.card_message_id
        forum = await self._is_forum(attempt)
        if not isinstance(forum, bool):
            return forum
        if item.place == Place.TOPIC:
            if not forum or thread_id is None:
                return Skipped("no topic to rename")
            return method.model_copy(update={"message_thread_id": thread_id})
        if item.place == Place.CARD:
            if card_id is not None:
                return method.model_copy(update={"message_id": card_id})
            anew = _card_anew(method)  # not posted, or gone with its topic
            if anew is None:
                return Skipped("no card to edit")
            method = anew
        is_card = item.place == Place.CARD or item.purpose == Purpose.CARD
        if not forum:
            if not is_card and card_id is not None and _unset(method, "reply_parameters"):
                reply = ReplyParameters(message_id=card_id, allow_sending_without_reply=True)
                method = method.model_copy(update={"reply_parameters": reply})
            return method
        if thread_id is None:
            created = await self._create_topic(attempt, item.ticket_id)
            if not isinstance(created, int):
                return created
            thread_id = created
        if not is_card and card_id is None:
            # A topic made anew (the old one was deleted) gets the card first.
            failed = await self._post_card(attempt, item.ticket_id, thread_id)
            if failed is not None:
                return failed
        if "message_thread_id" in type(method).model_fields:
            method = method.model_copy(update={"message_thread_id": thread_id})
        return method

    async def _is_forum(self, attempt: _Attempt) -> bool | Decision:
        chat_id = self.desk.operator_chat_id
        if chat_id is None:
            return False
        if self._forum is not None and self.monotonic() - self._forum[1] < FORUM_TTL:
            return self._forum[0]
        outcome = await self._call(attempt, GetChat(chat_id=chat_id))
        if not isinstance(outcome, Sent):
            return outcome
        is_forum = bool(getattr(outcome.result, "is_forum", False))
        self._forum = (is_forum, self.monotonic())
        return is_forum

    async def _create_topic(self, attempt: _Attempt, ticket_id: int) -> int | Decision:
        """One topic per request: its id is committed the moment Telegram gives it, before
        anything else is sent, so a failure on the next call never makes a second topic. The
        worker holds the operator chat's head item, so nobody else is making one now."""
        async with self.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            title = self.desk.renderer.topic_title(ticket)
        chat_id = attempt.item.chat_id
        self._pacer.take(chat_id, self.monotonic())  # a topic is a message in the group too
        outcome = await self._call(attempt, CreateForumTopic(chat_id=chat_id, name=title))
        if not isinstance(outcome, Sent):
            return outcome
        topic = outcome.result
        if not isinstance(topic, ForumTopic):
            return BackOff("createForumTopic answered without a topic")
        attempt.topic_made = True
        async with self.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            ticket.thread_id = topic.message_thread_id
            ticket.topic_title = title
            ticket.card_message_id = None
            await session.commit()
            log.info("request %s has a new topic %s", ticket.number, topic.message_thread_id)
        return topic.message_thread_id

    async def _post_card(
        self, attempt: _Attempt, ticket_id: int, thread_id: int
    ) -> Decision | None:
        chat_id, now = attempt.item.chat_id, self.clock.now()
        async with self.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            card = SendMessage(
                chat_id=chat_id,
                message_thread_id=thread_id,
                text=self.desk.renderer.card(ticket, marks_of(ticket, self.desk.policy, now)).html,
                parse_mode="HTML",
                reply_markup=kb.card(self.desk.renderer, ticket),
            )
        self._pacer.take(chat_id, self.monotonic())
        outcome = await self._call(attempt, card)
        if not isinstance(outcome, Sent):
            return outcome
        message_id = _first_message_id(outcome.result)
        async with self.sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            ticket.card_message_id = message_id
            if message_id is not None:
                await session.merge(
                    DeskMessage(chat_id=chat_id, message_id=message_id, ticket_id=ticket_id)
                )
            await session.commit()
        return None

    async def _forget_topic(self, item: OutboxItem) -> None:
        self._forum = None  # the group may have stopped being a forum
        if item.ticket_id is None:
            return
        async with self.sessions() as session:
            ticket = await session.get(Ticket, item.ticket_id)
            if ticket is not None and ticket.thread_id is not None:
                log.warning("the topic of request %s is gone; a new one is made", ticket.number)
                ticket.thread_id = None
                ticket.card_message_id = None  # it was in the topic
                await session.commit()

    async def _forget_card(self, item: OutboxItem) -> None:
        if item.ticket_id is None:
            return
        async with self.sessions() as session:
            ticket = await session.get(Ticket, item.ticket_id)
            if ticket is not None and ticket.card_message_id is not None:
                log.warning("the card of request %s is gone; it is posted anew", ticket.number)
                ticket.card_message_id = None
                await session.commit()

    # ---- recording the outcome

    async def _record(self, item: OutboxItem, decision: Decision) -> None:
        if isinstance(decision, LeaseLost):
            log.warning("outbox item %s was taken over by another worker", item.id)
            return
        async with self.sessions() as session:
            row = await session.get(OutboxItem, item.id, populate_existing=True)
            assert row is not None
            await self._apply(session, row, decision)
            await session.commit()

    async def _apply(self, session: AsyncSession, row: OutboxItem, decision: Decision) -> None:
        now = self.clock.now()
        repo = OutboxRepo(session)
        if self.metrics is not None:
            self.metrics.sends.labels(type(decision).__name__.lower()).inc()
            if isinstance(decision, Sent):
                self.metrics.delivery.observe(max(0.0, (now - row.created_at).total_seconds()))
        if isinstance(decision, Sent):
            repo.mark_sent(row, now=now, result=_summarize(decision.result))
            await self._after_sent(session, row, decision.result)
        elif isinstance(decision, NotModified):
            repo.mark_sent(row, now=now, result={"not_modified": True})
        elif isinstance(decision, Skipped):
            repo.mark_sent(row, now=now, result={"skipped": decision.reason})
        elif isinstance(decision, RetryAfter):
            await self._retry(session, row, decision.seconds, "flood control", now)
        elif isinstance(decision, BackOff | TopicGone):
            delay = min(MAX_BACKOFF, FIRST_BACKOFF * 2.0**row.attempts)
            await self._retry(session, row, delay, decision.reason, now)
        elif isinstance(decision, ChatMigrated):
            await self._migrated(session, row, decision.new_chat_id, now)
        elif isinstance(decision, Blocked):
            await self._bury(session, row, decision.reason, now, blocked=True)
        elif isinstance(decision, GiveUp | MessageGone):
            await self._bury(session, row, decision.reason, now)

    async def _after_sent(self, session: AsyncSession, row: OutboxItem, result: Any) -> None:
        if row.place == Place.TOPIC and row.ticket_id is not None:
            ticket = await session.get(Ticket, row.ticket_id)
            if ticket is not None:
                ticket.topic_title = row.payload.get("name")
            return
        first_id = _first_message_id(result)
        if first_id is None:
            return
        if row.ticket_id is not None and row.chat_id == self.desk.operator_chat_id:
            for message_id in _all_message_ids(result):
                await session.merge(
                    DeskMessage(chat_id=row.chat_id, message_id=message_id, ticket_id=row.ticket_id)
                )
        if (row.place == Place.CARD or row.purpose == Purpose.CARD) and row.ticket_id is not None:
            ticket = await session.get(Ticket, row.ticket_id)
            if ticket is not None:
                ticket.card_message_id = first_id
        if row.purpose in (Purpose.RELAY_TO_DESK, Purpose.RELAY_TO_CLIENT) and row.ref_id:
            message = await session.get(TicketMessage, row.ref_id)
            if message is not None:
                message.relay_chat_id = row.chat_id
                message.relay_message_id = first_id

    async def _retry(
        self, session: AsyncSession, row: OutboxItem, delay: float, reason: str, now: datetime
    ) -> None:
        tries = row.attempts + 1
        if tries >= self.max_attempts or now - row.created_at >= self.max_age:
            await self._bury(session, row, f"{reason} (given up after {tries} tries)", now)
            return
        OutboxRepo(session).retry_at(row, when=now + timedelta(seconds=delay), error=reason)
        log.warning(
            "outbox item %s (%s) will be retried in %.1f s: %s", row.id, row.method, delay, reason
        )

    async def _bury(
        self,
        session: AsyncSession,
        row: OutboxItem,
        reason: str,
        now: datetime,
        *,
        blocked: bool = False,
    ) -> None:
        """A dead letter: it leaves its chat's queue (the next item goes) and the operators are
        told once; a client who blocked the bot is the reachability service's business."""
        OutboxRepo(session).mark_dead(row, error=reason)
        if self.metrics is not None:
            self.metrics.dead.inc()
        log.error("outbox item %s (%s) is a dead letter: %s", row.id, row.method, reason)
        self.wake()
        if blocked:
            await self.on_blocked(session, self.desk, row.chat_id, now)
            return
        desk_chat = self.desk.operator_chat_id
        if desk_chat is None or row.purpose == Purpose.DEAD_LETTER or row.chat_id == desk_chat:
            return  # nowhere to report it, or the report itself would be what failed
        await self._report(session, row, reason, now)

    async def _report(
        self, session: AsyncSession, row: OutboxItem, reason: str, now: datetime
    ) -> None:
        out = Outgoing(OutboxRepo(session), self.desk.operator_chat_id, now)
        renderer, lang = self.desk.renderer, self.desk.renderer.desk_language
        ticket = await session.get(Ticket, row.ticket_id) if row.ticket_id else None
        if ticket is not None:
            text = renderer.t("desk.dead_letter", lang, number=ticket.number, reason=reason)
            out.to_desk(ticket, text, purpose=Purpose.DEAD_LETTER, ref_id=row.id)
        elif self.desk.operator_chat_id is not None:
            text = renderer.t("desk.dead_letter_chat", lang, chat=row.chat_id, reason=reason)
            out.to_chat(
                self.desk.operator_chat_id, text, purpose=Purpose.DEAD_LETTER, ref_id=row.id
            )

    async def _migrated(
        self, session: AsyncSession, row: OutboxItem, new_chat_id: int, now: datetime
    ) -> None:
        """The group became a supergroup: its pending items, the desk's chat and the record
        of it move to the new id, and the item is tried again at once."""
        old_chat_id = row.chat_id
        if old_chat_id > 0 or old_chat_id == new_chat_id:  # about another chat of the call
            await self._bury(session, row, f"chat migrated to {new_chat_id}", now)
            return
        was_desk = self.desk.operator_chat_id == old_chat_id
        await chat_moved(session, self.desk, old_chat_id, new_chat_id)
        row.chat_id = new_chat_id
        if was_desk:
            self._forum = None
        await self._retry(session, row, 0, f"chat migrated to {new_chat_id}", now)


def _unset(method: TelegramMethod[Any], name: str) -> bool:
    return name in type(method).model_fields and getattr(method, name) is None


def _card_anew(edit: TelegramMethod[Any]) -> SendMessage | None:
    """An edit of a card that is not there becomes the card posted anew."""
    if not isinstance(edit, EditMessageText) or edit.chat_id is None or edit.text is None:
        return None
    kept = ("parse_mode", "entities", "link_preview_options", "reply_markup")
    return SendMessage(
        chat_id=edit.chat_id,
        text=edit.text,
        **{name: getattr(edit, name) for name in kept if name in edit.model_fields_set},
    )


def _first_message_id(result: Any) -> int | None:
    ids = _all_message_ids(result)
    return ids[0] if ids else None


def _all_message_ids(result: Any) -> list[int]:
    items = result if isinstance(result, list) else [result]
    return [r.message_id for r in items if isinstance(r, Message | MessageId)]


def _summarize(result: Any) -> dict[str, Any]:
    if isinstance(result, list):
        return {"message_ids": _all_message_ids(result)}
    first = _first_message_id(result)
    if first is not None:
        return {"message_id": first}
    if isinstance(result, ForumTopic):
        return {"message_thread_id": result.message_thread_id}
    return {"ok": bool(result)}
