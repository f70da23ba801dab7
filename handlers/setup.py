"""Setting the desk up: `/chatid` in any group the bot is in tells that group's id (and the
topic's, in a forum), for OPERATOR_CHAT_ID and MANAGER_CHAT_ID; when the bot is added to a
group it logs the group's id and says it there (unless it is the configured operator group)."""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.enums import ChatMemberStatus
from aiogram.filters import Command
from aiogram.types import ChatMemberUpdated, Message

from bot.i18n import DeskI18n
from bot.settings import Settings

log = logging.getLogger(__name__)

router = Router(name=__name__)
GROUPS = {"group", "supergroup"}
IN = frozenset({ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR})


@router.message(Command("chatid"), F.chat.type.in_(GROUPS))
async def chat_id(message: Message, i18n: DeskI18n, settings: Settings) -> None:
    lang = settings.desk_language
    if message.is_topic_message and message.message_thread_id is not None:
        text = i18n.t(
            "setup.chat_id_topic",
            lang,
            chat_id=message.chat.id,
            thread_id=message.message_thread_id,
        )
    else:
        text = i18n.t("setup.chat_id", lang, chat_id=message.chat.id)
    await message.answer(text, parse_mode="HTML")


@router.my_chat_member(F.chat.type.in_(GROUPS))
async def added(event: ChatMemberUpdated, bot: Bot, i18n: DeskI18n, settings: Settings) -> None:
    was, now = event.old_chat_member.status, event.new_chat_member.status
    if now not in IN or was in IN:
        return
    log.info("the bot was added to a %s, id %d", event.chat.type, event.chat.id)
    if event.chat.id in (settings.operator_chat_id, settings.manager_chat_id):
        return
    await bot.send_message(
        event.chat.id,
        i18n.t("setup.added", settings.desk_language, chat_id=event.chat.id),
        parse_mode="HTML",
    )
