"""A bare aiogram echo bot: the baseline of bench/bench_intake.py.

One Dispatcher, long polling (aiogram's own, updates handled as tasks), one handler answering
every message with a message and one answering every button press (answerCallbackQuery, then a
message). Every message it sends carries one button, so a client can press it as the desk's
clients press the desk's buttons. Configured as the desk is: BOT_TOKEN and TELEGRAM_API_URL
(the stand-in) from the environment; run: python bench/echo_bot.py.
"""

from __future__ import annotations

import asyncio
import logging
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

BUTTON = "echo"
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="Echo", callback_data=BUTTON)]]
)

dispatcher = Dispatcher()


@dispatcher.message()
async def echo(message: Message) -> None:
    await message.answer(message.text or "…", reply_markup=KEYBOARD)


@dispatcher.callback_query()
async def pressed(query: CallbackQuery, bot: Bot) -> None:
    await query.answer()
    await bot.send_message(query.from_user.id, query.data or "…", reply_markup=KEYBOARD)


async def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"]))
    bot = Bot(os.environ["BOT_TOKEN"], session=session)
    try:
        await dispatcher.start_polling(bot)
    finally:
        await session.close()


if __name__ == "__main__":
    asyncio.run(main())
