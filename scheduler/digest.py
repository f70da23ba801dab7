"""The managers' daily digest: at DIGEST_TIME (default 09:00, desk zone) on the working days of
the desk's calendar, to the managers' chat and to each manager privately: what was breached
since the last digest, what is overdue now, per operator and per priority, first-response
median and 90th percentile, share of targets met, average rating; then a chart of the last 14
days (opened, resolved, breached per day) as a photo. All through the outbox.

Once per day however many processes run it, and after a restart at the digest's moment: the
day is a unique row of `digests`, claimed in the transaction that queues the messages. Of two
runs at once the second fails to claim and queues nothing.

    await run_digest(sessions, desk, settings, clock.now())   # sends if due and not yet sent
    next_digest_at(clock.now(), desk, settings)                # when to call it next
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from aiogram.methods import SendMessage, SendPhoto
from aiogram.types import BufferedInputFile
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.chart import ChartLabels, daily_chart
from bot.reports import Words, digest_text
from bot.services.desk import Desk
from bot.services.outgoing import Outgoing
from bot.services.stats import Period, Stats, collect
from bot.settings import Settings
from bot.sla import CalendarError
from bot.textsplit import CAPTION_LIMIT, shorten
from bot.vocabulary import Purpose
from storage.digests import DigestRepo
from storage.outbox import OutboxRepo

log = logging.getLogger(__name__)

DEFAULT_TIME = time(9, 0)
CHART_DAYS = 14
# The first digest (none before it) covers the day before it.
FIRST_PERIOD = timedelta(days=1)
# How far next_digest_at looks for a working day before it gives up.
HORIZON_DAYS = 400


@dataclass(frozen=True)
class DigestParams:
    """What the digest needs of the settings."""

    at: time = DEFAULT_TIME
    manager_chat_id: int | None = None
    manager_ids: frozenset[int] = frozenset()
    chart_days: int = CHART_DAYS

    @classmethod
    def from_settings(cls, settings: Settings) -> DigestParams:
        return cls(settings.digest_time, settings.manager_chat_id, settings.manager_ids)

    @property
    def recipients(self) -> list[int]:
        """The managers' chat first, then each manager privately."""
        chats = [self.manager_chat_id] if self.manager_chat_id is not None else []
        return chats + sorted(self.manager_ids - set(chats))


def as_params(value: Settings | DigestParams | None) -> DigestParams:
    if value is None:
        return DigestParams()
    return value if isinstance(value, DigestParams) else DigestParams.from_settings(value)


def digest_moment(day: date, desk: Desk, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=desk.tz)


def next_digest_at(
    now: datetime, desk: Desk, params: Settings | DigestParams | None = None
) -> datetime:
    """The first digest moment after `now`: DIGEST_TIME on a working day of the calendar."""
    at = as_params(params).at
    calendar = desk.policy.calendar
    today = now.astimezone(desk.tz).date()
    for offset in range(HORIZON_DAYS):
        day = today + timedelta(days=offset)
        moment = digest_moment(day, desk, at)
        if moment > now and calendar.is_working_day(day):
            return moment
    raise CalendarError(f"no working day within {HORIZON_DAYS} days of {today}")


def due_day(now: datetime, desk: Desk, at: time) -> date | None:
    """The day whose digest is due at `now` (today's, once its moment has come on a working
    day), or None."""
    today = now.astimezone(desk.tz).date()
    if not desk.policy.calendar.is_working_day(today):
        return None
    return today if now >= digest_moment(today, desk, at) else None


async def run_digest(
    sessions: async_sessionmaker[AsyncSession],
    desk: Desk,
    params: Settings | DigestParams | None,
    now: datetime,
) -> bool:
    """Queue the digest of `now`'s day if it is due and nobody has sent it; whether it did."""
    p = as_params(params)
    day = due_day(now, desk, p.at)
    if day is None:
        return False
    if not p.recipients:
        log.info("the digest of %s has nobody to go to (MANAGER_CHAT_ID, MANAGER_IDS)", day)
        return False
    async with sessions() as session:
        digests = DigestRepo(session)
        if await digests.sent_on(day):
            return False
        start = await digests.last_end() or now - FIRST_PERIOD
        period = Period(min(start, now - timedelta(seconds=1)), now)
        stats = await collect(session, period, now, desk.policy.calendar, chart_days=p.chart_days)
    words = Words(desk.renderer, desk.renderer.desk_language)
    texts = digest_text(words, stats, day)
    chart = daily_chart(stats.days, chart_labels(words))
    caption = shorten(words.plural("digest.chart_caption", len(stats.days)), CAPTION_LIMIT)
    async with sessions() as session:
        try:
            await DigestRepo(session).claim(day, period.start, period.end, now)
        except IntegrityError:
            await session.rollback()
            log.info("the digest of %s was sent by another process", day)
            return False
        out = Outgoing(OutboxRepo(session), desk.operator_chat_id, now)
        for chat_id in p.recipients:
            for text in texts:
                out.queue(SendMessage(chat_id=chat_id, text=text), purpose=Purpose.DIGEST)
            photo = BufferedInputFile(chart, filename=f"digest-{day.isoformat()}.png")
            out.queue(
                SendPhoto(chat_id=chat_id, photo=photo, caption=caption), purpose=Purpose.DIGEST
            )
        await session.commit()
    _log_sent(day, stats, len(p.recipients))
    return True


def chart_labels(words: Words) -> ChartLabels:
    return ChartLabels(
        title=words.label("chart.title"),
        opened=words.label("chart.opened"),
        resolved=words.label("chart.resolved"),
        breached=words.label("chart.breached"),
    )


def _log_sent(day: date, stats: Stats, chats: int) -> None:
    log.info(
        "digest of %s queued for %d chats: %d opened, %d resolved, %d breaches, %d overdue",
        day,
        chats,
        stats.opened,
        stats.resolved,
        len(stats.breaches),
        len(stats.overdue),
    )
