"""Webhook mode: Telegram POSTs each update to WEBHOOK_URL; the answer 200 is its receipt.

Built on aiogram's aiohttp webhook support (`SimpleRequestHandler`: the route, the check of the
secret token header), with one change that matters: aiogram answers 200 and then handles the
update in the background, so a crash in between loses it. Here the update is stored in the
durable inbox first (bot.inbox) and 200 is answered only once that has committed; a failed store
answers 503, and Telegram sends the update again. A request without the secret token, or with a
wrong one, gets 401 and does nothing. Several processes behind a load balancer share the inbox:
an update id Telegram sends twice, to either of them, is handled once."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from bot.inbox import Inbox

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# setWebhook at start: tried again after these many seconds (doubled, up to the last).
SET_WEBHOOK_RETRY = (1.0, 60.0)


def webhook_path(url: str) -> str:
    """The path of WEBHOOK_URL, where the route is served (a proxy passes it on unchanged)."""
    return urlsplit(url).path or "/"


class InboxRequestHandler(SimpleRequestHandler):
    """aiogram's webhook handler for one bot, storing each update before it answers 200."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, inbox: Inbox, secret_token: str) -> None:
        super().__init__(dispatcher, bot, handle_in_background=False, secret_token=secret_token)
        self.inbox = inbox

    async def close(self) -> None:
        """The bot's session belongs to the App, which closes it."""

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), self.bot):
            return web.Response(status=401, text="Unauthorized")
        try:
            body = await request.json(loads=self.bot.session.json_loads)
            update = Update.model_validate(body, context={"bot": self.bot})
        except (ValueError, ValidationError):
            log.warning("a webhook request with a body that is not an update was refused")
            return web.Response(status=400, text="Bad Request")
        try:
            await self.inbox.receive([update], {update.update_id: body})
        except Exception:
            # Not stored: Telegram keeps the update and sends it again.
            log.exception(
                "update %s could not be stored; Telegram will send it again", update.update_id
            )
            return web.Response(status=503, text="Service Unavailable")
        return web.json_response({})


def mount_webhook(web_app: web.Application, handler: InboxRequestHandler, url: str) -> None:
    handler.register(web_app, path=webhook_path(url))


async def set_webhook(
    bot: Bot,
    url: str,
    secret_token: str,
    allowed_updates: list[str],
    stop: asyncio.Event,
    *,
    retry: tuple[float, float] = SET_WEBHOOK_RETRY,
) -> bool:
    """Tell Telegram where to send updates, trying again (with a growing pause) until it
    answers or the bot stops; pending updates are kept (they are not dropped)."""
    delay, most = retry
    while not stop.is_set():
        try:
            await bot.set_webhook(
                url,
                secret_token=secret_token,
                allowed_updates=allowed_updates,
                drop_pending_updates=False,
            )
            log.info("webhook set; Telegram sends updates to the configured WEBHOOK_URL")
            return True
        except Exception as exc:
            log.warning("setWebhook failed (%r); trying again in %.0f s", exc, delay)
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        delay = min(delay * 2, most)
    return False
