"""/stats [period]: the digest's figures for today, yesterday, week, month or given dates."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.periods import PeriodError, parse_period
from bot.reports import Words, stats_text
from bot.services.desk import Desk
from bot.services.stats import collect

router = Router(name=__name__)


@router.message(Command("stats"))
async def stats(
    message: Message, command: CommandObject, session: AsyncSession, desk: Desk, now: datetime
) -> None:
    words = Words(desk.renderer, desk.renderer.desk_language)
    try:
        days = parse_period(command.args, now.astimezone(desk.tz).date())
    except PeriodError:
        await message.answer(words.label("managers.stats_usage"))
        return
    figures = await collect(session, days.period(desk.tz), now, desk.policy.calendar)
    for part in stats_text(words, figures, days.first, days.last):
        await message.answer(part)
