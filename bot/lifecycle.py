"""The request life cycle as plain rules: which status may follow which."""

from __future__ import annotations

from bot.vocabulary import Status

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED}),
    Status.IN_PROGRESS: frozenset({Status.NEW, Status.WAITING, Status.RESOLVED}),
    Status.WAITING: frozenset({Status.IN_PROGRESS, Status.NEW, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.IN_PROGRESS, Status.NEW, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


class TransitionError(ValueError):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"{current} -> {wanted}")
        self.current = current
        self.wanted = wanted


def check_transition(current: str, wanted: str) -> None:
    if Status(wanted) not in TRANSITIONS[Status(current)]:
        raise TransitionError(current, wanted)


def active_status(assignee_id: int | None) -> Status:
    """Where a request goes when work resumes: with its assignee, or back to the queue."""
    return Status.IN_PROGRESS if assignee_id is not None else Status.NEW
