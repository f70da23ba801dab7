"""Relaying a request's conversation both ways: what the client writes reaches the request's
place in the operator group, what an operator writes reaches the client; replies keep their
reply-to, albums travel together, edits are mirrored, notes stay inside."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.desk import Desk
from bot.services.drafts import Part
from bot.services.lifecycle import Actor, AlreadyClaimed, claim
from bot.services.outgoing import PLACE_KEY
from bot.vocabulary import Status
from storage.models import DeskMessage, Ticket, TicketMessage
from storage.outbox import OutboxRepo, pending_group
from storage.tickets import TicketRepo

# How long the first message of an album waits for the rest before it goes out.
ALBUM_WAIT = timedelta(seconds=1.5)


class RequestClosed(Exception):
    """An operator wrote into a closed request; nothing is sent to the client."""


async def ticket_in_desk(
    session: AsyncSession,
    desk: Desk,
    thread_id: int | None,
    reply_to: int | None,
    media_group_id: str | None = None,
) -> Ticket | None:
    """The request an operator's message in the group is about: its topic, the bot message it
    replies to (card, relayed message, notice), or the album whose first item said so."""
    if thread_id is not None:
        ticket = await session.scalar(select(Ticket).where(Ticket.thread_id == thread_id))
        if ticket is not None:
            return ticket
    if reply_to is not None and desk.operator_chat_id is not None:
        row = await session.get(DeskMessage, (desk.operator_chat_id, reply_to))
        if row is not None:
            return await session.get(Ticket, row.ticket_id)
        source = await session.scalar(
            select(TicketMessage).where(
                TicketMessage.chat_id == desk.operator_chat_id,
                TicketMessage.message_id == reply_to,
            )
        )
        if source is not None:
            return await session.get(Ticket, source.ticket_id)
    if media_group_id is not None and desk.operator_chat_id is not None:
        sibling = await session.scalar(
            select(TicketMessage).where(
                TicketMessage.chat_id == desk.operator_chat_id,
                TicketMessage.media_group_id == media_group_id,
            )
        )
        if sibling is not None:
            return await session.get(Ticket, sibling.ticket_id)
    return None


async def counterpart_id(session: AsyncSession, chat_id: int, message_id: int) -> int | None:
    """For a message in one chat (an original or a relayed copy), its twin in the other chat."""
    copy = await session.scalar(
        select(TicketMessage).where(
            TicketMessage.relay_chat_id == chat_id, TicketMessage.relay_message_id == message_id
        )
    )
    if copy is not None:
        return copy.message_id
    original = await session.scalar(
        select(TicketMessage).where(
            TicketMessage.chat_id == chat_id, TicketMessage.message_id == message_id
        )
    )
    return original.relay_message_id if original is not None else None


async def relay(
    session: AsyncSession,
    desk: Desk,
    ticket: Ticket,
    message: TicketMessage,
    *,
    to_chat: int,
    purpose: str,
    now: datetime,
    reply_to: int | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Queue a copy of a stored message; a message of an album joins its album's pending copy."""
    outbox = OutboxRepo(session)
    if message.media_group_id:
        key = f"album:{message.chat_id}:{message.media_group_id}"
        pending = await pending_group(session, key)
        if pending is not None:
            grouped = dict(pending.payload)
            ids = grouped.pop("message_ids", None) or [grouped.pop("message_id")]
            grouped["message_ids"] = sorted({*ids, message.message_id})
            grouped.pop("caption", None)
            grouped.pop("reply_parameters", None)
            pending.payload = grouped
            pending.method = "copyMessages"
            return
    payload: dict[str, Any] = {
        "chat_id": to_chat,
        "from_chat_id": message.chat_id,
        "message_id": message.message_id,
        **(extra or {}),
    }
    if to_chat == desk.operator_chat_id:
        payload[PLACE_KEY] = ticket.id
    if reply_to is not None:
        payload["reply_parameters"] = {"message_id": reply_to, "allow_sending_without_reply": True}
    item = outbox.add(
        to_chat,
        "copyMessage",
        payload,
        now=now,
        purpose=purpose,
        ticket_id=ticket.id,
        ref_id=message.id,
    )
    if message.media_group_id:
        item.group_key = f"album:{message.chat_id}:{message.media_group_id}"
        item.not_before = now + ALBUM_WAIT


def stored(
    ticket: Ticket, part: Part, *, direction: str, author: Actor, now: datetime
) -> TicketMessage:
    return TicketMessage(
        ticket_id=ticket.id,
        direction=direction,
        author_id=author.id,
        author_name=author.name,
        chat_id=part.chat_id,
        message_id=part.message_id,
        content_type=part.content_type,
        text=part.text,
        file_id=part.file_id,
        file_name=part.file_name,
        media_group_id=part.media_group_id,
        created_at=now,
    )


async def operator_message(
    session: AsyncSession,
    desk: Desk,
    ticket: Ticket,
    actor: Actor,
    part: Part,
    now: datetime,
    *,
    note: bool,
    reply_to_desk: int | None = None,
    signed: bool = False,
) -> TicketMessage:
    if ticket.status == Status.CLOSED and not note:
        raise RequestClosed()
    tickets = TicketRepo(session)
    row = stored(ticket, part, direction="note" if note else "operator", author=actor, now=now)
    tickets.add_message(row)
    await session.flush()
    if note:
        tickets.log(ticket, "note", at=now, actor_kind="operator", actor_id=actor.id)
        return row
    if ticket.assignee_id is None:
        with suppress(AlreadyClaimed):
            await claim(session, desk, ticket, actor, now)
    ticket.last_activity_at = now
    _first_response(ticket, now, actor)
    tickets.log(ticket, "answered", at=now, actor_kind="operator", actor_id=actor.id)
    reply_to = None
    if reply_to_desk is not None:
        reply_to = await counterpart_id(session, part.chat_id, reply_to_desk)
    extra: dict[str, Any] = {}
    if signed and part.content_type != "text":
        caption = desk.renderer.t(
            "relay.signed", ticket.language, name=actor.name, text=part.text or ""
        )
        extra["caption"] = caption[:1024]
    if signed and part.content_type == "text":
        text = desk.renderer.t(
            "relay.signed", ticket.language, name=actor.name, text=part.text or ""
        )
        outbox = OutboxRepo(session)
        payload: dict[str, Any] = {"chat_id": ticket.client.telegram_id, "text": text[:4096]}
        if reply_to is not None:
            payload["reply_parameters"] = {
                "message_id": reply_to,
                "allow_sending_without_reply": True,
            }
        outbox.add(
            ticket.client.telegram_id,
            "sendMessage",
            payload,
            now=now,
            purpose="relay_to_client",
            ticket_id=ticket.id,
            ref_id=row.id,
        )
        return row
    await relay(
        session,
        desk,
        ticket,
        row,
        to_chat=ticket.client.telegram_id,
        purpose="relay_to_client",
        now=now,
        reply_to=reply_to,
        extra=extra,
    )
    return row


def _first_response(ticket: Ticket, now: datetime, actor: Actor) -> None:
    """The first message an operator sends to the client is the first response (SPEC); notes,
    claiming and automatic acknowledgements are not."""
    if ticket.first_response_at is not None:
        return
    ticket.first_response_at = now
    target = ticket.target("first_response")
    if target is not None and target.met_at is None:
        target.met_at = now
        if target.due_at is not None and now > target.due_at:
            target.breached_at = target.due_at


async def mirror_edit(
    session: AsyncSession, chat_id: int, message_id: int, text: str | None, now: datetime
) -> TicketMessage | None:
    """An edited message: store the new text and queue the same edit of its relayed copy."""
    row = await session.scalar(
        select(TicketMessage).where(
            TicketMessage.chat_id == chat_id, TicketMessage.message_id == message_id
        )
    )
    if row is None:
        return None
    row.text = text
    row.edited_at = now
    ticket = await session.get(Ticket, row.ticket_id)
    assert ticket is not None
    TicketRepo(session).log(
        ticket, "edited", at=now, actor_kind=row.direction, actor_id=row.author_id
    )
    if row.direction == "note" or row.relay_chat_id is None or row.relay_message_id is None:
        return row
    method, field = (
        ("editMessageText", "text")
        if row.content_type == "text"
        else (
            "editMessageCaption",
            "caption",
        )
    )
    OutboxRepo(session).add(
        row.relay_chat_id,
        method,
        {"chat_id": row.relay_chat_id, "message_id": row.relay_message_id, field: text or ""},
        now=now,
        purpose="edit",
        ticket_id=row.ticket_id,
    )
    return row
