"""The migration stairway: empty -> head -> base -> head, and head matches the models."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import alembic_config, downgrade, upgrade
from storage.models import Base, Counter

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
