"""The command menus Telegram shows: the client's in Russian and Uzbek, the operators' in the
operator group."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot.i18n import LANGUAGES
from bot.services.desk import Desk

CLIENT_COMMANDS = ("start", "new", "mytickets", "profile", "language", "cancel", "help")
OPERATOR_COMMANDS = (
    "queue",
    "mine",
    "t",
    "claim",
    "priority",
    "wait",
    "resolve",
    "reopen",
    "release",
    "assign",
    "note",
    "ban",
    "unban",
)


def client_commands(desk: Desk, lang: str) -> list[BotCommand]:
    return [
        BotCommand(command=c, description=desk.renderer.label(f"command.{c}", lang))
        for c in CLIENT_COMMANDS
    ]


def operator_commands(desk: Desk) -> list[BotCommand]:
    lang = desk.renderer.desk_language
    return [
        BotCommand(command=c, description=desk.renderer.label(f"command.{c}", lang))
        for c in OPERATOR_COMMANDS
    ]


async def register_commands(bot: Bot, desk: Desk) -> None:
    private = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands(client_commands(desk, "ru"), scope=private)
    for lang in LANGUAGES:
        await bot.set_my_commands(client_commands(desk, lang), scope=private, language_code=lang)
    if desk.operator_chat_id is not None:
        await bot.set_my_commands(
            operator_commands(desk), scope=BotCommandScopeChat(chat_id=desk.operator_chat_id)
        )
