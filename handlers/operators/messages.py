"""What operators write in a request's topic (or in reply to its messages): relayed to the
client, or kept as an internal note when it starts with "!" or /note. An answer the quality
guard stops is held, and the group is told why, with buttons to send it anyway or cancel."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot import keyboards as kb
from bot.callbacks import TicketCb
from bot.lifecycle import Actor
from bot.services import guarding
from bot.services.conversation import RequestClosed, add_note
from bot.services.relay import ticket_in_desk
from bot.services.tickets import TicketService
from handlers.client.parts import is_service, snapshot
from storage.models import Ticket

router = Router(name=__name__)

NOTE_MARK = "!"


async def _handle(message: Message, tickets: TicketService, *, note: bool) -> None:
    assert message.from_user is not None
    reply = message.reply_to_message
    reply_id = reply.message_id if reply is not None and not _is_topic_root(message) else None
    ticket = await ticket_in_desk(
        tickets.session, tickets.desk, message.message_thread_id, reply_id, message.media_group_id
    )
    from_bot = reply is not None and reply.from_user is not None and reply.from_user.is_bot
    if ticket is None and from_bot and reply_id is not None:
        ticket = await _ticket_on_buttons(tickets, reply)
    if ticket is None:
        # A reply to a bot message the desk does not know (a card posted again after a crash
        # left the first copy unrecorded) is a question, not talk among operators: say so.
        if note:
            await message.reply(_("desk.which_request"))
        elif from_bot and reply_id is not None:
            await message.reply(_("desk.unknown_message"))
        return  # operators talking among themselves outside any request
    part = snapshot(message)
    if part is None:
        if not is_service(message):
            await message.reply(_("desk.unsupported_content"))
        return
    if note and part.text is not None:
        part.text = part.text.removeprefix("/note").removeprefix(NOTE_MARK).strip() or part.text
    actor = Actor.operator(message.from_user.id, message.from_user.full_name)
    if note:
        await add_note(tickets, ticket, actor, part)
        return
    try:
        held = await guarding.answer(tickets, ticket, actor, part, reply_to_desk=reply_id)
    except RequestClosed:
        await message.reply(_("desk.request_closed").format(number=ticket.number))
        return
    if held is not None:
        warning = guarding.warning(tickets, ticket, held)
        await message.reply(warning, reply_markup=kb.held(tickets.desk.renderer, held))


async def _ticket_on_buttons(tickets: TicketService, message: Message | None) -> Ticket | None:
    """The request a card names on its buttons (a copy the desk did not record)."""
    markup = message.reply_markup if message is not None else None
    for row in markup.inline_keyboard if markup is not None else []:
        for button in row:
            try:
                data = TicketCb.unpack(button.callback_data or "")
            except (TypeError, ValueError):
                continue
            return await tickets.session.get(Ticket, data.ticket)
    return None


def _is_topic_root(message: Message) -> bool:
    """In a forum every message 'replies' to the topic's first service message; that is not a
    real reply."""
    reply = message.reply_to_message
    return bool(reply is not None and reply.forum_topic_created is not None)


@router.message(Command("note"))
async def note_command(message: Message, tickets: TicketService) -> None:
    await _handle(message, tickets, note=True)


@router.message(F.text.startswith(NOTE_MARK) | F.caption.startswith(NOTE_MARK))
async def note(message: Message, tickets: TicketService) -> None:
    await _handle(message, tickets, note=True)


@router.message(~F.text.startswith("/"))
async def answer(message: Message, tickets: TicketService) -> None:
    await _handle(message, tickets, note=False)


@router.edited_message()
async def edited(message: Message, tickets: TicketService) -> None:
    """Mirrored to the client, unless the guard stops the new text; a held answer edited
    until it passes goes to the client."""
    assert message.from_user is not None
    editor = Actor.operator(message.from_user.id, message.from_user.full_name)
    text = message.text or message.caption
    outcome = await guarding.edited(tickets, editor, message.chat.id, message.message_id, text)
    if outcome.ticket is None:
        return
    if outcome.held is not None:
        warning = guarding.warning(tickets, outcome.ticket, outcome.held)
        await message.reply(warning, reply_markup=kb.held(tickets.desk.renderer, outcome.held))
    elif outcome.fixed is not None:
        await message.reply(_("guard.fixed").format(number=outcome.ticket.number))
