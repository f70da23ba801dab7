"""The migration stairway: empty -> head -> base -> head, and head matches the models."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import alembic_config, create_engine, downgrade, upgrade
from storage.models import Base, Counter
from tests.conftest import PG_URL
from tests.integration.conftest import _admin, require_postgres

MODEL_TABLES = set(Base.metadata.tables)


async def table_names(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def schema_diff(engine: AsyncEngine) -> list[Any]:
    def compare(sync: Connection) -> list[Any]:
        context = MigrationContext.configure(sync, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as conn:
        return await conn.run_sync(compare)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


async def ticket_counter(engine: AsyncEngine) -> int | None:
    async with engine.connect() as conn:
        return await conn.scalar(select(Counter.value).where(Counter.name == "ticket_number"))


def head_revision() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"the migrations have several heads: {heads}"
    return heads[0]


async def assert_at_head(engine: AsyncEngine) -> None:
    assert await table_names(engine) == MODEL_TABLES | {"alembic_version"}
    assert await current_revision(engine) == head_revision()
    assert await schema_diff(engine) == []
    assert await ticket_counter(engine) == 1000


async def test_stairway_upgrade_downgrade_upgrade(engine: AsyncEngine) -> None:
    assert await table_names(engine) == set()

    await upgrade(engine)
    await assert_at_head(engine)

    await downgrade(engine, "base")
    assert await table_names(engine) == {"alembic_version"}
    assert await current_revision(engine) is None

    await upgrade(engine)
    await assert_at_head(engine)


async def test_upgrade_twice_is_a_no_op(engine: AsyncEngine) -> None:
    await upgrade(engine)
    await upgrade(engine)  # the bot runs the migrations at every start
    await assert_at_head(engine)


@pytest.mark.postgres
async def test_processes_starting_at_once_upgrade_one_after_another() -> None:
    """Two bot processes starting together on a new PostgreSQL database: without the lock
    both created the same tables and one failed (seen: pg_type_typname_nsp_index)."""
    require_postgres()
    name = f"mig_{uuid.uuid4().hex[:10]}"
    await _admin(PG_URL, f'CREATE DATABASE "{name}"')
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    engines = [create_engine(url) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade(engine) for engine in engines))
        assert await current_revision(engines[0]) == head_revision()
        assert not await schema_diff(engines[0])
    finally:
        for engine in engines:
            await engine.dispose()
        await _admin(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
