"""The clock is a parameter: production reads the system time, tests set it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ShiftedClock:
    """Real time flowing from a chosen start, which tests and the demo can jump forward: the
    delivery worker's retries still come due while a test sets the business moment. Whoever
    waits for a moment of this clock (the alert scheduler) listens for the jumps."""

    def __init__(self, start: datetime) -> None:
        import time

        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs an aware datetime")
        self._monotonic = time.monotonic
        self._origin = self._monotonic()
        self._start = start.astimezone(UTC)
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._monotonic() - self._origin)

    def advance(self, delta: timedelta) -> None:
        self._start += delta
        for listener in list(self._listeners):
            listener()

    def listen(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every jump; returns what stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)
