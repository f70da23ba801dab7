"""The client's profile: review it and change any of its fields."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import keyboards as kb
from bot.callbacks import ProfileCb
from bot.services.desk import Desk
from handlers.client.prompts import profile_text, reask
from handlers.client.states import ProfileEdit
from storage.models import Client

router = Router(name=__name__)

EDITS = {"name": ProfileEdit.name, "company": ProfileEdit.company, "tax_id": ProfileEdit.tax_id}


@router.message(Command("profile"))
async def show(message: Message, client: Client) -> None:
    await message.answer(profile_text(client), parse_mode="HTML", reply_markup=kb.profile())


@router.callback_query(ProfileCb.filter(F.field == "show"))
async def show_button(callback: CallbackQuery, client: Client) -> None:
    await callback.answer()
    if callback.message is not None:
        await callback.message.answer(
            profile_text(client), parse_mode="HTML", reply_markup=kb.profile()
        )


@router.callback_query(ProfileCb.filter(F.field.in_(list(EDITS))))
async def edit(
    callback: CallbackQuery, callback_data: ProfileCb, state: FSMContext, bot: Bot, desk: Desk
) -> None:
    await callback.answer()
    await state.set_state(EDITS[callback_data.field])
    await reask(bot, callback.from_user.id, state, desk)
