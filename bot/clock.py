"""The clock is a parameter: production reads the system time, tests set it."""

from __future__ import annotations

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
    delivery worker's retries still come due while a test sets the business moment."""

    def __init__(self, start: datetime) -> None:
        import time

        if start.tzinfo is None:
            raise ValueError("ShiftedClock needs an aware datetime")
        self._monotonic = time.monotonic
        self._origin = self._monotonic()
        self._start = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._monotonic() - self._origin)

    def advance(self, delta: timedelta) -> None:
        self._start += delta
