"""The questions of the dialogue, asked the same way the first time and after an
interruption (a restart, a language change, an outdated button)."""

from __future__ import annotations

from html import escape

from aiogram import Bot
from aiogram.fsm.context import FSMContext
from aiogram.types import ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from bot import keyboards as kb
from bot.render import tax_id_label
from bot.services.desk import Desk
from bot.services.drafts import RequestDraft
from bot.textsplit import shorten
from bot.vocabulary import feedback_label_id, kind_label_id, topic_label_id
from handlers.client.states import Identify, NewRequest, ProfileEdit
from storage.models import Client


async def ask(bot: Bot, chat_id: int, state: str | None, desk: Desk, draft: RequestDraft) -> None:
    """Ask the question of `state` (again)."""
    if state in (Identify.name.state, ProfileEdit.name.state):
        await bot.send_message(chat_id, _("identify.ask_name"))
    elif state in (Identify.company.state, ProfileEdit.company.state):
        await bot.send_message(chat_id, _("identify.ask_company"))
    elif state in (Identify.tax_id.state, ProfileEdit.tax_id.state):
        await bot.send_message(chat_id, _("identify.ask_tax_id"))
    elif state == NewRequest.kind.state:
        await bot.send_message(chat_id, _("request.ask_kind"), reply_markup=kb.kinds())
    elif state == NewRequest.topic.state:
        await bot.send_message(chat_id, _("request.ask_topic"), reply_markup=kb.topics(desk.topics))
    elif state == NewRequest.description.state:
        if draft.parts:
            await bot.send_message(
                chat_id,
                description_more(len(draft.parts)),
                reply_markup=kb.description_done(),
            )
        else:
            await bot.send_message(chat_id, _("request.ask_description"))
    elif state == NewRequest.feedback.state:
        await bot.send_message(chat_id, _("request.ask_feedback"), reply_markup=kb.feedback())
    elif state == NewRequest.phone.state:
        await bot.send_message(chat_id, _("request.ask_phone"), reply_markup=kb.share_contact())
    elif state == NewRequest.email.state:
        await bot.send_message(chat_id, _("request.ask_email"))
    elif state == NewRequest.confirm.state:
        await bot.send_message(
            chat_id,
            summary(draft),
            parse_mode="HTML",
            reply_markup=kb.confirm(),
        )
    else:
        await bot.send_message(chat_id, _("menu.title"), reply_markup=kb.menu())


async def reask(bot: Bot, chat_id: int, state: FSMContext, desk: Desk) -> None:
    current = await state.get_state()
    draft = RequestDraft.from_data((await state.get_data()).get("draft"))
    await ask(bot, chat_id, current, desk, draft)


def description_more(count: int) -> str:
    """'Принято 2 сообщения…': the plural form for `count`."""
    return _("request.description_more", "request.description_more", count).format(n=count)


def files(count: int) -> str:
    if not count:
        return _("request.files_none")
    return _("request.files", "request.files", count).format(n=count)


def summary(draft: RequestDraft) -> str:
    contact = _(feedback_label_id(draft.feedback or "telegram"))
    if draft.contact:
        contact = f"{contact}: {escape(draft.contact)}"
    text = draft.description.strip()
    return _("request.summary").format(
        kind=_(kind_label_id(draft.kind or "")),
        topic=_(topic_label_id(draft.topic or "")),
        description=escape(shorten(text, 1500)) if text else _("request.summary_no_text"),
        files=files(draft.media_count),
        contact=contact,
    )


def profile_text(client: Client) -> str:
    return _("profile.show").format(
        name=escape(client.name or "—"),
        company=escape(client.company or "—"),
        tax_id_label=_(tax_id_label(client.tax_id)),
        tax_id=escape(client.tax_id or "—"),
        phone=escape(client.phone or "—"),
        email=escape(client.email or "—"),
    )


def no_keyboard() -> ReplyKeyboardRemove:
    return ReplyKeyboardRemove()
