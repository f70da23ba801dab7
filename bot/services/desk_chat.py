"""The operator group's id over time: a group upgraded to a supergroup gets a new id, and the
desk follows it (the record survives restarts; what was queued for the old id goes to the new)."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.desk import Desk
from storage.meta import get_meta, set_meta
from storage.outbox import OutboxRepo

log = logging.getLogger(__name__)

MIGRATED = "chat_migrated:"


async def chat_moved(session: AsyncSession, desk: Desk, old_chat_id: int, new_chat_id: int) -> int:
    """Record that a chat became another, move its pending messages, and point the desk at the
    new id if it was the operator group. Returns how many messages moved. The caller commits."""
    moved = await OutboxRepo(session).move_chat(old_chat_id, new_chat_id)
    await set_meta(session, f"{MIGRATED}{old_chat_id}", str(new_chat_id))
    if desk.operator_chat_id == old_chat_id:
        desk.operator_chat.id = new_chat_id
    log.warning("chat %s is now %s; %s pending messages moved", old_chat_id, new_chat_id, moved)
    return moved


async def load_operator_chat(sessions: async_sessionmaker[AsyncSession], desk: Desk) -> int | None:
    """At start: the operator group's current id, following the recorded upgrades from the
    configured id (which may be the old group's). Updates the desk and returns the id."""
    chat_id = desk.operator_chat_id
    if chat_id is None:
        return None
    seen: set[int] = set()
    async with sessions() as session:
        while chat_id not in seen:
            seen.add(chat_id)
            moved = await get_meta(session, f"{MIGRATED}{chat_id}")
            if moved is None:
                break
            chat_id = int(moved)
    if chat_id != desk.operator_chat_id:
        log.info("the operator group %s is now %s", desk.operator_chat_id, chat_id)
        desk.operator_chat.id = chat_id
    return chat_id
