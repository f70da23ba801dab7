"""Unit and property tests for bot.lifecycle, the request life cycle as a pure state machine.

The table states what a support desk expects of every (status, command) pair as literal data;
nothing here re-implements the machine.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.lifecycle import (
    SYSTEM,
    Actor,
    Answer,
    Assign,
    Ban,
    Claim,
    ClientWrites,
    Close,
    Command,
    Comment,
    Decision,
    EventKind,
    Rate,
    Reason,
    Refusal,
    Release,
    Reopen,
    Resolve,
    Resume,
    SetPriority,
    TicketState,
    Wait,
    Withdraw,
    decide,
    register,
    valid,
)
from bot.vocabulary import OPEN_STATUSES, ActorKind, Priority, Status

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

ANNA_ID, BORIS_ID = 1, 2
ANNA = Actor.operator(ANNA_ID, "Anna")  # the operator who acts in the table
BORIS = Actor.operator(BORIS_ID, "Boris")  # a colleague
CLIENT = Actor.client(100, "Client")
NOBODY = Actor(ActorKind.OPERATOR, None, "ghost")  # an operator without an id
NAMES = {ANNA_ID: "Anna", BORIS_ID: "Boris", None: None}

E = EventKind
PRIO = Priority.MEDIUM

# ---- states (each consistent with the invariants)

NEW = TicketState(Status.NEW, PRIO)
NEW_ANSWERED = replace(NEW, answered=True)  # answered, then released back to the queue
WORKING_MINE = TicketState(Status.IN_PROGRESS, PRIO, ANNA_ID, "Anna")
WORKING_OTHER = TicketState(Status.IN_PROGRESS, PRIO, BORIS_ID, "Boris")
WORKING_ANSWERED = replace(WORKING_MINE, answered=True)
WAITING_MINE = TicketState(Status.WAITING, PRIO, ANNA_ID, "Anna", answered=True)
WAITING_OTHER = TicketState(Status.WAITING, PRIO, BORIS_ID, "Boris", answered=True)
RESOLVED_MINE = TicketState(Status.RESOLVED, PRIO, ANNA_ID, "Anna", answered=True)
RESOLVED_OTHER = TicketState(Status.RESOLVED, PRIO, BORIS_ID, "Boris", answered=True)
RESOLVED_RATED = replace(RESOLVED_MINE, rating=4)
CLOSED = TicketState(Status.CLOSED, PRIO, ANNA_ID, "Anna", answered=True)
CLOSED_RATED = replace(CLOSED, rating=4)

# ---- commands, each by the right kind of actor

CLAIM = Claim(ANNA)
RELEASE = Release(ANNA)
ASSIGN_BORIS = Assign(ANNA, BORIS)
ASSIGN_ANNA = Assign(ANNA, ANNA)
PRIORITY_HIGH = SetPriority(ANNA, Priority.HIGH)
PRIORITY_SAME = SetPriority(ANNA, PRIO)
WAIT = Wait(ANNA)
RESUME = Resume(ANNA)
ANSWER = Answer(ANNA)
CLIENT_WRITES = ClientWrites(CLIENT)
RESOLVE = Resolve(ANNA)
REOPEN = Reopen(ANNA)
REOPEN_BY_CLIENT = Reopen(CLIENT)
CLOSE = Close(CLIENT)
CLOSE_BY_SYSTEM = Close(SYSTEM)
RATE = Rate(CLIENT, 5)
COMMENT = Comment(CLIENT)
WITHDRAW = Withdraw(CLIENT)
BAN = Ban(ANNA, True)
UNBAN = Ban(ANNA, False)


@dataclass(frozen=True)
class Refused:
    reason: Reason


@dataclass(frozen=True)
class Goes:
    status: Status
    assignee: int | None
    events: tuple[EventKind, ...]


NOT_ALLOWED = Refused(Reason.NOT_ALLOWED)
NOT_PERMITTED = Refused(Reason.NOT_PERMITTED)
ALREADY_CLAIMED = Refused(Reason.ALREADY_CLAIMED)
NOT_ASSIGNED = Refused(Reason.NOT_ASSIGNED)
INVALID = Refused(Reason.INVALID)


class Row(NamedTuple):
    id: str
    state: TicketState
    command: Command
    expected: Refused | Goes


TABLE = [
    # ---- NEW: in the queue, nobody holds it
    Row("new-claim", NEW, CLAIM, Goes(Status.IN_PROGRESS, ANNA_ID, (E.CLAIMED,))),
    Row("new-release", NEW, RELEASE, NOT_ASSIGNED),
    Row("new-assign", NEW, ASSIGN_BORIS, Goes(Status.IN_PROGRESS, BORIS_ID, (E.ASSIGNED,))),
    Row("new-assign-self", NEW, ASSIGN_ANNA, Goes(Status.IN_PROGRESS, ANNA_ID, (E.ASSIGNED,))),
    Row("new-priority", NEW, PRIORITY_HIGH, Goes(Status.NEW, None, (E.PRIORITY_CHANGED,))),
    Row("new-priority-same", NEW, PRIORITY_SAME, Goes(Status.NEW, None, ())),
    Row("new-wait", NEW, WAIT, Goes(Status.WAITING, ANNA_ID, (E.CLAIMED, E.WAITING))),
    Row("new-resume", NEW, RESUME, NOT_ALLOWED),
    Row("new-answer", NEW, ANSWER, Goes(Status.IN_PROGRESS, ANNA_ID, (E.CLAIMED, E.ANSWERED))),
    Row(
        "new-answered-answer",
        NEW_ANSWERED,
        ANSWER,
        Goes(Status.IN_PROGRESS, ANNA_ID, (E.CLAIMED, E.ANSWERED)),
    ),
    Row("new-client-writes", NEW, CLIENT_WRITES, Goes(Status.NEW, None, (E.CLIENT_WROTE,))),
    Row("new-resolve", NEW, RESOLVE, Goes(Status.RESOLVED, ANNA_ID, (E.CLAIMED, E.RESOLVED))),
    Row("new-reopen", NEW, REOPEN, NOT_ALLOWED),
    Row("new-reopen-by-client", NEW, REOPEN_BY_CLIENT, NOT_ALLOWED),
    Row("new-close", NEW, CLOSE, NOT_ALLOWED),
    Row("new-withdraw", NEW, WITHDRAW, Goes(Status.CLOSED, None, (E.WITHDRAWN,))),
    Row("working-withdraw", WORKING_MINE, WITHDRAW, Goes(Status.CLOSED, ANNA_ID, (E.WITHDRAWN,))),
    Row("waiting-withdraw", WAITING_MINE, WITHDRAW, Goes(Status.CLOSED, ANNA_ID, (E.WITHDRAWN,))),
    Row("resolved-withdraw", RESOLVED_MINE, WITHDRAW, Goes(Status.CLOSED, ANNA_ID, (E.WITHDRAWN,))),
    Row("withdraw-by-operator", WORKING_MINE, Withdraw(ANNA), NOT_PERMITTED),
    Row("new-close-by-system", NEW, CLOSE_BY_SYSTEM, NOT_ALLOWED),
    Row("new-rate", NEW, RATE, NOT_ALLOWED),
    Row("new-comment", NEW, COMMENT, NOT_ALLOWED),
    Row("new-ban", NEW, BAN, Goes(Status.NEW, None, (E.BANNED,))),
    Row("new-unban", NEW, UNBAN, Goes(Status.NEW, None, ())),
    # ---- IN_PROGRESS, held by the acting operator
    Row("working-mine-claim", WORKING_MINE, CLAIM, ALREADY_CLAIMED),
    Row("working-mine-release", WORKING_MINE, RELEASE, Goes(Status.NEW, None, (E.RELEASED,))),
    Row(
        "working-mine-assign",
        WORKING_MINE,
        ASSIGN_BORIS,
        Goes(Status.IN_PROGRESS, BORIS_ID, (E.ASSIGNED,)),
    ),
    Row(
        "working-mine-assign-self",
        WORKING_MINE,
        ASSIGN_ANNA,
        Goes(Status.IN_PROGRESS, ANNA_ID, ()),
    ),
    Row(
        "working-mine-priority",
        WORKING_MINE,
        PRIORITY_HIGH,
        Goes(Status.IN_PROGRESS, ANNA_ID, (E.PRIORITY_CHANGED,)),
    ),
    Row(
        "working-mine-priority-same",
        WORKING_MINE,
        PRIORITY_SAME,
        Goes(Status.IN_PROGRESS, ANNA_ID, ()),
    ),
    Row("working-mine-wait", WORKING_MINE, WAIT, Goes(Status.WAITING, ANNA_ID, (E.WAITING,))),
    Row("working-mine-resume", WORKING_MINE, RESUME, NOT_ALLOWED),
    Row(
        "working-mine-answer",
        WORKING_MINE,
        ANSWER,
        Goes(Status.IN_PROGRESS, ANNA_ID, (E.ANSWERED,)),
    ),
    Row(
        "working-answered-answer",
        WORKING_ANSWERED,
        ANSWER,
        Goes(Status.IN_PROGRESS, ANNA_ID, (E.ANSWERED,)),
    ),
    Row(
        "working-mine-client-writes",
        WORKING_MINE,
        CLIENT_WRITES,
        Goes(Status.IN_PROGRESS, ANNA_ID, (E.CLIENT_WROTE,)),
    ),
    Row(
        "working-mine-resolve",
        WORKING_MINE,
        RESOLVE,
        Goes(Status.RESOLVED, ANNA_ID, (E.RESOLVED,)),
    ),
    Row("working-mine-reopen", WORKING_MINE, REOPEN, NOT_ALLOWED),
    Row("working-mine-reopen-by-client", WORKING_MINE, REOPEN_BY_CLIENT, NOT_ALLOWED),
    Row("working-mine-close", WORKING_MINE, CLOSE, NOT_ALLOWED),
    Row("working-mine-close-by-system", WORKING_MINE, CLOSE_BY_SYSTEM, NOT_ALLOWED),
    Row("working-mine-rate", WORKING_MINE, RATE, NOT_ALLOWED),
    Row("working-mine-comment", WORKING_MINE, COMMENT, NOT_ALLOWED),
    Row("working-mine-ban", WORKING_MINE, BAN, Goes(Status.IN_PROGRESS, ANNA_ID, (E.BANNED,))),
    Row(
        "working-mine-unban",
        WORKING_MINE,
        UNBAN,
        Goes(Status.IN_PROGRESS, ANNA_ID, ()),
    ),
    # ---- IN_PROGRESS, held by a colleague
    Row("working-other-claim", WORKING_OTHER, CLAIM, ALREADY_CLAIMED),
    Row("working-other-release", WORKING_OTHER, RELEASE, Goes(Status.NEW, None, (E.RELEASED,))),
    Row(
        "working-other-assign-to-holder",
        WORKING_OTHER,
        ASSIGN_BORIS,
        Goes(Status.IN_PROGRESS, BORIS_ID, ()),
    ),
    Row(
        "working-other-assign-self",
        WORKING_OTHER,
        ASSIGN_ANNA,
        Goes(Status.IN_PROGRESS, ANNA_ID, (E.ASSIGNED,)),
    ),
    Row(
        "working-other-priority",
        WORKING_OTHER,
        PRIORITY_HIGH,
        Goes(Status.IN_PROGRESS, BORIS_ID, (E.PRIORITY_CHANGED,)),
    ),
    Row(
        "working-other-wait",
        WORKING_OTHER,
        WAIT,
        Goes(Status.WAITING, BORIS_ID, (E.WAITING,)),
    ),
    Row("working-other-resume", WORKING_OTHER, RESUME, NOT_ALLOWED),
    Row(
        "working-other-answer",
        WORKING_OTHER,
        ANSWER,
        Goes(Status.IN_PROGRESS, BORIS_ID, (E.ANSWERED,)),
    ),
    Row(
        "working-other-client-writes",
        WORKING_OTHER,
        CLIENT_WRITES,
        Goes(Status.IN_PROGRESS, BORIS_ID, (E.CLIENT_WROTE,)),
    ),
    Row(
        "working-other-resolve",
        WORKING_OTHER,
        RESOLVE,
        Goes(Status.RESOLVED, BORIS_ID, (E.RESOLVED,)),
    ),
    # ---- WAITING for the client, held by the acting operator
    Row("waiting-mine-claim", WAITING_MINE, CLAIM, ALREADY_CLAIMED),
    Row(
        "waiting-mine-release",
        WAITING_MINE,
        RELEASE,
        Goes(Status.NEW, None, (E.RESUMED, E.RELEASED)),
    ),
    Row(
        "waiting-mine-assign",
        WAITING_MINE,
        ASSIGN_BORIS,
        Goes(Status.WAITING, BORIS_ID, (E.ASSIGNED,)),
    ),
    Row("waiting-mine-assign-self", WAITING_MINE, ASSIGN_ANNA, Goes(Status.WAITING, ANNA_ID, ())),
    Row(
        "waiting-mine-priority",
        WAITING_MINE,
        PRIORITY_HIGH,
        Goes(Status.WAITING, ANNA_ID, (E.PRIORITY_CHANGED,)),
    ),
    Row(
        "waiting-mine-priority-same",
        WAITING_MINE,
        PRIORITY_SAME,
        Goes(Status.WAITING, ANNA_ID, ()),
    ),
    Row("waiting-mine-wait", WAITING_MINE, WAIT, NOT_ALLOWED),
    Row(
        "waiting-mine-resume",
        WAITING_MINE,
        RESUME,
        Goes(Status.IN_PROGRESS, ANNA_ID, (E.RESUMED,)),
    ),
    Row("waiting-mine-answer", WAITING_MINE, ANSWER, Goes(Status.WAITING, ANNA_ID, (E.ANSWERED,))),
    Row(
        "waiting-mine-client-writes",
        WAITING_MINE,
        CLIENT_WRITES,
        Goes(Status.IN_PROGRESS, ANNA_ID, (E.CLIENT_WROTE, E.RESUMED)),
    ),
    Row(
        "waiting-mine-resolve",
        WAITING_MINE,
        RESOLVE,
        Goes(Status.RESOLVED, ANNA_ID, (E.RESUMED, E.RESOLVED)),
    ),
    Row("waiting-mine-reopen", WAITING_MINE, REOPEN, NOT_ALLOWED),
    Row("waiting-mine-reopen-by-client", WAITING_MINE, REOPEN_BY_CLIENT, NOT_ALLOWED),
    Row("waiting-mine-close", WAITING_MINE, CLOSE, NOT_ALLOWED),
    Row("waiting-mine-close-by-system", WAITING_MINE, CLOSE_BY_SYSTEM, NOT_ALLOWED),
    Row("waiting-mine-rate", WAITING_MINE, RATE, NOT_ALLOWED),
    Row("waiting-mine-comment", WAITING_MINE, COMMENT, NOT_ALLOWED),
    Row("waiting-mine-ban", WAITING_MINE, BAN, Goes(Status.WAITING, ANNA_ID, (E.BANNED,))),
    Row("waiting-mine-unban", WAITING_MINE, UNBAN, Goes(Status.WAITING, ANNA_ID, ())),
    # ---- WAITING for the client, held by a colleague
    Row("waiting-other-claim", WAITING_OTHER, CLAIM, ALREADY_CLAIMED),
    Row(
        "waiting-other-release",
        WAITING_OTHER,
        RELEASE,
        Goes(Status.NEW, None, (E.RESUMED, E.RELEASED)),
    ),
    Row(
        "waiting-other-assign-self",
        WAITING_OTHER,
        ASSIGN_ANNA,
        Goes(Status.WAITING, ANNA_ID, (E.ASSIGNED,)),
    ),
    Row(
        "waiting-other-resume",
        WAITING_OTHER,
        RESUME,
        Goes(Status.IN_PROGRESS, BORIS_ID, (E.RESUMED,)),
    ),
    Row(
        "waiting-other-answer",
        WAITING_OTHER,
        ANSWER,
        Goes(Status.WAITING, BORIS_ID, (E.ANSWERED,)),
    ),
    Row(
        "waiting-other-resolve",
        WAITING_OTHER,
        RESOLVE,
        Goes(Status.RESOLVED, BORIS_ID, (E.RESUMED, E.RESOLVED)),
    ),
    # ---- RESOLVED, not rated
    Row("resolved-claim", RESOLVED_MINE, CLAIM, NOT_ALLOWED),
    Row("resolved-release", RESOLVED_MINE, RELEASE, NOT_ALLOWED),
    Row("resolved-assign", RESOLVED_MINE, ASSIGN_BORIS, NOT_ALLOWED),
    Row("resolved-assign-self", RESOLVED_MINE, ASSIGN_ANNA, NOT_ALLOWED),
    Row("resolved-priority", RESOLVED_MINE, PRIORITY_HIGH, NOT_ALLOWED),
    Row("resolved-priority-same", RESOLVED_MINE, PRIORITY_SAME, NOT_ALLOWED),
    Row("resolved-wait", RESOLVED_MINE, WAIT, NOT_ALLOWED),
    Row("resolved-resume", RESOLVED_MINE, RESUME, NOT_ALLOWED),
    Row("resolved-answer", RESOLVED_MINE, ANSWER, Goes(Status.RESOLVED, ANNA_ID, (E.ANSWERED,))),
    Row(
        "resolved-client-writes",
        RESOLVED_MINE,
        CLIENT_WRITES,
        Goes(Status.IN_PROGRESS, ANNA_ID, (E.CLIENT_WROTE, E.REOPENED)),
    ),
    Row("resolved-resolve", RESOLVED_MINE, RESOLVE, NOT_ALLOWED),
    Row(
        "resolved-reopen",
        RESOLVED_MINE,
        REOPEN,
        Goes(Status.IN_PROGRESS, ANNA_ID, (E.REOPENED,)),
    ),
    Row(
        "resolved-reopen-by-client",
        RESOLVED_MINE,
        REOPEN_BY_CLIENT,
        Goes(Status.IN_PROGRESS, ANNA_ID, (E.REOPENED,)),
    ),
    Row("resolved-close", RESOLVED_MINE, CLOSE, Goes(Status.CLOSED, ANNA_ID, (E.CLOSED,))),
    Row(
        "resolved-close-by-system",
        RESOLVED_MINE,
        CLOSE_BY_SYSTEM,
        Goes(Status.CLOSED, ANNA_ID, (E.CLOSED,)),
    ),
    Row("resolved-rate", RESOLVED_MINE, RATE, Goes(Status.RESOLVED, ANNA_ID, (E.RATED,))),
    Row("resolved-comment-unrated", RESOLVED_MINE, COMMENT, NOT_ALLOWED),
    Row("resolved-ban", RESOLVED_MINE, BAN, Goes(Status.RESOLVED, ANNA_ID, (E.BANNED,))),
    Row("resolved-unban", RESOLVED_MINE, UNBAN, Goes(Status.RESOLVED, ANNA_ID, ())),
    # ---- RESOLVED by a colleague
    Row(
        "resolved-other-answer",
        RESOLVED_OTHER,
        ANSWER,
        Goes(Status.RESOLVED, BORIS_ID, (E.ANSWERED,)),
    ),
    Row(
        "resolved-other-reopen",
        RESOLVED_OTHER,
        REOPEN,
        Goes(Status.IN_PROGRESS, BORIS_ID, (E.REOPENED,)),
    ),
    Row(
        "resolved-other-client-writes",
        RESOLVED_OTHER,
        CLIENT_WRITES,
        Goes(Status.IN_PROGRESS, BORIS_ID, (E.CLIENT_WROTE, E.REOPENED)),
    ),
    Row("resolved-other-close", RESOLVED_OTHER, CLOSE, Goes(Status.CLOSED, BORIS_ID, (E.CLOSED,))),
    # ---- RESOLVED and rated
    Row(
        "resolved-rated-rate-again",
        RESOLVED_RATED,
        RATE,
        Goes(Status.RESOLVED, ANNA_ID, (E.RATED,)),
    ),
    Row(
        "resolved-rated-comment",
        RESOLVED_RATED,
        COMMENT,
        Goes(Status.RESOLVED, ANNA_ID, (E.COMMENTED,)),
    ),
    Row(
        "resolved-rated-reopen",
        RESOLVED_RATED,
        REOPEN,
        Goes(Status.IN_PROGRESS, ANNA_ID, (E.REOPENED,)),
    ),
    Row(
        "resolved-rated-reopen-by-client",
        RESOLVED_RATED,
        REOPEN_BY_CLIENT,
        Goes(Status.IN_PROGRESS, ANNA_ID, (E.REOPENED,)),
    ),
    Row(
        "resolved-rated-client-writes",
        RESOLVED_RATED,
        CLIENT_WRITES,
        Goes(Status.IN_PROGRESS, ANNA_ID, (E.CLIENT_WROTE, E.REOPENED)),
    ),
    Row("resolved-rated-close", RESOLVED_RATED, CLOSE, Goes(Status.CLOSED, ANNA_ID, (E.CLOSED,))),
    # ---- CLOSED, not rated: only the client's rating and comment may follow
    Row("closed-claim", CLOSED, CLAIM, NOT_ALLOWED),
    Row("closed-release", CLOSED, RELEASE, NOT_ALLOWED),
    Row("closed-assign", CLOSED, ASSIGN_BORIS, NOT_ALLOWED),
    Row("closed-assign-self", CLOSED, ASSIGN_ANNA, NOT_ALLOWED),
    Row("closed-priority", CLOSED, PRIORITY_HIGH, NOT_ALLOWED),
    Row("closed-priority-same", CLOSED, PRIORITY_SAME, NOT_ALLOWED),
    Row("closed-wait", CLOSED, WAIT, NOT_ALLOWED),
    Row("closed-resume", CLOSED, RESUME, NOT_ALLOWED),
    Row("closed-answer", CLOSED, ANSWER, NOT_ALLOWED),
    Row("closed-client-writes", CLOSED, CLIENT_WRITES, NOT_ALLOWED),
    Row("closed-resolve", CLOSED, RESOLVE, NOT_ALLOWED),
    Row("closed-reopen", CLOSED, REOPEN, NOT_ALLOWED),
    Row("closed-reopen-by-client", CLOSED, REOPEN_BY_CLIENT, NOT_ALLOWED),
    Row("closed-close", CLOSED, CLOSE, NOT_ALLOWED),
    Row("closed-close-by-system", CLOSED, CLOSE_BY_SYSTEM, NOT_ALLOWED),
    Row("closed-rate", CLOSED, RATE, Goes(Status.CLOSED, ANNA_ID, (E.RATED,))),
    Row("closed-comment-unrated", CLOSED, COMMENT, NOT_ALLOWED),
    Row("closed-ban", CLOSED, BAN, Goes(Status.CLOSED, ANNA_ID, (E.BANNED,))),
    Row("closed-withdraw", CLOSED, WITHDRAW, NOT_ALLOWED),
    Row("closed-unban", CLOSED, UNBAN, Goes(Status.CLOSED, ANNA_ID, ())),
    # ---- CLOSED and rated
    Row("closed-rated-rate-again", CLOSED_RATED, RATE, Goes(Status.CLOSED, ANNA_ID, (E.RATED,))),
    Row(
        "closed-rated-comment",
        CLOSED_RATED,
        COMMENT,
        Goes(Status.CLOSED, ANNA_ID, (E.COMMENTED,)),
    ),
    Row("closed-rated-reopen", CLOSED_RATED, REOPEN, NOT_ALLOWED),
    Row("closed-rated-client-writes", CLOSED_RATED, CLIENT_WRITES, NOT_ALLOWED),
    # ---- the wrong kind of actor: a client issuing an operator's command...
    Row("client-claims", NEW, Claim(CLIENT), NOT_PERMITTED),
    Row("client-releases", WORKING_MINE, Release(CLIENT), NOT_PERMITTED),
    Row("client-assigns", NEW, Assign(CLIENT, BORIS), NOT_PERMITTED),
    Row("client-sets-priority", NEW, SetPriority(CLIENT, Priority.CRITICAL), NOT_PERMITTED),
    Row("client-waits", WORKING_MINE, Wait(CLIENT), NOT_PERMITTED),
    Row("client-resumes", WAITING_MINE, Resume(CLIENT), NOT_PERMITTED),
    Row("client-answers", WORKING_MINE, Answer(CLIENT), NOT_PERMITTED),
    Row("client-resolves", WORKING_MINE, Resolve(CLIENT), NOT_PERMITTED),
    # The client is told once: banning a banned client (or lifting a ban that is not there)
    # changes nothing.
    Row(
        "banned-unban",
        replace(WORKING_MINE, client_banned=True),
        UNBAN,
        Goes(Status.IN_PROGRESS, ANNA_ID, (E.UNBANNED,)),
    ),
    Row(
        "banned-ban",
        replace(WORKING_MINE, client_banned=True),
        BAN,
        Goes(Status.IN_PROGRESS, ANNA_ID, ()),
    ),
    Row("client-bans", WORKING_MINE, Ban(CLIENT, True), NOT_PERMITTED),
    Row("client-claims-closed", CLOSED, Claim(CLIENT), NOT_PERMITTED),
    # ...an operator issuing a client's command...
    Row("operator-writes-as-client", WORKING_MINE, ClientWrites(ANNA), NOT_PERMITTED),
    Row("operator-closes", RESOLVED_MINE, Close(ANNA), NOT_PERMITTED),
    Row("operator-rates", RESOLVED_MINE, Rate(ANNA, 5), NOT_PERMITTED),
    Row("operator-comments", RESOLVED_RATED, Comment(ANNA), NOT_PERMITTED),
    # ...and the system, which may only close
    Row("system-claims", NEW, Claim(SYSTEM), NOT_PERMITTED),
    Row("system-releases", WORKING_MINE, Release(SYSTEM), NOT_PERMITTED),
    Row("system-assigns", NEW, Assign(SYSTEM, BORIS), NOT_PERMITTED),
    Row("system-sets-priority", NEW, SetPriority(SYSTEM, Priority.LOW), NOT_PERMITTED),
    Row("system-waits", WORKING_MINE, Wait(SYSTEM), NOT_PERMITTED),
    Row("system-resumes", WAITING_MINE, Resume(SYSTEM), NOT_PERMITTED),
    Row("system-answers", WORKING_MINE, Answer(SYSTEM), NOT_PERMITTED),
    Row("system-writes-as-client", WORKING_MINE, ClientWrites(SYSTEM), NOT_PERMITTED),
    Row("system-resolves", WORKING_MINE, Resolve(SYSTEM), NOT_PERMITTED),
    Row("system-reopens", RESOLVED_MINE, Reopen(SYSTEM), NOT_PERMITTED),
    Row("system-rates", RESOLVED_MINE, Rate(SYSTEM, 5), NOT_PERMITTED),
    Row("system-comments", RESOLVED_RATED, Comment(SYSTEM), NOT_PERMITTED),
    Row("system-bans", WORKING_MINE, Ban(SYSTEM, True), NOT_PERMITTED),
    # ---- forged arguments
    Row("rate-zero", RESOLVED_MINE, Rate(CLIENT, 0), INVALID),
    Row("rate-six", RESOLVED_MINE, Rate(CLIENT, 6), INVALID),
    Row("rate-negative", RESOLVED_MINE, Rate(CLIENT, -1), INVALID),
    Row("rate-zero-closed", CLOSED, Rate(CLIENT, 0), INVALID),
    Row("rate-one", RESOLVED_MINE, Rate(CLIENT, 1), Goes(Status.RESOLVED, ANNA_ID, (E.RATED,))),
    Row("assign-to-client", WORKING_MINE, Assign(ANNA, CLIENT), INVALID),
    Row("assign-to-system", NEW, Assign(ANNA, SYSTEM), INVALID),
    Row("assign-to-operator-without-id", NEW, Assign(ANNA, NOBODY), INVALID),
    Row("assign-to-client-closed", CLOSED, Assign(ANNA, CLIENT), NOT_ALLOWED),
]

COMMAND_CLASSES = (
    Claim,
    Release,
    Assign,
    SetPriority,
    Wait,
    Resume,
    Answer,
    ClientWrites,
    Resolve,
    Reopen,
    Close,
    Rate,
    Comment,
    Ban,
    Withdraw,
)


def kinds(outcome: Decision) -> tuple[EventKind, ...]:
    return tuple(event.kind for event in outcome.events)


def decided(state: TicketState, command: Command, now: datetime = NOW) -> Decision:
    outcome = decide(state, command, now)
    assert isinstance(outcome, Decision), outcome
    return outcome


# ---- the table


def test_the_table_covers_every_status_and_command() -> None:
    pairs = {(row.state.status, type(row.command)) for row in TABLE}
    assert pairs >= {(status, command) for status in Status for command in COMMAND_CLASSES}
    assert all(valid(row.state) for row in TABLE)
    assert len({row.id for row in TABLE}) == len(TABLE)


@pytest.mark.parametrize(
    ("state", "command", "expected"),
    [pytest.param(row.state, row.command, row.expected, id=row.id) for row in TABLE],
)
def test_every_status_and_command(
    state: TicketState, command: Command, expected: Refused | Goes
) -> None:
    outcome = decide(state, command, NOW)
    if isinstance(expected, Refused):
        assert isinstance(outcome, Refusal), outcome
        assert outcome.reason == expected.reason
        assert outcome.state == state
        return
    assert isinstance(outcome, Decision), outcome
    got = Goes(outcome.state.status, outcome.state.assignee_id, kinds(outcome))
    assert got == expected
    assert outcome.state.assignee_name == NAMES[expected.assignee]
    changed_priority = E.PRIORITY_CHANGED in expected.events
    assert outcome.state.priority == (Priority.HIGH if changed_priority else state.priority)
    assert all(event.at == NOW and event.actor == command.actor for event in outcome.events)
    assert valid(outcome.state)


@pytest.mark.parametrize(
    ("state", "command"),
    [
        pytest.param(NEW, PRIORITY_SAME, id="new-same-priority"),
        pytest.param(WORKING_MINE, PRIORITY_SAME, id="working-same-priority"),
        pytest.param(WAITING_OTHER, PRIORITY_SAME, id="waiting-same-priority"),
        pytest.param(WORKING_MINE, ASSIGN_ANNA, id="working-assign-to-holder"),
        pytest.param(WORKING_OTHER, ASSIGN_BORIS, id="working-other-assign-to-holder"),
        pytest.param(WAITING_MINE, ASSIGN_ANNA, id="waiting-assign-to-holder"),
    ],
)
def test_a_no_op_is_a_decision_with_no_events(state: TicketState, command: Command) -> None:
    outcome = decided(state, command)
    assert outcome.events == ()
    assert not outcome.changed
    assert outcome.state == state


def test_a_refusal_names_who_holds_the_request() -> None:
    outcome = decide(WORKING_OTHER, CLAIM, NOW)
    assert isinstance(outcome, Refusal)
    assert outcome.reason == Reason.ALREADY_CLAIMED
    assert (outcome.assignee_id, outcome.assignee_name) == (BORIS_ID, "Boris")


# ---- events: time, actor, data

LATER = NOW + timedelta(days=3, minutes=7)


@pytest.mark.parametrize(
    ("state", "command"),
    [
        pytest.param(NEW, CLAIM, id="claim"),
        pytest.param(NEW, WAIT, id="wait-unassigned"),
        pytest.param(NEW, RESOLVE, id="resolve-unassigned"),
        pytest.param(WORKING_MINE, RELEASE, id="release"),
        pytest.param(WAITING_MINE, RELEASE, id="release-waiting"),
        pytest.param(WORKING_MINE, ASSIGN_BORIS, id="assign"),
        pytest.param(WORKING_MINE, PRIORITY_HIGH, id="priority"),
        pytest.param(WAITING_MINE, RESUME, id="resume"),
        pytest.param(NEW, ANSWER, id="answer"),
        pytest.param(WAITING_MINE, CLIENT_WRITES, id="client-writes"),
        pytest.param(RESOLVED_RATED, REOPEN_BY_CLIENT, id="reopen"),
        pytest.param(RESOLVED_MINE, CLOSE_BY_SYSTEM, id="close"),
        pytest.param(CLOSED, RATE, id="rate"),
        pytest.param(CLOSED_RATED, COMMENT, id="comment"),
        pytest.param(CLOSED, BAN, id="ban"),
    ],
)
def test_events_carry_the_time_and_the_actor(state: TicketState, command: Command) -> None:
    outcome = decided(state, command, LATER)
    assert outcome.events
    for event in outcome.events:
        assert event.at == LATER
        assert event.actor == command.actor


def test_priority_changed_reports_both_priorities() -> None:
    outcome = decided(WAITING_MINE, SetPriority(ANNA, Priority.CRITICAL))
    (event,) = outcome.events
    assert event.kind == E.PRIORITY_CHANGED
    assert event.data == {"previous": Priority.MEDIUM, "priority": Priority.CRITICAL}
    assert outcome.state.priority == Priority.CRITICAL


@pytest.mark.parametrize(
    ("state", "previous"),
    [
        pytest.param(NEW, None, id="from-the-queue"),
        pytest.param(WORKING_MINE, ANNA_ID, id="from-a-colleague"),
        pytest.param(WAITING_MINE, ANNA_ID, id="while-waiting"),
    ],
)
def test_assigned_reports_both_assignees(state: TicketState, previous: int | None) -> None:
    outcome = decided(state, ASSIGN_BORIS)
    (event,) = outcome.events
    assert event.kind == E.ASSIGNED
    assert event.data == {"previous": previous, "assignee_id": BORIS_ID}
    assert (outcome.state.assignee_id, outcome.state.assignee_name) == (BORIS_ID, "Boris")


@pytest.mark.parametrize(
    ("state", "first"),
    [
        pytest.param(NEW, True, id="new"),
        pytest.param(NEW_ANSWERED, False, id="new-answered-before"),
        pytest.param(WORKING_MINE, True, id="working"),
        pytest.param(WORKING_ANSWERED, False, id="working-answered-before"),
        pytest.param(WORKING_OTHER, True, id="working-other"),
        pytest.param(WAITING_MINE, False, id="waiting"),
        pytest.param(RESOLVED_MINE, False, id="resolved"),
    ],
)
def test_answered_is_first_only_for_the_first_answer(state: TicketState, first: bool) -> None:
    outcome = decided(state, ANSWER)
    answered = [event for event in outcome.events if event.kind == E.ANSWERED]
    assert [event.data for event in answered] == [{"first": first}]
    assert outcome.state.answered


def test_only_the_first_of_several_answers_is_first() -> None:
    state = register(PRIO, CLIENT, NOW).state
    firsts = []
    for command in (ANSWER, Answer(BORIS), WAIT, ANSWER, RESUME, ANSWER):
        outcome = decided(state, command)
        state = outcome.state
        firsts += [e.data["first"] for e in outcome.events if e.kind == E.ANSWERED]
    assert firsts == [True, False, False, False]


def test_answering_an_unassigned_request_claims_it() -> None:
    outcome = decided(NEW, Answer(BORIS))
    assert outcome.events[0].data == {"assignee_id": BORIS_ID}
    assert (outcome.state.assignee_id, outcome.state.assignee_name) == (BORIS_ID, "Boris")


@pytest.mark.parametrize(
    ("state", "command", "previous_rating"),
    [
        pytest.param(RESOLVED_RATED, REOPEN, 4, id="rated-operator"),
        pytest.param(RESOLVED_RATED, REOPEN_BY_CLIENT, 4, id="rated-client"),
        pytest.param(RESOLVED_RATED, CLIENT_WRITES, 4, id="rated-client-writes"),
        pytest.param(RESOLVED_MINE, REOPEN, None, id="unrated"),
    ],
)
def test_reopened_clears_the_rating_and_reports_it(
    state: TicketState, command: Command, previous_rating: int | None
) -> None:
    outcome = decided(state, command)
    (event,) = [e for e in outcome.events if e.kind == E.REOPENED]
    assert event.data == {"previous_rating": previous_rating}
    assert outcome.state.rating is None
    assert outcome.state.answered  # the first response stays given


@pytest.mark.parametrize(
    ("state", "previous"),
    [
        pytest.param(WORKING_MINE, ANNA_ID, id="mine"),
        pytest.param(WORKING_OTHER, BORIS_ID, id="a-colleague's"),
        pytest.param(WAITING_OTHER, BORIS_ID, id="waiting"),
    ],
)
def test_released_reports_the_previous_assignee(state: TicketState, previous: int) -> None:
    outcome = decided(state, RELEASE)
    assert outcome.events[-1].kind == E.RELEASED
    assert outcome.events[-1].data == {"previous": previous}
    assert (outcome.state.assignee_id, outcome.state.assignee_name) == (None, None)


def test_claimed_reports_the_new_assignee() -> None:
    outcome = decided(NEW, CLAIM)
    assert outcome.events[0].data == {"assignee_id": ANNA_ID}
    assert outcome.state.assignee_name == "Anna"


@pytest.mark.parametrize("state", [RESOLVED_MINE, RESOLVED_RATED, CLOSED, CLOSED_RATED])
def test_rated_keeps_the_stars(state: TicketState) -> None:
    outcome = decided(state, Rate(CLIENT, 2))
    assert outcome.events[0].data == {"rating": 2}
    assert outcome.state.rating == 2


def test_closing_keeps_the_rating() -> None:
    assert decided(RESOLVED_RATED, CLOSE).state == replace(RESOLVED_RATED, status=Status.CLOSED)


# ---- register and valid


@pytest.mark.parametrize("priority", list(Priority))
def test_register_gives_a_new_unassigned_request(priority: Priority) -> None:
    outcome = register(priority, CLIENT, NOW)
    assert outcome.state == TicketState(Status.NEW, priority)
    assert outcome.state.assignee_id is None
    assert outcome.state.assignee_name is None
    assert not outcome.state.answered
    assert outcome.state.rating is None
    (event,) = outcome.events
    assert (event.kind, event.at, event.actor) == (E.REGISTERED, NOW, CLIENT)
    assert event.data == {"priority": priority}
    assert valid(outcome.state)


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(replace(NEW, assignee_id=ANNA_ID, assignee_name="Anna"), id="new-assigned"),
        pytest.param(replace(WORKING_MINE, assignee_id=None), id="in-progress-unassigned"),
        pytest.param(replace(WAITING_MINE, assignee_id=None), id="waiting-unassigned"),
        pytest.param(replace(RESOLVED_MINE, assignee_id=None), id="resolved-unassigned"),
        pytest.param(replace(WORKING_MINE, rating=3), id="in-progress-rated"),
    ],
)
def test_valid_rejects_a_broken_state(state: TicketState) -> None:
    assert not valid(state)


# ---- random sequences

# Mostly the right kind of actor, so that sequences get far; any actor a quarter of the time.
ANYONE = (ANNA, BORIS, CLIENT, SYSTEM)
BY_OPERATOR = st.sampled_from((ANNA, BORIS) * 6 + ANYONE)
BY_CLIENT = st.sampled_from((CLIENT,) * 9 + ANYONE)
BY_CLIENT_OR_SYSTEM = st.sampled_from((CLIENT, SYSTEM) * 5 + ANYONE)
BY_OPERATOR_OR_CLIENT = st.sampled_from((ANNA, BORIS, CLIENT) * 4 + ANYONE)
PRIORITIES = st.sampled_from(list(Priority))
COMMANDS = st.one_of(
    st.builds(Claim, BY_OPERATOR),
    st.builds(Release, BY_OPERATOR),
    st.builds(Assign, BY_OPERATOR, st.sampled_from(ANYONE)),
    st.builds(SetPriority, BY_OPERATOR, PRIORITIES),
    st.builds(Wait, BY_OPERATOR),
    st.builds(Resume, BY_OPERATOR),
    st.builds(Answer, BY_OPERATOR),
    st.builds(ClientWrites, BY_CLIENT),
    st.builds(Resolve, BY_OPERATOR),
    st.builds(Reopen, BY_OPERATOR_OR_CLIENT),
    st.builds(Close, BY_CLIENT_OR_SYSTEM),
    st.builds(Rate, BY_CLIENT, st.integers(min_value=-2, max_value=7)),
    st.builds(Comment, BY_CLIENT),
    st.builds(Ban, BY_OPERATOR, st.booleans()),
    st.builds(Withdraw, BY_CLIENT),
)
# A length drawn first: st.lists alone averages about five commands.
SEQUENCES = st.integers(min_value=0, max_value=40).flatmap(
    lambda n: st.lists(COMMANDS, min_size=n, max_size=n)
)


@settings(max_examples=300, deadline=None)
@given(priority=PRIORITIES, commands=SEQUENCES)
def test_no_sequence_reaches_an_invalid_state(priority: Priority, commands: list[Command]) -> None:
    state = register(priority, CLIENT, NOW).state
    assert valid(state)
    first_answers = 0
    ever_answered = False
    closed: TicketState | None = None
    for step, command in enumerate(commands, start=1):
        now = NOW + timedelta(minutes=step)
        before = state
        outcome = decide(before, command, now)
        if isinstance(outcome, Refusal):
            assert outcome.state == before
            continue
        state = outcome.state
        assert valid(state), (before, command, state)
        assert all(e.at == now and e.actor == command.actor for e in outcome.events)
        if not outcome.events:
            assert state == before
        if state.status != before.status:
            assert outcome.events
        if state.priority != before.priority:
            assert before.status in OPEN_STATUSES
        if state.status == Status.WAITING:
            assert state.assignee_id is not None
        if closed is not None:
            assert (state.status, state.priority, state.assignee_id, state.assignee_name) == (
                Status.CLOSED,
                closed.priority,
                closed.assignee_id,
                closed.assignee_name,
            )
        elif state.status == Status.CLOSED:
            closed = state
        answers = [e for e in outcome.events if e.kind == E.ANSWERED]
        first_answers += sum(1 for e in answers if e.data["first"])
        assert first_answers <= 1
        ever_answered = ever_answered or bool(answers)
        assert state.answered == ever_answered
