"""The client's requests: the list with statuses, one request's history, and after a resolve
the question whether the problem is solved and the rating."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot.callbacks import ClientTicketCb
from bot.i18n import fmt_datetime
from bot.lifecycle import Close, Rate, Refusal, Reopen
from bot.numbers import request_number, whole_number
from bot.services.desk import Desk
from bot.services.registration import client_author
from bot.services.tickets import TicketService, comment_rating
from bot.textsplit import shorten, split_text
from bot.vocabulary import ClientAction, status_label_id, topic_label_id
from storage.models import Client, Ticket
from storage.tickets import TicketRepo

router = Router(name=__name__)


class Rating(StatesGroup):
    comment = State()


async def own_ticket(session: AsyncSession, client: Client, ticket_id: int) -> Ticket | None:
    """A client only ever sees their own requests, whatever they type or forge."""
    ticket = await TicketRepo(session).get(ticket_id)
    return ticket if ticket is not None and ticket.client_id == client.id else None


@router.message(Command("mytickets"))
async def my_tickets(
    message: Message, command: CommandObject, client: Client, session: AsyncSession, desk: Desk
) -> None:
    if command.args:
        number = request_number(command.args)
        ticket = await TicketRepo(session).by_number(number) if number is not None else None
        if ticket is None or ticket.client_id != client.id:
            await message.answer(_("tickets.not_found"))
            return
        await _history(message, ticket, session, desk)
        return
    tickets = await TicketRepo(session).for_client(client.id)
    if not tickets:
        await message.answer(_("tickets.none"))
        return
    lines = [_("tickets.title")]
    for t in tickets:
        lines.append(
            _("tickets.line").format(
                number=t.number,
                status=_(status_label_id(t.status)),
                topic=_(topic_label_id(t.topic)),
                activity=fmt_datetime(t.last_activity_at, client.language, desk.tz),
            )
        )
    await message.answer("\n".join(lines), reply_markup=kb.my_tickets(list(tickets)))


async def _history(message: Message, ticket: Ticket, session: AsyncSession, desk: Desk) -> None:
    lang = ticket.language
    lines = [
        _("tickets.history_title").format(
            number=ticket.number, status=_(status_label_id(ticket.status))
        )
    ]
    for row in await TicketRepo(session).messages(ticket.id):
        if row.direction == "note":
            continue
        who = _("tickets.you") if row.direction == "client" else _("tickets.support")
        body = escape(shorten(row.text, 500)) if row.text else _("tickets.attachment")
        lines.append(
            _("tickets.history_line").format(
                at=fmt_datetime(row.created_at, lang, desk.tz), who=who, text=body
            )
        )
    for chunk in split_text("\n".join(lines)):
        await message.answer(chunk, parse_mode="HTML")


@router.callback_query(ClientTicketCb.filter(F.action == ClientAction.VIEW))
async def view(
    callback: CallbackQuery,
    callback_data: ClientTicketCb,
    client: Client,
    session: AsyncSession,
    desk: Desk,
) -> None:
    ticket = await own_ticket(session, client, callback_data.ticket)
    if ticket is None or not isinstance(callback.message, Message):
        await callback.answer(_("tickets.not_found"), show_alert=True)
        return
    await callback.answer()
    await _history(callback.message, ticket, session, desk)


@router.callback_query(ClientTicketCb.filter(F.action == ClientAction.SOLVED))
async def solved(
    callback: CallbackQuery,
    callback_data: ClientTicketCb,
    client: Client,
    tickets: TicketService,
) -> None:
    ticket = await own_ticket(tickets.session, client, callback_data.ticket)
    if ticket is None or callback_data.arg not in ("y", "n"):
        await callback.answer(_("error.button_outdated"), show_alert=True)
        return
    actor = client_author(client)
    yes = callback_data.arg == "y"
    command = Close(actor) if yes else Reopen(actor)
    if isinstance(await tickets.execute(ticket, command), Refusal):
        await callback.answer(_("error.button_outdated"), show_alert=True)
        return
    if yes:
        await callback.answer(_("tickets.thanks"))
        tickets.ask_rating(ticket)
    else:
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.answer(_("tickets.reopened_by_you").format(number=ticket.number))
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)


@router.callback_query(ClientTicketCb.filter(F.action == ClientAction.RATE))
async def rate(
    callback: CallbackQuery,
    callback_data: ClientTicketCb,
    client: Client,
    state: FSMContext,
    tickets: TicketService,
) -> None:
    ticket = await own_ticket(tickets.session, client, callback_data.ticket)
    stars = whole_number(callback_data.arg, limit=9) or 0
    if ticket is None or isinstance(
        await tickets.execute(ticket, Rate(client_author(client), stars)), Refusal
    ):
        await callback.answer(_("error.button_outdated"), show_alert=True)
        return
    await callback.answer(_("tickets.rated"))
    await state.set_state(Rating.comment)
    await state.update_data(rating_ticket=ticket.id)
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
        await callback.message.answer(
            _("tickets.comment_ask"),
            reply_markup=kb.skip_comment(ticket),
        )


@router.message(Rating.comment, F.text)
async def comment(
    message: Message,
    client: Client,
    state: FSMContext,
    tickets: TicketService,
) -> None:
    ticket_id = (await state.get_data()).get("rating_ticket")
    await state.clear()
    ticket = await own_ticket(tickets.session, client, int(ticket_id or 0))
    if ticket is not None and message.text:
        await comment_rating(tickets, ticket, client_author(client), message.text)
    await message.answer(_("tickets.comment_thanks"))


@router.callback_query(ClientTicketCb.filter(F.action == ClientAction.NO_COMMENT))
async def no_comment(callback: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    # The rating was thanked for already; skipping the comment only confirms it is kept.
    await callback.answer(_("tickets.comment_skipped"))
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
