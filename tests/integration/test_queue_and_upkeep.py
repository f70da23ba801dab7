"""The desk's queue (nearest deadline first, paused requests last) and the start-up upkeep that
recomputes open requests' deadlines when the policy changed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import lifecycle as lc
from bot.services import queries
from bot.services.desk import Desk
from bot.services.maintenance import KEY, recompute_if_policy_changed
from bot.services.tickets import TicketService
from bot.sla import Priority
from bot.sla.policy import Target
from storage.meta import get_meta
from tests.integration.service_kit import DILNOZA, SARDOR, desk_like, due, events, load

if TYPE_CHECKING:
    from tests.integration.conftest import NewTicket

CLIENT = lc.Actor.client(700_000_001, "Aziz")


async def decide(
    sessions: async_sessionmaker[AsyncSession],
    desk: Desk,
    at: datetime,
    ticket_id: int,
    *commands: lc.Command,
) -> None:
    async with sessions() as session:
        ticket = await load(session, ticket_id)
        service = TicketService(session, desk, at)
        for command in commands:
            assert isinstance(await service.execute(ticket, command), lc.Decision)
        await session.commit()


async def test_the_queue_puts_the_nearest_deadline_first(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    medium, critical, waiting, answered, closed = [
        (await new_ticket(telegram_id=700_000_001 + n)).id for n in range(5)
    ]
    later = now + timedelta(minutes=5)
    await decide(sessions, desk, later, critical, lc.SetPriority(DILNOZA, Priority.CRITICAL))
    await decide(sessions, desk, later, waiting, lc.Claim(SARDOR), lc.Wait(SARDOR))
    # Answered: its nearest deadline is the resolution, the first response is met.
    await decide(sessions, desk, later, answered, lc.Answer(DILNOZA))
    await decide(sessions, desk, later, closed, lc.Resolve(DILNOZA), lc.Close(CLIENT))

    async with sessions() as session:
        # Three owe the first response at 11:10 (the number decides among them; a wait does
        # not stop that clock); the answered one owes only its resolution; closed is gone.
        order = [t.id for t in (await queries.queue(session)).tickets]
        assert order == [medium, critical, waiting, answered]
        ticket = await load(session, answered)
        assert queries.nearest_due(ticket) == due(ticket, "resolution")
        assert queries.nearest_due(await load(session, waiting)) == due(
            await load(session, waiting), "first_response"
        )

        mine = [t.id for t in (await queries.queue(session, assignee_id=DILNOZA.id)).tickets]
        assert mine == [answered]
        assert [t.id for t in (await queries.queue(session, assignee_id=SARDOR.id)).tickets] == [
            waiting
        ]


async def test_the_queue_reads_a_bounded_page_and_counts_the_rest(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    ids = [(await new_ticket(telegram_id=700_000_001 + n)).id for n in range(7)]
    later = now + timedelta(minutes=5)
    # One answered and waiting (no running deadline): it comes after every dated one.
    await decide(sessions, desk, later, ids[0], lc.Answer(DILNOZA), lc.Wait(DILNOZA))
    async with sessions() as session:
        page = await queries.queue(session, limit=3)
        assert (len(page.tickets), page.total) == (3, 7)
        assert [t.id for t in page.tickets] == ids[1:4]
        whole = await queries.queue(session, limit=10)
        assert [t.id for t in whole.tickets] == [*ids[1:], ids[0]]
        ticket = await load(session, ids[0])
        assert ticket.next_due_at is None
        assert (await load(session, ids[1])).next_due_at == queries.nearest_due(
            await load(session, ids[1])
        )


async def test_a_request_with_no_running_deadline_comes_last(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    first, second = [(await new_ticket(telegram_id=700_000_001 + n)).id for n in range(2)]
    later = now + timedelta(minutes=5)
    # The first is answered and waits: nothing of it runs.
    await decide(sessions, desk, later, first, lc.Answer(DILNOZA), lc.Wait(DILNOZA))
    async with sessions() as session:
        assert queries.nearest_due(await load(session, first)) is None
        assert [t.id for t in (await queries.queue(session)).tickets] == [second, first]


async def test_deadlines_are_recomputed_once_when_the_policy_changes(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    open_one, closed_one = [(await new_ticket(telegram_id=700_000_001 + n)).id for n in range(2)]
    await decide(sessions, desk, now, closed_one, lc.Resolve(DILNOZA), lc.Close(CLIENT))
    async with sessions() as session:
        closed_due = due(await load(session, closed_one), "resolution")

    # The first start records the policy (the open request's deadlines already follow it).
    assert await recompute_if_policy_changed(sessions, desk, now) == 1
    async with sessions() as session:
        assert await get_meta(session, KEY) == desk.policy.fingerprint()
        original = due(await load(session, open_one), "resolution")
    assert await recompute_if_policy_changed(sessions, desk, now) == 0

    # Medium requests now get 8 working hours instead of 24.
    resolution = dict(desk.policy.resolution)
    resolution[Priority.MEDIUM] = Target.working_time(timedelta(hours=8))
    stricter = desk_like(desk, policy=replace(desk.policy, resolution=resolution))
    assert stricter.policy.fingerprint() != desk.policy.fingerprint()
    assert await recompute_if_policy_changed(sessions, stricter, now) == 1
    async with sessions() as session:
        recomputed = due(await load(session, open_one), "resolution")
        assert recomputed == stricter.policy.resolution_due(now, Priority.MEDIUM, "marking_codes")
        assert recomputed is not None
        assert original is not None
        assert recomputed < original
        assert recomputed == now + timedelta(hours=8)  # 11:00 to 19:00 the same Tuesday
        # A resolved request keeps its record.
        assert due(await load(session, closed_one), "resolution") == closed_due
        assert await get_meta(session, KEY) == stricter.policy.fingerprint()
    assert await recompute_if_policy_changed(sessions, stricter, now) == 0


async def test_upkeep_with_no_open_requests(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime
) -> None:
    assert await recompute_if_policy_changed(sessions, desk, now) == 0
    async with sessions() as session:
        assert await get_meta(session, KEY) == desk.policy.fingerprint()


async def test_a_recompute_at_start_is_in_the_audit_log(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    ticket_id = (await new_ticket()).id
    assert await recompute_if_policy_changed(sessions, desk, now) == 1
    resolution = dict(desk.policy.resolution)
    resolution[Priority.MEDIUM] = Target.working_time(timedelta(hours=8))
    stricter = desk_like(desk, policy=replace(desk.policy, resolution=resolution))
    assert await recompute_if_policy_changed(sessions, stricter, now) == 1
    async with sessions() as session:
        assert due(await load(session, ticket_id), "resolution") == now + timedelta(hours=8)
        moved = [e for e in await events(session, ticket_id) if e.kind == "deadline_changed"]
        assert [e.data["target"] for e in moved] == ["resolution"]
