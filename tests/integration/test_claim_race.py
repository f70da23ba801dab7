"""Two operators press "claim" at the same moment: the database decides, one wins."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.desk import Desk
from bot.services.lifecycle import Actor, AlreadyClaimed, claim, release, wait_for_client
from bot.vocabulary import Status
from storage.models import OutboxItem, Ticket, TicketEvent

if TYPE_CHECKING:
    from tests.integration.conftest import NewTicket

DILNOZA = Actor(id=9001, name="Dilnoza")
SARDOR = Actor(id=9002, name="Sardor")


async def test_claim_sets_assignee_and_status(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    ticket_id = (await new_ticket()).id
    async with sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        await claim(session, desk, ticket, DILNOZA, now)
        await session.commit()
    async with sessions() as session:
        stored = await session.get(Ticket, ticket_id)
        assert stored is not None
        assert (stored.assignee_id, stored.assignee_name) == (9001, "Dilnoza")
        assert stored.status == Status.IN_PROGRESS
        # a second press, after the fact, names the assignee
        with pytest.raises(AlreadyClaimed) as caught:
            await claim(session, desk, stored, SARDOR, now)
        assert (caught.value.assignee_id, caught.value.assignee_name) == (9001, "Dilnoza")


async def test_two_simultaneous_claims_give_one_assignee(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    ticket_id = (await new_ticket()).id

    async with sessions() as first, sessions() as second:
        # Both operators look at the same unassigned card before pressing.
        loaded = [await s.get(Ticket, ticket_id) for s in (first, second)]
        assert all(t is not None and t.assignee_id is None for t in loaded)

        async def press(session: AsyncSession, ticket: Ticket, actor: Actor) -> Actor:
            try:
                await claim(session, desk, ticket, actor, now)
                await asyncio.sleep(0.05)  # keep the winner's transaction open a moment
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            return actor

        results = await asyncio.wait_for(
            asyncio.gather(
                press(first, loaded[0], DILNOZA),  # type: ignore[arg-type]
                press(second, loaded[1], SARDOR),  # type: ignore[arg-type]
                return_exceptions=True,
            ),
            timeout=60,
        )

    winners = [r for r in results if isinstance(r, Actor)]
    losers = [r for r in results if isinstance(r, AlreadyClaimed)]
    assert len(winners) == 1, results
    assert len(losers) == 1, results
    winner = winners[0]
    assert (losers[0].assignee_id, losers[0].assignee_name) == (winner.id, winner.name)

    async with sessions() as session:
        stored = await session.get(Ticket, ticket_id)
        assert stored is not None
        assert (stored.assignee_id, stored.assignee_name) == (winner.id, winner.name)
        assert stored.status == Status.IN_PROGRESS
        events = (
            await session.scalars(
                select(TicketEvent).where(
                    TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "claimed"
                )
            )
        ).all()
        assert [e.actor_id for e in events] == [winner.id]
        # Only the winner refreshed the card.
        edits = (
            await session.scalars(
                select(OutboxItem).where(
                    OutboxItem.ticket_id == ticket_id, OutboxItem.purpose == "card_edit"
                )
            )
        ).all()
        assert len(edits) == 1


async def test_many_simultaneous_claims_give_one_assignee(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    ticket_id = (await new_ticket()).id
    actors = [Actor(id=9100 + n, name=f"Operator {n}") for n in range(8)]

    async def press(actor: Actor) -> Actor:
        async with sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            try:
                await claim(session, desk, ticket, actor, now)
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            return actor

    results = await asyncio.wait_for(
        asyncio.gather(*(press(a) for a in actors), return_exceptions=True), timeout=60
    )
    winners = [r for r in results if isinstance(r, Actor)]
    assert len(winners) == 1, results
    assert all(
        isinstance(r, AlreadyClaimed) and r.assignee_id == winners[0].id
        for r in results
        if r is not winners[0]
    ), results


async def test_claiming_a_waiting_request_keeps_status_and_sla_pause_consistent(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    """A request waiting for the client, released by its operator, then claimed by another (by
    the button, /claim, or by answering it, which claims on the way)."""
    ticket_id = (await new_ticket()).id
    async with sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        await claim(session, desk, ticket, DILNOZA, now)
        await wait_for_client(session, desk, ticket, DILNOZA, now + timedelta(minutes=1))
        await release(session, desk, ticket, DILNOZA, now + timedelta(minutes=2))
        await session.commit()

    async with sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        assert (ticket.status, ticket.assignee_id) == (Status.WAITING, None)
        await claim(session, desk, ticket, SARDOR, now + timedelta(minutes=3))
        await session.commit()

    async with sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        assert ticket.assignee_id == SARDOR.id
        paused = any(pause.ended_at is None for pause in ticket.pauses)
        resolution = ticket.target("resolution")
        assert resolution is not None
        # Either it still waits (pause open, no deadline) or work resumed (pause closed,
        # deadline back); never "in progress" with the clock stopped.
        assert (ticket.status == Status.WAITING) == paused, (ticket.status, paused)
        assert (resolution.due_at is None) == paused, (resolution.due_at, paused)
