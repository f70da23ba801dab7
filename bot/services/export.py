"""/export: the requests registered in a period with all their fields, their deadlines (met or
breached, and by how much), first-response and resolution times, assignee and rating, as an
.xlsx workbook (openpyxl) and a .csv file (UTF-8 with a BOM, semicolons: what Excel opens in
Russian and Uzbek settings). Headers and values in the desk's language."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload

from bot.render import Renderer
from bot.services.stats import Period
from bot.sla import BusinessCalendar
from bot.vocabulary import (
    N_,
    feedback_label_id,
    kind_label_id,
    language_label_id,
    priority_label_id,
    status_label_id,
    topic_label_id,
)
from storage.models import SlaTarget, Ticket

Cell = str | int | float | datetime | None

XLSX_CELL_LIMIT = 32767
# Characters a worksheet cannot hold (control characters but tab, newline, return).
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# A text starting so would be taken for a formula by a spreadsheet.
FORMULA_START = ("=", "+", "-", "@")

RESULT_LABELS: Final[Mapping[str, str]] = {
    "met": N_("export.result.met"),
    "breached": N_("export.result.breached"),
    "pending": N_("export.result.pending"),
    "paused": N_("export.result.paused"),
}
YES_NO: Final[Mapping[bool, str]] = {True: N_("export.yes"), False: N_("export.no")}

# The columns in order: (header id, the cell of a request).
COLUMN_IDS: Final[Sequence[str]] = (
    N_("export.col.number"),
    N_("export.col.registered_at"),
    N_("export.col.status"),
    N_("export.col.kind"),
    N_("export.col.topic"),
    N_("export.col.priority"),
    N_("export.col.channel"),
    N_("export.col.feedback"),
    N_("export.col.contact"),
    N_("export.col.language"),
    N_("export.col.client_name"),
    N_("export.col.client_company"),
    N_("export.col.client_tax_id"),
    N_("export.col.description"),
    N_("export.col.assignee_id"),
    N_("export.col.assignee_name"),
    N_("export.col.first_response_due"),
    N_("export.col.first_response_at"),
    N_("export.col.first_response_result"),
    N_("export.col.first_response_late"),
    N_("export.col.first_response_minutes"),
    N_("export.col.first_response_working_minutes"),
    N_("export.col.resolution_due"),
    N_("export.col.resolved_at"),
    N_("export.col.resolution_result"),
    N_("export.col.resolution_late"),
    N_("export.col.resolution_minutes"),
    N_("export.col.resolution_working_minutes"),
    N_("export.col.closed_at"),
    N_("export.col.rating"),
    N_("export.col.rating_comment"),
    N_("export.col.client_unreachable"),
    N_("export.col.last_activity_at"),
)


@dataclass(frozen=True)
class TargetOutcome:
    """A target as the export shows it: its due moment, met or breached (and by how much in
    minutes), pending or paused."""

    due: datetime | None
    result: str
    late_minutes: int | None


def outcome(target: SlaTarget | None, now: datetime) -> TargetOutcome | None:
    if target is None:
        return None
    missed = target.breached_at
    if missed is None and target.due_at is not None:
        moment = target.met_at or now
        if moment > target.due_at:
            missed = target.due_at
    if missed is not None:
        late = (target.met_at or now) - missed
        return TargetOutcome(target.due_at or missed, "breached", _minutes(late))
    if target.met_at is not None:
        return TargetOutcome(target.due_at, "met", None)
    if target.due_at is None:
        return TargetOutcome(None, "paused", None)
    return TargetOutcome(target.due_at, "pending", None)


def _minutes(span: timedelta | None) -> int | None:
    return None if span is None else max(int(span.total_seconds()) // 60, 0)


async def period_requests(session: AsyncSession, period: Period) -> list[Ticket]:
    """The requests registered in the period, by number, with their targets."""
    rows = await session.scalars(
        select(Ticket)
        .options(lazyload(Ticket.client), lazyload(Ticket.pauses))  # not read here
        .where(Ticket.registered_at >= period.start, Ticket.registered_at < period.end)
        .order_by(Ticket.number)
    )
    return list(rows.all())


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[list[Cell]]
    sheet: str


def request_table(
    tickets: Sequence[Ticket],
    renderer: Renderer,
    calendar: BusinessCalendar,
    now: datetime,
) -> Table:
    """The export's rows; moments as naive local datetimes of the desk's zone."""
    lang = renderer.desk_language
    label: Callable[[str], str] = lambda message_id: renderer.label(message_id, lang)  # noqa: E731
    tz = renderer.tz
    rows = []
    for t in tickets:
        first = outcome(t.target("first_response"), now)
        resolution = outcome(t.target("resolution"), now)
        rows.append(
            [
                t.number,
                _local(t.registered_at, tz),
                label(status_label_id(t.status)),
                label(kind_label_id(t.kind)),
                label(topic_label_id(t.topic)),
                label(priority_label_id(t.priority)),
                t.channel,
                label(feedback_label_id(t.feedback)),
                t.contact,
                label(language_label_id(t.language)),
                t.client_name,
                t.client_company,
                t.client_tax_id,
                t.description,
                t.assignee_id,
                t.assignee_name,
                *_target_cells(first, t.first_response_at, t.registered_at, calendar, tz, label),
                *_target_cells(resolution, t.resolved_at, t.registered_at, calendar, tz, label),
                _local(t.closed_at, tz),
                t.rating,
                t.rating_comment,
                label(YES_NO[bool(t.client_unreachable)]),
                _local(t.last_activity_at, tz),
            ]
        )
    headers = [label(message_id) for message_id in COLUMN_IDS]
    return Table(headers, rows, label("export.sheet"))


def _target_cells(
    target: TargetOutcome | None,
    done_at: datetime | None,
    registered_at: datetime,
    calendar: BusinessCalendar,
    tz: ZoneInfo,
    label: Callable[[str], str],
) -> list[Cell]:
    """Due, done, result, late by (minutes), time taken (minutes), in working minutes."""
    taken = None if done_at is None else done_at - registered_at
    working = None if done_at is None else calendar.working_time_between(registered_at, done_at)
    return [
        _local(target.due if target else None, tz),
        _local(done_at, tz),
        label(RESULT_LABELS[target.result]) if target else None,
        target.late_minutes if target else None,
        _minutes(taken),
        _minutes(working),
    ]


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    """Spreadsheets keep no zone: the desk's wall-clock time, to the minute."""
    if moment is None:
        return None
    return moment.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)


def _text(value: str) -> str:
    return ILLEGAL.sub("", value)


def to_xlsx(table: Table) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _text(table.sheet)[:31]
    sheet.append(table.headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([_xlsx_value(v) for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif isinstance(cell.value, datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
    for index, header in enumerate(table.headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(len(header), 10), 40)
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = sheet.dimensions
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_value(value: Cell) -> Cell:
    if isinstance(value, str):
        return _text(value)[:XLSX_CELL_LIMIT]
    return value


def to_csv(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_csv_value(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def _csv_value(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, str):
        value = _text(value)
        return "'" + value if value.startswith(FORMULA_START) else value
    return str(value)
