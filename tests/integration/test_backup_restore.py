"""Backups and a tested restore, with the commands the README gives: SQLite's online `.backup`
(the sqlite3 shell, safe while the bot writes) and PostgreSQL's `pg_dump -Fc` / `pg_restore`
into a new database. The restored database is at the migrations' head with the same requests,
and a bot started on it would find nothing to migrate. A writer keeps adding requests while
the backup runs; the copy holds a consistent prefix of them."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import create_engine, create_session_factory, upgrade
from storage.models import Client, Ticket
from tests.conftest import PG_URL
from tests.integration.conftest import _admin

Sessions = async_sessionmaker[AsyncSession]


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is needed for this test and is not on PATH")
        pytest.skip(f"{name} is not on PATH")
    return path


async def revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def census(sessions: Sessions) -> tuple[int, list[int], int]:
    async with sessions() as session:
        clients = int(await session.scalar(select(func.count()).select_from(Client)) or 0)
        numbers = list((await session.scalars(select(Ticket.number).order_by(Ticket.number))).all())
        tickets = len(numbers)
    return clients, numbers, tickets


async def backup_while_writing(new_ticket: Any, backup: Any) -> None:
    """Requests keep coming while the backup runs."""
    for n in range(5):
        await new_ticket(700_000_100 + n)
    stop = asyncio.Event()

    async def writer() -> None:
        n = 200
        while not stop.is_set():
            await new_ticket(700_000_000 + n)
            n += 1
            await asyncio.sleep(0.01)

    writing = asyncio.create_task(writer())
    await asyncio.sleep(0.05)
    try:
        await asyncio.to_thread(backup)
    finally:
        stop.set()
        await writing


async def check_restored(url: str, original: Sessions) -> None:
    restored = create_engine(url)
    try:
        head = await revision(restored)
        await upgrade(restored)  # a bot starting on it: nothing to do
        assert await revision(restored) == head
        clients, numbers, tickets = await census(create_session_factory(restored))
        _c, all_numbers, _t = await census(original)
        assert tickets >= 5 and clients == tickets
        assert numbers == all_numbers[:tickets]  # a consistent prefix of what was written
    finally:
        await restored.dispose()


async def test_sqlite_online_backup_and_restore(
    sqlite_url: str, tmp_path: Path, new_ticket_on: Any
) -> None:
    sqlite3 = tool("sqlite3")
    engine = create_engine(sqlite_url)
    await upgrade(engine)
    sessions = create_session_factory(engine)
    make = new_ticket_on(sessions)
    source = make_url(sqlite_url).database
    copy = tmp_path / "backup.db"

    def backup() -> None:
        subprocess.run([sqlite3, str(source), f".backup '{copy}'"], check=True, timeout=60)

    try:
        await backup_while_writing(make, backup)
        restored = tmp_path / "restored.db"
        shutil.copyfile(copy, restored)  # the restore: the copy put in place
        await check_restored(f"sqlite+aiosqlite:///{restored}", sessions)
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_pg_dump_and_restore_into_a_new_database(
    postgres_url: str, tmp_path: Path, new_ticket_on: Any
) -> None:
    pg_dump, pg_restore = tool("pg_dump"), tool("pg_restore")
    engine = create_engine(postgres_url)
    await upgrade(engine)
    sessions = create_session_factory(engine)
    make = new_ticket_on(sessions)
    source = make_url(postgres_url)
    dump = tmp_path / "desk.dump"
    name = f"restore_{uuid.uuid4().hex[:10]}"

    def libpq(url: Any) -> list[str]:
        return ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username]

    def backup() -> None:
        subprocess.run(
            [pg_dump, "-Fc", "-f", str(dump), *libpq(source), source.database],
            check=True,
            timeout=120,
        )

    try:
        await backup_while_writing(make, backup)
        await _admin(PG_URL, f'CREATE DATABASE "{name}"')
        await asyncio.to_thread(
            subprocess.run,
            [pg_restore, "--no-owner", "-d", name, *libpq(source), str(dump)],
            check=True,
            timeout=120,
        )
        target = source.set(database=name).render_as_string(hide_password=False)
        await check_restored(target, sessions)
    finally:
        await engine.dispose()
        await _admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
