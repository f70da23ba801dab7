"""What happens to the operator group itself, whoever caused it: a group upgraded to a
supergroup gets a new id, and the desk moves with it at once."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.desk import Desk
from bot.services.desk_chat import chat_moved

router = Router(name=__name__)


@router.message(F.migrate_to_chat_id)
async def upgraded(message: Message, session: AsyncSession, desk: Desk) -> None:
    assert message.migrate_to_chat_id is not None
    await chat_moved(session, desk, message.chat.id, message.migrate_to_chat_id)
