"""`python -m bot alerts --now ISO` and `python -m bot digest --now ISO`: one pass of the
scheduler's work as if the clock said ISO, with the bot's settings; what it queued is delivered,
then the command exits. Once-only holds: a second run at the same moment sends nothing that was
already sent (the database decides, as for the running bot)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from datetime import datetime

from bot.clock import ShiftedClock
from bot.factory import App, build_app
from bot.settings import Settings
from scheduler.alerts import manager_chats, run_alerts_once
from scheduler.digest import DigestParams, run_digest
from storage.outbox import OutboxRepo

log = logging.getLogger(__name__)

# How long the command waits for Telegram to take what it queued.
DELIVERY_LIMIT = 120.0


def parse_now(argv: list[str], prog: str) -> datetime:
    parser = argparse.ArgumentParser(prog=f"python -m bot {prog}")
    parser.add_argument(
        "--now",
        required=True,
        type=datetime.fromisoformat,
        help="the moment to act at, ISO 8601 with its offset (2026-11-23T10:00:00+05:00)",
    )
    now: datetime = parser.parse_args(argv).now
    if now.tzinfo is None:
        parser.error("--now needs an offset, e.g. +05:00")
    return now


async def run_once(settings: Settings, what: str, now: datetime) -> int:
    """Run one pass of `what` ("alerts" or "digest") at `now`, deliver, and return how many
    alerts (or digests) it queued."""
    clock = ShiftedClock(now)
    app = await build_app(settings, clock=clock)
    try:
        if what == "alerts":
            queued = await run_alerts_once(
                app.sessions, app.desk, clock, managers=manager_chats(settings)
            )
        else:
            sent = await run_digest(
                app.sessions, app.desk, DigestParams.from_settings(settings), clock.now()
            )
            queued = int(sent)
        await deliver(app)
    finally:
        await app.close()
    return queued


async def deliver(app: App, limit: float = DELIVERY_LIMIT) -> None:
    """Send what is queued, paced as always, until nothing is left or the limit passes (what
    is left goes with the running bot)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    # Beat while sending, so that a running bot does not take this process for dead.
    beating = asyncio.create_task(app.liveness.run())
    try:
        await _deliver(app, loop, deadline)
    finally:
        await app.liveness.stop()
        await beating


async def _deliver(app: App, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
    while loop.time() < deadline:
        async with app.sessions() as session:
            if not await OutboxRepo(session).pending_count():
                return
        pause = await app.worker.drain()
        await asyncio.sleep(min(max(pause, 0.05), 1.0))
    log.warning("some messages are still queued; the running bot will send them")
