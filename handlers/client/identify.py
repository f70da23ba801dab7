"""Identification: name, company and INN/STIR (or PINFL), each validated; a wrong answer gets
a clear message and the answers given so far are kept (they are saved as they come)."""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot import keyboards as kb
from bot.services.desk import Desk
from bot.validation import (
    ValidationError,
    error_label_id,
    parse_company,
    parse_name,
    parse_tax_id,
)
from handlers.client.parts import snapshot
from handlers.client.prompts import profile_text, reask
from handlers.client.requests import begin_request, load, save
from handlers.client.states import Identify, ProfileEdit, first_missing
from storage.models import Client

router = Router(name=__name__)

TEXT_STATES = (
    Identify.name,
    Identify.company,
    Identify.tax_id,
    ProfileEdit.name,
    ProfileEdit.company,
    ProfileEdit.tax_id,
)


def _apply(client: Client, field: str, raw: str) -> None:
    """Validate and store one answer; raises ValidationError with a code for the message."""
    if field == "name":
        client.name = parse_name(raw)
    elif field == "company":
        client.company = parse_company(raw)
    else:
        tax_id = parse_tax_id(raw)
        client.tax_id, client.tax_id_kind = tax_id.value, tax_id.kind.value


@router.message(StateFilter(*TEXT_STATES), F.text)
async def answer(
    message: Message, state: FSMContext, client: Client, bot: Bot, desk: Desk, now: datetime
) -> None:
    current = await state.get_state()
    assert current is not None
    assert message.text is not None
    field = current.rsplit(":", 1)[1]
    try:
        _apply(client, field, message.text)
    except ValidationError as exc:
        await message.answer(_(error_label_id(exc.code)))
        return
    client.updated_at = now
    if current.startswith("ProfileEdit"):
        await state.set_state(None)
        await message.answer(_("profile.saved"))
        await message.answer(profile_text(client), parse_mode="HTML", reply_markup=kb.profile())
        return
    if not client.identified:
        # The first question still unanswered: the next one, or an earlier one that the
        # dialogue passed but the profile lacks (a dialogue store ahead of the database).
        await state.set_state(first_missing(client))
        await reask(bot, message.chat.id, state, desk)
        return
    await message.answer(_("identify.done").format(name=client.name))
    await begin_request(message.chat.id, state, bot, desk)


@router.message(StateFilter(*TEXT_STATES))
async def not_text(message: Message, state: FSMContext, bot: Bot, desk: Desk) -> None:
    """A sticker, photo or anything but text where a text answer is expected. A file sent
    while identifying is meant for the request: it is kept for it."""
    part = snapshot(message)
    current = await state.get_state()
    if part is not None and current is not None and current.startswith("Identify"):
        draft = await load(state)
        draft.parts.append(part)
        await save(state, draft)
        await message.answer(_("identify.file_kept"))
    else:
        await message.answer(_("error.text_expected"))
    await reask(bot, message.chat.id, state, desk)
