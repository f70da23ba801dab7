"""Banning a client who abuses the desk, and lifting the ban."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.desk import Desk
from bot.services.lifecycle import Actor
from bot.services.outgoing import Outgoing
from storage.models import Ticket
from storage.outbox import OutboxRepo
from storage.tickets import TicketRepo


async def set_ban(
    session: AsyncSession, desk: Desk, ticket: Ticket, actor: Actor, banned: bool, now: datetime
) -> None:
    client = ticket.client
    client.banned = banned
    client.updated_at = now
    TicketRepo(session).log(
        ticket, "banned" if banned else "unbanned", at=now, actor_kind=actor.kind, actor_id=actor.id
    )
    if banned:
        text = desk.renderer.t("client.banned", client.language)
    else:
        text = desk.renderer.t("client.unbanned", client.language)
    Outgoing(OutboxRepo(session), desk.operator_chat_id, now).to_chat(
        client.telegram_id, text, purpose="notice", ticket_id=ticket.id
    )
