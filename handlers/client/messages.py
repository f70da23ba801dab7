"""A client's message outside any dialogue: it belongs to their open request, or it starts a
new one. Nothing a client sends is dropped."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.conversation import add_client_message, find_conversation
from bot.services.desk import Desk
from bot.services.drafts import RequestDraft
from bot.services.relay import mirror_edit
from bot.services.tickets import TicketService
from handlers.client.parts import is_service, snapshot
from handlers.client.prompts import reask
from handlers.client.requests import begin_request, identify_first, save
from storage.models import Client

router = Router(name=__name__)


@router.message(StateFilter(None))
async def free_message(
    message: Message,
    client: Client,
    state: FSMContext,
    tickets: TicketService,
    bot: Bot,
    desk: Desk,
) -> None:
    part = snapshot(message)
    if part is None:
        if not is_service(message):
            await message.answer(_("error.unsupported_content"))
        return
    ticket = await find_conversation(tickets, client)
    if ticket is not None:
        reply_to = message.reply_to_message.message_id if message.reply_to_message else None
        await add_client_message(tickets, client, ticket, part, reply_to)
        return
    # No open request: this message starts one, and is kept as its first part.
    await save(state, RequestDraft(parts=[part]))
    if not client.identified:
        await identify_first(message.chat.id, client, state, bot, desk)
        return
    await message.answer(_("request.started_from_message"))
    await begin_request(message.chat.id, state, bot, desk)


@router.callback_query()
async def stale_button(callback: CallbackQuery, state: FSMContext, bot: Bot, desk: Desk) -> None:
    """A button from an earlier step, or data nobody sent: refuse politely, ask again."""
    await callback.answer(_("error.button_outdated"), show_alert=True)
    if await state.get_state() is not None:
        await reask(bot, callback.from_user.id, state, desk)


@router.edited_message()
async def edited(message: Message, session: AsyncSession, now: datetime) -> None:
    """An edit of a message already stored with a request is stored and mirrored to the desk."""
    await mirror_edit(
        session, message.chat.id, message.message_id, message.text or message.caption, now
    )
