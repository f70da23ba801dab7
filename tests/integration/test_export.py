"""/export's files: the hand-built desk's Monday as an .xlsx opened back with openpyxl and a
.csv parsed back, every column checked where the data set decides it."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from openpyxl import load_workbook
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.periods import DayRange
from bot.services.desk import Desk
from bot.services.export import COLUMN_IDS, Table, period_requests, request_table, to_csv, to_xlsx
from tests.integration.stats_kit import DIGEST_NOW, TZ, build_desk

MONDAY = DayRange(date(2026, 3, 16), date(2026, 3, 16))


async def monday_table(sessions: async_sessionmaker[AsyncSession], desk: Desk) -> Table:
    await build_desk(sessions)
    async with sessions() as session:
        tickets = await period_requests(session, MONDAY.period(TZ))
    return request_table(tickets, desk.renderer, desk.policy.calendar, DIGEST_NOW)


def by_header(headers: list[str], row: list[Any]) -> dict[str, Any]:
    return dict(zip(headers, row, strict=True))


async def test_the_workbook_opens_back_with_every_request_of_the_period(
    sessions: async_sessionmaker[AsyncSession], desk: Desk
) -> None:
    table = await monday_table(sessions, desk)
    book = load_workbook(io.BytesIO(to_xlsx(table)))
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "Обращения"
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    headers = rows[0]
    assert len(headers) == len(COLUMN_IDS)
    assert headers[:3] == ["Номер", "Зарегистрировано", "Статус"]
    records = {r[0]: by_header(headers, r) for r in rows[1:]}
    assert sorted(records) == [1001, 1002, 1003, 1005, 1007]  # registered on Monday

    late = records[1002]
    assert late["Зарегистрировано"] == datetime(2026, 3, 16, 11, 0)  # the desk's wall clock
    assert late["Приоритет"] == "высокий"
    assert late["Исполнитель"] == "Sardor Operator"
    assert late["ID исполнителя"] == 9002
    assert late["Срок первого ответа"] == datetime(2026, 3, 16, 11, 10)
    assert late["Первый ответ"] == datetime(2026, 3, 16, 11, 30)
    assert late["Первый ответ: соблюдение срока"] == "нарушен"
    assert late["Первый ответ: опоздание, мин"] == 20
    assert late["Время первого ответа, мин"] == 30
    assert late["Время первого ответа, рабочих мин"] == 30
    assert late["Решение: соблюдение срока"] == "в срок"
    assert late["Решение: опоздание, мин"] is None
    assert late["Время решения, мин"] == 240
    assert late["Оценка"] == 3
    # A description that looks like a formula stays text.
    assert late["Описание"] == '=HYPERLINK("http://example.com")'
    (cell,) = [r[13] for r in sheet.iter_rows(min_row=2) if r[0].value == 1002]
    assert cell.data_type == "s"

    open_late = records[1003]
    assert open_late["Решение: соблюдение срока"] == "нарушен"
    assert open_late["Решение: опоздание, мин"] == 15 * 60  # still unmet at the export
    assert open_late["Решено"] is None
    assert open_late["Исполнитель"] == "Dilnoza Operator"

    waiting = records[1005]
    assert waiting["Первый ответ: соблюдение срока"] == "ожидается"
    assert waiting["Исполнитель"] is None
    assert records[1001]["Первый ответ: соблюдение срока"] == "в срок"
    assert records[1001]["Оценка"] == 5
    assert records[1001]["Клиент недоступен"] == "нет"


async def test_the_csv_parses_back_to_the_same_rows(
    sessions: async_sessionmaker[AsyncSession], desk: Desk
) -> None:
    table = await monday_table(sessions, desk)
    data = to_csv(table)
    assert data.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == table.headers
    assert len(rows) == 1 + 5
    records = {r[0]: by_header(rows[0], r) for r in rows[1:]}
    late = records["1002"]
    assert late["Зарегистрировано"] == "2026-03-16 11:00"
    assert late["Первый ответ: соблюдение срока"] == "нарушен"
    assert late["Первый ответ: опоздание, мин"] == "20"
    assert late["Имя клиента"] == "Aziz"
    assert late["Компания"] == "OOO Company 1002"
    assert late["Описание"] == '\'=HYPERLINK("http://example.com")'  # not a formula
    assert records["1005"]["Решено"] == ""
    assert records["1003"]["Решение: опоздание, мин"] == "900"


async def test_a_quiet_period_has_only_headers(
    sessions: async_sessionmaker[AsyncSession], desk: Desk
) -> None:
    async with sessions() as session:
        tickets = await period_requests(session, MONDAY.period(TZ))
    table = request_table(tickets, desk.renderer, desk.policy.calendar, DIGEST_NOW)
    assert table.rows == []
    book = load_workbook(io.BytesIO(to_xlsx(table)))
    assert book.active is not None
    assert book.active.max_row == 1
