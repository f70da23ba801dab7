"""The request life cycle as a pure state machine.

`decide(state, command, now)` returns the new state and the events the command produced, or a
refusal with its reason. Every change of a request's status, assignee, priority and rating goes
through it, whoever asks (a button, a `/command`, a client's message, the system). No aiogram,
no database: the services load a request, ask here, then save what was decided.

Invariants (checked by the property tests):
- a new request has no assignee; in progress, waiting and resolved ones have one (whoever
  answers, waits for the client or resolves an unassigned request takes it);
- nothing changes a closed request but the client's rating and comment;
- the priority changes only while the request is open.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.vocabulary import OPEN_STATUSES, ActorKind, Priority, Status

RATING_RANGE = range(1, 6)


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: int | None
    name: str = ""

    @classmethod
    def operator(cls, user_id: int, name: str) -> Actor:
        return cls(ActorKind.OPERATOR, user_id, name)

    @classmethod
    def client(cls, user_id: int, name: str = "") -> Actor:
        return cls(ActorKind.CLIENT, user_id, name)


SYSTEM = Actor(ActorKind.SYSTEM, None, "")


@dataclass(frozen=True)
class TicketState:
    status: Status
    priority: Priority
    assignee_id: int | None = None
    assignee_name: str | None = None
    answered: bool = False  # an operator has written to the client (the first response)
    rating: int | None = None
    client_banned: bool = False


class EventKind(StrEnum):
    REGISTERED = "registered"
    CLAIMED = "claimed"
    RELEASED = "released"
    ASSIGNED = "assigned"
    PRIORITY_CHANGED = "priority_changed"
    WAITING = "waiting"
    RESUMED = "resumed"
    ANSWERED = "answered"
    CLIENT_WROTE = "client_wrote"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"
    RATED = "rated"
    COMMENTED = "commented"
    BANNED = "banned"
    UNBANNED = "unbanned"
    # Recorded by the services beside the machine's own events, in the same audit log:
    DEADLINE_CHANGED = "deadline_changed"  # a target's due moment moved (priority, pause, ...)
    TARGET_MET = "target_met"  # with breached=True when it was met late
    NOTE = "note"
    EDITED = "edited"
    CLIENT_BLOCKED = "client_blocked"
    CLIENT_UNBLOCKED = "client_unblocked"
    # The quality guard and saved answers (bot.services.guarding, bot.services.macros):
    GUARD_HELD = "guard_held"  # an answer stopped, with what was found
    GUARD_SENT = "guard_sent"  # sent as it was, by whom
    GUARD_CANCELLED = "guard_cancelled"  # dropped, by whom
    GUARD_FIXED = "guard_fixed"  # the author edited it until it passed, and it went
    MACRO_USED = "macro_used"  # a saved answer sent to the client, by name and language
    WITHDRAWN = "withdrawn"  # closed because the client erased their data (/forget)
    CLIENT_FORGOTTEN = "client_forgotten"  # the request's personal data erased (/forget)
    DATA_EXPIRED = "data_expired"  # the request's personal data removed after the retention


@dataclass(frozen=True)
class Event:
    kind: EventKind
    at: datetime
    actor: Actor
    data: dict[str, Any] = field(default_factory=dict)


class Reason(StrEnum):
    """Why a command was refused."""

    NOT_ALLOWED = "not_allowed"  # not in the request's current status
    NOT_PERMITTED = "not_permitted"  # not for this kind of actor
    ALREADY_CLAIMED = "already_claimed"
    NOT_ASSIGNED = "not_assigned"
    INVALID = "invalid"  # an argument out of range (a forged button)


# ---- commands


@dataclass(frozen=True)
class Command:
    actor: Actor


@dataclass(frozen=True)
class Claim(Command):
    pass


@dataclass(frozen=True)
class Release(Command):
    pass


@dataclass(frozen=True)
class Assign(Command):
    to: Actor


@dataclass(frozen=True)
class SetPriority(Command):
    priority: Priority


@dataclass(frozen=True)
class Wait(Command):
    """Wait for the client: the resolution clock may stand still meanwhile."""


@dataclass(frozen=True)
class Resume(Command):
    """An operator takes a waiting request up again."""


@dataclass(frozen=True)
class Answer(Command):
    """An operator writes to the client."""


@dataclass(frozen=True)
class ClientWrites(Command):
    """The client writes on the request: a waiting one resumes, a resolved one is reopened
    (the services only call this for a resolved request inside the reopen window)."""


@dataclass(frozen=True)
class Resolve(Command):
    pass


@dataclass(frozen=True)
class Reopen(Command):
    pass


@dataclass(frozen=True)
class Close(Command):
    """The client confirms the problem is solved (or the system closes it)."""


@dataclass(frozen=True)
class Withdraw(Command):
    """The client asked the desk to erase their data (/forget): an open request is closed as
    withdrawn, whatever its state; a closed one stays closed."""


@dataclass(frozen=True)
class Rate(Command):
    stars: int


@dataclass(frozen=True)
class Comment(Command):
    pass


@dataclass(frozen=True)
class Ban(Command):
    banned: bool


# ---- outcomes


@dataclass(frozen=True)
class Decision:
    state: TicketState
    events: tuple[Event, ...]

    @property
    def changed(self) -> bool:
        return bool(self.events)

    def has(self, kind: EventKind) -> bool:
        return any(e.kind == kind for e in self.events)


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    state: TicketState

    @property
    def assignee_name(self) -> str | None:
        return self.state.assignee_name

    @property
    def assignee_id(self) -> int | None:
        return self.state.assignee_id


Outcome = Decision | Refusal

OPERATOR_COMMANDS = (Claim, Release, Assign, SetPriority, Wait, Resume, Answer, Resolve, Ban)
CLIENT_COMMANDS = (ClientWrites, Close, Rate, Comment, Withdraw)


def register(priority: Priority, actor: Actor, now: datetime) -> Decision:
    state = TicketState(status=Status.NEW, priority=priority)
    return Decision(state, (Event(EventKind.REGISTERED, now, actor, {"priority": priority}),))


def _permitted(command: Command) -> bool:
    kind = command.actor.kind
    if kind == ActorKind.SYSTEM:
        return isinstance(command, Close)
    if isinstance(command, Reopen):
        return True  # an operator reopens, or the client says the problem is not solved
    if kind == ActorKind.OPERATOR:
        return isinstance(command, OPERATOR_COMMANDS)
    return isinstance(command, CLIENT_COMMANDS)


def decide(state: TicketState, command: Command, now: datetime) -> Outcome:
    """The one place that says what a command does to a request."""
    if not _permitted(command):
        return Refusal(Reason.NOT_PERMITTED, state)
    handler = _HANDLERS[type(command)]
    return handler(_Step(state, command, now))


class _Step:
    """Builds one decision: the state as it changes and the events in order."""

    def __init__(self, state: TicketState, command: Command, now: datetime) -> None:
        self.state = state
        self.command = command
        self.now = now
        self.events: list[Event] = []

    def emit(self, kind: EventKind, **data: Any) -> None:
        self.events.append(Event(kind, self.now, self.command.actor, data))

    def change(self, **values: Any) -> None:
        self.state = replace(self.state, **values)

    def refuse(self, reason: Reason) -> Refusal:
        return Refusal(reason, self.state)

    def done(self) -> Decision:
        return Decision(self.state, tuple(self.events))

    @property
    def is_open(self) -> bool:
        return self.state.status in OPEN_STATUSES

    def take(self, actor: Actor) -> None:
        """An unassigned request is taken by whoever acts on it (claim, answer, wait, resolve)."""
        self.change(assignee_id=actor.id, assignee_name=actor.name)
        self.emit(EventKind.CLAIMED, assignee_id=actor.id)
        if self.state.status == Status.NEW:
            self.change(status=Status.IN_PROGRESS)

    def back_to_work(self) -> None:
        """With its assignee, or back to the queue."""
        self.change(status=Status.IN_PROGRESS if self.state.assignee_id else Status.NEW)

    def reopen(self) -> None:
        """A resolved request goes back to work; a rating given to that resolution is void (the
        audit log keeps it) and the next resolution is rated anew."""
        previous = self.state.rating
        self.change(rating=None)
        self.back_to_work()
        self.emit(EventKind.REOPENED, previous_rating=previous)

    def resume(self) -> None:
        self.back_to_work()
        self.emit(EventKind.RESUMED)


def _claim(step: _Step) -> Outcome:
    if not step.is_open:
        return step.refuse(Reason.NOT_ALLOWED)
    if step.state.assignee_id is not None:
        return step.refuse(Reason.ALREADY_CLAIMED)
    step.take(step.command.actor)
    return step.done()


def _release(step: _Step) -> Outcome:
    if not step.is_open:
        return step.refuse(Reason.NOT_ALLOWED)
    if step.state.assignee_id is None:
        return step.refuse(Reason.NOT_ASSIGNED)
    previous = step.state.assignee_id
    if step.state.status == Status.WAITING:
        # Nobody waits for the client on a request nobody holds: its clock runs again.
        step.change(assignee_id=None, assignee_name=None)
        step.resume()
    step.change(assignee_id=None, assignee_name=None, status=Status.NEW)
    step.emit(EventKind.RELEASED, previous=previous)
    return step.done()


def _assign(step: _Step) -> Outcome:
    assert isinstance(step.command, Assign)
    to = step.command.to
    if not step.is_open:
        return step.refuse(Reason.NOT_ALLOWED)
    if to.kind != ActorKind.OPERATOR or to.id is None:
        return step.refuse(Reason.INVALID)
    if step.state.assignee_id == to.id:
        return step.done()
    previous = step.state.assignee_id
    step.change(assignee_id=to.id, assignee_name=to.name)
    if step.state.status == Status.NEW:
        step.change(status=Status.IN_PROGRESS)
    step.emit(EventKind.ASSIGNED, previous=previous, assignee_id=to.id)
    return step.done()


def _set_priority(step: _Step) -> Outcome:
    assert isinstance(step.command, SetPriority)
    if not step.is_open:
        return step.refuse(Reason.NOT_ALLOWED)
    priority = step.command.priority
    if priority == step.state.priority:
        return step.done()
    previous = step.state.priority
    step.change(priority=priority)
    step.emit(EventKind.PRIORITY_CHANGED, previous=previous, priority=priority)
    return step.done()


def _wait(step: _Step) -> Outcome:
    if step.state.status not in (Status.NEW, Status.IN_PROGRESS):
        return step.refuse(Reason.NOT_ALLOWED)
    if step.state.assignee_id is None:
        step.take(step.command.actor)
    step.change(status=Status.WAITING)
    step.emit(EventKind.WAITING)
    return step.done()


def _resume(step: _Step) -> Outcome:
    if step.state.status != Status.WAITING:
        return step.refuse(Reason.NOT_ALLOWED)
    step.resume()
    return step.done()


def _answer(step: _Step) -> Outcome:
    if step.state.status == Status.CLOSED:
        return step.refuse(Reason.NOT_ALLOWED)
    if step.state.assignee_id is None:
        step.take(step.command.actor)
    first = not step.state.answered
    step.change(answered=True)
    step.emit(EventKind.ANSWERED, first=first)
    return step.done()


def _client_writes(step: _Step) -> Outcome:
    status = step.state.status
    if status == Status.CLOSED:
        return step.refuse(Reason.NOT_ALLOWED)
    step.emit(EventKind.CLIENT_WROTE)
    if status == Status.WAITING:
        step.resume()
    elif status == Status.RESOLVED:
        step.reopen()
    return step.done()


def _resolve(step: _Step) -> Outcome:
    if not step.is_open:
        return step.refuse(Reason.NOT_ALLOWED)
    if step.state.status == Status.WAITING:
        step.resume()
    if step.state.assignee_id is None and step.command.actor.kind == ActorKind.OPERATOR:
        step.take(step.command.actor)
    step.change(status=Status.RESOLVED)
    step.emit(EventKind.RESOLVED)
    return step.done()


def _reopen(step: _Step) -> Outcome:
    if step.state.status != Status.RESOLVED:
        return step.refuse(Reason.NOT_ALLOWED)
    step.reopen()
    return step.done()


def _close(step: _Step) -> Outcome:
    if step.state.status != Status.RESOLVED:
        return step.refuse(Reason.NOT_ALLOWED)
    step.change(status=Status.CLOSED)
    step.emit(EventKind.CLOSED)
    return step.done()


def _withdraw(step: _Step) -> Outcome:
    if step.state.status == Status.CLOSED:
        return step.refuse(Reason.NOT_ALLOWED)
    step.change(status=Status.CLOSED)
    step.emit(EventKind.WITHDRAWN)
    return step.done()


def _rate(step: _Step) -> Outcome:
    assert isinstance(step.command, Rate)
    if step.state.status not in (Status.RESOLVED, Status.CLOSED):
        return step.refuse(Reason.NOT_ALLOWED)
    if step.command.stars not in RATING_RANGE:
        return step.refuse(Reason.INVALID)
    step.change(rating=step.command.stars)
    step.emit(EventKind.RATED, rating=step.command.stars)
    return step.done()


def _comment(step: _Step) -> Outcome:
    if step.state.status not in (Status.RESOLVED, Status.CLOSED) or step.state.rating is None:
        return step.refuse(Reason.NOT_ALLOWED)
    step.emit(EventKind.COMMENTED)
    return step.done()


def _ban(step: _Step) -> Outcome:
    assert isinstance(step.command, Ban)
    if step.state.client_banned == step.command.banned:
        return step.done()  # as it already is: the client is not told twice
    step.change(client_banned=step.command.banned)
    step.emit(EventKind.BANNED if step.command.banned else EventKind.UNBANNED)
    return step.done()


_HANDLERS = {
    Claim: _claim,
    Release: _release,
    Assign: _assign,
    SetPriority: _set_priority,
    Wait: _wait,
    Resume: _resume,
    Answer: _answer,
    ClientWrites: _client_writes,
    Resolve: _resolve,
    Reopen: _reopen,
    Close: _close,
    Withdraw: _withdraw,
    Rate: _rate,
    Comment: _comment,
    Ban: _ban,
}


def valid(state: TicketState) -> bool:
    """The invariants every reachable state keeps."""
    if state.rating is not None and state.status not in (Status.RESOLVED, Status.CLOSED):
        return False
    if state.status == Status.NEW:
        return state.assignee_id is None
    if state.status in (Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED):
        return state.assignee_id is not None
    return True
