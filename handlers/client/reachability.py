"""A client blocks or unblocks the bot: Telegram says so at once (`my_chat_member` in the
private chat), and the desk marks them unreachable (or reachable again) then, not at the next
failed delivery."""

from __future__ import annotations

from datetime import datetime

from aiogram import F, Router
from aiogram.enums import ChatMemberStatus
from aiogram.types import ChatMemberUpdated
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.desk import Desk
from bot.services.reachability import client_blocked, client_unblocked

router = Router(name=__name__)
router.my_chat_member.filter(F.chat.type == "private")

GONE = frozenset({ChatMemberStatus.KICKED, ChatMemberStatus.LEFT})


@router.my_chat_member()
async def membership(
    event: ChatMemberUpdated, session: AsyncSession, desk: Desk, now: datetime
) -> None:
    if event.new_chat_member.status in GONE:
        await client_blocked(session, desk, event.chat.id, now)
    else:
        await client_unblocked(session, desk, event.chat.id, now)
