"""The factory: wires Bot, Dispatcher, middlewares, storage, the delivery worker and the
scheduler (SLA alerts). Nothing is created at import time; tests build their bot the same way
production does."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import speech
from bot.access import Access
from bot.clock import Clock, SystemClock
from bot.commands import register_commands
from bot.guard import Guard
from bot.i18n import LANGUAGES, DeskI18n
from bot.inbox import Inbox, Poller
from bot.metrics import DeskMetrics
from bot.middlewares import InFlight, UpdateContextMiddleware, UpdateSession
from bot.render import Renderer
from bot.services.desk import Desk
from bot.services.desk_chat import load_operator_chat
from bot.services.maintenance import recompute_if_policy_changed
from bot.session import DeskSession
from bot.settings import PUBLIC_API_URL, Settings, SettingsError
from bot.setup_check import announce_setup
from bot.sla.config import load_policy
from bot.vocabulary import topic_label_id
from bot.web import build_web
from bot.webhook import InboxRequestHandler, mount_webhook, set_webhook
from handlers import build_routers
from scheduler.alerts import manager_chats
from scheduler.daily import DailyJobs
from scheduler.delivery import DeliveryWorker
from scheduler.digest import DigestParams
from scheduler.jobs import DeskScheduler
from scheduler.leases import JobLeases
from scheduler.liveness import Liveness
from scheduler.pacing import Limits
from storage.db import create_engine, create_session_factory, durable_barrier, upgrade
from storage.fsm import HeldStorage, SqlAlchemyStorage

log = logging.getLogger(__name__)

# Long polling: one process on a database takes and handles the updates (Telegram has one
# receiver; a restart that overlaps its predecessor waits for it). Its lease, renewed while it
# runs, freed by a clean stop or by the heartbeats when the process dies (scheduler.liveness).
INBOX_POLLER = "inbox:poller"
INBOX_POLLER_LEASE = timedelta(seconds=30)
INBOX_POLLER_RENEW = 10.0  # seconds
POLLER_RETRY = 1.0  # seconds between tries while another process polls


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    bot: Bot
    dispatcher: Dispatcher
    worker: DeliveryWorker
    desk: Desk
    clock: Clock
    inflight: InFlight
    jobs: DeskScheduler
    daily: DailyJobs
    inbox: Inbox
    liveness: Liveness
    metrics: DeskMetrics = field(default_factory=DeskMetrics)
    poller: Poller | None = None
    _tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def check_setup(self) -> None:
        if self.settings.setup_check:
            i18n = self.dispatcher["i18n"]
            await announce_setup(self.bot, self.settings, i18n)

    async def start_background(self, *, sole: bool = False) -> None:
        """Beat, free what a killed predecessor held, start delivery and the scheduler, and
        handle what the last run stored and did not handle. `sole` (long polling): first wait
        until no other process polls on this database (a restart that overlaps its
        predecessor, which still finishes what it holds), and hold that while running."""
        await self.liveness.once()
        self._tasks.append(asyncio.create_task(self.liveness.run(), name="liveness"))
        if sole:
            if not await self._take_inbox():
                return  # stopped while waiting
            self._tasks.append(asyncio.create_task(self._keep_inbox(), name="inbox-lease"))
        self._tasks.append(asyncio.create_task(self.worker.run(), name="delivery"))
        self.jobs.start()
        self.daily.start()
        await self.inbox.recover()
        if self.inbox.shared:
            self._tasks.append(asyncio.create_task(self.inbox.run_sweeper(), name="inbox-sweep"))

    async def run(self, *, handle_signals: bool = True) -> None:
        """Run as the settings say: long polling (the default) or the webhook."""
        if self.settings.bot_mode == "webhook":
            await self.run_webhook(handle_signals=handle_signals)
        else:
            await self.run_polling(handle_signals=handle_signals)

    async def _take_inbox(self) -> bool:
        """Take the poller's lease, waiting while another process holds it; False if this
        process was told to stop first."""
        told = False
        while not await self._leases.take(INBOX_POLLER, INBOX_POLLER_LEASE):
            if not told:
                log.warning("another process polls for updates on this database; waiting")
                told = True
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), POLLER_RETRY)
            if self._stopping.is_set():
                return False
        if told:
            log.info("the other process has stopped; polling here now")
        return True

    async def _keep_inbox(self) -> None:
        """Renew the poller's lease; stop polling if another process has taken it (this one
        was stalled so long that it was taken for dead)."""
        while not self._stopping.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), INBOX_POLLER_RENEW)
            if self._stopping.is_set():
                return
            try:
                ours = await self._leases.take(INBOX_POLLER, INBOX_POLLER_LEASE)
            except Exception:
                log.exception("could not renew the poller's lease; trying again")
                continue
            if not ours:
                log.error("another process polls on this database now; this one stops")
                self.stop_polling()
                return

    @property
    def _leases(self) -> JobLeases:
        """The leases held under this process's id (the delivery worker's, made with it)."""
        assert self.worker.leases is not None
        return self.worker.leases

    async def run_polling(self, *, polling_timeout: int = 30, handle_signals: bool = True) -> None:
        await register_commands(self.bot, self.desk)
        await self.check_setup()
        await self._forget_webhook()
        self._stopping.clear()
        await self.start_background(sole=True)
        if self._stopping.is_set():  # told to stop while waiting for another poller
            await self.stop_background()
            return
        self.poller = poller = Poller(
            self.bot,
            self.inbox,
            allowed_updates=self.dispatcher.resolve_used_update_types(),
            timeout=polling_timeout,
        )
        runner = await self._serve(self.web_app()) if self.settings.web_address else None
        self._on_signals(poller.stop, handle_signals)
        log.info("polling for updates")
        try:
            await poller.run()
        finally:
            self._on_signals(None, handle_signals)
            if runner is not None:
                await runner.cleanup()
            await self.stop_background()

    async def run_webhook(self, *, handle_signals: bool = True) -> None:
        """Serve the webhook (with /healthz and /metrics) and tell Telegram where it is. Each
        process of a desk does the same; a stop does not delete the webhook (the others
        still serve it)."""
        url, secret = self.settings.webhook_url, self.settings.webhook_secret
        if url is None or secret is None:
            raise SettingsError("BOT_MODE=webhook needs WEBHOOK_URL and WEBHOOK_SECRET")
        await register_commands(self.bot, self.desk)
        await self.check_setup()
        await self.start_background()
        self._stopping.clear()
        web_app = self.web_app()
        handler = InboxRequestHandler(
            self.dispatcher, self.bot, self.inbox, secret.get_secret_value()
        )
        mount_webhook(web_app, handler, url)
        runner = await self._serve(web_app)
        self._on_signals(self._stopping.set, handle_signals)
        setting = asyncio.create_task(
            set_webhook(
                self.bot,
                url,
                secret.get_secret_value(),
                self.dispatcher.resolve_used_update_types(),
                self._stopping,
            ),
            name="set-webhook",
        )
        try:
            await self._stopping.wait()
        finally:
            self._on_signals(None, handle_signals)
            setting.cancel()
            with suppress(asyncio.CancelledError):
                await setting
            # No new updates are taken; those stored are handled before the stop (or next time).
            await runner.cleanup()
            await self.stop_background()

    def stop_polling(self) -> None:
        """Stop taking updates (polling or webhook); `run` then stops the rest and returns."""
        if self.poller is not None:
            self.poller.stop()
        self._stopping.set()

    def web_app(self) -> web.Application:
        return build_web(self)

    async def _serve(self, web_app: web.Application) -> web.AppRunner:
        address = self.settings.web_address
        assert address is not None
        runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        await web.TCPSite(runner, *address).start()
        log.info("web server listening on %s:%d", *address)
        return runner

    def _on_signals(self, stop: Callable[[], None] | None, handle: bool) -> None:
        if not handle:
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            if stop is None:
                loop.remove_signal_handler(sig)
            else:
                loop.add_signal_handler(sig, stop)

    async def _forget_webhook(self) -> None:
        """Polling: a webhook left from webhook mode would make every getUpdates fail."""
        try:
            info = await self.bot.get_webhook_info()
            if info.url:
                log.warning("a webhook was set; it is deleted, since BOT_MODE is polling")
                await self.bot.delete_webhook(drop_pending_updates=False)
        except Exception as exc:  # the poller's own retries report a lasting problem
            log.warning("could not check for a webhook (%r)", exc)

    async def stop_background(self) -> None:
        self._stopping.set()
        await self.inbox.stop()
        self.daily.stop()
        await self.jobs.stop()
        self.worker.stop()
        for task in self._tasks:
            if task.get_name() == "liveness":
                continue
            try:
                await asyncio.wait_for(task, timeout=5)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
        await self.liveness.stop()
        for task in self._tasks:
            if task.get_name() == "liveness":
                with suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(task, timeout=5)
        self._tasks.clear()

    async def close(self) -> None:
        await self.stop_background()
        await self.dispatcher.storage.close()
        await self.bot.session.close()
        await self.engine.dispose()


def check_topic_labels(i18n: DeskI18n, topics: tuple[str, ...]) -> None:
    """Every configured topic must have its label in both catalogues."""
    for topic in topics:
        for lang in LANGUAGES:
            message_id = topic_label_id(topic)
            if i18n.gettext(message_id, locale=lang) == message_id:
                raise SettingsError(
                    f"DESK_TOPICS: topic {topic!r} has no label {message_id!r} in locales/{lang}"
                )


def make_bot(settings: Settings) -> Bot:
    assert settings.bot_token is not None
    session = DeskSession()
    if settings.telegram_api_url.rstrip("/") != PUBLIC_API_URL:
        session = DeskSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(link_preview_is_disabled=True),
    )


def make_fsm(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> tuple[BaseStorage, BaseEventIsolation]:
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

        redis = RedisStorage.from_url(settings.redis_url)
        # Redis is outside the update's transaction: its writes wait for the commit.
        return HeldStorage(redis), RedisEventIsolation(redis.redis)
    return SqlAlchemyStorage(sessions), SimpleEventIsolation()


async def build_app(
    settings: Settings, *, clock: Clock | None = None, limits: Limits | None = None
) -> App:
    clock = clock or SystemClock()
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    sessions = create_session_factory(engine)
    policy = load_policy(settings.sla_policy_file, settings.tz)
    i18n = DeskI18n(default_locale="ru")
    check_topic_labels(i18n, settings.desk_topics)
    desk = Desk(
        policy=policy,
        renderer=Renderer(i18n=i18n, tz=settings.tz, desk_language=settings.desk_language),
        operator_chat_id=settings.operator_chat_id,
        topics=settings.desk_topics,
        reopen_window_hours=settings.reopen_window_hours,
        operator_names_visible=settings.operator_names_visible,
        guard=Guard.load() if settings.quality_guard else None,
    )
    await load_operator_chat(sessions, desk)
    await recompute_if_policy_changed(sessions, desk, clock.now())
    bot = make_bot(settings)
    speech.install(bot)
    worker = DeliveryWorker(
        bot,
        sessions,
        clock,
        desk,
        limits or Limits(),
        max_attempts=settings.outbox_max_attempts,
        max_age=timedelta(hours=settings.outbox_max_age_hours),
    )
    # The scheduled jobs' leases are held under this process's id (freed when it dies).
    job_leases = JobLeases(sessions, holder=worker.worker_id)
    worker.leases = job_leases
    jobs = DeskScheduler(
        sessions,
        desk,
        clock,
        managers=manager_chats(settings),
        on_queued=worker.wake,
        leases=job_leases,
    )
    daily = DailyJobs(
        jobs.apscheduler,
        sessions,
        desk,
        clock,
        DigestParams.from_settings(settings),
        auto_close_days=settings.auto_close_working_days,
        outbox_keep=timedelta(days=settings.outbox_keep_days),
        inbox_keep=timedelta(days=settings.inbox_keep_days),
        data_retention=(
            timedelta(days=settings.data_retention_days) if settings.data_retention_days else None
        ),
        on_queued=worker.wake,
        leases=job_leases,
    )
    storage, isolation = make_fsm(settings, sessions)
    dispatcher = Dispatcher(
        storage=storage,
        events_isolation=isolation,
        # Registered below, after the update's session is opened (UpdateSession).
        disable_fsm=True,
        desk=desk,
        i18n=i18n,
        clock=clock,
        settings=settings,
        access=Access(bot, desk.operator_chat, settings.manager_ids),
    )
    inflight = InFlight()
    # Registered first, so it is the outermost of the project's middlewares.
    dispatcher.update.outer_middleware(inflight)
    dispatcher.update.outer_middleware(UpdateSession(sessions))
    # aiogram's FSM middleware (its per-chat isolation too), as Dispatcher would have put it.
    dispatcher.update.outer_middleware(dispatcher.fsm)
    dispatcher.update.outer_middleware(
        UpdateContextMiddleware(
            sessions,
            clock,
            i18n,
            desk,
            worker.wake,
            storage,
            planned=jobs.planned,
            owner=worker.worker_id,
        )
    )
    for router in build_routers(settings.operator_chat_id):
        dispatcher.include_router(router)
    metrics = DeskMetrics()
    durable = durable_barrier(settings.database_url)
    if isinstance(bot.session, DeskSession):
        bot.session.on_flood = metrics.flood.inc
        bot.session.durable = durable
    worker.metrics = metrics
    jobs.metrics = metrics

    def alive(processes: int) -> None:
        worker.share(processes)
        metrics.ran("heartbeat")

    inbox = Inbox(
        sessions,
        dispatcher,
        bot,
        clock,
        concurrency=settings.inbox_concurrency,
        # Several webhook processes may share a PostgreSQL database: chats are leased. Long
        # polling has one receiver (Telegram answers a second getUpdates with 409 Conflict),
        # so a polling process handles its inbox alone, as on SQLite.
        shared=engine.dialect.name == "postgresql" and settings.bot_mode == "webhook",
        process_id=worker.worker_id,
        metrics=metrics,
        durable=durable,
    )
    return App(
        settings,
        engine,
        sessions,
        bot,
        dispatcher,
        worker,
        desk,
        clock,
        inflight,
        jobs,
        daily,
        inbox,
        Liveness(sessions, worker.worker_id, on_alive=alive),
        metrics,
    )
