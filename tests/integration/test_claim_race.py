"""Operators act on the same request at the same moment: each decision is taken on the state
the previous one saved (compare-and-lock on the request's version), so exactly one claim wins
and the others are told who has it."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.lifecycle import Actor, Claim, Decision, Reason, Refusal, Release, Wait
from bot.services.desk import Desk
from bot.services.tickets import TicketService
from bot.vocabulary import Purpose, Status
from storage.models import OutboxItem, Ticket, TicketEvent

if TYPE_CHECKING:
    from tests.integration.conftest import NewTicket

DILNOZA = Actor.operator(9001, "Dilnoza")
SARDOR = Actor.operator(9002, "Sardor")


async def test_claim_sets_assignee_and_status(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    ticket_id = (await new_ticket()).id
    async with sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        outcome = await TicketService(session, desk, now).execute(ticket, Claim(DILNOZA))
        assert isinstance(outcome, Decision)
        await session.commit()
    async with sessions() as session:
        stored = await session.get(Ticket, ticket_id)
        assert stored is not None
        assert (stored.assignee_id, stored.assignee_name) == (9001, "Dilnoza")
        assert stored.status == Status.IN_PROGRESS
        assert stored.version == 1
        # a second press, after the fact, names the assignee
        refusal = await TicketService(session, desk, now).execute(stored, Claim(SARDOR))
        assert isinstance(refusal, Refusal)
        assert refusal.reason == Reason.ALREADY_CLAIMED
        assert (refusal.assignee_id, refusal.assignee_name) == (9001, "Dilnoza")


async def test_two_simultaneous_claims_give_one_assignee(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    ticket_id = (await new_ticket()).id

    async with sessions() as first, sessions() as second:
        # Both operators look at the same unassigned card before pressing.
        loaded = [await s.get(Ticket, ticket_id) for s in (first, second)]
        assert all(t is not None and t.assignee_id is None for t in loaded)

        async def press(session: AsyncSession, ticket: Ticket | None, actor: Actor) -> object:
            assert ticket is not None
            try:
                outcome = await TicketService(session, desk, now).execute(ticket, Claim(actor))
                await asyncio.sleep(0.05)  # keep the winner's transaction open a moment
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            return outcome

        results = await asyncio.wait_for(
            asyncio.gather(
                press(first, loaded[0], DILNOZA),
                press(second, loaded[1], SARDOR),
                return_exceptions=True,
            ),
            timeout=60,
        )

    winners = [r for r in results if isinstance(r, Decision)]
    losers = [r for r in results if isinstance(r, Refusal)]
    assert len(winners) == 1, results
    assert len(losers) == 1, results
    winner = winners[0].state
    assert losers[0].reason == Reason.ALREADY_CLAIMED
    assert (losers[0].assignee_id, losers[0].assignee_name) == (
        winner.assignee_id,
        winner.assignee_name,
    )

    async with sessions() as session:
        stored = await session.get(Ticket, ticket_id)
        assert stored is not None
        assert stored.assignee_id == winner.assignee_id
        assert stored.status == Status.IN_PROGRESS
        events = (
            await session.scalars(
                select(TicketEvent).where(
                    TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "claimed"
                )
            )
        ).all()
        assert [e.actor_id for e in events] == [winner.assignee_id]
        # Only the winner refreshed the card.
        edits = (
            await session.scalars(
                select(OutboxItem).where(
                    OutboxItem.ticket_id == ticket_id, OutboxItem.purpose == Purpose.CARD_EDIT
                )
            )
        ).all()
        assert len(edits) == 1


async def test_many_simultaneous_claims_give_one_assignee(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    ticket_id = (await new_ticket()).id
    actors = [Actor.operator(9100 + n, f"Operator {n}") for n in range(8)]

    async def press(actor: Actor) -> object:
        async with sessions() as session:
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            try:
                outcome = await TicketService(session, desk, now).execute(ticket, Claim(actor))
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            return outcome

    results = await asyncio.wait_for(
        asyncio.gather(*(press(a) for a in actors), return_exceptions=True), timeout=60
    )
    winners = [r for r in results if isinstance(r, Decision)]
    assert len(winners) == 1, results
    winner_id = winners[0].state.assignee_id
    assert all(
        isinstance(r, Refusal) and r.assignee_id == winner_id
        for r in results
        if r is not winners[0]
    ), results


async def test_releasing_a_waiting_request_resumes_its_clock(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    """Nobody waits for the client on a request nobody holds: released, it goes back to the
    queue with its resolution clock running again."""
    ticket_id = (await new_ticket()).id
    async with sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        await TicketService(session, desk, now).execute(ticket, Claim(DILNOZA))
        later = TicketService(session, desk, now + timedelta(minutes=1))
        await later.execute(ticket, Wait(DILNOZA))
        assert ticket.target("resolution").due_at is None  # type: ignore[union-attr]
        await TicketService(session, desk, now + timedelta(minutes=2)).execute(
            ticket, Release(DILNOZA)
        )
        await session.commit()

    async with sessions() as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        assert (ticket.status, ticket.assignee_id) == (Status.NEW, None)
        assert all(pause.ended_at is not None for pause in ticket.pauses)
        resolution = ticket.target("resolution")
        assert resolution is not None
        assert resolution.due_at is not None
        await TicketService(session, desk, now + timedelta(minutes=3)).execute(
            ticket, Claim(SARDOR)
        )
        await session.commit()
        assert (ticket.status, ticket.assignee_id) == (Status.IN_PROGRESS, SARDOR.id)
