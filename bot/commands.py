"""The command menus Telegram shows: the client's in Russian and Uzbek, the operators' in the
operator group."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from bot.i18n import LANGUAGES
from bot.services.desk import Desk
from bot.vocabulary import N_

CLIENT_COMMANDS = (
    "start",
    "new",
    "mytickets",
    "profile",
    "mydata",
    "forget",
    "language",
    "cancel",
    "help",
)
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
    "macros",
    "macro",
    "m",
)

# Each command's description in the menu (a literal id for extraction; a test checks that every
# command above has one).
COMMAND_LABELS: Final[Mapping[str, str]] = {
    "start": N_("command.start"),
    "new": N_("command.new"),
    "mytickets": N_("command.mytickets"),
    "profile": N_("command.profile"),
    "mydata": N_("command.mydata"),
    "forget": N_("command.forget"),
    "language": N_("command.language"),
    "cancel": N_("command.cancel"),
    "help": N_("command.help"),
    "queue": N_("command.queue"),
    "mine": N_("command.mine"),
    "t": N_("command.t"),
    "claim": N_("command.claim"),
    "priority": N_("command.priority"),
    "wait": N_("command.wait"),
    "resolve": N_("command.resolve"),
    "reopen": N_("command.reopen"),
    "release": N_("command.release"),
    "assign": N_("command.assign"),
    "note": N_("command.note"),
    "ban": N_("command.ban"),
    "unban": N_("command.unban"),
    "macros": N_("command.macros"),
    "macro": N_("command.macro"),
    "m": N_("command.m"),
}


def client_commands(desk: Desk, lang: str) -> list[BotCommand]:
    return [
        BotCommand(command=c, description=desk.renderer.label(COMMAND_LABELS[c], lang))
        for c in CLIENT_COMMANDS
    ]


def operator_commands(desk: Desk) -> list[BotCommand]:
    lang = desk.renderer.desk_language
    return [
        BotCommand(command=c, description=desk.renderer.label(COMMAND_LABELS[c], lang))
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
