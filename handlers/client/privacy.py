"""The client's own data: /mydata shows what the desk keeps, /forget erases it after a
confirmation (bot.services.privacy)."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards as kb
from bot.callbacks import ForgetCb
from bot.i18n import fmt_datetime
from bot.inbox import InboxTicket
from bot.render import tax_id_label
from bot.services.desk import Desk
from bot.services.privacy import forget_client, my_data
from bot.services.tickets import TicketService
from bot.settings import Settings
from bot.vocabulary import status_label_id, topic_label_id
from storage.models import Client

router = Router(name=__name__)


@router.message(Command("mydata"))
async def show_my_data(
    message: Message, client: Client, session: AsyncSession, desk: Desk, settings: Settings
) -> None:
    lang, renderer = client.language, desk.renderer
    data = await my_data(session, client)
    if not client.identified and not data.total:
        await message.answer(_("privacy.nothing"))
        return
    none = _("privacy.not_given")
    lines = [
        _("privacy.title"),
        _("privacy.profile").format(
            name=escape(client.name or none),
            company=escape(client.company or none),
            tax_label=_(tax_id_label(client.tax_id)),
            tax_id=escape(client.tax_id or none),
            phone=escape(client.phone or none),
            email=escape(client.email or none),
        ),
        renderer.tn("privacy.requests", data.total, lang),
    ]
    for request in data.requests:
        lines.append(
            _("privacy.request_line").format(
                number=request.number,
                status=_(status_label_id(request.status)),
                topic=_(topic_label_id(request.topic)),
                opened=fmt_datetime(request.registered_at, lang, desk.tz),
                from_client=renderer.tn("privacy.from_you", request.from_client, lang),
                to_client=renderer.tn("privacy.to_you", request.to_client, lang),
            )
        )
    if data.total > len(data.requests):
        lines.append(renderer.tn("privacy.more", data.total - len(data.requests), lang))
    if settings.data_retention_days:
        lines.append(renderer.tn("privacy.retention", settings.data_retention_days, lang))
    lines.append(_("privacy.how_to_forget"))
    await message.answer("\n".join(lines), parse_mode="HTML")


@router.message(Command("forget"))
async def ask_forget(message: Message) -> None:
    await message.answer(_("privacy.forget_ask"), reply_markup=kb.forget_confirm())


@router.callback_query(ForgetCb.filter(F.answer.in_({"yes", "no"})))
async def forget(
    callback: CallbackQuery,
    callback_data: ForgetCb,
    client: Client,
    tickets: TicketService,
    state: FSMContext,
    inbox: InboxTicket | None = None,
) -> None:
    if callback_data.answer == "no":
        await callback.answer(_("privacy.forget_kept"))
    else:
        numbers = await forget_client(
            tickets.session,
            tickets.desk,
            client,
            tickets.now,
            keep_update=inbox.update_id if inbox is not None else None,
        )
        await state.clear()
        await callback.answer()
        if isinstance(callback.message, Message):
            await callback.message.answer(
                tickets.desk.renderer.tn("privacy.forgotten", len(numbers), client.language)
            )
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
