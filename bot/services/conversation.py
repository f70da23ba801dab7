"""A request's conversation: what the client writes on an open request (a message within the
reopen window brings a resolved one back) and what an operator writes to the client or keeps
as a note. Each message is stored, passes the life cycle, and is relayed through the outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiogram.methods import SendMessage
from aiogram.types import ReplyParameters

from bot.lifecycle import Actor, Answer, ClientWrites, EventKind, Refusal
from bot.services.drafts import Part
from bot.services.registration import client_author
from bot.services.relay import counterpart_id, relay, stored
from bot.services.tickets import TicketService
from bot.textsplit import CAPTION_LIMIT, split_text
from bot.vocabulary import OPEN_STATUSES, Direction, Purpose, Status
from storage.models import Client, Ticket, TicketMessage


class RequestClosed(Exception):
    """An operator wrote into a closed request; nothing is sent to the client."""


async def find_conversation(tickets: TicketService, client: Client) -> Ticket | None:
    """The request a free message belongs to: the client's current one while it is open or
    resolved within the reopen window, else their most recently active open one."""
    repo = tickets.repo
    if client.current_ticket_id is not None:
        ticket = await repo.get(client.current_ticket_id)
        if ticket is not None and ticket.client_id == client.id:
            if ticket.status in OPEN_STATUSES:
                return ticket
            window = timedelta(hours=tickets.desk.reopen_window_hours)
            if (
                ticket.status == Status.RESOLVED
                and ticket.resolved_at is not None
                and tickets.now - ticket.resolved_at <= window
            ):
                return ticket
    open_ones = await repo.open_for_client(client.id)
    return open_ones[0] if open_ones else None


async def add_client_message(
    tickets: TicketService,
    client: Client,
    ticket: Ticket,
    part: Part,
    reply_to: int | None = None,
) -> None:
    now = tickets.now
    author = client_author(client)
    row = stored(ticket, part, direction=Direction.CLIENT, author=author, now=now)
    tickets.repo.add_message(row)
    await tickets.session.flush()
    ticket.client_unreachable = False
    client.current_ticket_id = ticket.id
    # The client's message is kept whatever the life cycle says of it.
    await tickets.execute(ticket, ClientWrites(author))
    desk = tickets.desk
    if desk.operator_chat_id is None:
        return
    desk_reply = (
        await counterpart_id(tickets.session, client.telegram_id, reply_to) if reply_to else None
    )
    await relay(
        tickets.session,
        desk,
        ticket,
        row,
        to_chat=desk.operator_chat_id,
        purpose=Purpose.RELAY_TO_DESK,
        now=now,
        reply_to=desk_reply,
    )


async def add_note(tickets: TicketService, ticket: Ticket, actor: Actor, part: Part) -> None:
    row = stored(ticket, part, direction=Direction.NOTE, author=actor, now=tickets.now)
    tickets.repo.add_message(row)
    await tickets.session.flush()
    tickets.note(ticket, EventKind.NOTE, actor, message=row.id)


async def operator_message(
    tickets: TicketService,
    ticket: Ticket,
    actor: Actor,
    part: Part,
    *,
    reply_to_desk: int | None = None,
    as_text: bool = False,
) -> TicketMessage:
    """An operator's answer: it claims an unassigned request, the first one is the first
    response, and it reaches the client (signed with the operator's name if the desk says so).
    `as_text`: the text is not the operator's message itself (a saved answer, filled in) and
    goes as a new message instead of a copy of theirs."""
    outcome = await tickets.execute(ticket, Answer(actor))
    if isinstance(outcome, Refusal):
        raise RequestClosed()
    desk, now, session = tickets.desk, tickets.now, tickets.session
    row = stored(ticket, part, direction=Direction.OPERATOR, author=actor, now=now)
    tickets.repo.add_message(row)
    await session.flush()
    reply_to = None
    if reply_to_desk is not None:
        reply_to = await counterpart_id(session, part.chat_id, reply_to_desk)
    client_chat = ticket.client.telegram_id
    signed = part.text or ""
    if desk.operator_names_visible:
        signed = desk.renderer.t("relay.signed", ticket.language, name=actor.name, text=signed)
    if part.content_type == "text" and (desk.operator_names_visible or as_text):
        # The signature may push a long answer past Telegram's limit: it goes in parts.
        for index, chunk in enumerate(split_text(signed)):
            tickets.out.queue(
                SendMessage(
                    chat_id=client_chat,
                    text=chunk,
                    reply_parameters=_reply(reply_to) if index == 0 else None,
                ),
                purpose=Purpose.RELAY_TO_CLIENT,
                ticket_id=ticket.id,
                ref_id=row.id,
            )
        return row
    extra: dict[str, Any] = {}
    if desk.operator_names_visible and len(signed) <= CAPTION_LIMIT:
        extra["caption"] = signed  # else the caption goes as written, whole but unsigned
    await relay(
        session,
        desk,
        ticket,
        row,
        to_chat=client_chat,
        purpose=Purpose.RELAY_TO_CLIENT,
        now=now,
        reply_to=reply_to,
        extra=extra,
    )
    return row


def _reply(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)
