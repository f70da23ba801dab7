"""A kill -9 soak: the bot as a separate process (`python -m bot run`) against the stand-in in
this process; hundreds of clients go through the whole intake dialogue at once and keep
writing, two operators answer in the group, and the bot is killed with SIGKILL at random
moments (seeded) and started again each time. Afterwards, with the bot stopped cleanly:

- every update the stand-in produced is in the inbox exactly once, handled, none failed;
- every request a client confirmed exists once, with the number its acknowledgement gave;
- every client message and every operator answer is stored once and every answer reached
  its client;
- nothing the bot said was doubled, except what was in flight at a kill: Telegram has no
  idempotent send, so a message sent just before the kill and not yet marked sent is sent
  again. At most one such item per chat per kill, and a bounded number per kill in all.

SOAK_CLIENTS, SOAK_KILLS and SOAK_SEED change the load; the figures are printed."""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.vocabulary import Direction, InboxStatus
from standin import StandIn
from standin.objects import JSON, Chat, Stored, Topic
from storage.db import create_engine, create_session_factory
from storage.models import Client, DeskMessage, InboxUpdate, Ticket, TicketMessage

ROOT = Path(__file__).resolve().parents[2]
OPERATORS = -1001000000001
OPERATOR_IDS = (9001, 9002)

SEED = int(os.environ.get("SOAK_SEED", "20261123"))
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "200"))
KILLS = int(os.environ.get("SOAK_KILLS", "5"))
FOLLOW_UPS = 2  # messages each client writes after confirming
ARRIVAL = 20.0  # seconds over which the clients arrive
KILL_GAP = (4.0, 12.0)  # seconds between a restart and the next kill
STEP_LIMIT = 300.0  # seconds a client waits for one answer (it may wait through several restarts)
STARTUP_LIMIT = 60.0  # seconds a restarted bot may take to poll again (aiogram imports slowly)
CONCURRENCY = 10  # the bot's inbox_concurrency (the default)
NUMBER = re.compile(r"№\s*(\d+)")
RELAYED = re.compile(r"^Дополнение \d+ к обращению клиента (\d+)$")

FIRST_NAMES = ("Иван", "Азиз", "Дилноза", "Сардор", "Мария", "Тимур", "Нодира", "Олег")
LAST_NAMES = ("Петров", "Каримов", "Юсупова", "Рахимов", "Ким", "Алиев", "Исмоилова")


def callback_data(markup: JSON | None) -> tuple[str, ...]:
    rows = (markup or {}).get("inline_keyboard", [])
    return tuple(b["callback_data"] for row in rows for b in row if "callback_data" in b)


@dataclass(frozen=True)
class Posted:
    """A bot message as it was first posted (later edits do not change it)."""

    message_id: int
    text: str
    data: tuple[str, ...]

    def has(self, prefix: str) -> bool:
        return any(d.startswith(prefix) for d in self.data)


class Recording(StandIn):
    """The stand-in, noting every update it produces and every message the bot posts, and
    waking whoever waits on that chat."""

    def __init__(self) -> None:
        super().__init__()
        self.posted: defaultdict[int, list[Posted]] = defaultdict(list)
        self.produced: list[int] = []
        self._news: dict[int, asyncio.Event] = {}

    def news(self, chat_id: int) -> asyncio.Event:
        return self._news.setdefault(chat_id, asyncio.Event())

    def post(
        self,
        chat: Chat,
        content: JSON,
        *,
        sender: JSON,
        origin: str,
        topic: Topic | None = None,
        reply: Stored | None = None,
        markup: JSON | None = None,
    ) -> Stored:
        stored = super().post(
            chat, content, sender=sender, origin=origin, topic=topic, reply=reply, markup=markup
        )
        if origin == "bot":
            m = stored.message
            text = m.get("text") or m.get("caption") or ""
            self.posted[chat.id].append(
                Posted(m["message_id"], text, callback_data(m.get("reply_markup")))
            )
            self.news(chat.id).set()
        return stored

    def _enqueue(self, kind: str, payload: JSON) -> JSON:
        update = super()._enqueue(kind, payload)
        self.produced.append(update["update_id"])
        return update

    async def expect(
        self, chat_id: int, since: int, want: Callable[[Posted], Any], what: str
    ) -> Posted:
        """The first bot message in the chat after the first `since` that `want`s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STEP_LIMIT
        event = self.news(chat_id)
        while True:
            for posted in self.posted[chat_id][since:]:
                if want(posted):
                    return posted
            left = deadline - loop.time()
            if left <= 0:
                seen = [p.text[:40] for p in self.posted[chat_id]]
                raise AssertionError(f"chat {chat_id}: no {what} within {STEP_LIMIT}s; {seen}")
            event.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), left)


class BotProcess:
    """`python -m bot run` against the stand-in, with its output in a log file; started when
    it calls `ready_call` (polling: getUpdates; webhook: setWebhook)."""

    ready_call = "getUpdates"

    def __init__(self, standin: StandIn, database_url: str, log: IO[bytes]) -> None:
        self.standin = standin
        self.log = log
        base = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
        self.env = {k: os.environ[k] for k in base if k in os.environ}
        self.env |= {
            "PYTHONPATH": str(ROOT),
            "BOT_TOKEN": standin.token,
            "TELEGRAM_API_URL": standin.url,
            "DATABASE_URL": database_url,
            "OPERATOR_CHAT_ID": str(OPERATORS),
            "LOG_LEVEL": "INFO",
        }
        self.process: asyncio.subprocess.Process | None = None
        self.startups: list[float] = []

    async def start(self) -> float:
        """Start it and wait until it polls; returns the seconds that took."""
        seen = len(self.standin.calls)
        began = time.monotonic()
        self.process = process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=asyncio.subprocess.STDOUT,
        )
        while not self._ready(seen):
            if process.returncode is not None:
                raise AssertionError(f"the bot exited with {process.returncode} at start")
            if time.monotonic() - began > STARTUP_LIMIT:
                raise AssertionError(f"the bot did not poll within {STARTUP_LIMIT}s")
            await asyncio.sleep(0.02)
        took = time.monotonic() - began
        self.startups.append(took)
        return took

    def _ready(self, seen: int) -> bool:
        """This process has called `ready_call` after its start-up's setMyCommands. A call the
        killed predecessor had in flight (its long poll) may be taken in only after the kill:
        it must not pass for the new process's."""
        methods = [call.method.lower() for call in self.standin.calls[seen:]]
        if "setmycommands" not in methods:
            return False
        return self.ready_call.lower() in methods[methods.index("setmycommands") :]

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> int:
        """SIGTERM, as a service manager stops it; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout=60)

    def ensure_dead(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with suppress(ProcessLookupError):  # it exited on its own, not yet reaped
                self.process.send_signal(signal.SIGKILL)


@dataclass
class SoakClient:
    standin: Recording
    id: int
    index: int
    rng: random.Random
    number: int | None = None
    follow_ups: list[str] = field(default_factory=list)

    @property
    def posted(self) -> list[Posted]:
        return self.standin.posted[self.id]

    def say(self, text: str) -> Callable[[], None]:
        def act() -> None:
            self.standin.send_message(self.id, text=text)

        return act

    def press(self, data: str) -> Callable[[], None]:
        def act() -> None:
            for posted in reversed(self.posted):
                if data not in posted.data:
                    continue
                message = self.standin.message(self.id, posted.message_id)
                if message is not None and data in callback_data(message.get("reply_markup")):
                    self.standin.press(self.id, message, data)
                    return
            raise AssertionError(f"client {self.id}: no button {data}")

        return act

    async def step(
        self, act: Callable[[], None], want: Callable[[Posted], Any], what: str
    ) -> Posted:
        await asyncio.sleep(self.rng.uniform(0.05, 0.5))  # reading, typing
        since = len(self.posted)
        act()
        return await self.standin.expect(self.id, since, want, what)

    async def run(self, arrival: float = ARRIVAL, follow_ups: int = FOLLOW_UPS) -> None:
        await asyncio.sleep(self.rng.uniform(0, arrival))
        name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
        description = f"Не печатаются коды маркировки на линии {self.index}"

        def anything(p: Posted) -> bool:
            return True

        def button(prefix: str) -> Callable[[Posted], bool]:
            return lambda p: p.has(prefix)

        await self.step(self.say("/start"), lambda p: not p.data, "question of the name")
        await self.step(self.say(name), anything, "question of the company")
        await self.step(self.say(f"ООО «Soak {self.index}»"), anything, "question of the INN")
        await self.step(self.say("301234567"), button("kd:"), "menu of kinds")
        await self.step(self.say("/new"), button("kd:"), "menu of kinds")
        await self.step(self.press("kd:consultation"), button("tp:"), "menu of topics")
        await self.step(self.press("tp:marking_codes"), anything, "question of the description")
        await self.step(self.say(description), button("dr:done"), "Done button")
        await self.step(self.press("dr:done"), button("fb:telegram"), "menu of channels")
        await self.step(self.press("fb:telegram"), button("dr:confirm"), "review")
        ack = await self.step(
            self.press("dr:confirm"), lambda p: NUMBER.search(p.text), "acknowledgement"
        )
        number = NUMBER.search(ack.text)
        assert number is not None
        self.number = int(number[1])
        for k in range(follow_ups):
            await asyncio.sleep(self.rng.uniform(0.5, 6.0))
            text = f"Дополнение {k + 1} к обращению клиента {self.index}"
            self.standin.send_message(self.id, text=text)
            self.follow_ups.append(text)


def each_update_and_request_once(
    standin: Recording, rows: Any, tickets: Any, clients: list[SoakClient]
) -> None:
    """Every update the stand-in produced stored and handled exactly once; every request a
    client confirmed exists once, with the number its acknowledgement gave."""
    statuses = Counter(status for _id, status in rows)
    assert statuses == {InboxStatus.HANDLED: len(standin.produced)}, statuses
    assert sorted(update_id for update_id, _s in rows) == sorted(standin.produced)
    assert sorted(tickets) == sorted((c.id, c.number) for c in clients)


def excess(texts: Counter[Any], expected: Callable[[Any], int]) -> int:
    return sum(max(0, count - expected(key)) for key, count in texts.items())


def client_duplicates(posted: list[Posted]) -> int:
    """Messages said more often than the dialogue says them: the menu of kinds twice (after
    the INN and after /new), everything else once."""
    said = Counter((p.text, p.data) for p in posted)
    return excess(said, lambda key: 2 if any(d.startswith("kd:") for d in key[1]) else 1)


def _saying(text: str) -> Callable[[Posted], bool]:
    return lambda posted: posted.text == text


async def _scalar(sessions: async_sessionmaker[AsyncSession], statement: Any) -> Any:
    async with sessions() as session:
        return await session.scalar(statement)


async def soak(database_url: str, tmp_path: Path) -> dict[str, Any]:
    standin = Recording()
    for user_id, first in zip(OPERATOR_IDS, ("Dilnoza", "Sardor"), strict=True):
        standin.add_user(user_id, first, last_name="Operator")
    standin.add_group(OPERATORS, "CRPT-Turon operators", members=list(OPERATOR_IDS))
    standin.drop_pending_updates()
    standin.produced.clear()
    await standin.start()
    log = (tmp_path / "bot.log").open("wb")
    bot = BotProcess(standin, database_url, log)
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    rng = random.Random(SEED)
    clients = []
    for index in range(CLIENTS):
        user_id = 700_000_000 + index
        standin.add_user(user_id, f"Client{index}", language_code="ru")
        clients.append(SoakClient(standin, user_id, index, random.Random(SEED * 1000 + index)))
    answers: dict[int, tuple[str, int]] = {}  # request number -> (answer, card message id)
    began = time.monotonic()
    kills: list[float] = []

    async def killer() -> None:
        for _ in range(KILLS):
            await asyncio.sleep(rng.uniform(*KILL_GAP))
            kills.append(round(time.monotonic() - began, 1))
            await bot.kill()
            await bot.start()

    def about(posted: Posted) -> int | None:
        """The request a group message is about: a card, or a client's message relayed."""
        found = NUMBER.search(posted.text)
        if posted.has("tk:") and found is not None:
            return int(found[1])
        relayed = RELAYED.search(posted.text)
        return clients[int(relayed[1])].number if relayed is not None else None

    async def operators(done: asyncio.Event) -> None:
        operator_rng = random.Random(SEED + 1)
        while not done.is_set():
            for posted in list(standin.posted[OPERATORS]):
                number = about(posted)
                if number is None or number in answers:
                    continue
                text = f"Здравствуйте! По обращению {number}: проверьте, пожалуйста, настройки."
                operator = OPERATOR_IDS[number % 2]
                standin.send_message(operator, OPERATORS, text=text, reply_to=posted.message_id)
                answers[number] = (text, posted.message_id)
                await asyncio.sleep(operator_rng.uniform(0.05, 0.4))
            await asyncio.sleep(0.3)

    try:
        await bot.start()
        done = asyncio.Event()
        desk = asyncio.create_task(operators(done))
        await asyncio.gather(killer(), *(c.run() for c in clients))
        load_took = time.monotonic() - began
        done.set()
        await desk

        # Every update handled: nothing pending, everything produced stored.
        deadline = time.monotonic() + 60
        while True:
            stored = await _scalar(sessions, select(func.count()).select_from(InboxUpdate))
            pending = await _scalar(
                sessions,
                select(func.count())
                .select_from(InboxUpdate)
                .where(InboxUpdate.status == InboxStatus.PENDING),
            )
            if stored >= len(standin.produced) and pending == 0:
                break
            assert time.monotonic() < deadline, f"{pending} updates pending, {stored} stored"
            await asyncio.sleep(0.5)
        async with sessions() as session:
            taken = set(
                (
                    await session.scalars(
                        select(TicketMessage.text).where(
                            TicketMessage.direction == Direction.OPERATOR
                        )
                    )
                ).all()
            )
            known = set(
                (
                    await session.scalars(
                        select(DeskMessage.message_id).where(DeskMessage.chat_id == OPERATORS)
                    )
                ).all()
            ) | set(
                (
                    await session.scalars(
                        select(TicketMessage.message_id).where(TicketMessage.chat_id == OPERATORS)
                    )
                ).all()
            )
        # A card (a relayed message) posted just before a kill and not yet noted is posted
        # again after the restart; the first copy is one the desk does not know. An answer to
        # a card copy finds its request by the card's buttons; one to a relayed copy is not
        # sent, and the operator is told so (desk.unknown_message): counted, reported.
        orphaned = {n: a for n, a in answers.items() if a[0] not in taken}
        assert all(card not in known for _t, card in orphaned.values()), orphaned
        answers = {n: a for n, a in answers.items() if n not in orphaned}
        # Every other answer reaches its client (one a kill left in flight within seconds).
        by_number = {c.number: c for c in clients}
        for number, (text, _card) in answers.items():
            client = by_number[number]
            await standin.expect(client.id, 0, _saying(text), f"answer {number}")
        code = await bot.stop()
        assert code == 0, f"the bot's clean stop exited with {code}"
        took = time.monotonic() - began

        async with sessions() as session:
            rows = (await session.execute(select(InboxUpdate.update_id, InboxUpdate.status))).all()
            tickets = (
                await session.execute(select(Client.telegram_id, Ticket.number).join(Client))
            ).all()
            messages = (
                await session.execute(
                    select(TicketMessage.direction, TicketMessage.text).where(
                        TicketMessage.direction.in_([Direction.CLIENT, Direction.OPERATOR])
                    )
                )
            ).all()
    finally:
        bot.ensure_dead()
        if bot.process is not None:
            with suppress(Exception):
                await asyncio.wait_for(bot.process.wait(), 10)
        log.close()
        await engine.dispose()
        await standin.stop()

    each_update_and_request_once(standin, rows, tickets, clients)
    # Every client message and operator answer stored once.
    stored_texts = Counter(text for _d, text in messages)
    follow_ups = [text for c in clients for text in c.follow_ups]
    assert len(follow_ups) == CLIENTS * FOLLOW_UPS
    assert all(stored_texts[t] == 1 for t in follow_ups), "a client message stored twice or lost"
    assert all(stored_texts[t] == 1 for t, _c in answers.values()), "an answer stored twice or lost"
    # Nothing doubled but what was in flight at a kill.
    per_chat = {c.id: client_duplicates(c.posted) for c in clients}
    group = standin.posted[OPERATORS]
    relayed = set(follow_ups)
    cards = Counter(
        NUMBER.search(p.text)[1]  # type: ignore[index]
        for p in group
        if p.has("tk:") and NUMBER.search(p.text)
    )
    group_duplicates = excess(Counter(p.text for p in group if p.text in relayed), lambda _k: 1)
    group_duplicates += excess(cards, lambda _k: 1)
    figures: dict[str, Any] = {
        "clients": CLIENTS,
        "kills": KILLS,
        "killed_at_s": kills,
        "startup_s": [round(s, 2) for s in bot.startups],
        "updates": len(standin.produced),
        "bot_messages": sum(len(v) for v in standin.posted.values()),
        "client_messages": sum(len(c.posted) for c in clients),
        "cards": len(cards),
        "answers": len(answers),
        "answers_to_orphan_card_copies": len(orphaned),
        "duplicates_clients": sum(per_chat.values()),
        "duplicates_max_per_chat": max(per_chat.values()),
        "chats_with_duplicate": sum(1 for v in per_chat.values() if v),
        "duplicates_group": group_duplicates,
        "load_s": round(load_took, 1),
        "total_s": round(took, 1),
    }
    print(f"\nkill -9 soak on {database_url.split(':')[0]}, seed {SEED}: {figures}")
    # What was in flight at a kill: at most one item per chat per kill. An update speaks after
    # it has given its inbox slot back, so any chat mid-dialogue may have its reply in flight
    # at a kill (not only INBOX_CONCURRENCY of them).
    assert figures["duplicates_max_per_chat"] <= KILLS, figures
    assert group_duplicates <= KILLS * (CONCURRENCY + 2), figures
    # An answer is lost only on the orphan copy of a message posted twice.
    assert len(orphaned) <= group_duplicates, figures
    return figures


async def test_kill_9_soak(soak_database: str, tmp_path: Path) -> None:
    if os.environ.get("SOAK_LOG_DIR"):  # keep the bot's log where one can read it
        tmp_path = Path(os.environ["SOAK_LOG_DIR"])
    try:
        await asyncio.wait_for(soak(soak_database, tmp_path), timeout=900)
    except BaseException:
        log = (tmp_path / "bot.log").read_text(errors="replace").splitlines()
        problems = [line for line in log if "ERROR" in line or "Traceback" in line]
        print("\n".join(["bot log, errors:", *problems[-30:], "bot log, tail:", *log[-30:]]))
        raise
