"""What the intake dialogue costs the bot under load (run: python bench/bench_intake.py).

The bot runs as its own process (`python -m bot run`, configured by BOT_TOKEN,
TELEGRAM_API_URL, DATABASE_URL and OPERATOR_CHAT_ID as in production) against the local Bot API
stand-in (`standin.StandIn`) in this process. 1, 20 and 200 concurrent clients each go through
the whole intake (/start, name, company, INN, /new, kind, topic, description, Done, channel,
Confirm: 11 updates, 6 messages and 5 button presses), every step as soon as the answer it
waits for has arrived, until the acknowledgement with the request's number; a client that is
done is followed by a new one until the run's dialogues are done (1 client: 10 dialogues one
after another, 20: 40, 200: 200). The same clients, with the same steps (6 messages, 5 presses
of the button on the last answer), drive a bare aiogram echo bot (bench/echo_bot.py) in its own
process on the same stand-in: the baseline, measured in the same run.

Each run starts with one dialogue that is not measured (a fresh process is slow on its first
updates: lazy imports, caches). Per run: updates per second (the updates the clients made, over
the time from the first to the last answer), the bot's CPU per update (utime + stime of the
bot's process from /proc/<pid>/stat, read after the bot has started and settled and again after
the last answer, divided by the updates), Bot API calls per update, and the reply latency (from
the client's update being queued at the stand-in to the answer the client waits for arriving at
the stand-in; p50 and p95). On SQLite (a file) and PostgreSQL (a database created for the run
and dropped after; BENCH_POSTGRES_URL, default the local server's `postgres` database), each a
fresh database built by the project's migrations, with a fresh bot process; with the stand-in
answering at once and with 100 ms added to every Bot API call (`StandIn(latency=0.1)`, before it
is answered, getUpdates included). The echo bot runs once per latency and client count and both
engines are compared with it. Goals (issue 9): the desk handles at least 30 % of the echo bot's
updates per second, a dialogue step costs at most 3 ms of bot CPU, and p95 latency at 200
clients stays under 1 s; FAIL marks a goal missed.

Memory: the bot's resident set (VmRSS from /proc/<pid>/status) a few seconds after it started
polling, on an empty SQLite database and on one holding 100,000 stored requests (99,000 closed
over three years and 1,000 in the last day, written as bench/bench_alerts.py writes them, the
SLA policy's fingerprint stored as a running desk has it); the goal is about flat (under 10 %
more).

`--quick`: SQLite only, 1 and 20 clients, no added latency, no memory figure (a smoke run of a
minute or so). The load average is printed at the start and at the end: the figures are only as
quiet as the machine was.
"""

# ruff: noqa: E402

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

# The project from this checkout, and no bytecode written beside it: the imports come after.
sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_alerts import TZ, bulk, fill_stored, migrated
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.services.maintenance import KEY as POLICY_KEY
from bot.sla.config import load_policy
from standin.objects import Chat, Stored, Topic
from storage.db import create_engine, create_session_factory, upgrade
from storage.meta import set_meta
from tests.soak import test_kill9
from tests.soak.test_kill9 import FIRST_NAMES, LAST_NAMES, NUMBER, Posted, Recording, callback_data

OPERATORS = -1001000000001
OPERATOR_IDS = (9001, 9002)
STEPS = 11
CLIENT_COUNTS = (1, 20, 200)
DIALOGUES = {1: 10, 20: 40, 200: 200}
LATENCIES = (0.0, 0.1)
STORED = 100_000
SETTLE = 5.0  # seconds the bot runs before its memory is read
STARTUP_LIMIT = 120.0
PG_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
RATIO_GOAL = 0.30  # desk / echo, updates per second
CPU_GOAL = 0.003  # seconds of bot CPU per dialogue step
P95_GOAL = 1.0  # seconds, at 200 clients
MEMORY_LIMIT = 1.10  # RSS with 100,000 stored / empty
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
test_kill9.STEP_LIMIT = 120.0  # seconds a client waits for one answer before the run fails


# ---------------------------------------------------------------- the stand-in and the bot


class Timed(Recording):
    """The soak's recording stand-in, noting when each bot message arrived."""

    def __init__(self, latency: float) -> None:
        super().__init__()
        self.latency = latency
        self.arrived: dict[int, list[float]] = {}

    def post(
        self,
        chat: Chat,
        content: dict[str, Any],
        *,
        sender: dict[str, Any],
        origin: str,
        topic: Topic | None = None,
        reply: Stored | None = None,
        markup: dict[str, Any] | None = None,
    ) -> Stored:
        stored = super().post(
            chat, content, sender=sender, origin=origin, topic=topic, reply=reply, markup=markup
        )
        if origin == "bot":
            self.arrived.setdefault(chat.id, []).append(time.perf_counter())
        return stored


class BotProcess:
    """A bot (`args` after the interpreter) in its own process against the stand-in."""

    def __init__(self, args: list[str], standin: Timed, env: dict[str, str], log: IO[bytes]):
        self.args = args
        self.standin = standin
        base = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
        self.env = {k: os.environ[k] for k in base if k in os.environ}
        self.env |= {
            "PYTHONPATH": str(ROOT),
            "BOT_TOKEN": standin.token,
            "TELEGRAM_API_URL": standin.url,
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.log = log
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start it, wait until it polls and the stand-in has been quiet for a moment."""
        polls = len(self.standin.calls_of("getUpdates"))
        began = time.monotonic()
        self.process = process = await asyncio.create_subprocess_exec(
            sys.executable,
            *self.args,
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=asyncio.subprocess.STDOUT,
        )
        while len(self.standin.calls_of("getUpdates")) == polls:
            if process.returncode is not None:
                raise RuntimeError(f"{self.args} exited with {process.returncode} at start")
            if time.monotonic() - began > STARTUP_LIMIT:
                raise RuntimeError(f"{self.args} did not poll within {STARTUP_LIMIT}s")
            await asyncio.sleep(0.05)
        await self.standin.idle(timeout=60)
        await asyncio.sleep(1.0)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu(self) -> float:
        """Seconds of CPU the process has used (user + system, all its threads)."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss(self) -> int:
        """The resident set in bytes."""
        for row in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if row.startswith("VmRSS:"):
                return int(row.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 60)
        except TimeoutError:
            self.process.send_signal(signal.SIGKILL)
            await self.process.wait()


def desk(standin: Timed, database_url: str, log: IO[bytes]) -> BotProcess:
    env = {"DATABASE_URL": database_url, "OPERATOR_CHAT_ID": str(OPERATORS)}
    return BotProcess(["-m", "bot", "run"], standin, env, log)


def echo(standin: Timed, log: IO[bytes]) -> BotProcess:
    return BotProcess([str(ROOT / "bench" / "echo_bot.py")], standin, {}, log)


# ---------------------------------------------------------------- the clients


def anything(posted: Posted) -> bool:
    return True


def button(prefix: str) -> Callable[[Posted], bool]:
    return lambda posted: posted.has(prefix)


def acknowledgement(posted: Posted) -> bool:
    return NUMBER.search(posted.text) is not None


# The desk's intake: (a message to write or "press:" + the button, the answer awaited).
def desk_steps(index: int) -> list[tuple[str, Callable[[Posted], bool]]]:
    return [
        ("/start", lambda p: not p.data),
        (f"{FIRST_NAMES[index % 8]} {LAST_NAMES[index % 7]}", anything),
        (f"ООО «Bench {index}»", anything),
        ("301234567", button("kd:")),
        ("/new", button("kd:")),
        ("press:kd:consultation", button("tp:")),
        ("press:tp:marking_codes", anything),
        (f"Не печатаются коды маркировки на линии {index}", button("dr:done")),
        ("press:dr:done", button("fb:telegram")),
        ("press:fb:telegram", button("dr:confirm")),
        ("press:dr:confirm", acknowledgement),
    ]


# The echo bot: the same kinds of steps in the same order, any answer awaited.
def echo_steps(index: int) -> list[tuple[str, Callable[[Posted], bool]]]:
    return [
        (text if not text.startswith("press:") else "press:echo", anything)
        for text, _want in desk_steps(index)
    ]


@dataclass
class Load:
    standin: Timed
    steps: Callable[[int], list[tuple[str, Callable[[Posted], bool]]]]
    first: int = 700_000_000  # the first client's user id
    latencies: list[float] = field(default_factory=list)
    next_index: int = 0

    def press(self, chat_id: int, data: str) -> None:
        for posted in reversed(self.standin.posted[chat_id]):
            if data not in posted.data:
                continue
            message = self.standin.message(chat_id, posted.message_id)
            if message is not None and data in callback_data(message.get("reply_markup")):
                self.standin.press(chat_id, message, data)
                return
        raise RuntimeError(f"client {chat_id}: no button {data}")

    async def dialogue(self) -> None:
        index = self.next_index
        self.next_index += 1
        chat_id = self.first + index
        self.standin.add_user(chat_id, f"Client{index}", language_code="ru")
        posted = self.standin.posted[chat_id]
        for action, want in self.steps(index):
            since = len(posted)
            queued = time.perf_counter()
            if action.startswith("press:"):
                self.press(chat_id, action.removeprefix("press:"))
            else:
                self.standin.send_message(chat_id, text=action)
            answer = await self.standin.expect(chat_id, since, want, action)
            at = next(i for i in range(since, len(posted)) if posted[i] is answer)
            self.latencies.append(self.standin.arrived[chat_id][at] - queued)

    async def client(self, dialogues: int) -> None:
        for _ in range(dialogues):
            await self.dialogue()


@dataclass(frozen=True)
class Figures:
    updates: int
    seconds: float
    cpu: float
    calls: int
    p50: float
    p95: float
    rss: int
    driver: float  # CPU of this process (the stand-in and the clients)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    @property
    def cpu_per_update(self) -> float:
        return self.cpu / self.updates


async def drive(
    latency: float,
    clients: int,
    start: Callable[[Timed, IO[bytes]], BotProcess],
    steps: Callable[[int], list[tuple[str, Callable[[Posted], bool]]]],
    log_path: Path,
) -> Figures:
    """One run: a fresh stand-in and bot process, `clients` concurrent clients."""
    standin = Timed(latency)
    for user_id, first in zip(OPERATOR_IDS, ("Dilnoza", "Sardor"), strict=True):
        standin.add_user(user_id, first, last_name="Operator")
    standin.add_group(OPERATORS, "CRPT-Turon operators", members=list(OPERATOR_IDS))
    standin.drop_pending_updates()
    await standin.start()
    with log_path.open("wb") as log:
        bot = start(standin, log)
        try:
            await bot.start()
            # One dialogue first, not measured: the first updates of a fresh process cost
            # several times what later ones do (lazy imports, caches, compiled statements).
            await Load(standin, steps, first=600_000_000).client(1)
            await standin.idle(timeout=60)
            load = Load(standin, steps)
            produced, calls, cpu = len(standin.produced), len(standin.calls), bot.cpu()
            began, driver = time.perf_counter(), time.process_time()
            each, extra = divmod(DIALOGUES[clients], clients)
            await asyncio.gather(*(load.client(each + (i < extra)) for i in range(clients)))
            seconds = time.perf_counter() - began
            driver = time.process_time() - driver
            cpu = bot.cpu() - cpu
            calls = len(standin.calls) - calls
            updates = len(standin.produced) - produced
            rss = bot.rss()
        except BaseException:
            log.flush()
            tail = log_path.read_text(errors="replace").splitlines()[-20:]  # noqa: ASYNC240
            print("\n".join(["bot log, tail:", *tail]), file=sys.stderr)
            raise
        finally:
            await bot.stop()
            await standin.stop()
    if updates != DIALOGUES[clients] * STEPS:
        raise RuntimeError(f"{updates} updates for {DIALOGUES[clients]} dialogues")
    ordered = sorted(load.latencies)
    p95 = statistics.quantiles(ordered, n=20, method="inclusive")[-1]
    return Figures(updates, seconds, cpu, calls, statistics.median(ordered), p95, rss, driver)


# ---------------------------------------------------------------- databases


async def admin(*statements: str) -> None:
    engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def postgres_available() -> bool:
    try:
        await asyncio.wait_for(admin("SELECT 1"), 10)
    except Exception as exc:  # any reason: no PostgreSQL figures
        print(f"PostgreSQL at {PG_URL} not usable ({type(exc).__name__}): SQLite only")
        return False
    return True


class Database:
    """A fresh database built by the migrations: a SQLite file, or a PostgreSQL database
    created for the run and dropped after."""

    def __init__(self, engine: str, folder: Path) -> None:
        self.engine = engine
        self.folder = folder
        self.name = f"bench_intake_{uuid.uuid4().hex[:10]}"
        self.url = ""

    async def __aenter__(self) -> str:
        if self.engine == "sqlite":
            self.url = await migrated(self.folder / f"{self.name}.db")
            return self.url
        await admin(f'CREATE DATABASE "{self.name}"')
        self.url = make_url(PG_URL).set(database=self.name).render_as_string(hide_password=False)
        engine = create_engine(self.url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        return self.url

    async def __aexit__(self, *exc: object) -> None:
        if self.engine == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                (self.folder / f"{self.name}.db{suffix}").unlink(missing_ok=True)
        else:
            await admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


async def run_desk(engine: str, latency: float, clients: int, folder: Path) -> Figures:
    async with Database(engine, folder) as url:
        return await drive(
            latency,
            clients,
            lambda standin, log: desk(standin, url, log),
            desk_steps,
            folder / f"desk-{engine}-{clients}.log",
        )


async def run_echo(latency: float, clients: int, folder: Path) -> Figures:
    return await drive(latency, clients, echo, echo_steps, folder / f"echo-{clients}.log")


# ---------------------------------------------------------------- memory


async def settled_rss(url: str, folder: Path, name: str) -> int:
    standin = Timed(0.0)
    standin.add_group(OPERATORS, "CRPT-Turon operators", members=[])
    await standin.start()
    with (folder / f"memory-{name}.log").open("wb") as log:
        bot = desk(standin, url, log)
        try:
            await bot.start()
            await asyncio.sleep(SETTLE)
            return bot.rss()
        finally:
            await bot.stop()
            await standin.stop()


async def memory(folder: Path) -> tuple[int, int, float]:
    """RSS on an empty database and on one with STORED requests; seconds to write them."""
    empty = await migrated(folder / "memory-empty.db")
    full = await migrated(folder / "memory-full.db")
    engine = create_engine(full)
    try:
        async with create_session_factory(engine)() as session:
            await set_meta(session, POLICY_KEY, load_policy(None, TZ).fingerprint())
            await session.commit()
    finally:
        await engine.dispose()
    setup = bulk(folder / "memory-full.db", lambda db: fill_stored(db, STORED))
    return (
        await settled_rss(empty, folder, "empty"),
        await settled_rss(full, folder, "full"),
        setup,
    )


# ---------------------------------------------------------------- the report


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def verdict(ok: bool) -> str:
    return "ok" if ok else "FAIL"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def run(folder: Path, quick: bool) -> bool:
    started = time.monotonic()
    print(
        f"intake benchmark (Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cores); load average at the start: {load_average()}",
        flush=True,
    )
    engines = ["sqlite"]
    if not quick and await postgres_available():
        engines.append("postgresql")
    latencies = (0.0,) if quick else LATENCIES
    counts = CLIENT_COUNTS[:2] if quick else CLIENT_COUNTS
    rows: list[tuple[str, float, int, Figures]] = []
    for latency in latencies:
        for clients in counts:
            for bot in ("echo", *engines):
                if bot == "echo":
                    figures = await run_echo(latency, clients, folder)
                else:
                    figures = await run_desk(bot, latency, clients, folder)
                rows.append((bot, latency, clients, figures))
                print(
                    f"  {bot:<10} +{latency * 1000:>3.0f} ms {clients:>3} clients: "
                    f"{figures.rate:7.1f} updates/s, {ms(figures.cpu_per_update):>6} ms CPU "
                    f"per update, p95 {ms(figures.p95)} ms",
                    flush=True,
                )
    echo_rate = {(lat, n): f.rate for bot, lat, n, f in rows if bot == "echo"}
    ok = True
    header = (
        f"{'bot':<10} {'latency':>7} {'clients':>7} {'updates':>7} {'upd/s':>7} "
        f"{'CPU/upd ms':>10} {'driver ms':>9} {'calls/upd':>9} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'RSS MB':>6} "
        f"{'vs echo':>7}  verdicts"
    )
    print()
    print(header)
    print("-" * len(header))
    for bot, latency, clients, f in rows:
        marks = ""
        ratio = ""
        if bot != "echo":
            share = f.rate / echo_rate[(latency, clients)]
            ratio = f"{share:.0%}"
            checks = [
                f"ratio {verdict(share >= RATIO_GOAL)}",
                f"CPU {verdict(f.cpu_per_update <= CPU_GOAL)}",
            ]
            ok &= share >= RATIO_GOAL and f.cpu_per_update <= CPU_GOAL
            if clients == max(counts):
                checks.append(f"p95 {verdict(f.p95 < P95_GOAL)}")
                ok &= f.p95 < P95_GOAL
            marks = ", ".join(checks)
        print(
            f"{bot:<10} {f'+{latency * 1000:.0f} ms':>7} {clients:>7} {f.updates:>7} "
            f"{f.rate:>7.1f} {ms(f.cpu_per_update):>10} {ms(f.driver / f.updates):>9} "
            f"{f.calls / f.updates:>9.2f} "
            f"{ms(f.p50):>8} {ms(f.p95):>8} {f.rss / 2**20:>6.0f} {ratio:>7}  {marks}"
        )
    print()
    print(
        f"goals: desk / echo updates per second >= {RATIO_GOAL:.0%}, bot CPU per dialogue step "
        f"<= {CPU_GOAL * 1000:g} ms, p95 latency at {max(counts)} clients < {P95_GOAL:g} s"
    )
    print(
        "dialogues per run: "
        + ", ".join(f"{n} clients {DIALOGUES[n]}" for n in counts)
        + f" ({STEPS} updates each); RSS read after the load; driver ms: CPU of the stand-in "
        "and the clients (this process) per update"
    )
    if not quick:
        empty, full, setup = await memory(folder)
        growth = full / empty
        ok &= growth < MEMORY_LIMIT
        print(
            f"memory (SQLite, {SETTLE:g} s after start): empty {empty / 2**20:.0f} MB, "
            f"{STORED:,} stored requests {full / 2**20:.0f} MB, ratio {growth:.2f} "
            f"(limit {MEMORY_LIMIT:g}) {verdict(growth < MEMORY_LIMIT)}; "
            f"requests written in {setup:.1f} s"
        )
    print(f"load average at the end: {load_average()}; run took {time.monotonic() - started:.0f} s")
    return ok


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--quick", action="store_true", help="SQLite only, 1 and 20 clients, no added latency"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as folder:
        ok = asyncio.run(run(Path(folder), args.quick))
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    with suppress(KeyboardInterrupt):
        main()
