"""An outage storm on the simulated clock: 200 requests registered within two minutes (the
marking system is down and every company writes at once) reach the operators within two
minutes of their registration, while the group gets no more than Telegram's 20 messages a
minute. The backed-up queue is announced together (critical first); the cards follow as pacing
allows, and every one of them arrives."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from statistics import median
from typing import Any

import pytest
from aiogram.methods import CreateForumTopic, SendMessage, TelegramMethod
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.services.desk import Desk
from bot.sla import Priority
from scheduler.delivery import DeliveryWorker
from scheduler.pacing import Limits
from storage.models import Ticket
from tests.fake_bot import FakeBot
from tests.integration.alert_kit import AlertDesk, at
from tests.integration.conftest import OPERATOR_CHAT_ID

REQUESTS = 200
WINDOW = 120.0  # seconds in which they are all registered
STEP = 0.5  # seconds of simulated time between delivery rounds
NUMBER = re.compile(r"№\s?(\d+)")


class SimulatedTime:
    """The desk's clock and the pacing's clock, moved together by the test."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.seconds = 0.0

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.seconds)

    def monotonic(self) -> float:
        return self.seconds


def _text(method: TelegramMethod[Any]) -> str:
    return getattr(method, "text", None) or getattr(method, "name", None) or ""


def _is_card(method: TelegramMethod[Any]) -> bool:
    """A card is the message with the request's buttons (callback data "tk:...")."""
    markup = getattr(method, "reply_markup", None)
    rows = getattr(markup, "inline_keyboard", None) or []
    return isinstance(method, SendMessage) and any(
        (button.callback_data or "").startswith("tk:") for row in rows for button in row
    )


async def test_an_outage_storm_reaches_the_operators_in_time(
    sessions: async_sessionmaker[AsyncSession], desk: Desk
) -> None:
    await _storm(sessions, desk, forum=False)


# A topic is a message too: twice the calls per request. One engine is enough for that.
@pytest.mark.parametrize("engine_url", ["sqlite"], indirect=True)
async def test_an_outage_storm_reaches_a_forum_group_in_time(
    sessions: async_sessionmaker[AsyncSession], desk: Desk
) -> None:
    await _storm(sessions, desk, forum=True)


async def _storm(sessions: async_sessionmaker[AsyncSession], desk: Desk, *, forum: bool) -> None:
    time = SimulatedTime(at("2026-04-07T10:00"))  # a Tuesday morning
    bot = FakeBot(forum=forum)
    worker = DeliveryWorker(bot.as_bot(), sessions, time, desk, Limits(), monotonic=time.monotonic)
    requests = AlertDesk(sessions, desk)
    registered: dict[int, float] = {}  # request number -> when registered (s)
    critical: set[int] = set()
    to_group: list[tuple[float, TelegramMethod[Any]]] = []
    seen = 0
    schedule = [WINDOW * i / REQUESTS for i in range(REQUESTS)]

    while time.seconds < 60 * 60:
        while schedule and schedule[0] <= time.seconds:
            schedule.pop(0)
            index = len(registered)
            priority = Priority.CRITICAL if index % 25 == 7 else None
            ticket_id = await requests.open(
                time.now(), priority=priority, company=f"ООО «Компания {index:03}»"
            )
            async with sessions() as session:
                ticket = await session.get(Ticket, ticket_id)
                assert ticket is not None
            registered[ticket.number] = time.seconds
            if priority is not None:
                critical.add(ticket.number)
        pause = await worker.drain()
        for method in bot.delivered[seen:]:
            if getattr(method, "chat_id", None) == OPERATOR_CHAT_ID:
                to_group.append((time.seconds, method))
        seen = len(bot.delivered)
        cards = sum(1 for _, m in to_group if _is_card(m))
        if not schedule and cards >= REQUESTS:
            break
        # While requests arrive, rounds every half second; then on to the next free turn.
        time.seconds += STEP if schedule else max(pause, 0.01)

    # Every request was named in the group (an announcement or its card) within two minutes.
    visible: dict[int, float] = {}
    for moment, method in to_group:
        for number in map(int, NUMBER.findall(_text(method))):
            visible.setdefault(number, moment)
    assert set(visible) >= set(registered)
    waits = {n: visible[n] - registered[n] for n in registered}
    assert max(waits.values()) <= 120, sorted(waits.values())[-5:]

    # Within Telegram's limit: no more than 20 messages into the group in any minute.
    moments = [m for m, method in to_group]
    busiest = max(sum(1 for t in moments if start <= t < start + 60) for start in moments)
    assert busiest <= 20

    # The backed-up queue was announced together, critical requests first in each message.
    announcements = [m for _, m in to_group if "/t_" in _text(m)]
    assert 1 <= len(announcements) <= 20
    for method in announcements:
        named = [int(n) for n in NUMBER.findall(_text(method))]
        ranks = [0 if n in critical else 1 for n in named]
        assert ranks == sorted(ranks)
    # Each request was announced at most once, and every card still came, once.
    named_all = [int(n) for m in announcements for n in NUMBER.findall(_text(m))]
    assert len(named_all) == len(set(named_all))
    card_numbers = [int(NUMBER.findall(_text(m))[0]) for _, m in to_group if _is_card(m)]
    assert sorted(card_numbers) == sorted(registered)
    if forum:
        topics = [m for _, m in to_group if isinstance(m, CreateForumTopic)]
        assert len(topics) == REQUESTS

    last_card = max(t for t, m in to_group if _is_card(m))
    print(
        f"\nstorm ({'forum' if forum else 'group'}): {REQUESTS} requests in {WINDOW:.0f} s; "
        f"visible after median {median(waits.values()):.0f} s, max {max(waits.values()):.0f} s; "
        f"{len(announcements)} announcements naming {len(named_all)}; busiest minute "
        f"{busiest} messages; last card {last_card / 60:.1f} min after the first request"
    )
