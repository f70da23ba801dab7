"""SLA alerts under load: 500 requests breaching in the same minute make a handful of combined
messages naming every one, and two due-work passes running at once (two bot processes on one
database) send each alert exactly once."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.alert_text import shown_length
from bot.services.desk import Desk
from bot.textsplit import TEXT_LIMIT
from bot.vocabulary import AlertStatus
from storage.alerts import due_query
from storage.db import create_engine, create_session_factory
from tests.integration.alert_kit import MANAGER, MANAGER_CHAT, AlertDesk, at, numbers_in, texts_of
from tests.integration.conftest import OPERATOR_CHAT_ID


@pytest.fixture
def kit(sessions: async_sessionmaker[AsyncSession], desk: Desk) -> AlertDesk:
    return AlertDesk(sessions, desk)


async def test_500_breaches_at_once_make_a_handful_of_messages_naming_every_request(
    kit: AlertDesk,
) -> None:
    ids = await kit.open_many(500, at("2026-04-06 12:00"))
    numbers = sorted([await kit.number(i) for i in (ids[0], ids[-1])])
    mark = await kit.last_id()
    assert await kit.run(at("2026-04-06 12:10")) == 500  # the warnings are moot: breaches only

    group = await kit.alerts_to(OPERATOR_CHAT_ID, mark)
    assert 1 < len(group) <= 15
    assert all(shown_length(text) <= TEXT_LIMIT for text in group)
    named = Counter(n for text in group for n in numbers_in(text))
    assert sorted(named) == list(range(numbers[0], numbers[1] + 1))
    assert set(named.values()) == {1}
    for chat in (MANAGER_CHAT, MANAGER):
        assert await kit.alerts_to(chat, mark) == group
    queued = await kit.outbox(mark)
    # So many at once: the cards wait for their requests' next change rather than hold up the
    # group's queue (the combined messages say it all).
    assert texts_of(queued, "editMessageText") == []
    apologies = [i for i in queued if "извинения" in i.payload.get("text", "")]
    uzbek = [i for i in queued if "Uzr soʻraymiz" in i.payload.get("text", "")]
    assert len(apologies) + len(uzbek) == 500
    assert await kit.run(at("2026-04-06 12:10")) == 0


@pytest.mark.parametrize("passes", [2, 4])
async def test_passes_running_at_once_send_each_alert_once(
    kit: AlertDesk, engine_url: str, desk: Desk, passes: int
) -> None:
    """Each pass with its own engine, as a separate bot process would have."""
    ids = await kit.open_many(60, at("2026-04-06 12:00"))
    engines = [create_engine(engine_url) for _ in range(passes)]
    try:
        processes = [AlertDesk(create_session_factory(e), desk) for e in engines]
        counts = await asyncio.gather(*(p.run(at("2026-04-06 12:10")) for p in processes))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(counts) == 60
    named = Counter(n for text in await kit.alerts_to(OPERATOR_CHAT_ID) for n in numbers_in(text))
    assert len(named) == 60
    assert set(named.values()) == {1}
    sent = [row for i in ids for row in await kit.rows(i, AlertStatus.SENT)]
    assert len(sent) == 60


async def test_the_due_work_query_reads_the_index(
    sessions: async_sessionmaker[AsyncSession], dialect: str
) -> None:
    """status = pending AND fire_at <= now through ix_sla_alerts_due: the pass costs what is
    due, not what is open (PostgreSQL chooses by its statistics; SQLite's plan is checked)."""
    if dialect != "sqlite":
        pytest.skip("SQLite's plan is checked; PostgreSQL plans by its statistics")
    query = due_query(at("2026-04-06 12:00"), 1000)
    sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    async with sessions() as session:
        plan = " ".join(
            str(row[-1]) for row in await session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
        )
    assert "SEARCH sla_alerts USING INDEX ix_sla_alerts_due (status=? AND fire_at<?)" in plan
    assert "TEMP B-TREE" not in plan  # read in the index's order: no sort of what is due
