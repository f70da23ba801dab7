"""The desk's figures against a hand-built data set (tests/integration/stats_kit.py), on SQLite
and PostgreSQL; every query of a period reads it through an index (SQLite's plans)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.services.desk import Desk
from bot.services.stats import NOBODY, Period, Person, collect, percentile
from bot.vocabulary import Priority
from tests.integration.stats_kit import DIGEST_NOW, PERIOD_START, A, B, build_desk

MINUTE = timedelta(minutes=1)


async def figures(sessions: async_sessionmaker[AsyncSession], desk: Desk, **options: Any) -> Any:
    async with sessions() as session:
        return await collect(
            session, Period(PERIOD_START, DIGEST_NOW), DIGEST_NOW, desk.policy.calendar, **options
        )


async def test_the_figures_of_the_hand_built_day(
    sessions: async_sessionmaker[AsyncSession], desk: Desk
) -> None:
    await build_desk(sessions)
    stats = await figures(sessions, desk, chart_days=14)

    assert stats.opened == 5  # 1001, 1002, 1003, 1005, 1007
    assert stats.resolved == 4  # 1001, 1002, 1004, 1007

    breaches = [(b.number, b.target, b.by, b.holder, b.met_at is None) for b in stats.breaches]
    assert breaches == [
        (1002, "first_response", 20 * MINUTE, NOBODY, False),  # B claimed it 10 min later
        (1003, "resolution", timedelta(hours=15), Person(*B), True),  # B had it at 18:00
    ]
    overdue = [(o.number, o.target, o.by, o.assignee) for o in stats.overdue]
    assert overdue == [
        (1006, "resolution", timedelta(days=3, hours=15), Person(*B)),
        (1003, "resolution", timedelta(hours=15), Person(*A)),
    ]

    # First responses of the period, in working time: 5, 30, 8, 80 (Sun -> Mon 09:20), 1 min.
    assert stats.first_responses == 5
    assert stats.first_response_median == 8 * MINUTE
    assert stats.first_response_p90 == 60 * MINUTE  # 30 + (80 - 30) * 0.6

    # On time: 1001 x2, 1002's resolution, 1003's first response, 1004 x2, 1007 x2.
    assert stats.targets_met == 8
    assert stats.targets_decided == 10
    assert stats.met_share == pytest.approx(0.8)
    assert stats.ratings == 3
    assert stats.rating_average == pytest.approx(4.0)  # 5, 3, 4; 1007 unrated

    operators = [(f.operator, f.resolved, f.open_now, f.breached) for f in stats.operators]
    assert operators == [
        (Person(*A), 2, 1, 0),
        (Person(*B), 2, 1, 1),
        (NOBODY, 0, 0, 1),
    ]
    priorities = {f.priority: (f.opened, f.resolved, f.breached) for f in stats.priorities}
    assert priorities == {
        Priority.CRITICAL: (1, 0, 1),
        Priority.HIGH: (1, 1, 1),
        Priority.MEDIUM: (3, 2, 0),
        Priority.LOW: (0, 1, 0),
    }

    days = {d.day: (d.opened, d.resolved, d.breached) for d in stats.days}
    assert len(days) == 14
    assert min(days) == date(2026, 3, 3)
    assert max(days) == date(2026, 3, 16)  # today (Tuesday) is not a whole day yet
    assert days[date(2026, 3, 13)] == (1, 0, 1)
    assert days[date(2026, 3, 15)] == (1, 0, 0)
    assert days[date(2026, 3, 16)] == (5, 3, 2)
    assert sum(sum(v) for v in days.values()) == 13


async def test_an_empty_period(sessions: async_sessionmaker[AsyncSession], desk: Desk) -> None:
    stats = await figures(sessions, desk)
    assert (stats.opened, stats.resolved, stats.breaches, stats.overdue) == (0, 0, [], [])
    assert stats.first_response_median is None
    assert stats.met_share is None
    assert stats.rating_average is None
    assert stats.operators == []
    assert [f.opened for f in stats.priorities] == [0, 0, 0, 0]


def test_percentiles_interpolate_between_ranks() -> None:
    assert percentile([], 50) is None
    assert percentile([7.0], 90) == 7.0
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([1, 5, 8, 30, 80], 90) == pytest.approx(60.0)
    assert percentile([10, 20], 90) == pytest.approx(19.0)


@contextmanager
def captured(engine: AsyncEngine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_every_query_reads_through_an_index(
    db: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    desk: Desk,
    dialect: str,
) -> None:
    if dialect != "sqlite":
        pytest.skip("SQLite's query plans are checked (PostgreSQL plans by its statistics)")
    await build_desk(sessions)
    with captured(db) as statements:
        await figures(sessions, desk, chart_days=14)
    assert len(statements) >= 10
    async with db.connect() as conn:
        for statement, parameters in statements:
            plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            details = [str(row[-1]) for row in plan]
            scans = [d for d in details if d.startswith("SCAN") and "CONSTANT ROW" not in d]
            assert scans == [], (statement, details)
            # Nor an index searched for NULL: most targets are unmet or unbreached at some time.
            assert not [d for d in details if re.search(r"\b(met_at|breached_at)=\?", d)]
        assert (await conn.execute(text("SELECT 1"))).scalar() == 1
