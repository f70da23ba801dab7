"""The real bot, built by the production factory, polling a local Bot API stand-in: what the
end-to-end tests and the demo both run. `settle()` waits until every update is handled and
everything the bot queued is delivered."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from bot.clock import Clock
from bot.factory import App, build_app
from bot.settings import load_settings
from scheduler.pacing import Limits
from standin.server import StandIn
from storage.outbox import OutboxRepo


def free_port() -> int:
    """A TCP port free on this machine now (for a bot's web server in a test)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class BotStopped(RuntimeError):
    """Polling ended while a step was waiting for the bot."""


class LocalBot:
    def __init__(
        self,
        standin: StandIn,
        *,
        database_url: str,
        clock: Clock,
        limits: Limits | None = None,
        **settings: Any,
    ) -> None:
        self.standin = standin
        self.database_url = database_url
        self.clock = clock
        self.limits = limits or Limits.unlimited()
        self.settings = settings
        self.app: App | None = None
        self.polling: asyncio.Task[None] | None = None

    async def start(self, **settings: Any) -> App:
        self.settings.update(settings)
        self.settings.setdefault("setup_check", False)  # its own tests turn it on
        config = load_settings(
            _env_file=None,
            bot_token=self.standin.token,
            telegram_api_url=self.standin.url,
            database_url=self.database_url,
            **self.settings,
        )
        self.app = await build_app(config, clock=self.clock, limits=self.limits)
        # Started once this app has called (a restart's predecessor called before it).
        taking = "setWebhook" if config.bot_mode == "webhook" else "getUpdates"
        before = len(self.standin.calls_of(taking))
        if config.bot_mode == "webhook":
            # The stand-in posts to the bot's web server, as Telegram (or a proxy) would.
            address = config.web_address
            assert address is not None
            target = f"http://{address[0]}:{address[1]}"
            if target not in self.standin.webhook_targets:
                self.standin.webhook_targets.append(target)
            running = asyncio.create_task(self.app.run_webhook(handle_signals=False))
        else:
            running = asyncio.create_task(
                self.app.run_polling(polling_timeout=1, handle_signals=False)
            )
        self.polling = running
        await self.standin.wait_for(
            lambda: running.done() or len(self.standin.calls_of(taking)) > before,
            timeout=10,
        )
        return self.app

    async def stop(self) -> None:
        if self.app is None:
            return
        app, polling = self.app, self.polling
        self.app = self.polling = None
        app.stop_polling()
        try:
            if polling is not None:
                await asyncio.wait_for(polling, timeout=10)
        finally:
            await app.close()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def handled(self, limit: float = 8.0) -> None:
        """Until the bot has taken every update and handled it; what it queued may still be
        waiting (a back-off, the group's pacing)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            await self.standin.idle(timeout=max(0.5, deadline - loop.time()))
            if self._handled():
                return
            if loop.time() > deadline:
                raise TimeoutError(f"the bot did not handle its updates within {limit:.0f}s")
            await asyncio.sleep(0.05)

    def _handled(self) -> bool:
        assert self.app is not None
        return self.app.inflight.count == 0 and self.app.inbox.idle()

    async def pending_outbox(self) -> int:
        assert self.app is not None
        async with self.app.sessions() as session:
            return await OutboxRepo(session).pending_count()

    async def _quiet(self) -> bool:
        assert self.app is not None
        app = self.app
        return (
            self._handled()
            and app.jobs.idle()
            and app.daily.idle()
            and await self.pending_outbox() == 0
        )

    async def settle(self, limit: float = 8.0) -> None:
        """Until the bot has taken every update, handled it and delivered what it queued."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while True:
            if self.polling is not None and self.polling.done():
                raise BotStopped(f"the bot stopped polling: {self.polling!r}")
            await self.standin.idle(timeout=max(0.5, deadline - loop.time()))
            if await self._quiet():
                await self.standin.idle(timeout=max(0.5, deadline - loop.time()))
                if await self._quiet():
                    return
            if loop.time() > deadline:
                pending = await self.pending_outbox()
                raise TimeoutError(
                    f"the bot did not settle within {limit:.0f}s ({pending} pending)"
                )
            await asyncio.sleep(0.05)
