"""Two bot processes in webhook mode on one PostgreSQL database, behind a balancer: the stand-in
POSTs each update to one of them in turn (as nginx would), and sends it again, to the other,
when one does not answer 200. Clients go through the whole intake and write on, operators
answer half of the requests in the group; the other half miss their first-response target (a
policy of one minute, round the clock) and are alerted; the managers' digest is due at start.
One process is killed (SIGKILL) while the clients write, and started again. Afterwards:

- every update the stand-in produced is stored once and handled once, whichever process got it;
- every request a client confirmed exists once; every operator answer reached its client;
- nothing the bot said was doubled, except what the killed process had in flight (Telegram has
  no idempotent send: at most one item per chat);
- each chat's messages went out in the order the desk queued them;
- each SLA warning and breach alert was posted once, and the digest once, though both
  processes run the scheduler;
- both processes took updates.

TWO_CLIENTS and TWO_SEED change the load; the figures are printed."""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
from collections import Counter
from contextlib import suppress
from pathlib import Path
from typing import IO, Any

import pytest
from sqlalchemy import select

from bot.vocabulary import OutboxStatus
from standin import StandIn
from standin.local import free_port
from storage.db import create_engine, create_session_factory
from storage.models import Client, InboxUpdate, Lease, OutboxItem, Ticket
from tests.soak.test_kill9 import (
    NUMBER,
    OPERATOR_IDS,
    OPERATORS,
    BotProcess,
    Posted,
    Recording,
    SoakClient,
    _saying,
    client_duplicates,
    each_update_and_request_once,
)

SEED = int(os.environ.get("TWO_SEED", "20261124"))
CLIENTS = int(os.environ.get("TWO_CLIENTS", "8"))
MANAGERS = -1001000000002
URL = "https://desk.example.uz/telegram/webhook"
SECRET = "two-processes_secret"
POLICY = """
[calendar]
country = ""
[calendar.hours]
mon = ["00:00-24:00"]
tue = ["00:00-24:00"]
wed = ["00:00-24:00"]
thu = ["00:00-24:00"]
fri = ["00:00-24:00"]
sat = ["00:00-24:00"]
sun = ["00:00-24:00"]
[first_response]
working_minutes = 1
"""
WARNING = re.compile(r"Скоро срок")
BREACH = re.compile(r"Срок пропущен")
DIGEST = "Ежедневная сводка"


class WebhookProcess(BotProcess):
    """`python -m bot run` in webhook mode on its own port."""

    ready_call = "setWebhook"

    def __init__(
        self, standin: StandIn, database_url: str, log: IO[bytes], policy: Path, port: int
    ) -> None:
        super().__init__(standin, database_url, log)
        self.port = port
        self.env |= {
            "BOT_MODE": "webhook",
            "WEBHOOK_URL": URL,
            "WEBHOOK_SECRET": SECRET,
            "WEB_PORT": str(port),
            "SLA_POLICY_FILE": str(policy),
            "MANAGER_CHAT_ID": str(MANAGERS),
            "DIGEST_TIME": "00:00",
        }

    @property
    def target(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def two_processes(database_url: str, tmp_path: Path) -> dict[str, Any]:
    standin = Recording()
    for user_id, first in zip(OPERATOR_IDS, ("Dilnoza", "Sardor"), strict=True):
        standin.add_user(user_id, first, last_name="Operator")
    standin.add_group(OPERATORS, "CRPT-Turon operators", members=list(OPERATOR_IDS))
    standin.add_group(MANAGERS, "CRPT-Turon managers", members=[OPERATOR_IDS[0]])
    standin.produced.clear()
    await standin.start()
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    logs = [(tmp_path / f"bot{i}.log").open("wb") for i in (1, 2)]
    bots = [WebhookProcess(standin, database_url, log, policy, free_port()) for log in logs]
    standin.webhook_targets = [bot.target for bot in bots]
    engine = create_engine(database_url)
    sessions = create_session_factory(engine)
    rng = random.Random(SEED)
    clients = []
    for index in range(CLIENTS):
        user_id = 710_000_000 + index
        standin.add_user(user_id, f"Client{index}", language_code="ru")
        clients.append(SoakClient(standin, user_id, index, random.Random(SEED * 1000 + index)))
    answers: dict[int, tuple[str, int]] = {}
    began = time.monotonic()

    async def operators(done: asyncio.Event) -> None:
        """Answer the cards of even-numbered requests; leave the odd ones to breach."""
        while not done.is_set():
            for posted in list(standin.posted[OPERATORS]):
                found = NUMBER.search(posted.text)
                if not posted.has("tk:") or found is None:
                    continue
                number = int(found[1])
                if number % 2 or number in answers:
                    continue
                text = f"Здравствуйте! По обращению {number}: проверьте, пожалуйста, настройки."
                operator = OPERATOR_IDS[number % 4 // 2]
                standin.send_message(operator, OPERATORS, text=text, reply_to=posted.message_id)
                answers[number] = (text, posted.message_id)
                await asyncio.sleep(rng.uniform(0.05, 0.3))
            await asyncio.sleep(0.3)

    async def kill_one() -> float:
        await asyncio.sleep(rng.uniform(3.0, 6.0))
        at = time.monotonic() - began
        await bots[0].kill()
        await asyncio.sleep(1.0)  # the balancer sends the first process's share to the other
        await bots[0].start()
        return at

    try:
        await asyncio.gather(*(bot.start() for bot in bots))  # they migrate one after another
        done = asyncio.Event()
        desk = asyncio.create_task(operators(done))
        killing = asyncio.create_task(kill_one())
        await asyncio.gather(*(c.run(arrival=8.0, follow_ups=1) for c in clients))
        killed_at = await killing
        # Every answer reaches its client; every odd request is alerted as breached.
        odd = sorted(c.number for c in clients if c.number is not None and c.number % 2)
        deadline = time.monotonic() + 360
        while True:
            breached = alerted(standin.posted[OPERATORS], BREACH)
            if set(odd) <= set(breached) and len(answers) == CLIENTS - len(odd):
                break
            seen = [p.text[:50] for p in standin.posted[OPERATORS]]
            assert time.monotonic() < deadline, (odd, breached, len(answers), seen)
            await asyncio.sleep(0.5)
        done.set()
        await desk
        by_number = {c.number: c for c in clients}
        for number, (text, _card) in answers.items():
            await standin.expect(by_number[number].id, 0, _saying(text), f"answer {number}")
        await standin.idle(timeout=30)
        codes = await asyncio.gather(*(bot.stop() for bot in bots))
        assert codes == [0, 0], f"the clean stops exited with {codes}"
        took = time.monotonic() - began
        async with sessions() as session:
            rows = (await session.execute(select(InboxUpdate.update_id, InboxUpdate.status))).all()
            tickets = (
                await session.execute(select(Client.telegram_id, Ticket.number).join(Client))
            ).all()
            outbox = (
                await session.execute(
                    select(OutboxItem.chat_id, OutboxItem.id, OutboxItem.result, OutboxItem.status)
                    .where(OutboxItem.method == "sendMessage")
                    .order_by(OutboxItem.id)
                )
            ).all()
            # The stopped processes gave their leases back; the killed one's were freed.
            leases_left = (await session.execute(select(Lease.name, Lease.holder))).all()
    finally:
        for bot in bots:
            bot.ensure_dead()
            if bot.process is not None:
                with suppress(Exception):
                    await asyncio.wait_for(bot.process.wait(), 10)
        for log in logs:
            log.close()
        await engine.dispose()
        await standin.stop()

    each_update_and_request_once(standin, rows, tickets, clients)
    assert not leases_left, leases_left
    # Nothing doubled but what the killed process had in flight (one per chat at most).
    per_chat = {c.id: client_duplicates(c.posted) for c in clients}
    assert max(per_chat.values()) <= 1, per_chat
    group = standin.posted[OPERATORS]
    cards: Counter[int] = Counter()
    for posted in group:
        found = NUMBER.search(posted.text)
        if posted.has("tk:") and found is not None:
            cards[int(found[1])] += 1
    assert sum(v - 1 for v in cards.values()) <= 1, cards
    # Each alert once, whichever process's scheduler found it due.
    warnings, breaches = alerted(group, WARNING), alerted(group, BREACH)
    assert all(n == 1 for n in warnings.values()), warnings
    assert all(n == 1 for n in breaches.values()), breaches
    assert set(odd) <= set(breaches)
    digests = [p for p in standin.posted[MANAGERS] if DIGEST in p.text]
    assert len(digests) == 1, [p.text[:60] for p in standin.posted[MANAGERS]]
    # Each chat's messages in the order they were queued.
    sent: dict[int, list[int]] = {}
    for chat_id, _id, result, status in outbox:
        assert status == OutboxStatus.SENT, status
        if status == OutboxStatus.SENT and result and "message_id" in result:
            sent.setdefault(chat_id, []).append(int(result["message_id"]))
    disorder = {chat: ids for chat, ids in sent.items() if ids != sorted(ids)}
    assert not disorder, disorder
    # Both processes took a share of the updates.
    taken = Counter(
        p.target.removesuffix("/telegram/webhook") for p in standin.webhook_posts if p.status == 200
    )
    assert set(taken) == {bot.target for bot in bots} and min(taken.values()) > 0, taken
    figures: dict[str, Any] = {
        "clients": CLIENTS,
        "updates": len(standin.produced),
        "posts_by_process": sorted(taken.values()),
        "posts_refused": sum(1 for p in standin.webhook_posts if p.status != 200),
        "killed_at_s": round(killed_at, 1),
        "startup_s": [round(s, 2) for bot in bots for s in bot.startups],
        "cards": len(cards),
        "answers": len(answers),
        "warnings": len(warnings),
        "breaches": len(breaches),
        "digests": len(digests),
        "duplicates_clients": sum(per_chat.values()),
        "total_s": round(took, 1),
    }
    print(f"\ntwo processes on PostgreSQL, seed {SEED}: {figures}")
    return figures


def alerted(group: list[Posted], title: re.Pattern[str]) -> Counter[int]:
    """How many times each request was named in the group's alerts of one kind."""
    named: Counter[int] = Counter()
    for posted in group:
        if title.search(posted.text):
            named.update(int(n) for n in NUMBER.findall(posted.text))
    return named


@pytest.mark.postgres
async def test_two_processes_share_the_work(two_database: str, tmp_path: Path) -> None:
    try:
        await asyncio.wait_for(two_processes(two_database, tmp_path), timeout=600)
    except BaseException:
        for i in (1, 2):
            log = (tmp_path / f"bot{i}.log").read_text(errors="replace").splitlines()
            problems = [line for line in log if "ERROR" in line or "Traceback" in line]
            print("\n".join([f"bot {i} log, errors:", *problems[-20:], "tail:", *log[-15:]]))
        raise
