"""What `/queue` and `/mine` cost as the desk grows (run: python bench/bench_queue.py).

The operators' queue (`bot.services.queries.queue`, as `/queue` and `/mine` call it, and the
lines the handler renders for the page) with 10,000 and 100,000 open requests, SQLite files
built by the project's migrations. The baseline in the same run is the queue as it was before
(every open request loaded with its targets and sorted in Python), at the same sizes. Bot CPU
per call (`time.process_time`, median of several calls after a warm one); the goal is under
50 ms at 100,000 open requests, and no growth with the size (ratio 100k / 10k under 2).
"""

# ruff: noqa: E402

from __future__ import annotations

import asyncio
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_alerts import PASS_NOW, Cohort, add_clients, add_cohort, bulk, make_desk, migrated
from sqlalchemy import select

from bot.services.queries import nearest_due, queue
from bot.vocabulary import OPEN_STATUSES
from handlers.operators.commands import line
from storage.db import create_engine, create_session_factory
from storage.models import Ticket

SIZES = (10_000, 100_000)
CALLS = 9
OPERATOR = 9001
GOAL = 0.050
GROWTH_LIMIT = 2.0


def fill(db: object, total: int) -> None:
    """`total` open requests registered over the 20 hours before, a fifth of them new, the
    rest in progress with one of five operators; their nearest deadlines kept as the bot does."""
    import sqlite3

    assert isinstance(db, sqlite3.Connection)
    now = int(PASS_NOW.timestamp())
    add_clients(db, min(total, 20_000), PASS_NOW)
    add_cohort(
        db,
        Cohort(
            first=1,
            count=total,
            status="CASE WHEN i % 5 = 0 THEN 'new' ELSE 'in_progress' END",
            priority="'medium'",
            topic="'catalog'",
            registered=f"{now - 72_300} + i * 72000 / {total}",
            answered="CASE WHEN i % 5 = 0 THEN NULL ELSE r + 300 END",
            resolution_due="r + 432000",
        ),
    )
    db.execute(
        "UPDATE tickets SET next_due_at = (SELECT min(t.due_at) FROM sla_targets t "
        "WHERE t.ticket_id = tickets.id AND t.met_at IS NULL AND t.due_at IS NOT NULL) "
        "WHERE status IN ('new', 'in_progress', 'waiting')"
    )
    db.execute(
        "UPDATE counters SET value = (SELECT max(number) FROM tickets) WHERE name = 'ticket_number'"
    )


async def naive_queue(session: object, assignee_id: int | None = None) -> list[Ticket]:
    """The queue as it was: every open request loaded, sorted in Python, the first 50 shown."""
    from sqlalchemy.ext.asyncio import AsyncSession

    assert isinstance(session, AsyncSession)
    query = select(Ticket).where(Ticket.status.in_(list(OPEN_STATUSES)))
    if assignee_id is not None:
        query = query.where(Ticket.assignee_id == assignee_id)
    tickets = (await session.scalars(query)).all()
    far = datetime.max

    def key(t: Ticket) -> tuple[int, datetime, int]:
        due = nearest_due(t)
        return (0, due.replace(tzinfo=None), t.number) if due else (1, far, t.number)

    return sorted(tickets, key=key)[:50]


async def cpu_per_call(run: Callable[[], Awaitable[object]]) -> float:
    await run()
    spent = []
    for _ in range(CALLS):
        started = time.process_time()
        await run()
        spent.append(time.process_time() - started)
    return statistics.median(spent)


async def measure(folder: Path, total: int) -> dict[str, float]:
    path = folder / f"queue-{total}.db"
    url = await migrated(path)
    setup = bulk(path, lambda db: fill(db, total))
    print(f"  {total:>7,} open requests written in {setup:.1f} s", flush=True)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    desk = make_desk()
    i18n = desk.renderer.i18n
    figures: dict[str, float] = {}
    try:
        for name, assignee in (("/queue", None), ("/mine", OPERATOR)):

            async def new(assignee: int | None = assignee) -> None:
                async with sessions() as session:
                    page = await queue(session, assignee_id=assignee)
                    with i18n.context(), i18n.use_locale("ru"):
                        [line(t, PASS_NOW, desk) for t in page.tickets]

            async def old(assignee: int | None = assignee) -> None:
                async with sessions() as session:
                    tickets = await naive_queue(session, assignee)
                    with i18n.context(), i18n.use_locale("ru"):
                        [line(t, PASS_NOW, desk) for t in tickets]

            figures[name] = await cpu_per_call(new)
            figures[f"{name} (before)"] = await cpu_per_call(old)
    finally:
        await engine.dispose()
    return figures


async def run(folder: Path) -> bool:
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.system()})")
    results = {size: await measure(folder, size) for size in SIZES}
    ok = True
    print(f"\n{'command':<8} {'size':>8} {'bounded (ms CPU)':>17} {'before (ms CPU)':>16}")
    for size, figures in results.items():
        for name in ("/queue", "/mine"):
            print(
                f"{name:<8} {size:>8,} {figures[name] * 1000:>17.1f} "
                f"{figures[f'{name} (before)'] * 1000:>16.1f}"
            )
    small, large = results[SIZES[0]], results[SIZES[-1]]
    for name in ("/queue", "/mine"):
        growth = large[name] / max(small[name], 1e-6)
        speedup = large[f"{name} (before)"] / max(large[name], 1e-6)
        verdict = "ok" if large[name] < GOAL and growth < GROWTH_LIMIT else "FAIL"
        ok &= verdict == "ok"
        print(
            f"{name}: 100k / 10k = {growth:.2f} (limit {GROWTH_LIMIT}); "
            f"{speedup:.0f}x faster than before at 100k; under {GOAL * 1000:.0f} ms: {verdict}"
        )
    return ok


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        ok = asyncio.run(run(Path(folder)))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
