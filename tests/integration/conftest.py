"""Integration fixtures: a fresh, empty database per test on SQLite (a temp file) and on
PostgreSQL (the public schema recreated in a database named for this run, dropped at the end),
and Redis db 15 under a unique key prefix.

Tests that take `engine_url` (or anything built on it) run once per engine. Where the CI
environment variable is set, a missing PostgreSQL or Redis fails the test instead of skipping.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as raw_async_engine

from bot.i18n import DeskI18n
from bot.render import Renderer
from bot.services.desk import Desk
from bot.sla import Priority, default_policy
from bot.vocabulary import DEFAULT_TOPICS, Feedback, Kind, Status
from storage.db import create_engine, create_session_factory, upgrade
from storage.models import Base, Client, SlaTarget, Ticket
from tests.conftest import PG_URL, REDIS_URL, require_service

DESK_TZ = ZoneInfo("Asia/Tashkent")
OPERATOR_CHAT_ID = -100123
# Tuesday 17 March 2026, 11:00 in Tashkent: working time, no holiday.
NOW = datetime(2026, 3, 17, 6, 0, tzinfo=UTC)

RUN_ID = uuid.uuid4().hex[:10]


# ---------------------------------------------------------------- services


def require_postgres() -> None:
    url = make_url(PG_URL)
    require_service("PostgreSQL", url.host or "127.0.0.1", url.port or 5432)


def require_redis() -> None:
    parts = urlsplit(REDIS_URL)
    require_service("Redis", parts.hostname or "127.0.0.1", parts.port or 6379)


async def _admin(url: str, *statements: str) -> None:
    engine = raw_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
    finally:
        await engine.dispose()


def _run_in_new_loop(coro: Coroutine[Any, Any, None]) -> None:
    """Outside the tests' own event loop (and without replacing it, as asyncio.run would)."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(coro)
    finally:
        loop.close()


async def _drop_model_tables(url: str) -> None:
    engine = raw_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_run_database() -> Iterator[tuple[str, bool]]:
    """(url, own): a database of this run's own, dropped at the end; or, where CREATE DATABASE
    is not allowed, the configured database, shared and emptied before every test."""
    require_postgres()
    name = f"desk_{RUN_ID}"
    try:
        _run_in_new_loop(_admin(PG_URL, f'CREATE DATABASE "{name}"'))
        own = True
    except DBAPIError:  # no CREATEDB privilege
        own = False
    if not own:
        yield PG_URL, False
        _run_in_new_loop(_drop_model_tables(PG_URL))
        return
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False), True
    finally:
        _run_in_new_loop(_admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def postgres_url(postgres_run_database: tuple[str, bool]) -> str:
    """An empty PostgreSQL database for this test: the run's database with a new schema."""
    url, own = postgres_run_database
    if own:
        await _admin(url, "DROP SCHEMA IF EXISTS public CASCADE", "CREATE SCHEMA public")
    else:
        await _drop_model_tables(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_url(request: pytest.FixtureRequest) -> str:
    """The URL of an empty database, once per engine."""
    if request.param == "postgres":
        require_postgres()
        return str(request.getfixturevalue("postgres_url"))
    return str(request.getfixturevalue("sqlite_url"))


@pytest.fixture
def dialect(engine_url: str) -> str:
    return "sqlite" if engine_url.startswith("sqlite") else "postgresql"


@pytest.fixture
async def engine(engine_url: str) -> AsyncIterator[AsyncEngine]:
    """The application's engine on an empty database (no migrations applied)."""
    eng = create_engine(engine_url)
    yield eng
    await eng.dispose()


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncEngine:
    """The application's engine on a database migrated to head."""
    await upgrade(engine)
    return engine


@pytest.fixture
def sessions(db: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(db)


@pytest.fixture
def redis_prefix() -> str:
    return f"desk-it-{RUN_ID}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
async def redis_cleanup(redis_prefix: str) -> AsyncIterator[str]:
    """Require Redis; afterwards delete every key under this test's prefix."""
    require_redis()
    from redis.asyncio import Redis

    yield redis_prefix
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{redis_prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


# ---------------------------------------------------------------- the desk and its rows


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def desk() -> Desk:
    """Built the way bot.factory.build_app builds it, with the default SLA policy."""
    i18n = DeskI18n(default_locale="ru")
    return Desk(
        policy=default_policy(DESK_TZ),
        renderer=Renderer(i18n=i18n, tz=DESK_TZ, desk_language="ru"),
        operator_chat_id=OPERATOR_CHAT_ID,
        topics=DEFAULT_TOPICS,
    )


NewTicket = Callable[..., Awaitable[Ticket]]


@pytest.fixture
def new_ticket(sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime) -> NewTicket:
    """Commit an identified client and a new, unassigned request of theirs; return the ticket."""
    return ticket_maker(sessions, desk, now)


@pytest.fixture
def new_ticket_on(
    desk: Desk, now: datetime
) -> Callable[[async_sessionmaker[AsyncSession]], NewTicket]:
    """new_ticket on a database of the test's own choosing."""
    return lambda sessions: ticket_maker(sessions, desk, now)


def ticket_maker(
    sessions: async_sessionmaker[AsyncSession], desk: Desk, now: datetime
) -> NewTicket:
    numbers = itertools.count(1001)

    async def make(telegram_id: int = 700_000_001, topic: str = "marking_codes") -> Ticket:
        async with sessions() as session:
            client = Client(
                telegram_id=telegram_id,
                language="ru",
                telegram_name="Test Client",
                name="Aziz",
                company="OOO Test",
                tax_id="123456789",
                tax_id_kind="inn",
                created_at=now,
                updated_at=now,
            )
            session.add(client)
            await session.flush()
            deadlines = desk.policy.deadlines(now, Priority.MEDIUM, topic)
            ticket = Ticket(
                number=next(numbers),
                client_id=client.id,
                kind=Kind.CONSULTATION,
                topic=topic,
                status=Status.NEW,
                priority=Priority.MEDIUM,
                feedback=Feedback.TELEGRAM,
                description="Коды маркировки не проходят проверку",
                language="ru",
                client_name=client.name or "",
                client_company=client.company or "",
                client_tax_id=client.tax_id or "",
                registered_at=now,
                last_activity_at=now,
                next_due_at=min(deadlines.first_response_due, deadlines.resolution_due),
                targets=[
                    SlaTarget(kind="first_response", due_at=deadlines.first_response_due),
                    SlaTarget(kind="resolution", due_at=deadlines.resolution_due),
                ],
            )
            session.add(ticket)
            await session.commit()
            return ticket

    return make
