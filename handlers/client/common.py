"""Start, help, cancel, language: the commands that work at any step."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot import keyboards as kb
from bot.callbacks import LangCb, ProfileCb
from bot.i18n import LANGUAGES, DeskI18n
from bot.services.desk import Desk
from handlers.client.prompts import no_keyboard, reask
from handlers.client.states import first_missing
from storage.models import Client

router = Router(name=__name__)


@router.message(CommandStart())
async def start(message: Message, state: FSMContext, client: Client, bot: Bot, desk: Desk) -> None:
    if await state.get_state() is not None:
        await message.answer(_("dialogue.continue"))
        await reask(bot, message.chat.id, state, desk)
        return
    if not client.identified:
        await message.answer(_("start.hello"), reply_markup=kb.languages())
        await state.set_state(first_missing(client))
        await reask(bot, message.chat.id, state, desk)
        return
    await message.answer(_("start.welcome_back").format(name=client.name), reply_markup=kb.menu())


@router.message(Command("help"))
async def help_(message: Message, client: Client, desk: Desk) -> None:
    # The hours and times come from the policy: the text is true whatever the desk configures.
    await message.answer(desk.renderer.help_text(client.language, desk.policy))


@router.message(Command("cancel"))
async def cancel(message: Message, state: FSMContext) -> None:
    if await state.get_state() is None:
        await message.answer(_("cancel.nothing"), reply_markup=no_keyboard())
    else:
        await state.clear()
        await message.answer(_("cancel.done"), reply_markup=no_keyboard())
    await message.answer(_("menu.title"), reply_markup=kb.menu())


@router.message(Command("language"))
async def language(message: Message) -> None:
    await message.answer(_("language.ask"), reply_markup=kb.languages())


@router.callback_query(ProfileCb.filter(F.field == "language"))
async def language_button(callback: CallbackQuery) -> None:
    await callback.answer()
    if callback.message is not None:
        await callback.message.answer(_("language.ask"), reply_markup=kb.languages())


@router.callback_query(LangCb.filter(F.code.in_(LANGUAGES)))
async def set_language(
    callback: CallbackQuery,
    callback_data: LangCb,
    client: Client,
    state: FSMContext,
    bot: Bot,
    desk: Desk,
    i18n: DeskI18n,
) -> None:
    client.language = callback_data.code
    with i18n.use_locale(client.language):
        await callback.answer(_("language.changed"))
        await bot.send_message(client.telegram_id, _("language.changed"))
        if await state.get_state() is not None:
            await reask(bot, client.telegram_id, state, desk)
