"""Start-up upkeep: when the policy or calendar changed, open requests get new deadlines and
their alerts are planned anew (no alert for an old deadline, one for the new)."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.desk import Desk
from bot.services.tickets import TicketService
from storage.db import one_at_a_time
from storage.meta import get_meta, set_meta
from storage.tickets import TicketRepo

log = logging.getLogger(__name__)

KEY = "sla_policy_fingerprint"
RECOMPUTE_LOCK = 20261125


async def recompute_if_policy_changed(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime
) -> int:
    """Returns how many open requests were recomputed."""
    fingerprint = desk.policy.fingerprint()
    async with sessions() as session:
        # Of processes starting together, one recomputes; the others then find it done.
        await one_at_a_time(session, RECOMPUTE_LOCK)
        if await get_meta(session, KEY) == fingerprint:
            return 0
        tickets = await TicketRepo(session).all_open()
        service = TicketService(session, desk, now)
        for ticket in tickets:
            # Each moved deadline is an audit event, and the card shows the new ones.
            service.recompute(ticket)
            service.show(ticket)
            await service.replan(ticket)
        await set_meta(session, KEY, fingerprint)
        await session.commit()
    if tickets:
        log.info("SLA policy changed: deadlines of %d open requests recomputed", len(tickets))
    return len(tickets)
