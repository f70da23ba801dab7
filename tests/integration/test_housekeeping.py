"""Daily upkeep: a resolved request the client never came back to closes itself after the
configured working days (the client is told once, in their language); delivered outbox rows
older than the configured age are pruned, nothing else is."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.lifecycle import Actor, Claim, Resolve
from bot.services.desk import Desk
from bot.services.tickets import TicketService
from bot.vocabulary import OutboxStatus, Status
from scheduler.housekeeping import close_quiet_requests, prune_inbox, prune_outbox
from storage.inbox import InboxRepo, Received
from storage.models import InboxUpdate, OutboxItem, Ticket, TicketEvent

if TYPE_CHECKING:
    from tests.integration.conftest import NewTicket

DILNOZA = Actor.operator(9001, "Dilnoza")


async def resolved(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, new_ticket: NewTicket, at: datetime
) -> int:
    ticket_id = (await new_ticket()).id
    async with sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        tickets = TicketService(session, desk, at)
        await tickets.execute(ticket, Claim(DILNOZA))
        await tickets.execute(ticket, Resolve(DILNOZA))
        await session.commit()
    return ticket_id


async def notices(session: AsyncSession, ticket_id: int) -> list[str]:
    rows = await session.scalars(
        select(OutboxItem).where(OutboxItem.ticket_id == ticket_id, OutboxItem.chat_id > 0)
    )
    return [r.payload.get("text", "") for r in rows]


async def test_a_quiet_resolved_request_closes_after_three_working_days(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    ticket_id = await resolved(sessions, desk, new_ticket, now)
    # The closing time of the third working day after the resolve (the calendar's own rule).
    due = desk.policy.calendar.add_working_days(now, 3)
    assert due - now >= timedelta(days=3)
    assert await close_quiet_requests(sessions, desk, due - timedelta(seconds=1), 3) == 0
    assert await close_quiet_requests(sessions, desk, due, 3) == 1
    assert await close_quiet_requests(sessions, desk, due + timedelta(hours=1), 3) == 0  # once
    async with sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        assert (ticket.status, ticket.closed_at) == (Status.CLOSED, due)
        kinds = (
            await session.scalars(
                select(TicketEvent.kind).where(
                    TicketEvent.ticket_id == ticket_id, TicketEvent.actor_kind == "system"
                )
            )
        ).all()
        assert "closed" in kinds
        told = [t for t in await notices(session, ticket_id) if "закрыли" in t]
        assert told == [
            "Ваше обращение №\u00a01001 решено, и за 3\u00a0рабочих дня от Вас не было сообщений, "
            "поэтому мы его закрыли. Если вопрос остался, напишите нам — мы поможем. Спасибо, что "
            "обратились в CRPT-Turon!"
        ]


async def test_a_request_open_again_is_not_closed(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    open_id = (await new_ticket()).id
    assert await close_quiet_requests(sessions, desk, now + timedelta(days=30), 3) == 0
    async with sessions() as session:
        ticket = await session.get(Ticket, open_id)
        assert ticket is not None
        assert ticket.status == Status.NEW


async def test_delivered_rows_older_than_the_age_are_pruned(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    ticket_id = (await new_ticket()).id
    async with sessions() as session:
        out = TicketService(session, desk, now).out
        rows = [
            out.to_chat(700_000_001, f"#{n}", purpose="notice", ticket_id=ticket_id)
            for n in range(3)
        ]
        await session.flush()
        old, recent, pending = rows
        old.status, old.sent_at = OutboxStatus.SENT, now - timedelta(days=31)
        recent.status, recent.sent_at = OutboxStatus.SENT, now - timedelta(days=29)
        pending_id = pending.id
        old_id, recent_id = old.id, recent.id
        await session.commit()
    assert await prune_outbox(sessions, now, timedelta(days=30)) == 1
    async with sessions() as session:
        left = set((await session.scalars(select(OutboxItem.id))).all())
    assert old_id not in left
    assert {recent_id, pending_id} <= left


async def test_handled_updates_older_than_the_age_leave_the_inbox(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    async with sessions() as session:
        repo = InboxRepo(session)
        await repo.store([Received(i, 1001, {"update_id": i}) for i in (1, 2, 3)], now=now)
        await repo.mark_handled(1, now=now - timedelta(days=3))
        await repo.mark_handled(2, now=now - timedelta(days=1))
        await session.commit()
    assert await prune_inbox(sessions, now, timedelta(days=2)) == 1
    async with sessions() as session:
        left = set((await session.scalars(select(InboxUpdate.update_id))).all())
    assert left == {2, 3}  # the recent one, and the one not handled yet
