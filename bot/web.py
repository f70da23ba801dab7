"""The desk's web server: GET /healthz and GET /metrics (and, in webhook mode, the webhook,
bot.webhook). It runs in webhook mode always and in polling mode when WEB_PORT is set.

/healthz answers 200 when the database answers (`SELECT 1` within 2 s) and each worker (the
delivery worker, the scheduler's sweep, the heartbeat) ran within its allowance; otherwise 503
with the reasons. It is for machines and administrators, not clients: plain English JSON."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

if TYPE_CHECKING:
    from bot.factory import App

log = logging.getLogger(__name__)

APP_KEY: web.AppKey[App] = web.AppKey("desk_app")
DB_TIMEOUT = 2.0
# Seconds a worker may stay silent: the delivery worker and the heartbeat turn every few
# seconds; the scheduler's sweep runs every minute.
ALLOWANCE = {"delivery": 60.0, "heartbeat": 60.0, "scheduler": 90.0}


def build_web(app: App) -> web.Application:
    web_app = web.Application()
    web_app[APP_KEY] = app
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/metrics", metrics)
    return web_app


async def healthz(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    reasons: list[str] = []
    try:
        async with asyncio.timeout(DB_TIMEOUT), app.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:
        reasons.append(f"the database does not answer: {type(exc).__name__}")
    for worker, silent in sorted(app.metrics.silent_for().items()):
        allowance = ALLOWANCE.get(worker, 60.0)
        if silent > allowance:
            reasons.append(f"the {worker} has not run for {silent:.0f} s")
    if reasons:
        return web.json_response({"status": "fail", "reasons": reasons}, status=503)
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    app = request.app[APP_KEY]
    try:
        async with asyncio.timeout(DB_TIMEOUT):
            await app.metrics.refresh(app.sessions, app.clock.now())
    except Exception as exc:  # the counters still tell; the database gauges keep their values
        log.warning("metrics: the database could not be read (%r)", exc)
    body = generate_latest(app.metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
