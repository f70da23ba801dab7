"""/export [period]: the period's requests as an .xlsx workbook and a .csv file."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.periods import PeriodError, parse_period
from bot.reports import Words
from bot.services.desk import Desk
from bot.services.export import period_requests, request_table, to_csv, to_xlsx

router = Router(name=__name__)


@router.message(Command("export"))
async def export(
    message: Message, command: CommandObject, session: AsyncSession, desk: Desk, now: datetime
) -> None:
    words = Words(desk.renderer, desk.renderer.desk_language)
    try:
        days = parse_period(command.args, now.astimezone(desk.tz).date())
    except PeriodError:
        await message.answer(words.label("managers.export_usage"))
        return
    first, last = words.day(days.first), words.day(days.last)
    tickets = await period_requests(session, days.period(desk.tz))
    if not tickets:
        await message.answer(words.t("managers.export_empty", first=first, last=last))
        return
    table = request_table(tickets, desk.renderer, desk.policy.calendar, now)
    name = f"requests_{days.first.isoformat()}_{days.last.isoformat()}"
    caption = words.plural("managers.export_caption", len(table.rows), first=first, last=last)
    await message.answer_document(
        BufferedInputFile(to_xlsx(table), f"{name}.xlsx"), caption=caption
    )
    await message.answer_document(BufferedInputFile(to_csv(table), f"{name}.csv"))
