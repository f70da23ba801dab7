"""The one delivery path: every message the bot sends on its own initiative is written to the
outbox in the same transaction as the change that causes it; the delivery worker sends it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiogram.types import InlineKeyboardMarkup

from storage.models import Ticket, TicketMessage
from storage.outbox import OutboxRepo

# Payload key resolved by the worker at send time: where in the operator group this request
# lives (its forum topic, or a reply to its card), which may not exist yet when enqueued.
PLACE_KEY = "$ticket_place"
# Resolved at send time to the request's card message (an edit of a card not yet posted, or
# lost with its topic, posts a new card instead).
CARD_KEY = "$card_of"
# Resolved at send time to the request's forum topic; skipped in a group without topics.
THREAD_KEY = "$thread_of"


@dataclass
class Outgoing:
    outbox: OutboxRepo
    operator_chat_id: int | None
    now: datetime

    def to_chat(
        self,
        chat_id: int,
        text: str,
        *,
        purpose: str,
        ticket_id: int | None = None,
        reply_markup: InlineKeyboardMarkup | None = None,
        html: bool = False,
        ref_id: int | None = None,
    ) -> None:
        payload: dict[str, Any] = {"chat_id": chat_id, "text": text}
        if html:
            payload["parse_mode"] = "HTML"
        if reply_markup is not None:
            payload["reply_markup"] = reply_markup.model_dump(exclude_none=True)
        self.outbox.add(
            chat_id,
            "sendMessage",
            payload,
            now=self.now,
            purpose=purpose,
            ticket_id=ticket_id,
            ref_id=ref_id,
        )

    def to_desk(
        self,
        ticket: Ticket,
        text: str,
        *,
        purpose: str,
        reply_markup: InlineKeyboardMarkup | None = None,
        html: bool = False,
        ref_id: int | None = None,
    ) -> None:
        if self.operator_chat_id is None:
            return
        payload: dict[str, Any] = {"chat_id": self.operator_chat_id, "text": text}
        payload[PLACE_KEY] = ticket.id
        if html:
            payload["parse_mode"] = "HTML"
        if reply_markup is not None:
            payload["reply_markup"] = reply_markup.model_dump(exclude_none=True)
        self.outbox.add(
            self.operator_chat_id,
            "sendMessage",
            payload,
            now=self.now,
            purpose=purpose,
            ticket_id=ticket.id,
            ref_id=ref_id,
        )

    def refresh_card(self, ticket: Ticket, text: str, reply_markup: InlineKeyboardMarkup) -> None:
        if self.operator_chat_id is None:
            return
        payload: dict[str, Any] = {
            "chat_id": self.operator_chat_id,
            "text": text,
            "parse_mode": "HTML",
            "reply_markup": reply_markup.model_dump(exclude_none=True),
            CARD_KEY: ticket.id,
        }
        self.outbox.add(
            self.operator_chat_id,
            "editMessageText",
            payload,
            now=self.now,
            purpose="card_edit",
            ticket_id=ticket.id,
        )

    def retitle_topic(self, ticket: Ticket, title: str) -> None:
        if self.operator_chat_id is None:
            return
        payload: dict[str, Any] = {"chat_id": self.operator_chat_id, "name": title}
        payload[THREAD_KEY] = ticket.id
        self.outbox.add(
            self.operator_chat_id,
            "editForumTopic",
            payload,
            now=self.now,
            purpose="topic_title",
            ticket_id=ticket.id,
        )

    def copy_to_desk(self, ticket: Ticket, messages: Sequence[TicketMessage]) -> None:
        """Copy the client's own messages (media keeps its quality); an album travels together."""
        if self.operator_chat_id is None:
            return
        for group in group_albums(messages):
            first = group[0]
            if len(group) == 1:
                method = "copyMessage"
                payload: dict[str, Any] = {
                    "chat_id": self.operator_chat_id,
                    "from_chat_id": first.chat_id,
                    "message_id": first.message_id,
                }
            else:
                method = "copyMessages"
                payload = {
                    "chat_id": self.operator_chat_id,
                    "from_chat_id": first.chat_id,
                    "message_ids": [m.message_id for m in group],
                }
            payload[PLACE_KEY] = ticket.id
            self.outbox.add(
                self.operator_chat_id,
                method,
                payload,
                now=self.now,
                purpose="relay_to_desk",
                ticket_id=ticket.id,
                ref_id=first.id,
            )


def group_albums(messages: Sequence[TicketMessage]) -> list[list[TicketMessage]]:
    """Consecutive messages with one media_group_id form an album; others stand alone."""
    groups: list[list[TicketMessage]] = []
    for message in messages:
        if (
            groups
            and message.media_group_id
            and groups[-1][-1].media_group_id == message.media_group_id
        ):
            groups[-1].append(message)
        else:
            groups.append([message])
    return groups
