"""How the scheduler's work grows with the desk (run: python bench/bench_alerts.py).

1. The due-work pass (`scheduler.alerts.run_alerts_once`) with 1,000 and with 100,000 open
   requests, 10 of them due (their resolution breach) and every other one's alerts pending days
   ahead. Each pass claims and queues 10 alerts; between passes the 10 rows are armed again and
   the outbox emptied, so every pass does the same work. Median of several passes.
2. The digest's figures (`bot.services.stats.collect`, called as `scheduler.digest.run_digest`
   calls it, with the 14-day chart) over one day (09:00 to 09:00) holding 1,000 requests, with
   10,000 and with 1,000,000 stored requests: the rest spread over the three previous years,
   closed. Median of several runs.
3. Alert latency with the real clock: the real bot (`standin.local.LocalBot`, the production
   factory, a manager in MANAGER_IDS) against the local Bot API stand-in, 30 critical requests
   whose resolution deadlines fall due 2 s apart; for each breach alert, the time from its due
   moment to its arrival in the operator group at the stand-in (`standin.calls`, `Call.time`).
   Delivery is not paced (`Limits.unlimited()`, as in the end-to-end tests): each breach here is
   two messages in the group (the alert and the card), 60 a minute where Telegram allows 20, so
   paced delivery, not the scheduler, would set the latency.

Ratios are measured in the same run. The data are written with INSERT ... SELECT over a
recursive CTE into databases built by the project's migrations (`storage.db.upgrade`), SQLite
files in a temporary folder that is removed at the end; no network. FAIL marks a ratio over
its limit (2 for the pass, 3 for the digest) or a p95 latency over 5 s.
"""

# ruff: noqa: E402

from __future__ import annotations

import asyncio
import os
import platform
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# The project from this checkout, and no bytecode written beside it: the imports come after.
sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.clock import SystemClock
from bot.factory import App
from bot.i18n import DeskI18n
from bot.render import Renderer
from bot.services import alert_plans
from bot.services.deadlines import FIRST_RESPONSE, RESOLUTION
from bot.services.desk import Desk
from bot.services.stats import Period, collect
from bot.sla import Priority, default_policy
from bot.vocabulary import (
    DEFAULT_TOPICS,
    OPEN_STATUSES,
    AlertKind,
    AlertStatus,
    Feedback,
    Kind,
    Status,
)
from scheduler.alerts import run_alerts_once
from scheduler.digest import CHART_DAYS
from standin import StandIn
from standin.local import LocalBot
from storage.db import create_engine, create_session_factory, upgrade
from storage.models import Client, SlaAlert, SlaTarget, Ticket
from storage.tickets import TicketRepo

TZ = ZoneInfo("Asia/Tashkent")
OPERATORS = -1001000000001
MANAGER = 7001
OPERATOR = 9001
# Tuesday 17 March 2026, 15:00 in Tashkent: working time, no holiday.
PASS_NOW = datetime(2026, 3, 17, 15, 0, tzinfo=TZ)
# The digest of Wednesday 18 March 2026 at 09:00: the day since Tuesday 09:00.
DIGEST_NOW = datetime(2026, 3, 18, 9, 0, tzinfo=TZ)
HISTORY_FROM = datetime(2023, 1, 1, tzinfo=TZ)  # the three previous years ...
HISTORY_TO = datetime(2026, 1, 1, tzinfo=TZ)  # ... up to the window's year

OPEN_SIZES = (1_000, 100_000)
DUE = 10
PASSES = 9
STORED_SIZES = (10_000, 1_000_000)
IN_WINDOW = 1_000
DIGEST_RUNS = 5
LOADS = 21
CLIENTS = 20_000
LATENCY_REQUESTS = 30
LATENCY_EVERY = 2.0  # seconds between due moments
LATENCY_LEAD = 5.0  # seconds from planting to the first due moment

PASS_LIMIT, DIGEST_LIMIT, P95_GOAL = 2.0, 3.0, 5.0


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def stamp(expr: str) -> str:
    """SQL: an epoch expression as the text SQLAlchemy stores for a UTC moment on SQLite."""
    return f"strftime('%Y-%m-%d %H:%M:%S', {expr}, 'unixepoch') || '.000000'"


# ---------------------------------------------------------------- bulk data


@dataclass(frozen=True)
class Cohort:
    """`count` requests with ids from `first`; each field an SQL expression of `i` (0-based)
    giving an epoch second (or NULL) or a column value."""

    first: int
    count: int
    status: str
    priority: str
    topic: str
    registered: str
    answered: str = "NULL"
    resolved: str = "NULL"
    closed: str = "NULL"
    rating: str = "NULL"
    first_due: str = "r + 600"  # 10 working minutes, near enough for figures
    resolution_due: str = "r + 28800"
    paused: str = "0"


def add_cohort(db: sqlite3.Connection, c: Cohort) -> None:
    """The requests, their two targets, the claim of each one an operator took, and a closed
    pause where `paused`; the cohort is kept in the temp table `cohort` for what follows."""
    db.execute("DROP TABLE IF EXISTS temp.cohort")
    db.execute(
        f"""CREATE TEMP TABLE cohort AS
        WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < {c.count - 1}),
        base AS (SELECT i, {c.first} + i AS id, {c.registered} AS r FROM seq),
        times AS (
            SELECT i, id, r, {c.answered} AS a, {c.resolved} AS s, {c.closed} AS x,
                {c.status} AS status, {c.priority} AS priority, {c.topic} AS topic,
                {c.rating} AS rating, {c.paused} AS paused
            FROM base
        )
        SELECT *, {c.first_due} AS fd, {c.resolution_due} AS rd, {OPERATOR} + id % 5 AS op
        FROM times"""
    )
    db.execute(
        f"""INSERT INTO tickets (id, number, client_id, kind, topic, status, priority, channel,
            feedback, description, language, client_name, client_company, client_tax_id,
            assignee_id, assignee_name, registered_at, first_response_at, resolved_at,
            closed_at, last_activity_at, rating, client_unreachable, version)
        SELECT id, 1000 + id, 1 + id % {CLIENTS}, 'consultation', topic, status, priority,
            'telegram', 'telegram', 'Коды маркировки не проходят проверку', 'ru',
            'Client ' || (1 + id % {CLIENTS}), 'OOO Company ' || (1 + id % {CLIENTS}),
            '301234567', CASE WHEN status = 'new' THEN NULL ELSE op END,
            CASE WHEN status = 'new' THEN NULL ELSE 'Operator ' || op END,
            {stamp("r")}, {stamp("a")}, {stamp("s")}, {stamp("x")},
            {stamp("coalesce(s, a, r)")}, rating, 0, 1
        FROM cohort"""
    )
    db.execute(
        f"""INSERT INTO sla_targets (ticket_id, kind, due_at, met_at, breached_at)
        SELECT id, '{FIRST_RESPONSE}', {stamp("fd")}, {stamp("a")},
            CASE WHEN a > fd THEN {stamp("a")} END FROM cohort
        UNION ALL
        SELECT id, '{RESOLUTION}', {stamp("rd")}, {stamp("s")},
            CASE WHEN s > rd THEN {stamp("s")} END FROM cohort"""
    )
    db.execute(
        f"""INSERT INTO ticket_events (ticket_id, actor_id, actor_kind, kind, data, at)
        SELECT id, op, 'operator', 'claimed', '{{"assignee_id": ' || op || '}}',
            {stamp("coalesce(a, r + 60)")}
        FROM cohort WHERE status != 'new'"""
    )
    db.execute(
        f"""INSERT INTO ticket_pauses (ticket_id, started_at, ended_at)
        SELECT id, {stamp("r + 900")}, {stamp("r + 1800")} FROM cohort WHERE paused"""
    )


def add_clients(db: sqlite3.Connection, count: int, at: datetime) -> None:
    db.execute(
        f"""INSERT INTO clients (id, telegram_id, language, telegram_name, name, company, tax_id,
            tax_id_kind, banned, blocked_bot, created_at, updated_at)
        WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {count})
        SELECT i, 800000000 + i, 'ru', 'Client ' || i, 'Client ' || i, 'OOO Company ' || i,
            '301234567', 'inn', 0, 0, {stamp(str(epoch(at)))}, {stamp(str(epoch(at)))}
        FROM seq"""
    )


def set_counter(db: sqlite3.Connection) -> None:
    db.execute(
        "UPDATE counters SET value = (SELECT coalesce(max(number), 1000) FROM tickets)"
        " WHERE name = 'ticket_number'"
    )


async def migrated(path: Path) -> str:
    """An empty database at `path` with the project's schema; its URL."""
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return url


def bulk(path: Path, fill: Callable[[sqlite3.Connection], None]) -> float:
    """Write with the stdlib driver, durability off (it is only the set-up); seconds taken."""
    started = time.perf_counter()
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA temp_store = MEMORY")
        db.execute("PRAGMA cache_size = -262144")
        db.execute("BEGIN")
        fill(db)
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return time.perf_counter() - started


def make_desk() -> Desk:
    """As bot.factory.build_app builds it, with the default policy."""
    return Desk(
        policy=default_policy(TZ),
        renderer=Renderer(i18n=DeskI18n(default_locale="ru"), tz=TZ, desk_language="ru"),
        operator_chat_id=OPERATORS,
        topics=DEFAULT_TOPICS,
    )


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


async def median_time(run: Callable[[], Awaitable[object]], times: int) -> float:
    """The median of `times` timed runs after one untimed (warm) run."""
    await run()
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        await run()
        spent.append(time.perf_counter() - started)
    return statistics.median(spent)


# ---------------------------------------------------------------- 1. the due-work pass


def fill_open(db: sqlite3.Connection, total: int) -> list[int]:
    """`total` open requests: all but DUE of them registered over the 20 hours before, answered,
    on the National Catalogue topic (5 calendar days), one in five paused once, their warning
    and breach pending 4 and 5 days after registration; DUE critical ones whose 4 hours ran out
    in the last minutes (warning sent, breach pending). Returns the due requests' ids."""
    now = epoch(PASS_NOW)
    background = total - DUE
    add_clients(db, min(total, CLIENTS), PASS_NOW)
    add_cohort(
        db,
        Cohort(
            first=1,
            count=background,
            status="'in_progress'",
            priority="'medium'",
            topic="'catalog'",
            registered=f"{now - 72_300} + i * 72000 / {background}",
            answered="r + 300",
            resolution_due="r + 432000 + 900 * paused",
            paused="i % 5 = 0",
        ),
    )
    for kind, fire in ((AlertKind.WARNING, "r + 345600"), (AlertKind.BREACH, "rd")):
        db.execute(
            f"""INSERT INTO sla_alerts (ticket_id, target, kind, round, fire_at, due_at,
                status, created_at)
            SELECT id, '{RESOLUTION}', '{kind}', 0, {stamp(fire)}, {stamp("rd")}, 'pending',
                {stamp("r + 300")}
            FROM cohort"""
        )
    first = background + 1
    add_cohort(
        db,
        Cohort(
            first=first,
            count=DUE,
            status="'in_progress'",
            priority="'critical'",
            topic="'marking_codes'",
            registered=f"{now - 60 - 14_400} - i * 10",  # due 1 minute ago and before
            answered="r + 300",
            resolution_due="r + 14400",
        ),
    )
    db.execute(
        f"""INSERT INTO sla_alerts (ticket_id, target, kind, round, fire_at, due_at, status,
            created_at, sent_at)
        SELECT id, '{RESOLUTION}', '{AlertKind.WARNING}', 0, {stamp("r + 11520")},
            {stamp("rd")}, 'sent', {stamp("r")}, {stamp("r + 11520")} FROM cohort
        UNION ALL
        SELECT id, '{RESOLUTION}', '{AlertKind.BREACH}', 0, {stamp("rd")}, {stamp("rd")},
            'pending', {stamp("r")}, NULL FROM cohort"""
    )
    set_counter(db)
    return list(range(first, first + DUE))


@dataclass(frozen=True)
class Figure:
    size: int
    setup: float  # seconds to write the data
    time: float  # the median, seconds


async def bench_pass(folder: Path, total: int) -> Figure:
    path = folder / f"open-{total}.db"
    url = await migrated(path)
    due: list[int] = []
    setup = bulk(path, lambda db: due.extend(fill_open(db, total)))
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    desk, clock = make_desk(), FixedClock(PASS_NOW)
    marks = ",".join("?" * len(due))
    try:
        async with engine.connect() as conn:
            armed = [
                tuple(row)
                for row in await conn.exec_driver_sql(
                    f"SELECT * FROM sla_alerts WHERE ticket_id IN ({marks})", tuple(due)
                )
            ]
        columns = ",".join("?" * len(armed[0]))

        async def arm_again() -> None:
            """The due rows as they were before the pass; the outbox emptied."""
            async with engine.begin() as conn:
                await conn.exec_driver_sql(
                    f"DELETE FROM sla_alerts WHERE ticket_id IN ({marks})", tuple(due)
                )
                await conn.exec_driver_sql(f"INSERT INTO sla_alerts VALUES ({columns})", armed)
                await conn.exec_driver_sql("DELETE FROM outbox")

        spent, sent = [], []
        for index in range(PASSES + 1):  # the first one warms up
            started = time.perf_counter()
            sent.append(await run_alerts_once(sessions, desk, clock, managers=(MANAGER,)))
            if index:
                spent.append(time.perf_counter() - started)
            await arm_again()
    finally:
        await engine.dispose()
    if set(sent) != {DUE}:
        raise RuntimeError(f"passes over {total:,} open requests sent {sent}, not {DUE} each")
    return Figure(total, setup, statistics.median(spent))


# ---------------------------------------------------------------- 2. the digest's figures


def fill_stored(db: sqlite3.Connection, total: int) -> None:
    """IN_WINDOW requests registered over the window's first 20 hours (six in ten resolved in
    it, three in progress, one new and unanswered) and the rest over the three previous years,
    all closed, most rated, one in seven paused once; some first responses late everywhere."""
    start = epoch(DIGEST_NOW - timedelta(days=1))
    history = total - IN_WINDOW
    span = epoch(HISTORY_TO) - epoch(HISTORY_FROM)
    add_clients(db, min(total, CLIENTS), HISTORY_FROM)
    add_cohort(
        db,
        Cohort(
            first=1,
            count=history,
            status="'closed'",
            priority="CASE i % 4 WHEN 0 THEN 'high' ELSE 'medium' END",
            topic="'marking_codes'",
            registered=f"{epoch(HISTORY_FROM)} + i * {span} / {history}",
            answered="r + 60 * (i % 12)",
            resolved="r + 3600 * (1 + i % 12)",
            closed="r + 3600 * (25 + i % 12)",
            rating="CASE WHEN i % 3 THEN 1 + i % 5 END",
            paused="i % 7 = 0",
        ),
    )
    add_cohort(
        db,
        Cohort(
            first=history + 1,
            count=IN_WINDOW,
            status="CASE WHEN i % 10 < 6 THEN 'resolved' WHEN i % 10 < 9 THEN 'in_progress'"
            " ELSE 'new' END",
            priority="CASE i % 4 WHEN 0 THEN 'high' ELSE 'medium' END",
            topic="'marking_codes'",
            registered=f"{start} + i * 72000 / {IN_WINDOW}",
            answered="CASE WHEN i % 10 < 9 THEN r + 60 * (i % 12) END",
            resolved="CASE WHEN i % 10 < 6 THEN r + 3600 * (1 + i % 3) END",
            rating="CASE WHEN i % 10 < 6 AND i % 2 THEN 1 + i % 5 END",
            resolution_due="r + CASE priority WHEN 'high' THEN 28800 ELSE 172800 END",
        ),
    )
    set_counter(db)


@dataclass(frozen=True)
class StoredFigures:
    digest: Figure
    load: Figure  # one open request loaded by number, as every operator command loads it
    found: str  # what the digest counted


async def bench_stored(folder: Path, total: int) -> StoredFigures:
    path = folder / f"stored-{total}.db"
    url = await migrated(path)
    setup = bulk(path, lambda db: fill_stored(db, total))
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    calendar = default_policy(TZ).calendar
    period = Period(DIGEST_NOW - timedelta(days=1), DIGEST_NOW)
    found: list[str] = []
    number = 1000 + total  # the last one registered: open

    async def figures() -> None:
        async with sessions() as session:
            stats = await collect(session, period, DIGEST_NOW, calendar, chart_days=CHART_DAYS)
        found.append(
            f"{stats.opened} opened, {stats.resolved} resolved, {len(stats.breaches)} breached,"
            f" {len(stats.overdue)} overdue"
        )

    async def load() -> None:
        async with sessions() as session:
            ticket = await TicketRepo(session).by_number(number)
        if ticket is None or ticket.status not in OPEN_STATUSES:
            raise RuntimeError(f"request {number} is not there, or not open")

    try:
        digest = await median_time(figures, DIGEST_RUNS)
        loading = await median_time(load, LOADS)
    finally:
        await engine.dispose()
    return StoredFigures(Figure(total, setup, digest), Figure(total, 0.0, loading), found[-1])


# ---------------------------------------------------------------- 3. alert latency


async def plant(app: App, count: int) -> dict[int, datetime]:
    """`count` critical requests, answered, their warning sent, whose 4 hours run out
    LATENCY_EVERY seconds apart from LATENCY_LEAD seconds on; planned as the ticket service
    plans them and the scheduler told (as the update middleware does after a commit).
    Returns each request's number and due moment."""
    now = app.clock.now()
    dues: dict[int, datetime] = {}
    async with app.sessions() as session:
        repo = TicketRepo(session)
        for index in range(count):
            due = now + timedelta(seconds=LATENCY_LEAD + index * LATENCY_EVERY)
            registered = due - timedelta(hours=4)
            answered = registered + timedelta(minutes=5)
            client = Client(
                telegram_id=800_000_000 + index,
                language="ru",
                telegram_name="Client",
                name="Client",
                company=f"OOO Company {index:03}",
                tax_id="301234567",
                tax_id_kind="inn",
                created_at=registered,
                updated_at=registered,
            )
            session.add(client)
            await session.flush()
            ticket = Ticket(
                number=await repo.next_number(),
                client_id=client.id,
                kind=Kind.CONSULTATION,
                topic="marking_codes",
                status=Status.IN_PROGRESS,
                priority=Priority.CRITICAL,
                feedback=Feedback.TELEGRAM,
                description="Коды",
                language="ru",
                client_name="Client",
                client_company=client.company or "",
                client_tax_id="301234567",
                assignee_id=OPERATOR,
                assignee_name="Dilnoza Operator",
                registered_at=registered,
                first_response_at=answered,
                last_activity_at=answered,
                client_unreachable=False,
                version=0,
                targets=[
                    SlaTarget(kind=FIRST_RESPONSE, due_at=registered, met_at=answered),
                    SlaTarget(kind=RESOLUTION, due_at=due),
                ],
                pauses=[],
            )
            session.add(ticket)
            await session.flush()
            warned = due - timedelta(minutes=48)  # 80 % of the 4 hours
            session.add(
                SlaAlert(
                    ticket_id=ticket.id,
                    target=RESOLUTION,
                    kind=AlertKind.WARNING,
                    round=0,
                    fire_at=warned,
                    due_at=due,
                    status=AlertStatus.SENT,
                    created_at=registered,
                    sent_at=warned,
                )
            )
            await session.flush()
            await alert_plans.replan(session, ticket, app.desk.policy, now)
            dues[ticket.number] = due
        await session.commit()
    app.jobs.planned(min(dues.values()))
    return dues


BREACH_NUMBER = re.compile(r"№(\d+)")


def breach_arrivals(standin: StandIn) -> dict[int, float]:
    """The first arrival of a breach alert naming each request, in the operator group."""
    arrived: dict[int, float] = {}
    for call in standin.calls:
        if call.method != "sendMessage" or str(call.params.get("chat_id")) != str(OPERATORS):
            continue
        text = str(call.params.get("text", ""))
        if call.ok and text.startswith("🔴"):
            for number in BREACH_NUMBER.findall(text):
                arrived.setdefault(int(number), call.time)
    return arrived


async def bench_latency(folder: Path) -> list[float]:
    standin = StandIn()
    standin.add_user(OPERATOR, "Dilnoza", last_name="Operator")
    standin.add_user(MANAGER, "Malika", last_name="Manager")
    standin.add_group(OPERATORS, "CRPT-Turon operators", members=[OPERATOR])
    await standin.start()
    local = LocalBot(
        standin,
        database_url=f"sqlite+aiosqlite:///{folder / 'latency.db'}",
        clock=SystemClock(),
        operator_chat_id=OPERATORS,
        manager_ids=str(MANAGER),
    )
    try:
        app = await local.start()
        dues = await plant(app, LATENCY_REQUESTS)
        wait = LATENCY_LEAD + LATENCY_REQUESTS * LATENCY_EVERY + 30
        await standin.wait_for(
            lambda: len(breach_arrivals(standin).keys() & dues.keys()) == len(dues), timeout=wait
        )
        arrived = breach_arrivals(standin)
    finally:
        await local.stop()
        await standin.stop()
    return [arrived[number] - due.timestamp() for number, due in dues.items()]


# ---------------------------------------------------------------- the report


def fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:,.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:,.1f} ms"
    return f"{seconds:,.2f} s"


def verdict(ok: bool) -> str:
    return "ok" if ok else "FAIL"


async def run(folder: Path) -> bool:
    """Measure, print the table; whether every limit held."""
    print(
        f"scheduler benchmark (Python {platform.python_version()}, SQLite "
        f"{sqlite3.sqlite_version}, {os.cpu_count()} cores)"
    )
    print()
    small_pass, large_pass = [await bench_pass(folder, size) for size in OPEN_SIZES]
    small, large = [await bench_stored(folder, size) for size in STORED_SIZES]
    latencies = await bench_latency(folder)

    rows = [
        (
            f"due-work pass, {DUE} due of {OPEN_SIZES[0]:,} / {OPEN_SIZES[1]:,} open",
            small_pass,
            large_pass,
            PASS_LIMIT,
        ),
        (
            f"digest, 1 day of {STORED_SIZES[0]:,} / {STORED_SIZES[1]:,} stored",
            small.digest,
            large.digest,
            DIGEST_LIMIT,
        ),
        (
            f"one request loaded, {STORED_SIZES[0]:,} / {STORED_SIZES[1]:,} stored",
            small.load,
            large.load,
            None,
        ),
    ]
    header = f"{'measure':<46} {'small':>9} {'large':>9} {'ratio':>7} {'limit':>6}"
    print(header)
    print("-" * len(header))
    ok = True
    for name, low, high, limit in rows:
        ratio = high.time / low.time
        mark = "  (no limit)" if limit is None else f"   < {limit:g}  {verdict(ratio < limit)}"
        ok &= limit is None or ratio < limit
        print(f"{name:<46} {fmt(low.time):>9} {fmt(high.time):>9} {ratio:>6.2f}x{mark}")
    p50 = statistics.median(latencies)
    p95 = statistics.quantiles(latencies, n=20, method="inclusive")[-1]
    ok &= p95 < P95_GOAL
    print()
    print(
        f"alert latency, {len(latencies)} breaches due {LATENCY_EVERY:g} s apart, real clock: "
        f"p50 {fmt(p50)}, p95 {fmt(p95)}, max {fmt(max(latencies))}"
        f"   goal p95 < {P95_GOAL:g} s  {verdict(p95 < P95_GOAL)}"
    )
    print()
    notes = [
        f"pass: median of {PASSES} passes after a warm one, each claiming and queueing {DUE}",
        f"digest: median of {DIGEST_RUNS} runs of collect() with the {CHART_DAYS}-day chart",
        f"  (small: {small.found}; large: {large.found})",
        f"one request: median of {LOADS} runs of TicketRepo.by_number() on an open request",
        "latency: from the due moment to the group's alert reaching the stand-in (unpaced)",
        f"data written in {small_pass.setup:.1f} / {large_pass.setup:.1f} s (open) and "
        f"{small.digest.setup:.1f} / {large.digest.setup:.1f} s (stored)",
    ]
    print("\n".join(notes))
    if small.found != large.found:
        print("FAIL: the two digests should count the same window")
        ok = False
    return ok


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-alerts-") as folder:
        ok = asyncio.run(run(Path(folder)))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
