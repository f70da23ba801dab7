"""Relaying a request's conversation both ways: what the client writes reaches the request's
place in the operator group, what an operator writes reaches the client; replies keep their
reply-to, albums travel together, edits are mirrored, notes stay inside."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from aiogram.methods import CopyMessage, CopyMessages, EditMessageCaption, EditMessageText
from aiogram.types import ReplyParameters
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.lifecycle import Actor, EventKind
from bot.services.desk import Desk
from bot.services.drafts import Part
from bot.services.outgoing import Outgoing, method_of, rewrite
from bot.vocabulary import ActorKind, Direction, Place, Purpose
from storage.models import DeskMessage, Ticket, TicketMessage
from storage.outbox import OutboxRepo, pending_group
from storage.tickets import TicketRepo

# How long the first message of an album waits for the rest before it goes out.
ALBUM_WAIT = timedelta(seconds=1.5)


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
    purpose: Purpose | str,
    now: datetime,
    reply_to: int | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Queue a copy of a stored message; a message of an album joins its album's pending copy."""
    out = Outgoing(OutboxRepo(session), desk.operator_chat_id, now)
    album = f"album:{message.chat_id}:{message.media_group_id}" if message.media_group_id else None
    if album is not None:
        pending = await pending_group(session, album, now=now)
        if pending is not None:
            copy = method_of(pending)
            ids = getattr(copy, "message_ids", None) or [getattr(copy, "message_id", None)]
            gathered = CopyMessages(
                chat_id=pending.chat_id,
                from_chat_id=message.chat_id,
                message_ids=sorted({*(i for i in ids if i is not None), message.message_id}),
            )
            rewrite(pending, gathered)
            return
    reply = (
        ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
        if reply_to is not None
        else None
    )
    out.queue(
        CopyMessage(
            chat_id=to_chat,
            from_chat_id=message.chat_id,
            message_id=message.message_id,
            reply_parameters=reply,
            **(extra or {}),
        ),
        purpose=purpose,
        place=Place.DESK if to_chat == desk.operator_chat_id else Place.CHAT,
        ticket_id=ticket.id,
        ref_id=message.id,
        group_key=album,
        delay=ALBUM_WAIT if album is not None else None,
    )


def stored(
    ticket: Ticket, part: Part, *, direction: Direction, author: Actor, now: datetime
) -> TicketMessage:
    assert author.id is not None
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


async def stored_message(
    session: AsyncSession, chat_id: int, message_id: int
) -> TicketMessage | None:
    """The stored message of a request that this chat's message is (its original)."""
    return await session.scalar(
        select(TicketMessage).where(
            TicketMessage.chat_id == chat_id, TicketMessage.message_id == message_id
        )
    )


async def mirror_edit(
    session: AsyncSession, chat_id: int, message_id: int, text: str | None, now: datetime
) -> TicketMessage | None:
    """An edited message: store the new text and queue the same edit of its relayed copy."""
    row = await stored_message(session, chat_id, message_id)
    if row is None:
        return None
    await apply_edit(session, row, text, now)
    return row


async def apply_edit(
    session: AsyncSession, row: TicketMessage, text: str | None, now: datetime
) -> None:
    """Store a message's new text, log the edit and queue it for the relayed copy."""
    row.text = text
    row.edited_at = now
    ticket = await session.get(Ticket, row.ticket_id)
    assert ticket is not None
    author = ActorKind.CLIENT if row.direction == Direction.CLIENT else ActorKind.OPERATOR
    TicketRepo(session).log(
        ticket, EventKind.EDITED, at=now, actor_kind=author, actor_id=row.author_id
    )
    if row.direction == "note" or row.relay_chat_id is None or row.relay_message_id is None:
        return
    edit: EditMessageText | EditMessageCaption
    if row.content_type == "text":
        edit = EditMessageText(
            chat_id=row.relay_chat_id, message_id=row.relay_message_id, text=text or ""
        )
    else:
        edit = EditMessageCaption(
            chat_id=row.relay_chat_id, message_id=row.relay_message_id, caption=text or ""
        )
    Outgoing(OutboxRepo(session), None, now).queue(
        edit, purpose=Purpose.EDIT, ticket_id=row.ticket_id
    )
