"""The ticket service without Telegram: every operator action through `perform` (the one table
buttons and /commands share), the SLA bookkeeping that follows the decisions, and the client's
rating. A refusal leaves the request and the outbox exactly as they were."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import keyboards as kb
from bot import lifecycle as lc
from bot.lifecycle import Actor, Decision, Reason, Refusal
from bot.services import deadlines
from bot.services.actions import Answer, Request, perform
from bot.services.desk import Desk
from bot.services.tickets import Contended, TicketService, comment_rating
from bot.sla import Priority
from bot.vocabulary import DeskAction, Place, Purpose, Status
from storage.models import SlaTarget, Ticket
from storage.tickets import TicketRepo
from tests.integration.conftest import OPERATOR_CHAT_ID
from tests.integration.service_kit import (
    CLIENT_TG,
    DILNOZA,
    SARDOR,
    action_result,
    client_of,
    desk_like,
    due,
    event_kinds,
    events,
    footprint,
    last_outbox_id,
    load,
    outbox,
    place_is,
    snapshot,
)

if TYPE_CHECKING:
    from tests.integration.conftest import NewTicket

CLIENT = Actor.client(CLIENT_TG, "Aziz")
STRANGER = Actor.operator(9003, "Bekzod")


@dataclass
class Desk1001:
    """One request (№1001, new, medium, unassigned) and a way to act on it at a moment."""

    sessions: async_sessionmaker[AsyncSession]
    desk: Desk
    now: datetime
    ticket_id: int

    async def perform(
        self,
        session: AsyncSession,
        action: DeskAction,
        *,
        actor: Actor = DILNOZA,
        arg: str = "",
        to: Actor | None = None,
        minutes: int = 0,
    ) -> Answer:
        ticket = await load(session, self.ticket_id)
        service = TicketService(session, self.desk, self.now + timedelta(minutes=minutes))
        return await perform(service, ticket, Request(action, actor, arg, to))

    async def run(self, *commands: lc.Command, at: datetime | None = None) -> None:
        """Commands decided and committed, the way earlier updates left the request."""
        async with self.sessions() as session:
            ticket = await load(session, self.ticket_id)
            service = TicketService(session, self.desk, at or self.now)
            for command in commands:
                outcome = await service.execute(ticket, command)
                assert isinstance(outcome, Decision), outcome
            await session.commit()

    def result(self, status: str, priority: str = "medium", assignee: str | None = None) -> str:
        return action_result(self.desk.renderer, 1001, status, priority, assignee)


@pytest.fixture
async def one(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> Desk1001:
    ticket = await new_ticket()
    return Desk1001(sessions, desk, now, ticket.id)


async def closed(one: Desk1001) -> None:
    await one.run(lc.Claim(DILNOZA), lc.Resolve(DILNOZA), lc.Close(CLIENT))


# ---------------------------------------------------------------- perform: what is done


async def test_claim_takes_the_request_and_refreshes_card_and_topic(one: Desk1001) -> None:
    async with one.sessions() as session:
        answer = await one.perform(session, DeskAction.CLAIM)
        await session.commit()
    assert answer == Answer(one.result("in_progress", assignee="Dilnoza"), refused=False)
    assert (
        answer.text
        == "Обращение №\u00a01001: в работе, приоритет — средний, исполнитель — Dilnoza."
    )

    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert (ticket.status, ticket.assignee_id, ticket.assignee_name) == (
            Status.IN_PROGRESS,
            9001,
            "Dilnoza",
        )
        assert ticket.last_activity_at == one.now
        assert await event_kinds(session, one.ticket_id) == ["claimed"]
        card, title = await outbox(session)
        assert (card.method, card.purpose, card.chat_id) == (
            "editMessageText",
            Purpose.CARD_EDIT,
            OPERATOR_CHAT_ID,
        )
        assert place_is(card, Place.CARD)
        assert card.payload["text"] == one.desk.renderer.card(ticket).html
        assert card.payload["reply_markup"] == kb.card(one.desk.renderer, ticket).model_dump(
            mode="json", exclude_none=True
        )
        assert (title.method, title.purpose) == ("editForumTopic", Purpose.TOPIC_TITLE)
        assert place_is(title, Place.TOPIC)
        assert title.payload["name"] == "№\u00a01001 · OOO Test · в работе"


async def test_release_puts_the_request_back_in_the_queue(one: Desk1001) -> None:
    await one.run(lc.Claim(DILNOZA))
    async with one.sessions() as session:
        answer = await one.perform(session, DeskAction.RELEASE)
        await session.commit()
    assert answer == Answer(one.result("new"), refused=False)
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert (ticket.status, ticket.assignee_id, ticket.assignee_name) == (Status.NEW, None, None)
        audit = await events(session, one.ticket_id)
        assert audit[-1].kind == "released"
        assert audit[-1].data == {"previous": 9001}


async def test_assign_to_a_colleague(one: Desk1001) -> None:
    await one.run(lc.Claim(DILNOZA))
    async with one.sessions() as session:
        answer = await one.perform(session, DeskAction.ASSIGN, to=SARDOR)
        await session.commit()
    assert answer == Answer(one.result("in_progress", assignee="Sardor"), refused=False)
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert (ticket.assignee_id, ticket.assignee_name) == (9002, "Sardor")
        audit = await events(session, one.ticket_id)
        assert (audit[-1].kind, audit[-1].actor_id) == ("assigned", 9001)
        assert audit[-1].data == {"previous": 9001, "assignee_id": 9002}


async def test_assign_of_a_new_request_puts_it_in_progress(one: Desk1001) -> None:
    async with one.sessions() as session:
        answer = await one.perform(session, DeskAction.ASSIGN, to=SARDOR)
        await session.commit()
        ticket = await load(session, one.ticket_id)
    assert not answer.refused
    assert (ticket.status, ticket.assignee_id) == (Status.IN_PROGRESS, 9002)


async def test_assign_to_the_same_operator_changes_nothing(one: Desk1001) -> None:
    await one.run(lc.Claim(DILNOZA))
    async with one.sessions() as session:
        before, rows = await footprint(session), snapshot(await load(session, one.ticket_id))
        answer = await one.perform(session, DeskAction.ASSIGN, to=DILNOZA)
        await session.commit()
    assert answer == Answer(one.result("in_progress", assignee="Dilnoza"), refused=False)
    async with one.sessions() as session:
        assert await footprint(session) == before
        assert snapshot(await load(session, one.ticket_id)) == rows


async def test_wait_and_resume(one: Desk1001) -> None:
    await one.run(lc.Claim(DILNOZA))
    async with one.sessions() as session:
        waiting = await one.perform(session, DeskAction.WAIT, minutes=30)
        await session.commit()
    assert waiting == Answer(one.result("waiting", assignee="Dilnoza"), refused=False)
    async with one.sessions() as session:
        resumed = await one.perform(session, DeskAction.RESUME, minutes=90)
        await session.commit()
    assert resumed == Answer(one.result("in_progress", assignee="Dilnoza"), refused=False)
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert ticket.status == Status.IN_PROGRESS
        kinds = await event_kinds(session, one.ticket_id)
        assert [k for k in kinds if k in ("waiting", "resumed")] == ["waiting", "resumed"]


async def test_wait_on_an_unassigned_request_takes_it(one: Desk1001) -> None:
    async with one.sessions() as session:
        answer = await one.perform(session, DeskAction.WAIT, actor=SARDOR)
        await session.commit()
    assert answer == Answer(one.result("waiting", assignee="Sardor"), refused=False)
    async with one.sessions() as session:
        kinds = await event_kinds(session, one.ticket_id)
        assert kinds[:2] == ["claimed", "waiting"]


async def test_set_priority_recomputes_the_resolution_deadline(one: Desk1001) -> None:
    async with one.sessions() as session:
        answer = await one.perform(session, DeskAction.SET_PRIORITY, arg="critical", minutes=5)
        await session.commit()
    assert answer == Answer(one.result("new", priority="critical"), refused=False)
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert ticket.priority == Priority.CRITICAL
        # Critical: 4 calendar hours from the registration, not from the change.
        assert due(ticket, "resolution") == one.now + timedelta(hours=4)
        assert due(ticket, "first_response") == one.now + timedelta(minutes=10)
        audit = await events(session, one.ticket_id)
        assert [e.kind for e in audit] == ["priority_changed", "deadline_changed"]
        assert audit[0].data == {"previous": "medium", "priority": "critical"}
        assert audit[1].data["target"] == "resolution"
        assert datetime.fromisoformat(audit[1].data["due_at"]) == one.now + timedelta(hours=4)
        assert audit[1].actor_kind == "system"
        purposes = [r.purpose for r in await outbox(session)]
        assert purposes == [Purpose.CARD_EDIT, Purpose.TOPIC_TITLE]


async def test_resolve_asks_the_client_and_reopen_tells_them(one: Desk1001) -> None:
    await one.run(lc.Claim(DILNOZA))
    async with one.sessions() as session:
        mark = await last_outbox_id(session)
        resolved = await one.perform(session, DeskAction.RESOLVE, minutes=60)
        await session.commit()
    assert resolved == Answer(one.result("resolved", assignee="Dilnoza"), refused=False)
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert ticket.resolved_at == one.now + timedelta(minutes=60)
        asked = [r for r in await outbox(session, after=mark) if r.chat_id == CLIENT_TG]
        assert len(asked) == 1
        assert asked[0].purpose == Purpose.NOTICE
        assert "№\u00a01001" in asked[0].payload["text"]
        assert asked[0].payload["reply_markup"] == kb.solved(one.desk.renderer, ticket).model_dump(
            mode="json", exclude_none=True
        )
        mark = await last_outbox_id(session)

    async with one.sessions() as session:
        reopened = await one.perform(session, DeskAction.REOPEN, minutes=70)
        await session.commit()
    assert reopened == Answer(one.result("in_progress", assignee="Dilnoza"), refused=False)
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert ticket.resolved_at is None
        told = [r for r in await outbox(session, after=mark) if r.chat_id == CLIENT_TG]
        assert [r.payload["text"] for r in told] == ["Ваше обращение №\u00a01001 снова в работе."]


async def test_resolve_of_an_unassigned_request_takes_it(one: Desk1001) -> None:
    async with one.sessions() as session:
        answer = await one.perform(session, DeskAction.RESOLVE, actor=SARDOR)
        await session.commit()
    assert answer == Answer(one.result("resolved", assignee="Sardor"), refused=False)


async def test_ban_and_unban_the_client(one: Desk1001) -> None:
    async with one.sessions() as session:
        banned = await one.perform(session, DeskAction.BAN, minutes=1)
        await session.commit()
    assert banned == Answer(one.result("new"), refused=False)
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        client = await client_of(session, ticket)
        assert client.banned is True
        assert client.updated_at == one.now + timedelta(minutes=1)
        notice = [r for r in await outbox(session) if r.chat_id == CLIENT_TG]
        assert [r.purpose for r in notice] == [Purpose.NOTICE]
        assert notice[0].payload["text"] == one.desk.renderer.t("client.banned", "ru")
        mark = await last_outbox_id(session)

    async with one.sessions() as session:
        unbanned = await one.perform(session, DeskAction.UNBAN, minutes=2)
        await session.commit()
    assert not unbanned.refused
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert (await client_of(session, ticket)).banned is False
        notice = [r for r in await outbox(session, after=mark) if r.chat_id == CLIENT_TG]
        assert [r.payload["text"] for r in notice] == [one.desk.renderer.t("client.unbanned", "ru")]
        assert (await event_kinds(session, one.ticket_id))[-2:] == ["banned", "unbanned"]


# ---------------------------------------------------------------- perform: what is refused


@pytest.mark.parametrize(
    ("prepare", "action", "arg", "to", "text"),
    [
        pytest.param(
            "claimed",
            DeskAction.CLAIM,
            "",
            None,
            "Обращение №\u00a01001 уже в работе у Dilnoza.",
            id="claim-taken",
        ),
        pytest.param(
            "new",
            DeskAction.RELEASE,
            "",
            None,
            "Обращение №\u00a01001 ни за кем не закреплено.",
            id="release-unassigned",
        ),
        pytest.param("claimed", DeskAction.ASSIGN, "", None, "outdated", id="assign-without-to"),
        pytest.param("claimed", DeskAction.ASSIGN, "", CLIENT, "outdated", id="assign-to-a-client"),
        pytest.param(
            "claimed",
            DeskAction.RESUME,
            "",
            None,
            "Это действие недоступно в статусе «в работе».",
            id="resume-not-waiting",
        ),
        pytest.param(
            "new",
            DeskAction.REOPEN,
            "",
            None,
            "Это действие недоступно в статусе «новое».",
            id="reopen-new",
        ),
        pytest.param(
            "new", DeskAction.SET_PRIORITY, "urgent", None, "outdated", id="priority-invalid"
        ),
        pytest.param("new", DeskAction.SET_PRIORITY, "", None, "outdated", id="priority-empty"),
        pytest.param("new", DeskAction.PRIORITY_MENU, "", None, "outdated", id="not-an-action"),
        pytest.param(
            "waiting",
            DeskAction.WAIT,
            "",
            None,
            "Это действие недоступно в статусе «ожидает ответа клиента».",
            id="wait-waiting",
        ),
        pytest.param(
            "resolved",
            DeskAction.ASSIGN,
            "",
            SARDOR,
            "Это действие недоступно в статусе «решено».",
            id="assign-resolved",
        ),
        pytest.param(
            "resolved",
            DeskAction.SET_PRIORITY,
            "high",
            None,
            "Это действие недоступно в статусе «решено».",
            id="priority-resolved",
        ),
    ],
)
async def test_a_refusal_changes_nothing(
    one: Desk1001,
    prepare: str,
    action: DeskAction,
    arg: str,
    to: Actor | None,
    text: str,
) -> None:
    if prepare in ("claimed", "waiting", "resolved"):
        await one.run(lc.Claim(DILNOZA))
    if prepare == "waiting":
        await one.run(lc.Wait(DILNOZA))
    if prepare == "resolved":
        await one.run(lc.Resolve(DILNOZA))
    if text == "outdated":
        text = one.desk.renderer.label("error.button_outdated", "ru")
    async with one.sessions() as session:
        before = await footprint(session)
        state = snapshot(await load(session, one.ticket_id))
    async with one.sessions() as session:
        answer = await one.perform(session, action, actor=SARDOR, arg=arg, to=to, minutes=5)
        await session.commit()
    assert answer == Answer(text, refused=True)
    async with one.sessions() as session:
        assert await footprint(session) == before
        assert snapshot(await load(session, one.ticket_id)) == state


async def test_the_same_priority_is_no_change(one: Desk1001) -> None:
    async with one.sessions() as session:
        before = await footprint(session)
        answer = await one.perform(session, DeskAction.SET_PRIORITY, arg="medium")
        await session.commit()
    assert answer == Answer(one.result("new"), refused=False)
    async with one.sessions() as session:
        assert await footprint(session) == before
        assert (await load(session, one.ticket_id)).version == 0


@pytest.mark.parametrize(
    ("action", "arg", "to"),
    [
        (DeskAction.SET_PRIORITY, "critical", None),
        (DeskAction.SET_PRIORITY, "low", None),
        (DeskAction.ASSIGN, "", SARDOR),
        (DeskAction.CLAIM, "", None),
        (DeskAction.RELEASE, "", None),
        (DeskAction.WAIT, "", None),
        (DeskAction.RESUME, "", None),
        (DeskAction.RESOLVE, "", None),
        (DeskAction.REOPEN, "", None),
    ],
    ids=[
        "priority-critical",
        "priority-low",
        "assign",
        "claim",
        "release",
        "wait",
        "resume",
        "resolve",
        "reopen",
    ],
)
async def test_a_closed_request_refuses_every_change(
    one: Desk1001, action: DeskAction, arg: str, to: Actor | None
) -> None:
    """The bug that started this work: `/priority 1001 critical` and `/assign 1001` changed a
    closed request (its card then read "закрыто · Приоритет: критический")."""
    await closed(one)
    async with one.sessions() as session:
        before = await footprint(session)
        state = snapshot(await load(session, one.ticket_id))
    assert state["status"] == Status.CLOSED
    async with one.sessions() as session:
        answer = await one.perform(session, action, actor=SARDOR, arg=arg, to=to, minutes=60)
        await session.commit()
    assert answer == Answer("Это действие недоступно в статусе «закрыто».", refused=True)
    async with one.sessions() as session:
        assert await footprint(session) == before
        ticket = await load(session, one.ticket_id)
        assert snapshot(ticket) == state
        assert (ticket.priority, ticket.assignee_id) == (Priority.MEDIUM, 9001)


async def test_a_closed_request_can_still_ban_its_client(one: Desk1001) -> None:
    await closed(one)
    async with one.sessions() as session:
        answer = await one.perform(session, DeskAction.BAN)
        await session.commit()
    assert not answer.refused
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert ticket.status == Status.CLOSED
        assert (await client_of(session, ticket)).banned is True


async def test_a_client_cannot_use_an_operator_action(one: Desk1001) -> None:
    async with one.sessions() as session:
        before = await footprint(session)
        answer = await one.perform(session, DeskAction.CLAIM, actor=CLIENT)
        await session.commit()
        assert answer == Answer("Это действие недоступно в статусе «новое».", refused=True)
        assert await footprint(session) == before


# ---------------------------------------------------------------- the SLA bookkeeping


@pytest.mark.parametrize(("minutes", "late"), [(5, False), (30, True)])
async def test_the_first_answer_meets_the_first_response(
    one: Desk1001, minutes: int, late: bool
) -> None:
    answered_at = one.now + timedelta(minutes=minutes)
    await one.run(lc.Answer(DILNOZA), at=answered_at)
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        target = ticket.target("first_response")
        assert target is not None
        assert ticket.first_response_at == answered_at
        assert target.met_at == answered_at
        due_at = one.now + timedelta(minutes=10)
        assert target.due_at == due_at
        assert target.breached_at == (due_at if late else None)
        audit = await events(session, one.ticket_id)
        assert [e.kind for e in audit] == ["claimed", "answered", "target_met"]
        assert audit[1].data == {"first": True}
        assert audit[2].data == {"target": "first_response", "breached": late}

    # A second answer is no first response.
    await one.run(lc.Answer(DILNOZA), at=answered_at + timedelta(hours=1))
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert ticket.first_response_at == answered_at
        audit = await events(session, one.ticket_id)
        assert [e.kind for e in audit][3:] == ["answered"]
        assert audit[-1].data == {"first": False}


@pytest.mark.parametrize("late", [False, True])
async def test_resolve_meets_the_resolution_and_reopen_makes_it_due_again(
    one: Desk1001, late: bool
) -> None:
    async with one.sessions() as session:
        deadline = due(await load(session, one.ticket_id), "resolution")
    assert deadline is not None
    resolved_at = deadline + timedelta(hours=1) if late else one.now + timedelta(hours=2)
    await one.run(lc.Claim(DILNOZA))
    await one.run(lc.Resolve(DILNOZA), at=resolved_at)
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        target = ticket.target("resolution")
        assert target is not None
        assert (target.met_at, target.breached_at) == (resolved_at, deadline if late else None)
        met = [e for e in await events(session, one.ticket_id) if e.kind == "target_met"]
        assert [e.data for e in met] == [{"target": "resolution", "breached": late}]

    reopened_at = resolved_at + timedelta(minutes=10)
    await one.run(lc.Reopen(DILNOZA), at=reopened_at)
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        target = ticket.target("resolution")
        assert target is not None
        assert target.met_at is None
        assert target.due_at == deadline  # counted from the registration, as before
        assert target.breached_at == (deadline if late else None)  # a breach stays recorded
        assert ticket.resolved_at is None
        assert ticket.last_activity_at == reopened_at

    # Resolved again, it is met again.
    again = reopened_at + timedelta(minutes=10)
    await one.run(lc.Resolve(DILNOZA), at=again)
    async with one.sessions() as session:
        target = (await load(session, one.ticket_id)).target("resolution")
        assert target is not None
        assert target.met_at == again


async def test_waiting_pauses_the_resolution_clock(one: Desk1001) -> None:
    async with one.sessions() as session:
        original = due(await load(session, one.ticket_id), "resolution")
    assert original is not None
    waited, resumed = one.now + timedelta(hours=1), one.now + timedelta(hours=3)
    await one.run(lc.Claim(DILNOZA))
    await one.run(lc.Wait(DILNOZA), at=waited)
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert due(ticket, "resolution") is None  # paused
        assert due(ticket, "first_response") == one.now + timedelta(minutes=10)
        assert [(p.started_at, p.ended_at) for p in ticket.pauses] == [(waited, None)]
        moved = [e for e in await events(session, one.ticket_id) if e.kind == "deadline_changed"]
        assert [e.data for e in moved] == [{"target": "resolution", "due_at": None}]

    await one.run(lc.Resume(DILNOZA), at=resumed)
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert [(p.started_at, p.ended_at) for p in ticket.pauses] == [(waited, resumed)]
        later = due(ticket, "resolution")
        assert later is not None
        assert later > original
        expected = one.desk.policy.resolution_due(
            one.now, Priority.MEDIUM, "marking_codes", [(waited, resumed)]
        )
        assert later == expected
        moved = [e for e in await events(session, one.ticket_id) if e.kind == "deadline_changed"]
        assert moved[-1].data["target"] == "resolution"
        assert datetime.fromisoformat(moved[-1].data["due_at"]) == expected

    # A later change of priority keeps the paused stretch.
    await one.run(lc.SetPriority(DILNOZA, Priority.HIGH), at=resumed + timedelta(minutes=5))
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert due(ticket, "resolution") == one.desk.policy.resolution_due(
            one.now, Priority.HIGH, "marking_codes", [(waited, resumed)]
        )


async def test_a_policy_that_does_not_pause_keeps_the_clock_running(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime, new_ticket: NewTicket
) -> None:
    running = desk_like(desk, policy=replace(desk.policy, pause_while_waiting=False))
    one = Desk1001(sessions, running, now, (await new_ticket()).id)
    async with sessions() as session:
        original = due(await load(session, one.ticket_id), "resolution")
    await one.run(lc.Claim(DILNOZA), lc.Wait(DILNOZA), at=now + timedelta(hours=1))
    async with sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert ticket.status == Status.WAITING
        assert due(ticket, "resolution") == original
        assert ticket.pauses == []
    await one.run(lc.Resume(DILNOZA), at=now + timedelta(hours=3))
    async with sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert due(ticket, "resolution") == original
        assert "deadline_changed" not in await event_kinds(session, one.ticket_id)


@pytest.mark.parametrize(
    ("priority", "hours"),
    [(Priority.CRITICAL, 4), (Priority.HIGH, None), (Priority.LOW, None)],
)
async def test_a_priority_change_recomputes_from_the_registration(
    one: Desk1001, priority: Priority, hours: int | None
) -> None:
    await one.run(lc.SetPriority(DILNOZA, priority), at=one.now + timedelta(hours=2))
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        expected = one.desk.policy.resolution_due(one.now, priority, "marking_codes")
        assert due(ticket, "resolution") == expected
        if hours is not None:
            assert expected == one.now + timedelta(hours=hours)
        moved = [e for e in await events(session, one.ticket_id) if e.kind == "deadline_changed"]
        assert [e.data["target"] for e in moved] == ["resolution"]
        assert datetime.fromisoformat(moved[0].data["due_at"]) == expected


async def test_a_met_first_response_keeps_its_record_through_a_recompute(one: Desk1001) -> None:
    answered = one.now + timedelta(minutes=3)
    await one.run(lc.Answer(DILNOZA), at=answered)
    await one.run(lc.SetPriority(DILNOZA, Priority.CRITICAL), at=answered)
    async with one.sessions() as session:
        target = (await load(session, one.ticket_id)).target("first_response")
        assert target is not None
        assert (target.met_at, target.breached_at) == (answered, None)


async def test_resolving_a_waiting_request_that_was_already_late_is_a_breach(
    one: Desk1001,
) -> None:
    async with one.sessions() as session:
        deadline = due(await load(session, one.ticket_id), "resolution")
    assert deadline is not None
    await one.run(lc.Claim(DILNOZA))
    await one.run(lc.Wait(DILNOZA), at=deadline + timedelta(hours=1))
    resolved_at = deadline + timedelta(hours=2)
    await one.run(lc.Resolve(DILNOZA), at=resolved_at)
    async with one.sessions() as session:
        target = (await load(session, one.ticket_id)).target("resolution")
        assert target is not None
        assert target.met_at == resolved_at
        assert target.breached_at == deadline
        assert target.due_at == deadline  # the pause began after the deadline


# ---------------------------------------------------------------- the client's rating


async def resolved(one: Desk1001) -> None:
    await one.run(lc.Claim(DILNOZA), lc.Resolve(DILNOZA))


@pytest.mark.parametrize("stars", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("status", [Status.RESOLVED, Status.CLOSED])
async def test_rate_one_to_five(one: Desk1001, stars: int, status: Status) -> None:
    await resolved(one)
    if status == Status.CLOSED:
        await one.run(lc.Close(CLIENT))
    async with one.sessions() as session:
        mark = await last_outbox_id(session)
    await one.run(lc.Rate(CLIENT, stars))
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert (ticket.status, ticket.rating) == (status, stars)
        audit = await events(session, one.ticket_id)
        assert (audit[-1].kind, audit[-1].data, audit[-1].actor_kind) == (
            "rated",
            {"rating": stars},
            "client",
        )
        told = [r for r in await outbox(session, after=mark) if r.purpose == Purpose.NOTICE]
        assert [(r.chat_id, r.payload["text"]) for r in told] == [
            (OPERATOR_CHAT_ID, f"Клиент оценил ответ по обращению №\u00a01001: {stars} из 5.")
        ]
        assert place_is(told[0], Place.DESK)


@pytest.mark.parametrize("stars", [0, 6, -1, 55])
async def test_a_forged_rating_is_refused(one: Desk1001, stars: int) -> None:
    await resolved(one)
    async with one.sessions() as session:
        before = await footprint(session)
        ticket = await load(session, one.ticket_id)
        outcome = await TicketService(session, one.desk, one.now).execute(
            ticket, lc.Rate(CLIENT, stars)
        )
        await session.commit()
    assert isinstance(outcome, Refusal)
    assert outcome.reason == Reason.INVALID
    async with one.sessions() as session:
        assert await footprint(session) == before
        assert (await load(session, one.ticket_id)).rating is None


async def test_an_open_request_cannot_be_rated(one: Desk1001) -> None:
    await one.run(lc.Claim(DILNOZA))
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        outcome = await TicketService(session, one.desk, one.now).execute(
            ticket, lc.Rate(CLIENT, 5)
        )
    assert isinstance(outcome, Refusal)
    assert outcome.reason == Reason.NOT_ALLOWED


async def test_the_comment_is_stored_whole_and_the_desk_told_once(one: Desk1001) -> None:
    await resolved(one)
    await one.run(lc.Close(CLIENT), lc.Rate(CLIENT, 2))
    comment = "Ответ пришёл поздно, и он неполный. " * 200  # far beyond one message
    async with one.sessions() as session:
        mark = await last_outbox_id(session)
        ticket = await load(session, one.ticket_id)
        await comment_rating(TicketService(session, one.desk, one.now), ticket, CLIENT, comment)
        await session.commit()
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert ticket.rating_comment == comment
        assert ticket.rating == 2
        assert (await event_kinds(session, one.ticket_id))[-1] == "commented"
        told = [
            r
            for r in await outbox(session, after=mark)
            if r.purpose == Purpose.NOTICE and r.chat_id == OPERATOR_CHAT_ID
        ]
        assert len(told) == 1
        text = told[0].payload["text"]
        assert text.startswith("Комментарий клиента к оценке по обращению №\u00a01001:")
        assert len(text) <= 4096
        assert comment[:100] in text
        assert not any(r.chat_id == CLIENT_TG for r in await outbox(session, after=mark))


async def test_a_comment_without_a_rating_is_not_stored(one: Desk1001) -> None:
    await resolved(one)
    async with one.sessions() as session:
        before = await footprint(session)
        ticket = await load(session, one.ticket_id)
        await comment_rating(TicketService(session, one.desk, one.now), ticket, CLIENT, "Спасибо")
        await session.commit()
    async with one.sessions() as session:
        assert (await load(session, one.ticket_id)).rating_comment is None
        assert await footprint(session) == before


async def test_reopening_voids_the_rating(one: Desk1001) -> None:
    await resolved(one)
    await one.run(lc.Rate(CLIENT, 4))
    async with one.sessions() as session:
        answer = await one.perform(session, DeskAction.REOPEN)
        await session.commit()
    assert not answer.refused
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        assert (ticket.status, ticket.rating) == (Status.IN_PROGRESS, None)
        audit = await events(session, one.ticket_id)
        reopened = next(e for e in audit if e.kind == "reopened")
        assert reopened.data == {"previous_rating": 4}


async def test_the_client_closes_and_a_client_reopen_is_not_announced_to_them(
    one: Desk1001,
) -> None:
    await resolved(one)
    async with one.sessions() as session:
        mark = await last_outbox_id(session)
    await one.run(lc.Reopen(CLIENT), at=one.now + timedelta(minutes=5))
    async with one.sessions() as session:
        assert not any(r.chat_id == CLIENT_TG for r in await outbox(session, after=mark))
    await one.run(lc.Resolve(DILNOZA), lc.Close(CLIENT), at=one.now + timedelta(minutes=9))
    async with one.sessions() as session:
        ticket: Ticket = await load(session, one.ticket_id)
        assert ticket.status == Status.CLOSED
        assert ticket.closed_at == one.now + timedelta(minutes=9)


async def test_the_client_is_asked_for_a_rating(one: Desk1001) -> None:
    await resolved(one)
    await one.run(lc.Close(CLIENT))
    async with one.sessions() as session:
        mark = await last_outbox_id(session)
        ticket = await load(session, one.ticket_id)
        TicketService(session, one.desk, one.now).ask_rating(ticket)
        await session.commit()
    async with one.sessions() as session:
        (ask,) = await outbox(session, after=mark)
        ticket = await load(session, one.ticket_id)
        assert (ask.chat_id, ask.purpose, ask.method) == (CLIENT_TG, Purpose.NOTICE, "sendMessage")
        assert "№\u00a01001" in ask.payload["text"]
        assert ask.payload["reply_markup"] == kb.rating(ticket).model_dump(
            mode="json", exclude_none=True
        )
        stars = [
            b["callback_data"]
            for row in ask.payload["reply_markup"]["inline_keyboard"]
            for b in row
        ]
        assert stars == [f"ct:rate:{one.ticket_id}:{n}" for n in (5, 4, 3, 2, 1)]


# ---------------------------------------------------------------- deciding on a stale state


async def test_a_decision_on_a_stale_state_is_taken_again(one: Desk1001) -> None:
    """Loaded before a colleague's claim was saved, the claim is decided again on the saved
    state, and refused naming who has it."""
    async with one.sessions() as session:
        stale = await load(session, one.ticket_id)
        assert stale.assignee_id is None
        await session.commit()  # end the read; the object keeps its stale state
        await one.run(lc.Claim(DILNOZA))
        outcome = await TicketService(session, one.desk, one.now).execute(stale, lc.Claim(SARDOR))
        await session.commit()
    assert isinstance(outcome, Refusal)
    assert (outcome.reason, outcome.assignee_id) == (Reason.ALREADY_CLAIMED, DILNOZA.id)


async def test_a_request_that_keeps_changing_fails_the_update(
    one: Desk1001, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def never(self: TicketRepo, ticket: Ticket) -> bool:
        return False

    monkeypatch.setattr(TicketRepo, "take_version", never)
    async with one.sessions() as session:
        ticket = await load(session, one.ticket_id)
        with pytest.raises(Contended, match="request 1001"):
            await TicketService(session, one.desk, one.now).execute(ticket, lc.Claim(DILNOZA))


def test_a_target_is_met_once(now: datetime) -> None:
    ticket = Ticket(targets=[SlaTarget(kind="first_response", due_at=now)])
    later = now + timedelta(minutes=1)
    assert deadlines.meet(ticket, "first_response", later) is True
    assert deadlines.meet(ticket, "first_response", later + timedelta(hours=1)) is None
    assert deadlines.meet(ticket, "resolution", later) is None  # no such target
    target = ticket.target("first_response")
    assert target is not None
    assert (target.met_at, target.breached_at) == (later, now)
